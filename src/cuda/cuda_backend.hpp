// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The CUDA backend's kernels, float64 and float32 (private to src/; built only with
// AUTOREJECT_HAVE_CUDA).
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
#include <cstdint>

#include "autoreject/types.hpp"

namespace autoreject {
namespace cuda {

/// dispatch::ptp on the GPU.
template <class T>
void ptp(const T* x, std::size_t n_rows, std::size_t n_cols, T* out);
/// dispatch::median_rows on the GPU.
template <class T>
void median_rows(const T* x, std::size_t n_rows, std::size_t n_cols, const long long* rows,
                 std::size_t n_sel, T* out);
/// dispatch::kept_means on the GPU.
template <class T>
void kept_means(const T* data, const long long* train_idx, const T* train_keys, const T* bounds,
                const KeptMeansShape& s, T* out);
/// dispatch::threshold_losses on the GPU (the mean over folds on the host).
template <class T>
void threshold_losses(const T* data, const long long* train_idx, const T* train_keys,
                      const T* bounds, const T* medians, const KeptMeansShape& s, T* out);
/// dispatch::threshold_scores on the GPU.
template <class T>
void threshold_scores(const T* data, const long long* train_idx, const T* train_keys,
                      const T* bounds, const T* medians, const KeptMeansShape& s, T* out);
/// dispatch::prefix_sums on the GPU.
template <class T>
void prefix_sums(const T* data, std::size_t n_rows, std::size_t n_cols, const long long* order,
                 std::size_t n_order, const long long* cuts, std::size_t n_cuts, T* out);
/// dispatch::ransac_correlations on the GPU.
template <class T>
void ransac_correlations(const T* data, const long long* cols, const long long* counts,
                         const T* weights, const RansacShape& s, T* out);

/// dispatch::vote_bad_epochs on the GPU.
template <class T>
void vote_bad_epochs(const T* deltas, std::size_t n_epochs, std::size_t n_sensors,
                     const T* threshes, std::uint8_t* bad, std::int64_t* counts);
/// dispatch::rmse_rows on the GPU.
template <class T>
void rmse_rows(const T* median, const T* means, std::size_t n_means, std::size_t n, T* out);
/// dispatch::repair_epochs on the GPU: each job's `from` channels go to the device, its
/// `to` channels come back (chunks of jobs).
void repair_epochs(double* data, std::size_t n_epochs, std::size_t n_channels, std::size_t n_times,
                   const RepairJob* jobs, std::size_t n_jobs);

/// Copies host[0, bytes) to the device and registers it (DeviceResidency): kernel inputs
/// inside it are read from that copy until unregister_resident(host). Returns false, and
/// registers nothing, for an empty range, one overlapping a registered array, or when
/// the device has no room. @throws std::runtime_error for any other CUDA error.
bool register_resident(const void* host, std::size_t bytes);
/// Frees the device copy registered for `host` (nothing when there is none).
void unregister_resident(const void* host);

}  // namespace cuda
}  // namespace autoreject
