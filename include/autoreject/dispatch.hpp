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

/// Run-time dispatched kernels (see the header comment). Each takes the same arguments
/// as the template of the same name, plus the instruction set to run, and exists for
/// T = double (autoreject's precision: the same bits as NumPy) and T = float
/// (`dtype='float32'`, the speed option: data, keys, bounds, medians, weights and results
/// in float32, indices int64; the same bits on every instruction set and CPU backend,
/// not autoreject's float64 decisions). With Backend::Cuda the GPU's kernels run.
/// @throws std::invalid_argument as the templates, or for an unavailable backend.
namespace dispatch {

/// autoreject::ptp.
template <class T>
void ptp(const T* x, std::size_t n_rows, std::size_t n_cols, T* out, const Exec& exec, Simd simd);
/// autoreject::median_rows.
template <class T>
void median_rows(const T* x, std::size_t n_rows, std::size_t n_cols, const long long* rows,
                 std::size_t n_sel, T* out, const Exec& exec, Simd simd);
/// autoreject::kept_means.
template <class T>
void kept_means(const T* data, const long long* train_idx, const T* train_keys, const T* bounds,
                const KeptMeansShape& s, T* out, const Exec& exec, Simd simd);
/// autoreject::threshold_losses.
template <class T>
void threshold_losses(const T* data, const long long* train_idx, const T* train_keys,
                      const T* bounds, const T* medians, const KeptMeansShape& s, T* out,
                      const Exec& exec, Simd simd);
/// autoreject::threshold_scores.
template <class T>
void threshold_scores(const T* data, const long long* train_idx, const T* train_keys,
                      const T* bounds, const T* medians, const KeptMeansShape& s, T* out,
                      const Exec& exec, Simd simd);
/// autoreject::prefix_sums.
template <class T>
void prefix_sums(const T* data, std::size_t n_rows, std::size_t n_cols, const long long* order,
                 std::size_t n_order, const long long* cuts, std::size_t n_cuts, T* out,
                 const Exec& exec, Simd simd);
/// autoreject::ransac_correlations.
template <class T>
void ransac_correlations(const T* data, const long long* cols, const long long* counts,
                         const T* weights, const RansacShape& s, T* out, const Exec& exec,
                         Simd simd);

/// autoreject::vote_bad_epochs (its loop is the same on every instruction set; the
/// entry point exists so that the cuda backend runs it on the GPU).
template <class T>
void vote_bad_epochs(const T* deltas, std::size_t n_epochs, std::size_t n_sensors,
                     const T* threshes, std::uint8_t* bad, std::int64_t* counts, const Exec& exec);
/// autoreject::rmse_rows (the same loop on every instruction set; the entry point exists
/// so that the cuda backend runs it on the GPU).
template <class T>
void rmse_rows(const T* median, const T* means, std::size_t n_means, std::size_t n, T* out,
               const Exec& exec);
/// autoreject::repair_epochs, float64 only (as the C++ pipeline repairs); on the cuda
/// backend the jobs' channels go to the GPU and the repaired ones come back.
void repair_epochs(double* data, std::size_t n_epochs, std::size_t n_channels, std::size_t n_times,
                   const RepairJob* jobs, std::size_t n_jobs, const Exec& exec);

}  // namespace dispatch
}  // namespace autoreject
