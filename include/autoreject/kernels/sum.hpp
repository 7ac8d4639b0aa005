// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file kernels/sum.hpp
/// @brief Sums in NumPy's order of operations.
///
/// NumPy reduces a contiguous axis of floats with a pairwise sum: below 8 terms
/// one running sum started at -0.0; up to 128 terms eight interleaved partial
/// sums combined as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)) followed by
/// the remainder; above that the two halves (the first a multiple of 8 long)
/// summed separately and added. `np.add.reduce` adds that to the identity 0.0.
/// `np.mean` then divides by the count.
#pragma once

#include <cstddef>

#include "autoreject/config.hpp"

namespace autoreject {
AUTOREJECT_ISA_BEGIN
namespace kernels {

/// NumPy's pairwise sum of `n` values `a[0], a[stride], ...`.
template <class T>
AUTOREJECT_HD T pairwise_sum(const T* a, std::ptrdiff_t n, std::ptrdiff_t stride = 1) {
    if (n < 8) {
        T res = T(-0.0);
        for (std::ptrdiff_t i = 0; i < n; ++i) {
            res += a[i * stride];
        }
        return res;
    }
    if (n <= 128) {
        T r[8];
        for (int j = 0; j < 8; ++j) {
            r[j] = a[j * stride];
        }
        std::ptrdiff_t i = 8;
        for (; i < n - (n % 8); i += 8) {
            for (int j = 0; j < 8; ++j) {
                r[j] += a[(i + j) * stride];
            }
        }
        T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) {
            res += a[i * stride];
        }
        return res;
    }
    std::ptrdiff_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2, stride) + pairwise_sum(a + n2 * stride, n - n2, stride);
}

/// `np.sum` of a contiguous run: the identity 0.0 plus the pairwise sum.
template <class T>
AUTOREJECT_HD T numpy_sum(const T* a, std::ptrdiff_t n, std::ptrdiff_t stride = 1) {
    return T(0) + pairwise_sum(a, n, stride);
}

/// `np.mean` of a contiguous run (`n` > 0): its sum divided by the count.
template <class T>
AUTOREJECT_HD T numpy_mean(const T* a, std::ptrdiff_t n, std::ptrdiff_t stride = 1) {
    return numpy_sum(a, n, stride) / static_cast<T>(n);
}

}  // namespace kernels
AUTOREJECT_ISA_END
}  // namespace autoreject
