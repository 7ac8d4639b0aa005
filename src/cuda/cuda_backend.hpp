// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The CUDA backend's float64 kernels (private to src/; built only with AUTOREJECT_HAVE_CUDA).
//
// Each function takes the arguments of the dispatch:: entry point of the same name, checks
// them as the CPU kernels do (std::invalid_argument), copies the inputs to the current
// device, runs the same inline per-row / per-column functions as the CPU backends, and
// copies the results back. Inputs larger than the free device memory are processed in
// chunks (rows, columns, bounds or epochs); an allocation that fails is retried with half
// the chunk, down to one unit of work. Any CUDA error becomes std::runtime_error naming
// the call and the sizes. The environment variable AUTOREJECT_CUDA_MEMORY_LIMIT (bytes)
// caps the memory a call plans its chunks for (to test the chunking on a large GPU).
#pragma once

#include <cstddef>

#include "autoreject/types.hpp"

namespace autoreject {
namespace cuda {

/// dispatch::ptp on the GPU.
void ptp(const double* x, std::size_t n_rows, std::size_t n_cols, double* out);
/// dispatch::median_rows on the GPU.
void median_rows(const double* x, std::size_t n_rows, std::size_t n_cols, const long long* rows,
                 std::size_t n_sel, double* out);
/// dispatch::kept_means on the GPU.
void kept_means(const double* data, const long long* train_idx, const double* train_keys,
                const double* bounds, const KeptMeansShape& s, double* out);
/// dispatch::threshold_losses on the GPU (the mean over folds on the host).
void threshold_losses(const double* data, const long long* train_idx, const double* train_keys,
                      const double* bounds, const double* medians, const KeptMeansShape& s,
                      double* out);
/// dispatch::threshold_scores on the GPU.
void threshold_scores(const double* data, const long long* train_idx, const double* train_keys,
                      const double* bounds, const double* medians, const KeptMeansShape& s,
                      double* out);
/// dispatch::prefix_sums on the GPU.
void prefix_sums(const double* data, std::size_t n_rows, std::size_t n_cols, const long long* order,
                 std::size_t n_order, const long long* cuts, std::size_t n_cuts, double* out);
/// dispatch::ransac_correlations on the GPU.
void ransac_correlations(const double* data, const long long* cols, const long long* counts,
                         const double* weights, const RansacShape& s, double* out);

}  // namespace cuda
}  // namespace autoreject
