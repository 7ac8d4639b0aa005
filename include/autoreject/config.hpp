// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file config.hpp
/// @brief Version, feature flags and the host/device function macro.
#pragma once

#define AUTOREJECT_VERSION_MAJOR 0
#define AUTOREJECT_VERSION_MINOR 1
#define AUTOREJECT_VERSION_PATCH 0
#define AUTOREJECT_VERSION_STRING "0.1.0"

/// Marks a function usable on the host and, when compiled by nvcc, on the device.
/// Every kernel body is written once with it; backends only decide how to loop.
#if defined(__CUDACC__)
#define AUTOREJECT_HD __host__ __device__ inline
#else
#define AUTOREJECT_HD inline
#endif

// Bit equality with NumPy needs IEEE semantics: no fast-math, no contraction.
#if defined(__FAST_MATH__)
#error \
    "autoreject_cpp must not be compiled with -ffast-math: results must equal NumPy's bit for bit"
#endif

namespace autoreject {
namespace kernels {

/// True for NaN: the IEEE self-comparison, which compilers vectorise without
/// fast-math (it is the one place this idiom lives).
template <class T>
AUTOREJECT_HD bool is_nan(T v) {
    return v != v;  // NOLINT(misc-redundant-expression)
}

}  // namespace kernels
}  // namespace autoreject
