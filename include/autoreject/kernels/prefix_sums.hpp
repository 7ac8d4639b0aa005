// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file kernels/prefix_sums.hpp
/// @brief Sums of the first rows of an ordering at several cut points, as NumPy computes
/// `np.cumsum(np.add.reduceat(x[order[:cuts[-1]]], [0, *cuts[:-1]], axis=0), axis=0)`.
///
/// Each segment between consecutive cuts is its first row plus NumPy's pairwise sum
/// (see kernels/sum.hpp) of its other rows, column by column; segments are then added
/// in a running total. Columns are independent, so blocks of columns run in parallel
/// and every backend gives the same bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "autoreject/backend.hpp"
#include "autoreject/config.hpp"
#include "autoreject/errors.hpp"
#include "autoreject/parallel.hpp"

namespace autoreject {
AUTOREJECT_ISA_BEGIN
namespace kernels {

/// Halvings pairwise_rows goes through for `n` rows: its `spill` scratch holds this many
/// rows of w values (the second halves' sums, one per level of recursion).
AUTOREJECT_HD std::size_t pairwise_rows_levels(std::ptrdiff_t n) {
    std::size_t levels = 0;
    while (n > 128) {
        std::ptrdiff_t n2 = n / 2;
        n2 -= n2 % 8;
        n -= n2;  // the second half, never shorter than the first
        ++levels;
    }
    return levels;
}

/// `res[c] = pairwise sum over i in [lo, lo + n) of data[order[i], c0 + c]`, c < w.
/// `r` is scratch of 8 * w values, `spill` of w * pairwise_rows_levels(n) values (no
/// allocation inside, so the same code runs on a GPU).
template <class T>
AUTOREJECT_HD void pairwise_rows(const T* data, std::size_t n_cols, const long long* order,
                                 std::ptrdiff_t lo, std::ptrdiff_t n, std::size_t c0, std::size_t w,
                                 T* res, T* r, T* spill) {
    if (n < 8) {
        for (std::size_t c = 0; c < w; ++c) {
            res[c] = T(-0.0);
        }
        for (std::ptrdiff_t i = lo; i < lo + n; ++i) {
            const T* src = data + static_cast<std::size_t>(order[i]) * n_cols + c0;
            for (std::size_t c = 0; c < w; ++c) {
                res[c] += src[c];
            }
        }
        return;
    }
    if (n <= 128) {
        for (std::ptrdiff_t k = 0; k < 8; ++k) {
            const T* src = data + static_cast<std::size_t>(order[lo + k]) * n_cols + c0;
            for (std::size_t c = 0; c < w; ++c) {
                r[k * w + c] = src[c];
            }
        }
        std::ptrdiff_t i = 8;
        const std::ptrdiff_t m = n - n % 8;
        for (; i < m; i += 8) {
            for (std::ptrdiff_t k = 0; k < 8; ++k) {
                const T* src = data + static_cast<std::size_t>(order[lo + i + k]) * n_cols + c0;
                for (std::size_t c = 0; c < w; ++c) {
                    r[k * w + c] += src[c];
                }
            }
        }
        for (std::size_t c = 0; c < w; ++c) {
            res[c] = ((r[c] + r[w + c]) + (r[2 * w + c] + r[3 * w + c])) +
                     ((r[4 * w + c] + r[5 * w + c]) + (r[6 * w + c] + r[7 * w + c]));
        }
        for (; i < n; ++i) {
            const T* src = data + static_cast<std::size_t>(order[lo + i]) * n_cols + c0;
            for (std::size_t c = 0; c < w; ++c) {
                res[c] += src[c];
            }
        }
        return;
    }
    std::ptrdiff_t n2 = n / 2;
    n2 -= n2 % 8;
    // the first half is finished before the second half's sum takes spill's first row
    pairwise_rows(data, n_cols, order, lo, n2, c0, w, res, r, spill);
    pairwise_rows(data, n_cols, order, lo + n2, n - n2, c0, w, spill, r, spill + w);
    for (std::size_t c = 0; c < w; ++c) {
        res[c] += spill[c];
    }
}

/// The prefix sums of columns [c0, c0 + w): row i (cut i) goes to `out + i * out_stride`,
/// column c0 + c at offset c. Each cut's segment is its first row plus the pairwise sum
/// of its other rows, then the previous cut's total is added. `rest` is scratch of w
/// values, `r` of 8 * w, `spill` of w * pairwise_rows_levels(cuts[n_cuts - 1]).
template <class T>
AUTOREJECT_HD void prefix_sums_columns(const T* data, std::size_t n_cols, const long long* order,
                                       const long long* cuts, std::size_t n_cuts, std::size_t c0,
                                       std::size_t w, T* out, std::size_t out_stride, T* rest, T* r,
                                       T* spill) {
    long long start = 0;
    for (std::size_t i = 0; i < n_cuts; ++i) {
        T* acc = out + i * out_stride;
        const T* first = data + static_cast<std::size_t>(order[start]) * n_cols + c0;
        const long long n = cuts[i] - start;
        if (n > 1) {
            pairwise_rows(data, n_cols, order, static_cast<std::ptrdiff_t>(start + 1),
                          static_cast<std::ptrdiff_t>(n - 1), c0, w, rest, r, spill);
            for (std::size_t c = 0; c < w; ++c) {
                acc[c] = first[c] + rest[c];
            }
        } else {
            for (std::size_t c = 0; c < w; ++c) {
                acc[c] = first[c];
            }
        }
        if (i > 0) {
            const T* prev = out + (i - 1) * out_stride;
            for (std::size_t c = 0; c < w; ++c) {
                acc[c] = prev[c] + acc[c];
            }
        }
        start = cuts[i];
    }
}

}  // namespace kernels

namespace detail {
/// prefix_sums' argument checks (shared by every backend).
inline void check_prefix_sums(std::size_t n_rows, const long long* order, std::size_t n_order,
                              const long long* cuts, std::size_t n_cuts) {
    require(n_cuts > 0, "prefix_sums: cuts is empty; pass at least one prefix length");
    for (std::size_t i = 0; i < n_cuts; ++i) {
        const long long prev = i == 0 ? 0 : cuts[i - 1];
        require(cuts[i] > prev && static_cast<std::size_t>(cuts[i]) <= n_order,
                "prefix_sums: cuts must be strictly increasing in [1, len(order) = " +
                    std::to_string(n_order) + "]; cuts[" + std::to_string(i) +
                    "] = " + std::to_string(cuts[i]));
    }
    require_indices(order, static_cast<std::size_t>(cuts[n_cuts - 1]), n_rows, "order",
                    "a row of data");
}
}  // namespace detail

/// Prefix sums of `data[order[:cuts[i]]]` for every cut (see the file comment).
///
/// @param data   (n_rows, n_cols)
/// @param n_rows rows of data
/// @param n_cols columns of data
/// @param order  n_order row indices, in summation order
/// @param n_order length of order
/// @param cuts   n_cuts strictly increasing prefix lengths in [1, n_order]
/// @param n_cuts number of cuts
/// @param out    (n_cuts, n_cols)
/// @param exec    backend and threads (results do not depend on them)
template <class T>
void prefix_sums(const T* data, std::size_t n_rows, std::size_t n_cols, const long long* order,
                 std::size_t n_order, const long long* cuts, std::size_t n_cuts, T* out,
                 const Exec& exec = {}) {
    check_exec(exec);
    detail::check_prefix_sums(n_rows, order, n_order, cuts, n_cuts);
    constexpr std::size_t block = 256;
    const std::size_t n_blocks = (n_cols + block - 1) / block;
    detail::for_each_task(exec, static_cast<std::int64_t>(n_blocks), [&](std::int64_t b) {
        const std::size_t c0 = static_cast<std::size_t>(b) * block;
        const std::size_t w = (c0 + block < n_cols ? c0 + block : n_cols) - c0;
        std::vector<T> scratch(8 * w);
        std::vector<T> rest(w);
        std::vector<T> spill(
            w * kernels::pairwise_rows_levels(static_cast<std::ptrdiff_t>(cuts[n_cuts - 1])));
        kernels::prefix_sums_columns(data, n_cols, order, cuts, n_cuts, c0, w, out + c0, n_cols,
                                     rest.data(), scratch.data(), spill.data());
    });
}

AUTOREJECT_ISA_END
}  // namespace autoreject
