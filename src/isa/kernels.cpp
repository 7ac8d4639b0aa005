// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// Compiled once per instruction set with AUTOREJECT_ISA (the kernels' inline namespace)
// and AUTOREJECT_ISA_TABLE (the table's name) set by CMake.
#include "autoreject/autoreject.hpp"
#include "kernel_table.hpp"

#if !defined(AUTOREJECT_ISA) || !defined(AUTOREJECT_ISA_TABLE)
#error "build this file through CMake: it needs AUTOREJECT_ISA and AUTOREJECT_ISA_TABLE"
#endif

namespace autoreject {
namespace tables {

extern const KernelTable AUTOREJECT_ISA_TABLE;
const KernelTable AUTOREJECT_ISA_TABLE = {
    {
        &autoreject::ptp<double>,
        &autoreject::median_rows<double>,
        &autoreject::kept_means<double>,
        &autoreject::threshold_losses<double>,
        &autoreject::threshold_scores<double>,
        &autoreject::prefix_sums<double>,
        &autoreject::ransac_correlations<double>,
    },
    {
        &autoreject::ptp<float>,
        &autoreject::median_rows<float>,
        &autoreject::kept_means<float>,
        &autoreject::threshold_losses<float>,
        &autoreject::threshold_scores<float>,
        &autoreject::prefix_sums<float>,
        &autoreject::ransac_correlations<float>,
    },
};

}  // namespace tables
}  // namespace autoreject
