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
    typedef T V __attribute__((vector_size(AUTOREJECT_VECTOR_BYTES)));
    constexpr std::size_t W = AUTOREJECT_VECTOR_BYTES / sizeof(T);
    for (; t + 4 * W <= n; t += 4 * W) {
        const T* s0 = epoch + static_cast<std::size_t>(cols[0]) * n_times + t0 + t;
        V x0, x1, x2, x3;
        std::memcpy(&x0, s0, sizeof(V));
        std::memcpy(&x1, s0 + W, sizeof(V));
        std::memcpy(&x2, s0 + 2 * W, sizeof(V));
        std::memcpy(&x3, s0 + 3 * W, sizeof(V));
        V a0 = w[0] * x0;
        V a1 = w[0] * x1;
        V a2 = w[0] * x2;
        V a3 = w[0] * x3;
        for (long long kk = 1; kk < k; ++kk) {
            const T* s = epoch + static_cast<std::size_t>(cols[kk]) * n_times + t0 + t;
            const T wk = w[kk];
            std::memcpy(&x0, s, sizeof(V));
            std::memcpy(&x1, s + W, sizeof(V));
            std::memcpy(&x2, s + 2 * W, sizeof(V));
            std::memcpy(&x3, s + 3 * W, sizeof(V));
            a0 += wk * x0;
            a1 += wk * x1;
            a2 += wk * x2;
            a3 += wk * x3;
        }
        std::memcpy(pred + t, &a0, sizeof(V));
        std::memcpy(pred + t + W, &a1, sizeof(V));
        std::memcpy(pred + t + 2 * W, &a2, sizeof(V));
        std::memcpy(pred + t + 3 * W, &a3, sizeof(V));
        const auto bad = (a0 != a0) | (a1 != a1) | (a2 != a2) | (a3 != a3);  // NOLINT
        for (std::size_t j = 0; j < W; ++j) {
            nan = nan || bad[j] != 0;
        }
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
                for (std::size_t r = 0; r < s.n_resample; ++r) {
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
