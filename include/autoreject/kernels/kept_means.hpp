// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file kernels/kept_means.hpp
/// @brief Means of the training epochs a threshold keeps, and the threshold search's
/// cross-validated loss, with autoreject's floating-point operations.
///
/// For fold f and bound c the kept rows are `train_idx[f, j]` for the j (in order)
/// with `train_keys[f, j] <= bounds[c, f]`. Their mean is `np.mean(x[kept], axis=0)`:
/// 0.0 plus each kept row in turn, divided by the count. The loss of bound c is
/// `-mean_f(-sqrt(mean_t((median[f] - mean[c, f]) ** 2)))` with NumPy's pairwise sums
/// over the contiguous axes. autoreject's Gaussian-process search reacts to the last
/// bit of these losses, so each operation and its order is NumPy's.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "autoreject/backend.hpp"
#include "autoreject/config.hpp"
#include "autoreject/errors.hpp"
#include "autoreject/kernels/sum.hpp"
#include "autoreject/parallel.hpp"
#include "autoreject/types.hpp"

namespace autoreject {
AUTOREJECT_ISA_BEGIN

namespace kernels {

/// Means of the kept rows for `n_group` bounds in one pass over the training rows,
/// on the columns [t0, t0 + width) of rows `stride` apart.
///
/// For bound g (`bounds[g * bound_stride]`), `acc[g * width + t]` becomes 0 plus each
/// row j (in training order) with `keys[j] <= bound` added in turn (its column t0 + t),
/// divided by the count; NaN when no row is kept. Each row is read once for the whole
/// group while the group's accumulators stay in cache; every accumulator still sees
/// its rows in training order, so the result is that of one bound and one column at a
/// time (a GPU runs one column per thread). `counts` receives the number of kept rows
/// of each bound.
template <class T>
AUTOREJECT_HD void kept_means_columns(const T* data, std::size_t stride, std::size_t t0,
                                      std::size_t width, const long long* idx, const T* keys,
                                      std::size_t n_train, const T* bounds,
                                      std::size_t bound_stride, std::size_t n_group, T* acc,
                                      std::size_t* counts) {
    for (std::size_t g = 0; g < n_group; ++g) {
        counts[g] = 0;
        for (std::size_t t = 0; t < width; ++t) {
            acc[g * width + t] = T(0);
        }
    }
    for (std::size_t j = 0; j < n_train; ++j) {
        const T key = keys[j];
        const T* row = data + static_cast<std::size_t>(idx[j]) * stride + t0;
        for (std::size_t g = 0; g < n_group; ++g) {
            if (key <= bounds[g * bound_stride]) {
                T* a = acc + g * width;
                // idx was checked against the data's rows by the caller
                for (std::size_t t = 0; t < width; ++t) {
                    a[t] += row[t];  // NOLINT(clang-analyzer-core.uninitialized.Assign)
                }
                ++counts[g];
            }
        }
    }
    for (std::size_t g = 0; g < n_group; ++g) {
        T* a = acc + g * width;
        const T denom = static_cast<T>(counts[g]);
        for (std::size_t t = 0; t < width; ++t) {
            a[t] = counts[g] == 0 ? std::numeric_limits<T>::quiet_NaN() : a[t] / denom;
        }
    }
}

/// kept_means_columns on whole rows of `n_times` values: `acc` is (n_group, n_times).
template <class T>
AUTOREJECT_HD void kept_means_group(const T* data, std::size_t n_times, const long long* idx,
                                    const T* keys, std::size_t n_train, const T* bounds,
                                    std::size_t bound_stride, std::size_t n_group, T* acc,
                                    std::size_t* counts) {
    kept_means_columns(data, n_times, std::size_t(0), n_times, idx, keys, n_train, bounds,
                       bound_stride, n_group, acc, counts);
}

/// `sqrt(mean((median - mean) ** 2))` with NumPy's operations; `scratch` holds n values.
template <class T>
AUTOREJECT_HD T rmse(const T* median, const T* mean, std::size_t n, T* scratch) {
    for (std::size_t t = 0; t < n; ++t) {
        const T d = median[t] - mean[t];
        scratch[t] = d * d;
    }
    return std::sqrt(numpy_mean(scratch, static_cast<std::ptrdiff_t>(n)));
}

}  // namespace kernels

namespace detail {
inline void check_kept_shape(const KeptMeansShape& s, const long long* train_idx) {
    require(s.n_rows > 0, "data has no rows; pass the epochs of one channel, (n_epochs, n_times)");
    require(s.n_times > 0, "data has no columns (n_times = 0)");
    require(s.n_folds > 0 && s.n_train > 0,
            "train_idx is empty; pass one row of training indices per fold");
    require(s.n_bounds > 0, "bounds is empty; pass at least one bound per fold");
    require_indices(train_idx, s.n_folds * s.n_train, s.n_rows, "train_idx", "a row of data");
}
}  // namespace detail

namespace detail {

/// Bounds summed together in one pass over a fold's training rows: 8 accumulators
/// of an epoch's samples (41 KB for 641 doubles) stay in the level-2 cache.
constexpr std::size_t kKeptGroup = 8;

/// Runs `body(f, c0, n_group, acc, counts)` for every fold f and group of bounds
/// [c0, c0 + n_group), with `acc` (n_group, n_times) holding the group's means.
template <class T, class Body>
void for_each_kept_group(const T* data, const long long* train_idx, const T* train_keys,
                         const T* bounds, const KeptMeansShape& s, const Exec& exec, Body&& body) {
    const std::size_t n_groups = (s.n_bounds + kKeptGroup - 1) / kKeptGroup;
    const auto n_tasks = static_cast<std::int64_t>(s.n_folds * n_groups);
    // fold-major tasks: consecutive tasks of a thread walk the same training rows
    for_each_task(exec, n_tasks, [&](std::int64_t task) {
        const std::size_t f = static_cast<std::size_t>(task) / n_groups;
        const std::size_t c0 = (static_cast<std::size_t>(task) % n_groups) * kKeptGroup;
        const std::size_t n_group = c0 + kKeptGroup < s.n_bounds ? kKeptGroup : s.n_bounds - c0;
        std::vector<T> acc(n_group * s.n_times);
        std::size_t counts[kKeptGroup];
        kernels::kept_means_group(
            data, s.n_times, train_idx + f * s.n_train, train_keys + f * s.n_train, s.n_train,
            bounds + c0 * s.n_folds + f, s.n_folds, n_group, acc.data(), counts);
        body(f, c0, n_group, acc.data());
    });
}

}  // namespace detail

/// Means of the kept training rows for every bound and fold.
///
/// @param data       (n_rows, n_times)
/// @param train_idx  (n_folds, n_train) row indices, in summation order
/// @param train_keys (n_folds, n_train) keys (peak-to-peak amplitudes)
/// @param bounds     (n_bounds, n_folds) inclusive upper bounds on the keys
/// @param s          the shape (rows, times, folds, training rows per fold, bounds)
/// @param out        (n_bounds, n_folds, n_times); NaN where a bound keeps nothing
/// @param exec    backend and threads (results do not depend on them)
template <class T>
void kept_means(const T* data, const long long* train_idx, const T* train_keys, const T* bounds,
                const KeptMeansShape& s, T* out, const Exec& exec = {}) {
    check_exec(exec);
    detail::check_kept_shape(s, train_idx);
    detail::for_each_kept_group(
        data, train_idx, train_keys, bounds, s, exec,
        [&](std::size_t f, std::size_t c0, std::size_t n_group, const T* acc) {
            for (std::size_t g = 0; g < n_group; ++g) {
                T* dst = out + ((c0 + g) * s.n_folds + f) * s.n_times;
                for (std::size_t t = 0; t < s.n_times; ++t) {
                    dst[t] = acc[g * s.n_times + t];
                }
            }
        });
}

/// Each fold's score of each bound, `-rmse(medians[f], mean[c, f])` (NaN where the
/// bound keeps no training row), without storing the means.
///
/// @param data       (n_rows, n_times)
/// @param train_idx  (n_folds, n_train) row indices, in summation order
/// @param train_keys (n_folds, n_train) keys (peak-to-peak amplitudes)
/// @param bounds     (n_bounds, n_folds) inclusive upper bounds on the keys
/// @param s          the shape (rows, times, folds, training rows per fold, bounds)
/// @param medians (n_folds, n_times) test-fold medians
/// @param out     (n_bounds, n_folds) scores
/// @param exec    backend and threads (results do not depend on them)
template <class T>
void threshold_scores(const T* data, const long long* train_idx, const T* train_keys,
                      const T* bounds, const T* medians, const KeptMeansShape& s, T* out,
                      const Exec& exec = {}) {
    check_exec(exec);
    detail::check_kept_shape(s, train_idx);
    detail::for_each_kept_group(
        data, train_idx, train_keys, bounds, s, exec,
        [&](std::size_t f, std::size_t c0, std::size_t n_group, const T* acc) {
            std::vector<T> scratch(s.n_times);
            for (std::size_t g = 0; g < n_group; ++g) {
                out[(c0 + g) * s.n_folds + f] = -kernels::rmse(
                    medians + f * s.n_times, acc + g * s.n_times, s.n_times, scratch.data());
            }
        });
}

/// The threshold search's loss of each bound: `-mean_f(-rmse(medians[f], mean[c, f]))`,
/// the mean over folds of threshold_scores taken as `np.mean` does.
///
/// @param data       (n_rows, n_times)
/// @param train_idx  (n_folds, n_train) row indices, in summation order
/// @param train_keys (n_folds, n_train) keys (peak-to-peak amplitudes)
/// @param bounds     (n_bounds, n_folds) inclusive upper bounds on the keys
/// @param s          the shape (rows, times, folds, training rows per fold, bounds)
/// @param medians (n_folds, n_times) test-fold medians
/// @param out     (n_bounds,) losses; NaN where a fold keeps nothing
/// @param exec    backend and threads (results do not depend on them)
template <class T>
void threshold_losses(const T* data, const long long* train_idx, const T* train_keys,
                      const T* bounds, const T* medians, const KeptMeansShape& s, T* out,
                      const Exec& exec = {}) {
    std::vector<T> scores(s.n_bounds * s.n_folds);
    threshold_scores(data, train_idx, train_keys, bounds, medians, s, scores.data(), exec);
    for (std::size_t c = 0; c < s.n_bounds; ++c) {
        out[c] = -kernels::numpy_mean(scores.data() + c * s.n_folds,
                                      static_cast<std::ptrdiff_t>(s.n_folds));
    }
}

/// `out[i] = sqrt(mean((median - means[i]) ** 2))` for each of n_means rows of length n.
template <class T>
void rmse_rows(const T* median, const T* means, std::size_t n_means, std::size_t n, T* out) {
    require(n > 0, "rmse_rows: median is empty; pass at least one value");
    std::vector<T> scratch(n);
    for (std::size_t i = 0; i < n_means; ++i) {
        out[i] = kernels::rmse(median, means + i * n, n, scratch.data());
    }
}

AUTOREJECT_ISA_END
}  // namespace autoreject
