// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file config.hpp
/// @brief Version, feature flags and the host/device function macro.
#pragma once

#include <cstddef>

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

/// GCC and Clang vector extensions on the host: kernels whose lanes are independent
/// use the instruction set's own vector width (AUTOREJECT_VECTOR_BYTES) for them. Off in
/// every file nvcc compiles (its front end does not index vector comparisons); those
/// files run the vector kernels on the device only, with their scalar lanes.
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDA_ARCH__) && !defined(__CUDACC__)
#define AUTOREJECT_VECTOR_EXTENSIONS 1
#if defined(__AVX512F__)
#define AUTOREJECT_VECTOR_BYTES 64
#elif defined(__AVX__)
#define AUTOREJECT_VECTOR_BYTES 32
#else
#define AUTOREJECT_VECTOR_BYTES 16
#endif
#endif

// Bit equality with NumPy needs IEEE semantics: no fast-math, no contraction.
#if defined(__FAST_MATH__)
#error \
    "autoreject_cpp must not be compiled with -ffast-math: results must equal NumPy's bit for bit"
#endif

/// Opens and closes the namespace that holds the kernels' code. Built normally it is
/// empty. The compiled library builds the kernels once per instruction set (SSE2,
/// AVX2, AVX-512) with `AUTOREJECT_ISA` set to that set's namespace name, so each
/// build's code has its own symbols and the library picks one at run time
/// (see dispatch.hpp). Types shared by every build stay outside it.
#if defined(AUTOREJECT_ISA)
#define AUTOREJECT_ISA_BEGIN inline namespace AUTOREJECT_ISA {
#define AUTOREJECT_ISA_END }
#else
#define AUTOREJECT_ISA_BEGIN
#define AUTOREJECT_ISA_END
#endif

/// autoreject_cpp's public C++ API: the pipeline (pipeline.hpp), interpolation,
/// random streams, kernels and the backend registry.
namespace autoreject {
AUTOREJECT_ISA_BEGIN
namespace kernels {

/// True for NaN: the IEEE self-comparison, which compilers vectorise without
/// fast-math (it is the one place this idiom lives).
template <class T>
AUTOREJECT_HD bool is_nan(T v) {
    return v != v;  // NOLINT(misc-redundant-expression)
}

#if defined(AUTOREJECT_VECTOR_EXTENSIONS)
/// Whether any lane of a vector comparison's result is set (host vector extensions).
template <class Mask>
inline bool any_lane(const Mask& mask) {
    constexpr std::size_t lanes = sizeof(Mask) / sizeof(mask[0]);
    bool any = false;
    for (std::size_t j = 0; j < lanes; ++j) {
        any = any || mask[j] != 0;
    }
    return any;
}
#endif

}  // namespace kernels
AUTOREJECT_ISA_END
}  // namespace autoreject
