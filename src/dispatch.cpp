// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// Run-time choice of the instruction set the library's kernels run with.
#include "autoreject/dispatch.hpp"

#include <cstdlib>
#include <stdexcept>

#include "isa/kernel_table.hpp"
#include "names.hpp"

#if defined(AUTOREJECT_HAVE_CUDA)
#include "cuda/cuda_backend.hpp"
#endif

namespace autoreject {

namespace {

bool cpu_supports(Simd simd) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    switch (simd) {
        case Simd::Baseline:
            return true;
        case Simd::Avx2:
            return __builtin_cpu_supports("avx2") != 0;
        case Simd::Avx512:
            return __builtin_cpu_supports("avx512f") != 0 &&
                   __builtin_cpu_supports("avx512dq") != 0 &&
                   __builtin_cpu_supports("avx512bw") != 0 &&
                   __builtin_cpu_supports("avx512vl") != 0;
    }
    return false;
#else
    return simd == Simd::Baseline;
#endif
}

#if defined(AUTOREJECT_HAVE_AVX2)
constexpr bool kHaveAvx2 = true;
#else
constexpr bool kHaveAvx2 = false;
#endif
#if defined(AUTOREJECT_HAVE_AVX512)
constexpr bool kHaveAvx512 = true;
#else
constexpr bool kHaveAvx512 = false;
#endif

bool compiled(Simd simd) {
    return simd == Simd::Baseline || (simd == Simd::Avx2 && kHaveAvx2) ||
           (simd == Simd::Avx512 && kHaveAvx512);
}

const tables::KernelTable& table(Simd simd) {
    switch (simd) {
#if defined(AUTOREJECT_HAVE_AVX512)
        case Simd::Avx512:
            return tables::kernels_avx512;
#endif
#if defined(AUTOREJECT_HAVE_AVX2)
        case Simd::Avx2:
            return tables::kernels_avx2;
#endif
        case Simd::Baseline:
            return tables::kernels_baseline;
        default:
            break;
    }
    throw std::invalid_argument("instruction set '" + simd_name(simd) +
                                "' is not compiled into this library; use resolve_simd()");
}

const tables::KernelTable& checked(Simd simd) {
    if (!cpu_supports(simd)) {
        throw std::invalid_argument("instruction set '" + simd_name(simd) +
                                    "' is not supported by this processor; use resolve_simd()");
    }
    return table(simd);
}

}  // namespace

std::string simd_name(Simd simd) {
    switch (simd) {
        case Simd::Baseline:
#if defined(__x86_64__)
            return "sse2";
#else
            return "baseline";
#endif
        case Simd::Avx2:
            return "avx2";
        case Simd::Avx512:
            return "avx512";
    }
    return "unknown";
}

std::vector<SimdInfo> simd_levels() {
    std::vector<SimdInfo> out;
    for (Simd simd : {Simd::Baseline, Simd::Avx2, Simd::Avx512}) {
        SimdInfo info{simd, simd_name(simd), compiled(simd), false, ""};
        if (!info.compiled) {
            info.reason = "not compiled into this library (x86-64 builds with GCC or Clang only)";
        } else if (!cpu_supports(simd)) {
            info.reason = "not supported by this processor";
        } else {
            info.available = true;
        }
        out.push_back(info);
    }
    return out;
}

Simd resolve_simd(const std::string& requested) {
    std::string name = names::normalise(requested);
    std::string source = "argument";
    if (name.empty()) {
        const char* env = std::getenv("AUTOREJECT_SIMD");
        source = "environment variable AUTOREJECT_SIMD";
        name = env != nullptr ? names::normalise(env) : std::string();
    }
    const auto levels = simd_levels();
    if (name.empty() || name == "auto") {
        Simd best = Simd::Baseline;
        for (const auto& info : levels) {
            if (info.available) {
                best = info.simd;
            }
        }
        return best;
    }
    std::string listing = "available here: 'auto'";
    for (const auto& info : levels) {
        if (info.available) {
            listing += ", '" + info.name + "'";
        }
    }
    for (const auto& info : levels) {
        if (info.name == name) {
            if (!info.available) {
                throw std::invalid_argument("instruction set '" + name + "' (from the " + source +
                                            ") is unavailable: " + info.reason + "; " + listing);
            }
            return info.simd;
        }
    }
    throw std::invalid_argument("unknown instruction set '" + name + "' (from the " + source +
                                "); valid names are 'auto', '" + simd_name(Simd::Baseline) +
                                "', 'avx2', 'avx512'; " + listing);
}

namespace dispatch {

void ptp(const double* x, std::size_t n_rows, std::size_t n_cols, double* out, const Exec& exec,
         Simd simd) {
#if defined(AUTOREJECT_HAVE_CUDA)
    if (exec.backend == Backend::Cuda) {
        check_exec(exec);
        cuda::ptp(x, n_rows, n_cols, out);
        return;
    }
#endif
    checked(simd).ptp(x, n_rows, n_cols, out, exec);
}

void median_rows(const double* x, std::size_t n_rows, std::size_t n_cols, const long long* rows,
                 std::size_t n_sel, double* out, const Exec& exec, Simd simd) {
#if defined(AUTOREJECT_HAVE_CUDA)
    if (exec.backend == Backend::Cuda) {
        check_exec(exec);
        cuda::median_rows(x, n_rows, n_cols, rows, n_sel, out);
        return;
    }
#endif
    checked(simd).median_rows(x, n_rows, n_cols, rows, n_sel, out, exec);
}

void kept_means(const double* data, const long long* train_idx, const double* train_keys,
                const double* bounds, const KeptMeansShape& s, double* out, const Exec& exec,
                Simd simd) {
#if defined(AUTOREJECT_HAVE_CUDA)
    if (exec.backend == Backend::Cuda) {
        check_exec(exec);
        cuda::kept_means(data, train_idx, train_keys, bounds, s, out);
        return;
    }
#endif
    checked(simd).kept_means(data, train_idx, train_keys, bounds, s, out, exec);
}

void threshold_losses(const double* data, const long long* train_idx, const double* train_keys,
                      const double* bounds, const double* medians, const KeptMeansShape& s,
                      double* out, const Exec& exec, Simd simd) {
#if defined(AUTOREJECT_HAVE_CUDA)
    if (exec.backend == Backend::Cuda) {
        check_exec(exec);
        cuda::threshold_losses(data, train_idx, train_keys, bounds, medians, s, out);
        return;
    }
#endif
    checked(simd).threshold_losses(data, train_idx, train_keys, bounds, medians, s, out, exec);
}

void threshold_scores(const double* data, const long long* train_idx, const double* train_keys,
                      const double* bounds, const double* medians, const KeptMeansShape& s,
                      double* out, const Exec& exec, Simd simd) {
#if defined(AUTOREJECT_HAVE_CUDA)
    if (exec.backend == Backend::Cuda) {
        check_exec(exec);
        cuda::threshold_scores(data, train_idx, train_keys, bounds, medians, s, out);
        return;
    }
#endif
    checked(simd).threshold_scores(data, train_idx, train_keys, bounds, medians, s, out, exec);
}

void prefix_sums(const double* data, std::size_t n_rows, std::size_t n_cols, const long long* order,
                 std::size_t n_order, const long long* cuts, std::size_t n_cuts, double* out,
                 const Exec& exec, Simd simd) {
#if defined(AUTOREJECT_HAVE_CUDA)
    if (exec.backend == Backend::Cuda) {
        check_exec(exec);
        cuda::prefix_sums(data, n_rows, n_cols, order, n_order, cuts, n_cuts, out);
        return;
    }
#endif
    checked(simd).prefix_sums(data, n_rows, n_cols, order, n_order, cuts, n_cuts, out, exec);
}

void ransac_correlations(const double* data, const long long* cols, const long long* counts,
                         const double* weights, const RansacShape& s, double* out, const Exec& exec,
                         Simd simd) {
#if defined(AUTOREJECT_HAVE_CUDA)
    if (exec.backend == Backend::Cuda) {
        check_exec(exec);
        cuda::ransac_correlations(data, cols, counts, weights, s, out);
        return;
    }
#endif
    checked(simd).ransac_correlations(data, cols, counts, weights, s, out, exec);
}

// float32 overloads (dtype='float32'): the same kernels in single precision.

namespace {

const tables::KernelTableOf<float>& checked_f32(Simd simd, const Exec& exec) {
    if (exec.backend == Backend::Cuda) {
        throw std::invalid_argument(
            "backend 'cuda' has no float32 kernels (dtype='float32'); use backend='openmp' "
            "or 'scalar' with float32 data, or float64 data (dtype='float64') on 'cuda'");
    }
    return checked(simd).f32;
}

}  // namespace

void ptp(const float* x, std::size_t n_rows, std::size_t n_cols, float* out, const Exec& exec,
         Simd simd) {
    checked_f32(simd, exec).ptp(x, n_rows, n_cols, out, exec);
}

void median_rows(const float* x, std::size_t n_rows, std::size_t n_cols, const long long* rows,
                 std::size_t n_sel, float* out, const Exec& exec, Simd simd) {
    checked_f32(simd, exec).median_rows(x, n_rows, n_cols, rows, n_sel, out, exec);
}

void kept_means(const float* data, const long long* train_idx, const float* train_keys,
                const float* bounds, const KeptMeansShape& s, float* out, const Exec& exec,
                Simd simd) {
    checked_f32(simd, exec).kept_means(data, train_idx, train_keys, bounds, s, out, exec);
}

void threshold_losses(const float* data, const long long* train_idx, const float* train_keys,
                      const float* bounds, const float* medians, const KeptMeansShape& s,
                      float* out, const Exec& exec, Simd simd) {
    checked_f32(simd, exec)
        .threshold_losses(data, train_idx, train_keys, bounds, medians, s, out, exec);
}

void threshold_scores(const float* data, const long long* train_idx, const float* train_keys,
                      const float* bounds, const float* medians, const KeptMeansShape& s,
                      float* out, const Exec& exec, Simd simd) {
    checked_f32(simd, exec)
        .threshold_scores(data, train_idx, train_keys, bounds, medians, s, out, exec);
}

void prefix_sums(const float* data, std::size_t n_rows, std::size_t n_cols, const long long* order,
                 std::size_t n_order, const long long* cuts, std::size_t n_cuts, float* out,
                 const Exec& exec, Simd simd) {
    checked_f32(simd, exec)
        .prefix_sums(data, n_rows, n_cols, order, n_order, cuts, n_cuts, out, exec);
}

void ransac_correlations(const float* data, const long long* cols, const long long* counts,
                         const float* weights, const RansacShape& s, float* out, const Exec& exec,
                         Simd simd) {
    checked_f32(simd, exec).ransac_correlations(data, cols, counts, weights, s, out, exec);
}

}  // namespace dispatch
}  // namespace autoreject
