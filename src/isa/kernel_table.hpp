// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The table of float64 kernels one instruction-set build provides (private to src/). Its
// namespace is not "detail": the kernels' own detail namespace sits in the inline
// per-instruction-set namespace, and reopening "detail" there would reopen that one.
#pragma once

#include <cstddef>

#include "autoreject/backend.hpp"
#include "autoreject/types.hpp"

namespace autoreject {
namespace tables {

struct KernelTable {
    void (*ptp)(const double*, std::size_t, std::size_t, double*, const Exec&);
    void (*median_rows)(const double*, std::size_t, std::size_t, const long long*, std::size_t,
                        double*, const Exec&);
    void (*kept_means)(const double*, const long long*, const double*, const double*,
                       const KeptMeansShape&, double*, const Exec&);
    void (*threshold_losses)(const double*, const long long*, const double*, const double*,
                             const double*, const KeptMeansShape&, double*, const Exec&);
    void (*threshold_scores)(const double*, const long long*, const double*, const double*,
                             const double*, const KeptMeansShape&, double*, const Exec&);
    void (*prefix_sums)(const double*, std::size_t, std::size_t, const long long*, std::size_t,
                        const long long*, std::size_t, double*, const Exec&);
    void (*ransac_correlations)(const double*, const long long*, const long long*, const double*,
                                const RansacShape&, double*, const Exec&);
};

// one per build of src/isa/kernels.cpp (the ones not built are absent)
extern const KernelTable kernels_baseline;
extern const KernelTable kernels_avx2;
extern const KernelTable kernels_avx512;

}  // namespace tables
}  // namespace autoreject
