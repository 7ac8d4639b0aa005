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
    table.push_back({Backend::Cuda, "cuda", false, false,
                     "not compiled in (this build has no CUDA kernels; configure with "
                     "AUTOREJECT_WITH_CUDA=ON and the CUDA Toolkit)"});
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
