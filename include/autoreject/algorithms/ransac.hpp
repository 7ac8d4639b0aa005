// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file algorithms/ransac.hpp
/// @brief RANSAC's per-epoch correlations: each channel's signal against the median,
/// over resamples, of its predictions from random channel subsets.
///
/// Resample r predicts channel c at time t as `sum_k weights[r, c, k] * x[cols[r, k], t]`
/// (summed left to right over k; the subsets are sparse, so only their channels are
/// read). The median over resamples is exact (NumPy's value); the correlation is
/// `sum(x * m) / (sqrt(sum(x * x)) * sqrt(sum(m * m)))` over time, summed in time
/// order. BLAS sums the products in another order, so the results agree with
/// autoreject's to about 1e-15 relative, not bit for bit; its decisions are identical.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "autoreject/backend.hpp"
#include "autoreject/config.hpp"
#include "autoreject/errors.hpp"
#include "autoreject/kernels/median.hpp"
#include "autoreject/parallel.hpp"
#include "autoreject/types.hpp"

namespace autoreject {
AUTOREJECT_ISA_BEGIN

namespace kernels {

#if defined(AUTOREJECT_VECTOR_EXTENSIONS)
/// Four vectors of consecutive samples' partial sums of a prediction (host), held in
/// registers across its terms.
template <class T>
struct Quad {
    /// One vector of the instruction set's width.
    typedef T V __attribute__((vector_size(AUTOREJECT_VECTOR_BYTES)));
    static constexpr std::size_t W = AUTOREJECT_VECTOR_BYTES / sizeof(T);  ///< lanes
    /// Samples 0 to W - 1.
    V v0{};
    /// Samples W to 2 W - 1.
    V v1{};
    /// Samples 2 W to 3 W - 1.
    V v2{};
    /// Samples 3 W to 4 W - 1.
    V v3{};

    /// The first term: `w` times the 4 W samples at `x`.
    void start(T w, const T* x) {
        load(x);
        v0 = w * v0;
        v1 = w * v1;
        v2 = w * v2;
        v3 = w * v3;
    }
    /// Adds the next term, `w` times the samples at `x` (a product, then a sum).
    void add(T w, const T* x) {
        Quad<T> s;
        s.load(x);
        v0 += w * s.v0;
        v1 += w * s.v1;
        v2 += w * s.v2;
        v3 += w * s.v3;
    }
    /// Reads the 4 W samples at `x` (any alignment).
    void load(const T* x) {
        std::memcpy(&v0, x, sizeof(V));
        std::memcpy(&v1, x + W, sizeof(V));
        std::memcpy(&v2, x + 2 * W, sizeof(V));
        std::memcpy(&v3, x + 3 * W, sizeof(V));
    }
    /// Writes the 4 W sums to `out`.
    void store(T* out) const {
        std::memcpy(out, &v0, sizeof(V));
        std::memcpy(out + W, &v1, sizeof(V));
        std::memcpy(out + 2 * W, &v2, sizeof(V));
        std::memcpy(out + 3 * W, &v3, sizeof(V));
    }
    /// Whether a lane is NaN.
    bool any_nan() const {
        return any_lane((v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3));  // NOLINT
    }
};
#endif

/// Prediction of one channel by one resample over `n` samples starting at `t0`:
/// `pred[t] = sum_k w[k] * x[cols[k]][t0 + t]`, k in order; zero for an empty subset.
/// Returns whether a prediction is NaN.
///
/// On the host, samples go in chunks of four vectors whose partial sums stay in
/// registers across the terms (every sample still adds its terms in order), then the
/// rest one by one.
template <class T>
AUTOREJECT_HD bool sparse_prediction(const T* epoch, std::size_t n_times, const long long* cols,
                                     const T* w, long long k, std::size_t t0, std::size_t n,
                                     T* pred) {
    if (k == 0) {
        for (std::size_t t = 0; t < n; ++t) {
            pred[t] = T(0);
        }
        return false;
    }
    std::size_t t = 0;
    bool nan = false;
#if defined(AUTOREJECT_VECTOR_EXTENSIONS)
    // host: four vectors of partial sums held in registers across the terms
    for (; t + 4 * Quad<T>::W <= n; t += 4 * Quad<T>::W) {
        const T* first = epoch + t0 + t;
        Quad<T> acc;
        acc.start(w[0], first + static_cast<std::size_t>(cols[0]) * n_times);
        for (long long kk = 1; kk < k; ++kk) {
            acc.add(w[kk], first + static_cast<std::size_t>(cols[kk]) * n_times);
        }
        acc.store(pred + t);
        nan = nan || acc.any_nan();
    }
#endif
    // the rest one sample at a time (offsets from the block's start, so the compiler
    // sees the loop's bound where the vector loop already covered the block)
    const T* first = epoch + t0 + t;
    for (std::size_t i = 0; i < n - t; ++i) {
        T acc = w[0] * first[static_cast<std::size_t>(cols[0]) * n_times + i];
        for (long long kk = 1; kk < k; ++kk) {
            acc += w[kk] * first[static_cast<std::size_t>(cols[kk]) * n_times + i];
        }
        pred[t + i] = acc;
        nan = nan || is_nan(acc);
    }
    return nan;
}

#if defined(AUTOREJECT_VECTOR_EXTENSIONS) && AUTOREJECT_VECTOR_BYTES == 64
/// sparse_prediction() of two resamples `a` and `b` of one channel at once (AVX-512): eight
/// vectors of partial sums, independent chains of additions, instead of four. Every
/// sample's terms still go in order, so the values are sparse_prediction()'s bit for
/// bit. Returns whether a prediction is NaN.
template <class T>
inline bool sparse_prediction_pair(const T* epoch, std::size_t n_times, const long long* cols_a,
                                   const T* w_a, long long k_a, const long long* cols_b,
                                   const T* w_b, long long k_b, std::size_t t0, std::size_t n,
                                   T* pred_a, T* pred_b) {
    if (k_a == 0 || k_b == 0) {
        const bool nan_a = sparse_prediction(epoch, n_times, cols_a, w_a, k_a, t0, n, pred_a);
        const bool nan_b = sparse_prediction(epoch, n_times, cols_b, w_b, k_b, t0, n, pred_b);
        return nan_a || nan_b;
    }
    constexpr std::size_t W = Quad<T>::W;
    const long long k_both = k_a < k_b ? k_a : k_b;
    bool nan = false;
    std::size_t t = 0;
    for (; t + 4 * W <= n; t += 4 * W) {
        const T* first = epoch + t0 + t;
        Quad<T> a;
        Quad<T> b;
        a.start(w_a[0], first + static_cast<std::size_t>(cols_a[0]) * n_times);
        b.start(w_b[0], first + static_cast<std::size_t>(cols_b[0]) * n_times);
        long long kk = 1;
        for (; kk < k_both; ++kk) {
            a.add(w_a[kk], first + static_cast<std::size_t>(cols_a[kk]) * n_times);
            b.add(w_b[kk], first + static_cast<std::size_t>(cols_b[kk]) * n_times);
        }
        // the longer subset's remaining terms
        for (long long ka = kk; ka < k_a; ++ka) {
            a.add(w_a[ka], first + static_cast<std::size_t>(cols_a[ka]) * n_times);
        }
        for (long long kb = kk; kb < k_b; ++kb) {
            b.add(w_b[kb], first + static_cast<std::size_t>(cols_b[kb]) * n_times);
        }
        a.store(pred_a + t);
        b.store(pred_b + t);
        nan = nan || a.any_nan() || b.any_nan();
    }
    if (t < n) {  // fewer than four vectors left: one resample at a time
        const bool nan_a =
            sparse_prediction(epoch, n_times, cols_a, w_a, k_a, t0 + t, n - t, pred_a + t);
        const bool nan_b =
            sparse_prediction(epoch, n_times, cols_b, w_b, k_b, t0 + t, n - t, pred_b + t);
        nan = nan || nan_a || nan_b;
    }
    return nan;
}
#endif

/// The running sums of a correlation `sum(x * m) / (sqrt(sum(x * x)) * sqrt(sum(m * m)))`,
/// samples added in time order.
template <class T>
struct Correlation {
    T num = 0;  ///< sum of x * m
    T sxx = 0;  ///< sum of x * x
    T spp = 0;  ///< sum of m * m

    /// Adds the sample `v` of the signal and `m` of the prediction.
    AUTOREJECT_HD void add(T v, T m) {
        num += v * m;
        sxx += v * v;
        spp += m * m;
    }

    /// The correlation of the samples added so far.
    AUTOREJECT_HD T value() const { return num / (std::sqrt(sxx) * std::sqrt(spp)); }
};

}  // namespace kernels

namespace detail {
/// ransac_correlations' argument checks (shared by every backend).
inline void check_ransac(const long long* cols, const long long* counts, const RansacShape& s) {
    require(s.n_resample > 0, "ransac_correlations: n_resample is 0; pass at least one resample");
    require(s.n_channels > 0 && s.n_times > 0,
            "ransac_correlations: data must have channels and samples, (n_epochs, n_channels, "
            "n_times) with n_channels, n_times > 0");
    for (std::size_t r = 0; r < s.n_resample; ++r) {
        require(counts[r] >= 0 && static_cast<std::size_t>(counts[r]) <= s.k_max,
                "counts[" + std::to_string(r) + "] = " + std::to_string(counts[r]) +
                    " is outside [0, k_max = " + std::to_string(s.k_max) + "]");
        require_indices(cols + r * s.k_max, static_cast<std::size_t>(counts[r]), s.n_channels,
                        "cols", "a channel");
    }
}
}  // namespace detail

/// RANSAC correlation of every channel of every epoch with its median prediction.
///
/// @param data    (n_epochs, n_channels, n_times)
/// @param cols    (n_resample, k_max) channels of each subset, padded
/// @param counts  (n_resample,) subset sizes, each in [0, k_max]
/// @param weights (n_resample, n_channels, k_max) interpolation weights of the subsets
/// @param s       the shape (epochs, channels, samples, resamples, k_max)
/// @param out     (n_epochs, n_channels)
/// @param exec    backend and threads (results do not depend on them)
template <class T>
void ransac_correlations(const T* data, const long long* cols, const long long* counts,
                         const T* weights, const RansacShape& s, T* out, const Exec& exec = {}) {
    check_exec(exec);
    detail::check_ransac(cols, counts, s);
    // samples per block: 256 bytes of each prediction row (32 doubles, 64 floats), so that
    // the predictions and sources stay in L1 and sparse_prediction's four vectors fit
    constexpr std::size_t block = 256 / sizeof(T);
    // Each task copies its epoch into a page-aligned buffer, rows padded with zeros to
    // whole blocks, and keeps the predictions a fixed 512 bytes after it: where the
    // predictions' stores fall relative to the sources' loads modulo 4 KiB is then the
    // same in every process (stores to addresses that alias recent loads in their low
    // 12 bits stall them; with the buffers wherever malloc put them, the kernel's speed
    // varied by up to 1.4x between runs).
    constexpr std::size_t page = 4096 / sizeof(T);
    constexpr std::size_t gap = 512 / sizeof(T);
    const std::size_t n_blocks = (s.n_times + block - 1) / block;
    const std::size_t stride = n_blocks * block;
    const std::size_t per_epoch = s.n_channels * s.n_times;
    const detail::MedianNetwork network(s.n_resample);
    detail::for_each_task(exec, static_cast<std::int64_t>(s.n_epochs), [&](std::int64_t e) {
        const T* epoch = data + static_cast<std::size_t>(e) * per_epoch;
        std::vector<T> buf(page + s.n_channels * stride + gap + s.n_resample * block, T(0));
        const auto misalign = reinterpret_cast<std::uintptr_t>(buf.data()) % 4096;
        T* x = buf.data() + (misalign == 0 ? 0 : (4096 - misalign) / sizeof(T));
        T* pred = x + s.n_channels * stride + gap;
        for (std::size_t c = 0; c < s.n_channels; ++c) {
            std::memcpy(x + c * stride, epoch + c * s.n_times, s.n_times * sizeof(T));
        }
        std::vector<T> med(block);
        std::vector<T> column(s.n_resample);
        for (std::size_t c = 0; c < s.n_channels; ++c) {
            const T* xc = x + c * stride;
            kernels::Correlation<T> corr;
            for (std::size_t t0 = 0; t0 < s.n_times; t0 += block) {
                // predictions of the whole (zero-padded) block; only valid samples count
                const std::size_t n = t0 + block < s.n_times ? block : s.n_times - t0;
                bool nan = false;
                std::size_t r = 0;
#if defined(AUTOREJECT_VECTOR_EXTENSIONS) && AUTOREJECT_VECTOR_BYTES == 64
                // two resamples at a time where 32 vector registers hold their eight sums
                // and the loads (AVX-512: EEG kernel about 13 % faster on one core; AVX2, with 16
                // registers, measured no gain)
                for (; r + 2 <= s.n_resample; r += 2) {
                    const bool pair_nan = kernels::sparse_prediction_pair(
                        x, stride, cols + r * s.k_max, weights + (r * s.n_channels + c) * s.k_max,
                        counts[r], cols + (r + 1) * s.k_max,
                        weights + ((r + 1) * s.n_channels + c) * s.k_max, counts[r + 1], t0, block,
                        pred + r * block, pred + (r + 1) * block);
                    nan = nan || pair_nan;
                }
#endif
                for (; r < s.n_resample; ++r) {
                    const bool row_nan = kernels::sparse_prediction(
                        x, stride, cols + r * s.k_max, weights + (r * s.n_channels + c) * s.k_max,
                        counts[r], t0, block, pred + r * block);
                    nan = nan || row_nan;
                }
                if (!nan) {
                    network.block_median(pred, block, block, med.data());
                } else {
                    // a NaN prediction: NumPy's median (NaN where any is NaN), sample by sample
                    kernels::column_medians(pred, s.n_resample, block, n, column.data(),
                                            med.data());
                }
                for (std::size_t t = 0; t < n; ++t) {
                    corr.add(xc[t0 + t], med[t]);
                }
            }
            out[static_cast<std::size_t>(e) * s.n_channels + c] = corr.value();
        }
    });
}

AUTOREJECT_ISA_END
}  // namespace autoreject
