// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file backend.hpp
/// @brief The one registry of compute backends: what is compiled in, what the
/// machine offers, and which one a request resolves to.
///
/// A request is resolved in this order: the explicit name passed by the caller,
/// else the environment variable `AUTOREJECT_BACKEND`, else `auto`. `auto` is
/// `cuda` when compiled in with a driver and a device, else `openmp` when compiled
/// in and more than one thread is available, else `scalar`. An unknown or
/// unavailable name throws std::invalid_argument listing what is available and
/// why the others are not: there is never a silent fallback. Nothing here starts
/// a thread or touches a GPU; detection runs on first use (for cuda: the driver,
/// through dlopen("libcuda.so.1"), its version and its device count, cached).
#pragma once

#include <string>
#include <vector>

#include "autoreject/config.hpp"

namespace autoreject {

/// The compute backends the core knows about.
enum class Backend {
    Scalar,  ///< plain serial loops: the reference every other backend is tested against
    OpenMP,  ///< the same loop bodies run by OpenMP threads
    Cuda,    ///< the same bodies on an NVIDIA GPU (builds with AUTOREJECT_HAVE_CUDA)
};

/// What the registry knows about one backend.
struct BackendInfo {
    Backend backend;     ///< which backend
    std::string name;    ///< its name: "scalar", "openmp" or "cuda"
    bool compiled;       ///< compiled into this build
    bool available;      ///< usable on this machine now
    std::string reason;  ///< why it is not available (empty when it is)
};

/// How a kernel runs: which backend and how many threads (0: the backend's default).
struct Exec {
    Backend backend = Backend::Scalar;  ///< loop driver
    int n_threads = 0;                  ///< threads for OpenMP; 0 means max_threads()
};

/// Name of a backend ("scalar", "openmp", "cuda").
std::string backend_name(Backend backend);

/// Every backend the core knows, in priority order, with availability and reasons.
std::vector<BackendInfo> backends();

/// Threads the OpenMP backend uses by default (OMP_NUM_THREADS or the cores); 1 without OpenMP.
int max_threads();

/// Resolves a request to a usable backend.
///
/// @param requested "auto", "scalar", "openmp" or "cuda" (case-insensitive,
///        surrounding blanks ignored); empty means: read AUTOREJECT_BACKEND, then "auto".
/// @throws std::invalid_argument for an unknown or unavailable name; the message names
///         the source of the request and lists the available backends and why others are not.
Backend resolve_backend(const std::string& requested = std::string());

/// Throws std::invalid_argument unless `exec` names a backend available here and a thread
/// count >= 0. Every kernel entry point calls it.
void check_exec(const Exec& exec);

}  // namespace autoreject
