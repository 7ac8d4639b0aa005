// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file kernels/median.hpp
/// @brief Exact medians with NumPy's values: the middle order statistic, or the mean
/// (a + b) / 2 of the two middle ones for an even count; NaN when a value is NaN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "autoreject/backend.hpp"
#include "autoreject/config.hpp"
#include "autoreject/errors.hpp"
#include "autoreject/parallel.hpp"

namespace autoreject {
AUTOREJECT_ISA_BEGIN
namespace kernels {

/// Reorders `v[0..n)` so that `v[k]` holds the k-th smallest value, smaller or equal
/// values before it and larger or equal after it (no NaN allowed).
template <class T>
AUTOREJECT_HD void select_kth(T* v, std::ptrdiff_t n, std::ptrdiff_t k) {
    std::ptrdiff_t left = 0;
    std::ptrdiff_t right = n - 1;
    while (right > left) {
        // median of three as the pivot, moved to v[right]
        const std::ptrdiff_t mid = left + (right - left) / 2;
        if (v[mid] < v[left]) {
            const T s = v[mid];
            v[mid] = v[left];
            v[left] = s;
        }
        if (v[right] < v[left]) {
            const T s = v[right];
            v[right] = v[left];
            v[left] = s;
        }
        if (v[mid] < v[right]) {
            const T s = v[mid];
            v[mid] = v[right];
            v[right] = s;
        }
        const T pivot = v[right];
        std::ptrdiff_t i = left - 1;
        std::ptrdiff_t j = right;
        for (;;) {
            do {
                ++i;
            } while (v[i] < pivot);
            do {
                --j;
            } while (j > left && pivot < v[j]);
            if (i >= j) {
                break;
            }
            const T s = v[i];
            v[i] = v[j];
            v[j] = s;
        }
        const T s = v[i];
        v[i] = v[right];
        v[right] = s;
        if (i == k) {
            return;
        }
        if (i < k) {
            left = i + 1;
        } else {
            right = i - 1;
        }
    }
}

/// Median of `v[0..n)` (n > 0), reordering `v`; NumPy's value, NaN if any value is NaN.
template <class T>
AUTOREJECT_HD T median_inplace(T* v, std::ptrdiff_t n) {
    for (std::ptrdiff_t i = 0; i < n; ++i) {
        if (is_nan(v[i])) {
            return std::numeric_limits<T>::quiet_NaN();
        }
    }
    const std::ptrdiff_t lo = (n - 1) / 2;
    const std::ptrdiff_t hi = n / 2;
    select_kth(v, n, lo);
    const T a = v[lo];
    if (lo == hi) {
        return a;
    }
    T b = v[hi];
    for (std::ptrdiff_t i = hi + 1; i < n; ++i) {
        b = v[i] < b ? v[i] : b;
    }
    return (a + b) / T(2);
}

}  // namespace kernels

/// Column medians over selected rows: `out[c] = median(x[rows[i], c] for i)`, as
/// `np.median(x[rows], axis=0)` bit for bit.
///
/// @param x       row-major (n_rows, n_cols)
/// @param rows    n_sel row indices in [0, n_rows) (repeats allowed)
/// @param out     n_cols results
/// @throws std::invalid_argument for no selected row, an index out of range or an
///         unavailable backend
template <class T>
void median_rows(const T* x, std::size_t n_rows, std::size_t n_cols, const long long* rows,
                 std::size_t n_sel, T* out, const Exec& exec = {}) {
    check_exec(exec);
    require(n_sel > 0, "median_rows: rows is empty; a median needs at least one row");
    require_indices(rows, n_sel, n_rows, "rows", "a row of x");
    // columns in blocks: a block's values are gathered column-major so that each
    // column's n_sel values are contiguous for the selection
    constexpr std::size_t block = 64;
    const std::size_t n_blocks = (n_cols + block - 1) / block;
    detail::for_each_task(exec, static_cast<std::int64_t>(n_blocks), [&](std::int64_t b) {
        const std::size_t c0 = static_cast<std::size_t>(b) * block;
        const std::size_t w = (c0 + block < n_cols ? c0 + block : n_cols) - c0;
        std::vector<T> buf(w * n_sel);
        for (std::size_t i = 0; i < n_sel; ++i) {
            const T* src = x + static_cast<std::size_t>(rows[i]) * n_cols + c0;
            for (std::size_t c = 0; c < w; ++c) {
                buf[c * n_sel + i] = src[c];
            }
        }
        for (std::size_t c = 0; c < w; ++c) {
            out[c0 + c] =
                kernels::median_inplace(buf.data() + c * n_sel, static_cast<std::ptrdiff_t>(n_sel));
        }
    });
}

AUTOREJECT_ISA_END
}  // namespace autoreject
