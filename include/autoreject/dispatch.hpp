// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file dispatch.hpp
/// @brief The float64 (and float32) kernels compiled into the library once per instruction set and
/// chosen at run time.
///
/// The headers' templates are compiled with the caller's flags. The library instead
/// builds each kernel for SSE2 (every x86-64), AVX2 and AVX-512 (x86-64 only) and runs
/// the widest one the processor supports, so an installed package is fast without
/// `-march=native` and runs everywhere. Vector width never changes a result: the
/// kernels have no reassociated sums, and the tests compare every instruction set's
/// output with the others bit for bit. `AUTOREJECT_SIMD=auto|sse2|avx2|avx512` (or the
/// `simd` argument) forces one; an unknown or unsupported one throws, listing those
/// available.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "autoreject/backend.hpp"
#include "autoreject/types.hpp"

namespace autoreject {

/// Instruction sets the library's kernels are built for.
enum class Simd {
    Baseline,  ///< the compiler's default for the target (SSE2 on x86-64)
    Avx2,      ///< x86-64-v3: AVX2 (no fused multiply-add: contraction is off)
    Avx512,    ///< x86-64-v4: AVX-512, 512-bit vectors preferred
};

/// What the library knows about one instruction set.
struct SimdInfo {
    Simd simd;           ///< which set
    std::string name;    ///< "sse2" (or "baseline" off x86), "avx2", "avx512"
    bool compiled;       ///< built into this library
    bool available;      ///< compiled and supported by this processor
    std::string reason;  ///< why it is not available (empty when it is)
};

/// Every instruction set, narrowest first.
std::vector<SimdInfo> simd_levels();

/// Resolves a request ("auto", "sse2", "avx2", "avx512"; empty: AUTOREJECT_SIMD, then
/// "auto" = the widest available).
/// @throws std::invalid_argument for an unknown or unavailable name.
Simd resolve_simd(const std::string& requested = std::string());

/// Name of an instruction set.
std::string simd_name(Simd simd);

/// Run-time dispatched float64 kernels (see the header comment). Each takes the same
/// arguments as the template of the same name, plus the instruction set to run.
namespace dispatch {

/// autoreject::ptp on float64.
void ptp(const double* x, std::size_t n_rows, std::size_t n_cols, double* out, const Exec& exec,
         Simd simd);
/// autoreject::median_rows on float64.
void median_rows(const double* x, std::size_t n_rows, std::size_t n_cols, const long long* rows,
                 std::size_t n_sel, double* out, const Exec& exec, Simd simd);
/// autoreject::kept_means on float64.
void kept_means(const double* data, const long long* train_idx, const double* train_keys,
                const double* bounds, const KeptMeansShape& s, double* out, const Exec& exec,
                Simd simd);
/// autoreject::threshold_losses on float64.
void threshold_losses(const double* data, const long long* train_idx, const double* train_keys,
                      const double* bounds, const double* medians, const KeptMeansShape& s,
                      double* out, const Exec& exec, Simd simd);
/// autoreject::threshold_scores on float64.
void threshold_scores(const double* data, const long long* train_idx, const double* train_keys,
                      const double* bounds, const double* medians, const KeptMeansShape& s,
                      double* out, const Exec& exec, Simd simd);
/// autoreject::prefix_sums on float64.
void prefix_sums(const double* data, std::size_t n_rows, std::size_t n_cols, const long long* order,
                 std::size_t n_order, const long long* cuts, std::size_t n_cuts, double* out,
                 const Exec& exec, Simd simd);
/// autoreject::ransac_correlations on float64.
void ransac_correlations(const double* data, const long long* cols, const long long* counts,
                         const double* weights, const RansacShape& s, double* out, const Exec& exec,
                         Simd simd);

/// @name float32 overloads
/// The same kernels in single precision (`dtype='float32'`, the speed option): data,
/// keys, bounds, medians, weights and results are float32, indices stay int64. Their
/// results are the same bits on every instruction set and CPU backend, but they are not
/// autoreject's float64 decisions. Backend::Cuda is refused (no float32 GPU kernels).
/// @throws std::invalid_argument for Backend::Cuda, or as the float64 overloads.
/// @{

/// autoreject::ptp on float32.
void ptp(const float* x, std::size_t n_rows, std::size_t n_cols, float* out, const Exec& exec,
         Simd simd);
/// autoreject::median_rows on float32.
void median_rows(const float* x, std::size_t n_rows, std::size_t n_cols, const long long* rows,
                 std::size_t n_sel, float* out, const Exec& exec, Simd simd);
/// autoreject::kept_means on float32.
void kept_means(const float* data, const long long* train_idx, const float* train_keys,
                const float* bounds, const KeptMeansShape& s, float* out, const Exec& exec,
                Simd simd);
/// autoreject::threshold_losses on float32.
void threshold_losses(const float* data, const long long* train_idx, const float* train_keys,
                      const float* bounds, const float* medians, const KeptMeansShape& s,
                      float* out, const Exec& exec, Simd simd);
/// autoreject::threshold_scores on float32.
void threshold_scores(const float* data, const long long* train_idx, const float* train_keys,
                      const float* bounds, const float* medians, const KeptMeansShape& s,
                      float* out, const Exec& exec, Simd simd);
/// autoreject::prefix_sums on float32.
void prefix_sums(const float* data, std::size_t n_rows, std::size_t n_cols, const long long* order,
                 std::size_t n_order, const long long* cuts, std::size_t n_cuts, float* out,
                 const Exec& exec, Simd simd);
/// autoreject::ransac_correlations on float32.
void ransac_correlations(const float* data, const long long* cols, const long long* counts,
                         const float* weights, const RansacShape& s, float* out, const Exec& exec,
                         Simd simd);
/// @}

}  // namespace dispatch
}  // namespace autoreject
