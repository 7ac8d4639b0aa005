// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The tables of float64 and float32 kernels one instruction-set build provides (private to src/).
// Its namespace is not "detail": the kernels' own detail namespace sits in the inline
// per-instruction-set namespace, and reopening "detail" there would reopen that one.
#pragma once

#include <cstddef>

#include "autoreject/backend.hpp"
#include "autoreject/types.hpp"

namespace autoreject {
namespace tables {

// One precision's kernels.
template <class T>
struct KernelTableOf {
    void (*ptp)(const T*, std::size_t, std::size_t, T*, const Exec&);
    void (*median_rows)(const T*, std::size_t, std::size_t, const long long*, std::size_t, T*,
                        const Exec&);
    void (*kept_means)(const T*, const long long*, const T*, const T*, const KeptMeansShape&, T*,
                       const Exec&);
    void (*threshold_losses)(const T*, const long long*, const T*, const T*, const T*,
                             const KeptMeansShape&, T*, const Exec&);
    void (*threshold_scores)(const T*, const long long*, const T*, const T*, const T*,
                             const KeptMeansShape&, T*, const Exec&);
    void (*prefix_sums)(const T*, std::size_t, std::size_t, const long long*, std::size_t,
                        const long long*, std::size_t, T*, const Exec&);
    void (*ransac_correlations)(const T*, const long long*, const long long*, const T*,
                                const RansacShape&, T*, const Exec&);
};

// Both precisions' kernels of one instruction set: the float64 ones (the default,
// autoreject's exact results) as members, the float32 ones (dtype='float32', the
// speed option) in f32.
struct KernelTable : KernelTableOf<double> {
    KernelTableOf<float> f32;
};

// one per build of src/isa/kernels.cpp (the ones not built are absent)
extern const KernelTable kernels_baseline;
extern const KernelTable kernels_avx2;
extern const KernelTable kernels_avx512;

}  // namespace tables
}  // namespace autoreject
