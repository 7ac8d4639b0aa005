// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// Run-time choice of the instruction set the library's kernels run with.
#include "autoreject/dispatch.hpp"
#include "autoreject/resident.hpp"

#include <cstdlib>
#include <stdexcept>

#include "autoreject/algorithms/repair.hpp"
#include "autoreject/algorithms/vote.hpp"
#include "autoreject/kernels/kept_means.hpp"
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

namespace {

/// The instruction set's kernels of precision T.
template <class T>
const tables::KernelTableOf<T>& kernels_of(Simd simd);
template <>
const tables::KernelTableOf<double>& kernels_of<double>(Simd simd) {
    return checked(simd);
}
template <>
const tables::KernelTableOf<float>& kernels_of<float>(Simd simd) {
    return checked(simd).f32;
}

}  // namespace

// On the cuda backend the call goes to the GPU's kernels (src/cuda), else to the table of
// the instruction set; both precisions alike.
#if defined(AUTOREJECT_HAVE_CUDA)
#define AUTOREJECT_ON_GPU(call)          \
    if (exec.backend == Backend::Cuda) { \
        check_exec(exec);                \
        cuda::call;                      \
        return;                          \
    }
#else
#define AUTOREJECT_ON_GPU(call)
#endif

template <class T>
void ptp(const T* x, std::size_t n_rows, std::size_t n_cols, T* out, const Exec& exec, Simd simd) {
    AUTOREJECT_ON_GPU(ptp(x, n_rows, n_cols, out))
    kernels_of<T>(simd).ptp(x, n_rows, n_cols, out, exec);
}

template <class T>
void median_rows(const T* x, std::size_t n_rows, std::size_t n_cols, const long long* rows,
                 std::size_t n_sel, T* out, const Exec& exec, Simd simd) {
    AUTOREJECT_ON_GPU(median_rows(x, n_rows, n_cols, rows, n_sel, out))
    kernels_of<T>(simd).median_rows(x, n_rows, n_cols, rows, n_sel, out, exec);
}

template <class T>
void kept_means(const T* data, const long long* train_idx, const T* train_keys, const T* bounds,
                const KeptMeansShape& s, T* out, const Exec& exec, Simd simd) {
    AUTOREJECT_ON_GPU(kept_means(data, train_idx, train_keys, bounds, s, out))
    kernels_of<T>(simd).kept_means(data, train_idx, train_keys, bounds, s, out, exec);
}

template <class T>
void threshold_losses(const T* data, const long long* train_idx, const T* train_keys,
                      const T* bounds, const T* medians, const KeptMeansShape& s, T* out,
                      const Exec& exec, Simd simd) {
    AUTOREJECT_ON_GPU(threshold_losses(data, train_idx, train_keys, bounds, medians, s, out))
    kernels_of<T>(simd).threshold_losses(data, train_idx, train_keys, bounds, medians, s, out,
                                         exec);
}

template <class T>
void threshold_scores(const T* data, const long long* train_idx, const T* train_keys,
                      const T* bounds, const T* medians, const KeptMeansShape& s, T* out,
                      const Exec& exec, Simd simd) {
    AUTOREJECT_ON_GPU(threshold_scores(data, train_idx, train_keys, bounds, medians, s, out))
    kernels_of<T>(simd).threshold_scores(data, train_idx, train_keys, bounds, medians, s, out,
                                         exec);
}

template <class T>
void prefix_sums(const T* data, std::size_t n_rows, std::size_t n_cols, const long long* order,
                 std::size_t n_order, const long long* cuts, std::size_t n_cuts, T* out,
                 const Exec& exec, Simd simd) {
    AUTOREJECT_ON_GPU(prefix_sums(data, n_rows, n_cols, order, n_order, cuts, n_cuts, out))
    kernels_of<T>(simd).prefix_sums(data, n_rows, n_cols, order, n_order, cuts, n_cuts, out, exec);
}

template <class T>
void ransac_correlations(const T* data, const long long* cols, const long long* counts,
                         const T* weights, const RansacShape& s, T* out, const Exec& exec,
                         Simd simd) {
    AUTOREJECT_ON_GPU(ransac_correlations(data, cols, counts, weights, s, out))
    kernels_of<T>(simd).ransac_correlations(data, cols, counts, weights, s, out, exec);
}

template <class T>
void vote_bad_epochs(const T* deltas, std::size_t n_epochs, std::size_t n_sensors,
                     const T* threshes, std::uint8_t* bad, std::int64_t* counts, const Exec& exec) {
    AUTOREJECT_ON_GPU(vote_bad_epochs(deltas, n_epochs, n_sensors, threshes, bad, counts))
    autoreject::vote_bad_epochs(deltas, n_epochs, n_sensors, threshes, bad, counts, exec);
}

template <class T>
void rmse_rows(const T* median, const T* means, std::size_t n_means, std::size_t n, T* out,
               const Exec& exec) {
    AUTOREJECT_ON_GPU(rmse_rows(median, means, n_means, n, out))
    autoreject::rmse_rows(median, means, n_means, n, out, exec);
}

void repair_epochs(double* data, std::size_t n_epochs, std::size_t n_channels, std::size_t n_times,
                   const RepairJob* jobs, std::size_t n_jobs, const Exec& exec) {
    AUTOREJECT_ON_GPU(repair_epochs(data, n_epochs, n_channels, n_times, jobs, n_jobs))
    autoreject::repair_epochs(data, n_epochs, n_channels, n_times, jobs, n_jobs, exec);
}

#undef AUTOREJECT_ON_GPU

}  // namespace dispatch

DeviceResidency::DeviceResidency(const Exec& exec) : on_gpu_(exec.backend == Backend::Cuda) {
    check_exec(exec);
}

DeviceResidency::~DeviceResidency() {
#if defined(AUTOREJECT_HAVE_CUDA)
    for (const void* data : arrays_) {
        cuda::unregister_resident(data);
    }
#endif
}

bool DeviceResidency::add(const double* data, std::size_t n) {
    return add_bytes(data, n * sizeof(double));
}

bool DeviceResidency::add(const float* data, std::size_t n) {
    return add_bytes(data, n * sizeof(float));
}

bool DeviceResidency::add_bytes(const void* data, std::size_t bytes) {
#if defined(AUTOREJECT_HAVE_CUDA)
    if (on_gpu_ && cuda::register_resident(data, bytes)) {
        arrays_.push_back(data);
        bytes_ += bytes;
        return true;
    }
#else
    (void)data;
    (void)bytes;
#endif
    return false;
}

namespace dispatch {

// the two precisions
// T is a type: parentheses around it would not compile
// NOLINTBEGIN(bugprone-macro-parentheses)
#define AUTOREJECT_DISPATCH_INSTANTIATE(T)                                                        \
    template void ptp<T>(const T*, std::size_t, std::size_t, T*, const Exec&, Simd);              \
    template void median_rows<T>(const T*, std::size_t, std::size_t, const long long*,            \
                                 std::size_t, T*, const Exec&, Simd);                             \
    template void kept_means<T>(const T*, const long long*, const T*, const T*,                   \
                                const KeptMeansShape&, T*, const Exec&, Simd);                    \
    template void threshold_losses<T>(const T*, const long long*, const T*, const T*, const T*,   \
                                      const KeptMeansShape&, T*, const Exec&, Simd);              \
    template void threshold_scores<T>(const T*, const long long*, const T*, const T*, const T*,   \
                                      const KeptMeansShape&, T*, const Exec&, Simd);              \
    template void prefix_sums<T>(const T*, std::size_t, std::size_t, const long long*,            \
                                 std::size_t, const long long*, std::size_t, T*, const Exec&,     \
                                 Simd);                                                           \
    template void ransac_correlations<T>(const T*, const long long*, const long long*, const T*,  \
                                         const RansacShape&, T*, const Exec&, Simd);              \
    template void rmse_rows<T>(const T*, const T*, std::size_t, std::size_t, T*, const Exec&);    \
    template void vote_bad_epochs<T>(const T*, std::size_t, std::size_t, const T*, std::uint8_t*, \
                                     std::int64_t*, const Exec&);
AUTOREJECT_DISPATCH_INSTANTIATE(double)
AUTOREJECT_DISPATCH_INSTANTIATE(float)
#undef AUTOREJECT_DISPATCH_INSTANTIATE
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace dispatch
}  // namespace autoreject
