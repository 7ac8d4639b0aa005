// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file kernels/ptp.hpp
/// @brief Peak-to-peak amplitude (max - min) of rows, as `np.ptp(x, axis=-1)`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "autoreject/backend.hpp"
#include "autoreject/config.hpp"
#include "autoreject/errors.hpp"
#include "autoreject/parallel.hpp"

namespace autoreject {
AUTOREJECT_ISA_BEGIN
namespace kernels {

/// `max - min` of `x[0..n)` (n > 0); NaN when a value is NaN.
///
/// The extremes are exact whatever the order of comparisons, so the row runs in
/// independent lanes; a NaN never wins a comparison and is flagged separately. The
/// result is `+0.0` whenever the extremes are equal (both zeros of either sign
/// included), as `np.ptp` gives, whichever lane held which zero.
template <class T>
AUTOREJECT_HD T ptp_row(const T* x, std::ptrdiff_t n) {
#if defined(AUTOREJECT_VECTOR_EXTENSIONS)
    // host: lanes in the instruction set's own vector registers (min/max instructions)
    typedef T V __attribute__((vector_size(AUTOREJECT_VECTOR_BYTES)));
    constexpr std::ptrdiff_t W = AUTOREJECT_VECTOR_BYTES / sizeof(T);
    T low = x[0];
    T high = x[0];
    bool nan = false;
    std::ptrdiff_t t = 0;
    if (n >= 2 * W) {
        V lo0, lo1, v0, v1;
        std::memcpy(&lo0, x, sizeof(V));
        std::memcpy(&lo1, x + W, sizeof(V));
        V hi0 = lo0;
        V hi1 = lo1;
        auto bad = (lo0 != lo0) | (lo1 != lo1);  // NOLINT(misc-redundant-expression)
        for (t = 2 * W; t + 2 * W <= n; t += 2 * W) {
            std::memcpy(&v0, x + t, sizeof(V));
            std::memcpy(&v1, x + t + W, sizeof(V));
            lo0 = v0 < lo0 ? v0 : lo0;
            lo1 = v1 < lo1 ? v1 : lo1;
            hi0 = hi0 < v0 ? v0 : hi0;
            hi1 = hi1 < v1 ? v1 : hi1;
            bad |= (v0 != v0) | (v1 != v1);  // NOLINT(misc-redundant-expression)
        }
        for (std::ptrdiff_t j = 0; j < W; ++j) {
            low = lo0[j] < low ? lo0[j] : low;
            low = lo1[j] < low ? lo1[j] : low;
            high = high < hi0[j] ? hi0[j] : high;
            high = high < hi1[j] ? hi1[j] : high;
        }
        nan = kernels::any_lane(bad);
    }
#else
    // device and other compilers: eight independent lanes
    T lo[8];
    T hi[8];
    bool nan = false;
    for (int j = 0; j < 8; ++j) {
        lo[j] = x[0];
        hi[j] = x[0];
    }
    std::ptrdiff_t t = 0;
    for (; t + 8 <= n; t += 8) {
        bool lane_nan = false;
        for (int j = 0; j < 8; ++j) {
            const T v = x[t + j];
            lo[j] = v < lo[j] ? v : lo[j];
            hi[j] = hi[j] < v ? v : hi[j];
            lane_nan = lane_nan || is_nan(v);
        }
        nan = nan || lane_nan;
    }
    T low = lo[0];
    T high = hi[0];
    for (int j = 1; j < 8; ++j) {
        low = lo[j] < low ? lo[j] : low;
        high = high < hi[j] ? hi[j] : high;
    }
#endif
    for (; t < n; ++t) {
        const T v = x[t];
        low = v < low ? v : low;
        high = high < v ? v : high;
        nan = nan || is_nan(v);
    }
    if (nan) {
        return std::numeric_limits<T>::quiet_NaN();
    }
    // +0.0 when equal (NaN for infinities), whichever zero each extreme holds
    return high == low ? high - high : high - low;  // NOLINT(misc-redundant-expression)
}

}  // namespace kernels

/// Peak-to-peak amplitude of each row of a row-major (n_rows, n_cols) array.
///
/// @param x       the data, n_rows * n_cols values
/// @param n_rows  rows
/// @param n_cols  values per row
/// @param out     n_rows results (may not alias `x`)
/// @param exec    backend and threads (results do not depend on them)
/// @throws std::invalid_argument when n_cols is 0 or the backend is unavailable
template <class T>
void ptp(const T* x, std::size_t n_rows, std::size_t n_cols, T* out, const Exec& exec = {}) {
    check_exec(exec);
    require(n_cols > 0 || n_rows == 0,
            "ptp: each row must hold at least one value (n_cols = 0); a peak-to-peak amplitude "
            "of nothing is undefined");
    detail::for_each_task(exec, static_cast<std::int64_t>(n_rows), [&](std::int64_t i) {
        out[i] = kernels::ptp_row(x + static_cast<std::size_t>(i) * n_cols,
                                  static_cast<std::ptrdiff_t>(n_cols));
    });
}

AUTOREJECT_ISA_END
}  // namespace autoreject
