// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The backend registry: the one place that decides which backend runs.
#include "autoreject/backend.hpp"

#include "names.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#if defined(AUTOREJECT_HAVE_OPENMP)
#include <omp.h>
#endif

#if defined(AUTOREJECT_HAVE_CUDA)
#include <cuda_runtime_api.h>  // CUDART_VERSION: the runtime the kernels were built for
#include <dlfcn.h>
#endif

namespace autoreject {

namespace {

// "available here: 'auto', 'scalar'; 'cuda' is unavailable: ..." (without `skip`,
// whose reason the caller already gave)
std::string available_list(const std::vector<BackendInfo>& table, const std::string& skip = "") {
    std::string names = "'auto'";
    std::string others;
    for (const auto& info : table) {
        if (info.available) {
            names += ", '" + info.name + "'";
        } else if (info.name != skip) {
            others += "; '" + info.name + "' is unavailable: " + info.reason;
        }
    }
    return "available here: " + names + others;
}

#if defined(AUTOREJECT_HAVE_CUDA) && !defined(AUTOREJECT_CUDA_EMULATION)
// "13.0" for 13000
std::string cuda_version_text(int version) {
    return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

// Why the CUDA backend cannot run here (empty when it can). The driver API is reached
// through dlopen, so that loading the library never needs libcuda; the handle stays open.
// Runs once, on first use (see cuda_reason()).
std::string probe_cuda() {
    void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        return "no CUDA driver (libcuda.so.1 not found)";
    }
    using IntFn = int (*)(int*);
    using InitFn = int (*)(unsigned int);
    const auto get_version = reinterpret_cast<IntFn>(dlsym(lib, "cuDriverGetVersion"));
    const auto init = reinterpret_cast<InitFn>(dlsym(lib, "cuInit"));
    const auto get_count = reinterpret_cast<IntFn>(dlsym(lib, "cuDeviceGetCount"));
    if (get_version == nullptr || init == nullptr || get_count == nullptr) {
        return "no CUDA driver (libcuda.so.1 lacks cuInit, cuDriverGetVersion or "
               "cuDeviceGetCount)";
    }
    int driver = 0;
    if (get_version(&driver) != 0) {
        return "no CUDA driver (cuDriverGetVersion failed)";
    }
    // a driver runs the runtimes of its own major version and older ones (CUDA's minor
    // version compatibility)
    if (driver / 1000 < CUDART_VERSION / 1000) {
        return "driver too old (driver " + cuda_version_text(driver) + ", built for " +
               cuda_version_text(CUDART_VERSION) + "; install a driver for CUDA " +
               cuda_version_text(CUDART_VERSION / 1000 * 1000) + " or newer)";
    }
    constexpr int kNoDevice = 100;  // CUDA_ERROR_NO_DEVICE
    const int status = init(0);
    if (status == kNoDevice) {
        return "no CUDA device";
    }
    if (status != 0) {
        return "the CUDA driver failed to initialise (cuInit returned " + std::to_string(status) +
               ")";
    }
    int count = 0;
    if (get_count(&count) != 0 || count <= 0) {
        return "no CUDA device";
    }
    return "";
}
#elif defined(AUTOREJECT_CUDA_EMULATION)
// the emulated GPU of a test build (src/cuda/emulation) is always there
std::string probe_cuda() { return ""; }
#endif

#if defined(AUTOREJECT_HAVE_CUDA)

// probe_cuda() once per process, thread-safe (a function-local static)
const std::string& cuda_reason() {
    static const std::string reason = probe_cuda();
    return reason;
}
#endif

}  // namespace

std::string backend_name(Backend backend) {
    switch (backend) {
        case Backend::Scalar:
            return "scalar";
        case Backend::OpenMP:
            return "openmp";
        case Backend::Cuda:
            return "cuda";
    }
    return "unknown";
}

int max_threads() {
#if defined(AUTOREJECT_HAVE_OPENMP)
    return std::max(1, omp_get_max_threads());
#else
    return 1;
#endif
}

std::vector<BackendInfo> backends() {
    std::vector<BackendInfo> table;
    table.push_back({Backend::Scalar, "scalar", true, true, ""});
#if defined(AUTOREJECT_HAVE_OPENMP)
    table.push_back({Backend::OpenMP, "openmp", true, true, ""});
#else
    table.push_back({Backend::OpenMP, "openmp", false, false,
                     "not compiled in (configure with AUTOREJECT_WITH_OPENMP=ON and a compiler "
                     "with OpenMP)"});
#endif
#if defined(AUTOREJECT_HAVE_CUDA)
    const std::string& reason = cuda_reason();
    table.push_back({Backend::Cuda, "cuda", true, reason.empty(), reason});
#else
    table.push_back({Backend::Cuda, "cuda", false, false,
                     "not compiled in (this build has no CUDA kernels; configure with "
                     "AUTOREJECT_WITH_CUDA=ON and the CUDA Toolkit)"});
#endif
    return table;
}

Backend resolve_backend(const std::string& requested) {
    std::string source = "argument";
    std::string name = names::normalise(requested);
    if (name.empty()) {
        const char* env = std::getenv("AUTOREJECT_BACKEND");
        name = env != nullptr ? names::normalise(env) : std::string();
        source = "environment variable AUTOREJECT_BACKEND";
        if (name.empty()) {
            name = "auto";
            source = "default";
        }
    }
    const auto table = backends();
    if (name == "auto") {
        for (const auto& info : table) {
            if (info.backend == Backend::Cuda && info.available) {
                return Backend::Cuda;
            }
        }
        for (const auto& info : table) {
            if (info.backend == Backend::OpenMP && info.available && max_threads() > 1) {
                return Backend::OpenMP;
            }
        }
        return Backend::Scalar;
    }
    for (const auto& info : table) {
        if (info.name == name) {
            if (!info.available) {
                throw std::invalid_argument("backend '" + name + "' (from the " + source +
                                            ") is unavailable: " + info.reason + "; " +
                                            available_list(table, name));
            }
            return info.backend;
        }
    }
    throw std::invalid_argument("unknown backend '" + name + "' (from the " + source +
                                "); valid names are 'auto', 'scalar', 'openmp', 'cuda'; " +
                                available_list(table));
}

void check_exec(const Exec& exec) {
    if (exec.n_threads < 0) {
        throw std::invalid_argument("n_threads = " + std::to_string(exec.n_threads) +
                                    " is negative; pass 0 for the default or a positive count");
    }
    for (const auto& info : backends()) {
        if (info.backend == exec.backend && !info.available) {
            throw std::invalid_argument("backend '" + info.name + "' is unavailable: " +
                                        info.reason + "; " + available_list(backends(), info.name));
        }
    }
}

}  // namespace autoreject
