// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file kernels/ptp.hpp
/// @brief Peak-to-peak amplitude (max - min) of rows, as `np.ptp(x, axis=-1)`.
#pragma once

#include <cstddef>
#include <cstdint>
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
/// eight independent lanes the compiler can keep in one vector register; a NaN
/// never wins a comparison and is flagged separately.
template <class T>
AUTOREJECT_HD T ptp_row(const T* x, std::ptrdiff_t n) {
    T lo[8];
    T hi[8];
    bool nan = false;
    for (int j = 0; j < 8; ++j) {
        lo[j] = x[0];
        hi[j] = x[0];
    }
    const std::ptrdiff_t m = n - n % 8;
    for (std::ptrdiff_t t = 0; t < m; t += 8) {
        bool lane_nan = false;
        for (int j = 0; j < 8; ++j) {
            const T v = x[t + j];
            lo[j] = v < lo[j] ? v : lo[j];
            hi[j] = v > hi[j] ? v : hi[j];
            lane_nan = lane_nan || is_nan(v);
        }
        nan = nan || lane_nan;
    }
    for (std::ptrdiff_t t = m; t < n; ++t) {
        const T v = x[t];
        lo[0] = v < lo[0] ? v : lo[0];
        hi[0] = v > hi[0] ? v : hi[0];
        nan = nan || is_nan(v);
    }
    T low = lo[0];
    T high = hi[0];
    for (int j = 1; j < 8; ++j) {
        low = lo[j] < low ? lo[j] : low;
        high = hi[j] > high ? hi[j] : high;
    }
    return nan ? std::numeric_limits<T>::quiet_NaN() : high - low;
}

}  // namespace kernels

/// Peak-to-peak amplitude of each row of a row-major (n_rows, n_cols) array.
///
/// @param x       the data, n_rows * n_cols values
/// @param out     n_rows results (may not alias `x`)
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
