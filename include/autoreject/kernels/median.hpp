// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file kernels/median.hpp
/// @brief Exact medians with NumPy's values: the middle order statistic, or the mean
/// (a + b) / 2 of the two middle ones for an even count; NaN when a value is NaN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
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

/// NumPy's median of the middle value(s): their `np.mean`, i.e. 0.0 plus the sum,
/// divided by the count (so a -0.0 middle value gives +0.0).
template <class T>
AUTOREJECT_HD T middle_mean(T a) {
    return T(0) + a;
}

/// NumPy's median of two middle values: `(0.0 + (a + b)) / 2`.
template <class T>
AUTOREJECT_HD T middle_mean(T a, T b) {
    return (T(0) + (a + b)) / T(2);
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
        return middle_mean(a);
    }
    T b = v[hi];
    for (std::ptrdiff_t i = hi + 1; i < n; ++i) {
        b = v[i] < b ? v[i] : b;
    }
    return middle_mean(a, b);
}

/// NumPy's median of each of `width` columns of `n` rows (`stride` apart), one column
/// at a time by selection (NaN where a column holds one); `column` is scratch of n.
template <class T>
AUTOREJECT_HD void column_medians(const T* rows, std::size_t n, std::size_t stride,
                                  std::size_t width, T* column, T* out) {
    for (std::size_t c = 0; c < width; ++c) {
        for (std::size_t i = 0; i < n; ++i) {
            column[i] = rows[i * stride + c];
        }
        out[c] = median_inplace(column, static_cast<std::ptrdiff_t>(n));
    }
}

#if defined(AUTOREJECT_VECTOR_EXTENSIONS)
/// `v` unchanged, through an empty asm statement the optimiser cannot see into: two
/// selects on the same comparison then stay a min and a max instruction (2 per
/// comparator) instead of being merged into one comparison and two blends (3).
template <class V>
inline V opaque(V v) {
    __asm__("" : "+v"(v));  // NOLINT(hicpp-no-assembler)
    return v;
}
#endif

/// Copies `src[0..n)` to `dst`; returns whether a value is NaN. Whole vectors on the
/// host (GCC keeps a scalar loop with a comparison per value otherwise).
template <class T>
AUTOREJECT_HD bool copy_flag_nan(const T* src, std::size_t n, T* dst) {
    std::size_t c = 0;
    bool nan = false;
#if defined(AUTOREJECT_VECTOR_EXTENSIONS)
    typedef T V __attribute__((vector_size(AUTOREJECT_VECTOR_BYTES)));
    constexpr std::size_t W = AUTOREJECT_VECTOR_BYTES / sizeof(T);
    if (n >= W) {
        V v;
        std::memcpy(&v, src, sizeof(V));
        auto bad = v != v;  // NOLINT(misc-redundant-expression)
        std::memcpy(dst, &v, sizeof(V));
        for (c = W; c + W <= n; c += W) {
            std::memcpy(&v, src + c, sizeof(V));
            bad |= v != v;  // NOLINT(misc-redundant-expression)
            std::memcpy(dst + c, &v, sizeof(V));
        }
        nan = any_lane(bad);
    }
#endif
    for (; c < n; ++c) {
        dst[c] = src[c];
        nan = nan || is_nan(src[c]);
    }
    return nan;
}

/// One comparator of a sorting network on whole rows: afterwards `lo[t] <= hi[t]` for
/// t < n (values only: no NaN may reach it). Branch-free, so it vectorises along t.
template <class T>
AUTOREJECT_HD void compare_rows(T* __restrict lo, T* __restrict hi, std::size_t n) {
    std::size_t t = 0;
#if defined(AUTOREJECT_VECTOR_EXTENSIONS)
    // host: whole vectors, so the selects become min and max instructions with no
    // branch. GCC's own loop branches per value on SSE2 and, on AVX-512, branches on
    // whether a vector needs swapping, which real predictions make unpredictable
    // (RANSAC on EEGMMIDB, one core: 2.3-2.5 s with it, 1.4-1.5 s without).
    typedef T V __attribute__((vector_size(AUTOREJECT_VECTOR_BYTES)));
    constexpr std::size_t W = AUTOREJECT_VECTOR_BYTES / sizeof(T);
    for (; t + W <= n; t += W) {
        V a;
        V b;
        std::memcpy(&a, lo + t, sizeof(V));
        std::memcpy(&b, hi + t, sizeof(V));
        const V low = b < a ? b : a;
        const V a2 = opaque(a);
        const V b2 = opaque(b);
        const V high = b2 < a2 ? a2 : b2;
        std::memcpy(lo + t, &low, sizeof(V));
        std::memcpy(hi + t, &high, sizeof(V));
    }
#endif
    for (; t < n; ++t) {
        const T a = lo[t];
        const T b = hi[t];
        lo[t] = b < a ? b : a;
        hi[t] = b < a ? a : b;
    }
}

}  // namespace kernels

namespace detail {

/// Comparators that bring the middle order statistics of `n` values to their wires:
/// Batcher's odd-even merge sorting network for the next power of two (wires >= n act
/// as +infinity and their comparators are dropped), pruned to the comparators that
/// can still reach wire (n - 1) / 2 or n / 2. Pairs are (i, j), i < j, in order.
inline std::vector<std::pair<int, int>> median_network(int n) {
    std::vector<std::pair<int, int>> all;
    int size = 1;
    while (size < n) {
        size *= 2;
    }
    for (int p = 1; p < size; p *= 2) {
        for (int k = p; k >= 1; k /= 2) {
            for (int j = k % p; j + k < size; j += 2 * k) {
                for (int i = 0; i < k && i + j + k < size; ++i) {
                    const int a = i + j;
                    const int b = i + j + k;
                    if (a / (2 * p) == b / (2 * p) && b < n) {
                        all.emplace_back(a, b);
                    }
                }
            }
        }
    }
    std::vector<char> needed(static_cast<std::size_t>(n > 0 ? n : 1), 0);
    needed[static_cast<std::size_t>((n - 1) / 2)] = 1;
    needed[static_cast<std::size_t>(n / 2)] = 1;
    std::vector<std::pair<int, int>> kept;
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
        const auto a = static_cast<std::size_t>(it->first);
        const auto b = static_cast<std::size_t>(it->second);
        if (needed[a] != 0 || needed[b] != 0) {
            kept.push_back(*it);
            needed[a] = 1;
            needed[b] = 1;
        }
    }
    return {kept.rbegin(), kept.rend()};
}

/// Exact medians of the columns of a block of rows by a sorting network: rows are the
/// values (n of them), columns the independent medians (width of them, stride apart).
/// Branch-free and vectorised along the columns; NaN must not reach it.
struct MedianNetwork {
    explicit MedianNetwork(std::size_t n)
        : pairs(median_network(static_cast<int>(n))), lo((n - 1) / 2), hi(n / 2) {}

    /// Reorders `rows` (n rows, `stride` apart) and writes the `width` medians.
    template <class T>
    void block_median(T* rows, std::size_t stride, std::size_t width, T* out) const {
        for (const auto& q : pairs) {
            kernels::compare_rows(rows + static_cast<std::size_t>(q.first) * stride,
                                  rows + static_cast<std::size_t>(q.second) * stride, width);
        }
        const T* a = rows + lo * stride;
        const T* b = rows + hi * stride;
        for (std::size_t t = 0; t < width; ++t) {
            out[t] = lo == hi ? kernels::middle_mean(a[t]) : kernels::middle_mean(a[t], b[t]);
        }
    }

    std::vector<std::pair<int, int>> pairs;  ///< the comparators, in order
    std::size_t lo;                          ///< wire of the lower middle value
    std::size_t hi;                          ///< wire of the upper middle value
};

}  // namespace detail

/// Column medians over selected rows: `out[c] = median(x[rows[i], c] for i)`, as
/// `np.median(x[rows], axis=0)` bit for bit.
///
/// @param x       row-major (n_rows, n_cols)
/// @param n_rows  rows of x
/// @param n_cols  columns of x
/// @param rows    n_sel row indices in [0, n_rows) (repeats allowed)
/// @param n_sel   number of selected rows
/// @param out     n_cols results
/// @param exec    backend and threads (results do not depend on them)
/// @throws std::invalid_argument for no selected row, an index out of range or an
///         unavailable backend
template <class T>
void median_rows(const T* x, std::size_t n_rows, std::size_t n_cols, const long long* rows,
                 std::size_t n_sel, T* out, const Exec& exec = {}) {
    check_exec(exec);
    require(n_sel > 0, "median_rows: rows is empty; a median needs at least one row");
    require_indices(rows, n_sel, n_rows, "rows", "a row of x");
    // up to kNetworkMax rows: a sorting network on blocks of columns gathered row by
    // row (vectorised along the columns); beyond, or where a block holds a NaN, an
    // exact selection per column
    constexpr std::size_t kNetworkMax = 512;
    constexpr std::size_t block = 64;
    const std::size_t n_blocks = (n_cols + block - 1) / block;
    const bool use_network = n_sel > 2 && n_sel <= kNetworkMax;
    const detail::MedianNetwork network(use_network ? n_sel : 1);
    detail::for_each_task(exec, static_cast<std::int64_t>(n_blocks), [&](std::int64_t b) {
        const std::size_t c0 = static_cast<std::size_t>(b) * block;
        const std::size_t w = (c0 + block < n_cols ? c0 + block : n_cols) - c0;
        std::vector<T> buf(block * n_sel);
        bool nan = false;
        for (std::size_t i = 0; i < n_sel; ++i) {
            const T* src = x + static_cast<std::size_t>(rows[i]) * n_cols + c0;
            T* dst = buf.data() + i * block;
            nan = kernels::copy_flag_nan(src, w, dst) || nan;
        }
        if (use_network && !nan) {
            network.block_median(buf.data(), block, w, out + c0);
            return;
        }
        std::vector<T> column(n_sel);
        kernels::column_medians(buf.data(), n_sel, block, w, column.data(), out + c0);
    });
}

AUTOREJECT_ISA_END
}  // namespace autoreject
