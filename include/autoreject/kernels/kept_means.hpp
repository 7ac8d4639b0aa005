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

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

#if defined(AUTOREJECT_VECTOR_EXTENSIONS)
/// Bounds summed together by kept_sums_tile: one vector register of them.
template <class T>
constexpr std::size_t kKeptLanes = AUTOREJECT_VECTOR_BYTES / sizeof(T);
/// Samples per tile: the tile's accumulators fill half the vector registers (32 of
/// AVX-512, 16 of AVX2 and SSE2).
constexpr std::size_t kKeptTileSamples = AUTOREJECT_VECTOR_BYTES == 64 ? 16 : 8;
#else
/// Bounds summed together by kept_sums_tile (no vector extensions: 8 scalar lanes).
template <class T>
constexpr std::size_t kKeptLanes = 8;
/// Samples per tile (no vector extensions).
constexpr std::size_t kKeptTileSamples = 8;
#endif

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

/// `out[t] = (median[t] - mean[t]) ** 2`, NumPy's operations.
template <class T>
AUTOREJECT_HD void squared_differences(const T* median, const T* mean, std::size_t n, T* out) {
    for (std::size_t t = 0; t < n; ++t) {
        const T d = median[t] - mean[t];
        out[t] = d * d;
    }
}

/// `sqrt(mean((median - mean) ** 2))` with NumPy's operations; `scratch` holds n values.
template <class T>
AUTOREJECT_HD T rmse(const T* median, const T* mean, std::size_t n, T* scratch) {
    squared_differences(median, mean, n, scratch);
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

namespace kernels {

/// Sums of kept training rows on W consecutive samples for a group of bounds, the
/// bounds in the lanes of a vector: kept_means_columns' additions arranged for a CPU.
///
/// `sums[t * lanes + l]` becomes 0 plus sample t of each of the `n` rows (in the order
/// given) with `keys[i] <= lane_bounds[l]`, added in turn; a lane that does not keep a
/// row leaves its sum as it is. So each lane holds exactly the sum of one bound taken
/// alone, while the W accumulators stay in registers and each row's samples are read
/// once for all the group's bounds. `row(i)` points at row i's first sample of the tile.
template <class T, std::size_t W, class Row>
inline void kept_sums_tile(Row&& row, const T* keys, std::size_t n, const T* lane_bounds, T* sums) {
#if defined(AUTOREJECT_VECTOR_EXTENSIONS)
    typedef T V __attribute__((vector_size(AUTOREJECT_VECTOR_BYTES)));
    V bound;
    std::memcpy(&bound, lane_bounds, sizeof(V));
    const V zero{};
    V acc[W];
    for (std::size_t t = 0; t < W; ++t) {
        acc[t] = zero;
    }
    for (std::size_t i = 0; i < n; ++i) {
        // x - 0.0 == x exactly (-0.0 included): a broadcast to every lane
        const auto keep = (keys[i] - zero) <= bound;
        const T* x = row(i);
        for (std::size_t t = 0; t < W; ++t) {
            acc[t] = keep ? acc[t] + (x[t] - zero) : acc[t];
        }
    }
    std::memcpy(sums, acc, sizeof(acc));
#else
    constexpr std::size_t L = kKeptLanes<T>;
    for (std::size_t k = 0; k < W * L; ++k) {
        sums[k] = T(0);
    }
    for (std::size_t i = 0; i < n; ++i) {
        const T* x = row(i);
        for (std::size_t l = 0; l < L; ++l) {
            if (keys[i] <= lane_bounds[l]) {
                for (std::size_t t = 0; t < W; ++t) {
                    sums[t * L + l] += x[t];
                }
            }
        }
    }
#endif
}

}  // namespace kernels

namespace detail {

/// The bounds of each fold in increasing order, kKeptLanes<T> to a group (NaN-padded:
/// a NaN bound keeps nothing), and for each group the training rows its widest bound
/// keeps, in training order: the rows kept_sums_tile reads, listed once for every tile
/// (skipping the others inside the loop over rows would be an unpredictable branch).
template <class T>
struct KeptGroups {
    std::size_t n_groups = 0;         ///< groups per fold
    std::vector<std::size_t> bound;   ///< (n_folds, n_groups * lanes) bound index, or n_bounds
    std::vector<T> lane_bounds;       ///< (n_folds, n_groups * lanes)
    std::vector<std::size_t> counts;  ///< (n_bounds, n_folds) rows each bound keeps
    std::vector<std::size_t> start;   ///< (n_folds * n_groups + 1) offsets into rows / keys
    std::vector<std::size_t> rows;    ///< rows (data row indices) of every group
    std::vector<T> keys;              ///< their keys

    KeptGroups(const long long* train_idx, const T* train_keys, const T* bounds,
               const KeptMeansShape& s) {
        constexpr std::size_t L = kernels::kKeptLanes<T>;
        n_groups = (s.n_bounds + L - 1) / L;
        const std::size_t width = n_groups * L;
        bound.assign(s.n_folds * width, s.n_bounds);
        lane_bounds.assign(s.n_folds * width, std::numeric_limits<T>::quiet_NaN());
        counts.assign(s.n_bounds * s.n_folds, 0);
        start.assign(1, 0);
        // at most every training row in every group; trimmed below
        rows.resize(s.n_folds * n_groups * s.n_train);
        keys.resize(rows.size());
        std::size_t n_listed = 0;
        std::vector<std::size_t> order(s.n_bounds);
        std::vector<T> sorted_keys;
        for (std::size_t f = 0; f < s.n_folds; ++f) {
            const T* b = bounds + f;  // bound c of fold f is b[c * n_folds]
            const long long* idx = train_idx + f * s.n_train;
            const T* fold_keys = train_keys + f * s.n_train;
            // a bound keeps the keys up to it: its count is a position in the sorted keys
            // (a NaN key is kept by no bound, and a NaN bound keeps nothing)
            sorted_keys.clear();
            for (std::size_t j = 0; j < s.n_train; ++j) {
                if (!kernels::is_nan(fold_keys[j])) {
                    sorted_keys.push_back(fold_keys[j]);
                }
            }
            std::sort(sorted_keys.begin(), sorted_keys.end());
            for (std::size_t c = 0; c < s.n_bounds; ++c) {
                order[c] = c;
                const T v = b[c * s.n_folds];
                counts[c * s.n_folds + f] =
                    kernels::is_nan(v)
                        ? 0
                        : static_cast<std::size_t>(
                              std::upper_bound(sorted_keys.begin(), sorted_keys.end(), v) -
                              sorted_keys.begin());
            }
            // increasing, NaN last: a group's rows are those of its widest bound
            std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
                const T bx = b[x * s.n_folds];
                const T by = b[y * s.n_folds];
                return kernels::is_nan(by) ? !kernels::is_nan(bx) : bx < by;
            });
            for (std::size_t g = 0; g < n_groups; ++g) {
                T widest = std::numeric_limits<T>::quiet_NaN();
                for (std::size_t i = g * L; i < std::min((g + 1) * L, s.n_bounds); ++i) {
                    const T v = b[order[i] * s.n_folds];
                    bound[f * width + i] = order[i];
                    lane_bounds[f * width + i] = v;
                    widest = kernels::is_nan(v) ? widest : v;
                }
                // branch-free: every row is written, the kept ones advance the end
                for (std::size_t j = 0; j < s.n_train; ++j) {
                    rows[n_listed] = static_cast<std::size_t>(idx[j]);
                    keys[n_listed] = fold_keys[j];
                    n_listed += fold_keys[j] <= widest ? 1 : 0;
                }
                start.push_back(n_listed);
            }
        }
        rows.resize(n_listed);
        keys.resize(n_listed);
    }
};

/// Samples summed per tile (kernels::kKeptTileSamples).
constexpr std::size_t kKeptTile = kernels::kKeptTileSamples;

/// for_each_kept_mean by tiles of samples, all bounds of a fold together.
///
/// Tiles of kKeptTile samples are the tasks. A tile's samples of every row are copied
/// side by side (a few tens of KB) and stay in cache while all folds and groups of
/// bounds read them.
template <class T, class Body>
void for_each_kept_tile(const T* data, const long long* train_idx, const T* train_keys,
                        const T* bounds, const KeptMeansShape& s, const Exec& exec, Body&& body) {
    constexpr std::size_t L = kernels::kKeptLanes<T>;
    const KeptGroups<T> groups(train_idx, train_keys, bounds, s);
    const std::size_t width = groups.n_groups * L;
    const std::size_t n_tiles = (s.n_times + kKeptTile - 1) / kKeptTile;
    for_each_task(exec, static_cast<std::int64_t>(n_tiles), [&](std::int64_t task) {
        const std::size_t t0 = static_cast<std::size_t>(task) * kKeptTile;
        const std::size_t w = std::min(kKeptTile, s.n_times - t0);
        std::vector<T> tile(s.n_rows * w);
        for (std::size_t r = 0; r < s.n_rows; ++r) {
            const T* src = data + r * s.n_times + t0;
            if (w == kKeptTile) {
                std::memcpy(tile.data() + r * w, src, kKeptTile * sizeof(T));  // inlined
            } else {
                std::memcpy(tile.data() + r * w, src, w * sizeof(T));
            }
        }
        T sums[kKeptTile * L];
        T mean[kKeptTile];
        for (std::size_t fg = 0; fg < s.n_folds * groups.n_groups; ++fg) {
            const std::size_t f = fg / groups.n_groups;
            const std::size_t g = fg % groups.n_groups;
            const std::size_t* rows = groups.rows.data() + groups.start[fg];
            const T* keys = groups.keys.data() + groups.start[fg];
            const std::size_t n = groups.start[fg + 1] - groups.start[fg];
            const T* lane_bounds = groups.lane_bounds.data() + f * width + g * L;
            if (w == kKeptTile) {
                kernels::kept_sums_tile<T, kKeptTile>(
                    [&](std::size_t i) { return tile.data() + rows[i] * w; }, keys, n, lane_bounds,
                    sums);
            } else {
                // the last, narrower tile: one sample at a time
                for (std::size_t t = 0; t < w; ++t) {
                    T one[L];
                    kernels::kept_sums_tile<T, 1>(
                        [&](std::size_t i) { return tile.data() + rows[i] * w + t; }, keys, n,
                        lane_bounds, one);
                    for (std::size_t l = 0; l < L; ++l) {
                        sums[t * L + l] = one[l];
                    }
                }
            }
            for (std::size_t l = 0; l < L; ++l) {
                const std::size_t c = groups.bound[f * width + g * L + l];
                if (c == s.n_bounds) {
                    break;  // padding: the group's last lanes
                }
                const std::size_t count = groups.counts[c * s.n_folds + f];
                const T denom = static_cast<T>(count);
                for (std::size_t t = 0; t < w; ++t) {
                    mean[t] =
                        count == 0 ? std::numeric_limits<T>::quiet_NaN() : sums[t * L + l] / denom;
                }
                body(c, f, t0, w, static_cast<const T*>(mean));
            }
        }
    });
}

/// for_each_kept_mean with the samples in a vector's lanes (kernels::kept_means_columns).
///
/// Tasks are (chunk of at most 4 KB of a row, fold), chunk by chunk: the few bounds'
/// accumulators stay in cache, and threads taking neighbouring tasks read the same
/// chunk of the rows, which long rows (whole epochs) need.
template <class T, class Body>
void for_each_kept_row(const T* data, const long long* train_idx, const T* train_keys,
                       const T* bounds, const KeptMeansShape& s, const Exec& exec, Body&& body) {
    constexpr std::size_t kChunk = 4096 / sizeof(T);
    const std::size_t n_chunks = (s.n_times + kChunk - 1) / kChunk;
    const auto n_tasks = static_cast<std::int64_t>(n_chunks * s.n_folds);
    for_each_task(exec, n_tasks, [&](std::int64_t task) {
        const std::size_t c0 = static_cast<std::size_t>(task) / s.n_folds * kChunk;
        const std::size_t f = static_cast<std::size_t>(task) % s.n_folds;
        const std::size_t cw = std::min(kChunk, s.n_times - c0);
        std::vector<T> acc(s.n_bounds * cw);
        std::vector<std::size_t> counts(s.n_bounds);
        kernels::kept_means_columns(data, s.n_times, c0, cw, train_idx + f * s.n_train,
                                    train_keys + f * s.n_train, s.n_train, bounds + f, s.n_folds,
                                    s.n_bounds, acc.data(), counts.data());
        for (std::size_t c = 0; c < s.n_bounds; ++c) {
            body(c, f, c0, cw, static_cast<const T*>(acc.data() + c * cw));
        }
    });
}

/// Bounds handled together at most (for_each_kept_mean, threshold_scores).
constexpr std::size_t kKeptBatch = 256;

/// Runs `body(c, f, t0, w, mean)` with `mean[0..w)` the means of bound c's kept rows of
/// fold f on samples [t0, t0 + w), over every bound, fold and sample.
///
/// Both loop orders make the same additions in the same order (kernels::kept_sums_tile
/// puts bounds in the lanes of a vector, kernels::kept_means_columns samples), so the
/// choice is one of speed: bounds in the lanes once they fill at least half of them,
/// with vectors of 4 lanes or more (SSE2's 2 doubles per vector would need 21 passes
/// over the rows for autoreject's 41 candidates: slower than the rows' own order).
///
/// Bounds go kKeptBatch at a time, which caps the scratch (the listed rows of every
/// group, the accumulators of every bound) whatever the number of bounds.
template <class T, class Body>
void for_each_kept_mean(const T* data, const long long* train_idx, const T* train_keys,
                        const T* bounds, const KeptMeansShape& s, const Exec& exec, Body&& body) {
    for (std::size_t b0 = 0; b0 < s.n_bounds; b0 += kKeptBatch) {
        KeptMeansShape part = s;
        part.n_bounds = std::min(kKeptBatch, s.n_bounds - b0);
        auto shifted = [&](std::size_t c, std::size_t f, std::size_t t0, std::size_t w,
                           const T* mean) { body(b0 + c, f, t0, w, mean); };
        const T* part_bounds = bounds + b0 * s.n_folds;
        if (kernels::kKeptLanes<T> >= 4 && 2 * part.n_bounds >= kernels::kKeptLanes<T>) {
            for_each_kept_tile(data, train_idx, train_keys, part_bounds, part, exec, shifted);
        } else {
            for_each_kept_row(data, train_idx, train_keys, part_bounds, part, exec, shifted);
        }
    }
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
    detail::for_each_kept_mean(
        data, train_idx, train_keys, bounds, s, exec,
        [&](std::size_t c, std::size_t f, std::size_t t0, std::size_t w, const T* mean) {
            T* dst = out + (c * s.n_folds + f) * s.n_times + t0;
            for (std::size_t t = 0; t < w; ++t) {
                dst[t] = mean[t];
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
    // the squared differences of a batch of bounds (every fold), then NumPy's mean of
    // each row; batches cap the scratch whatever the number of bounds
    const std::size_t batch = std::min(detail::kKeptBatch, s.n_bounds);
    std::vector<T> squares(batch * s.n_folds * s.n_times);
    for (std::size_t b0 = 0; b0 < s.n_bounds; b0 += batch) {
        KeptMeansShape part = s;
        part.n_bounds = std::min(batch, s.n_bounds - b0);
        detail::for_each_kept_mean(
            data, train_idx, train_keys, bounds + b0 * s.n_folds, part, exec,
            [&](std::size_t c, std::size_t f, std::size_t t0, std::size_t w, const T* mean) {
                kernels::squared_differences(medians + f * s.n_times + t0, mean, w,
                                             squares.data() + (c * s.n_folds + f) * s.n_times + t0);
            });
        for (std::size_t i = 0; i < part.n_bounds * s.n_folds; ++i) {
            out[b0 * s.n_folds + i] = -std::sqrt(kernels::numpy_mean(
                squares.data() + i * s.n_times, static_cast<std::ptrdiff_t>(s.n_times)));
        }
    }
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

/// `out[i] = sqrt(mean((median - means[i]) ** 2))` for each of n_means rows of length n
/// (the consensus x n_interpolate score of the cross-validation, and the threshold
/// search's), with NumPy's operations; rows run as independent tasks.
template <class T>
void rmse_rows(const T* median, const T* means, std::size_t n_means, std::size_t n, T* out,
               const Exec& exec = {}) {
    check_exec(exec);
    require(n > 0, "rmse_rows: median is empty; pass at least one value");
    detail::for_each_task(exec, static_cast<std::int64_t>(n_means), [&](std::int64_t i) {
        std::vector<T> scratch(n);
        const auto row = static_cast<std::size_t>(i);
        out[row] = kernels::rmse(median, means + row * n, n, scratch.data());
    });
}

AUTOREJECT_ISA_END
}  // namespace autoreject
