// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file parallel.hpp
/// @brief The loop drivers: how a backend runs `n` independent tasks.
///
/// Kernels call `for_each_task(exec, n, body)`; `body(i)` computes task `i` and
/// never depends on the order tasks run in, so results are the same on every
/// backend and thread count. Exceptions thrown by a task are carried out of the
/// OpenMP region and rethrown (the first one wins).
#pragma once

#include "autoreject/config.hpp"

#include <cstdint>
#include <exception>
#include <stdexcept>

#include "autoreject/backend.hpp"

#if defined(AUTOREJECT_HAVE_OPENMP)
#include <omp.h>
#endif

namespace autoreject {
AUTOREJECT_ISA_BEGIN
namespace detail {

/// Runs body(0), ..., body(n - 1) on the backend named by `exec`.
///
/// With the cuda backend, host loops (the header templates, the pipeline's own
/// loops) run on the host's threads as with openmp (serially without OpenMP):
/// only the dispatch:: entry points have device kernels.
template <class Body>
void for_each_task(const Exec& exec, std::int64_t n, Body&& body) {
    if (n <= 0) {
        return;
    }
    // (whether cuda is usable was checked by the caller: every kernel calls check_exec)
#if defined(AUTOREJECT_HAVE_OPENMP)
    constexpr Backend kHostThreads = Backend::OpenMP;
#else
    constexpr Backend kHostThreads = Backend::Scalar;
#endif
    const Backend host = exec.backend == Backend::Cuda ? kHostThreads : exec.backend;
    switch (host) {
        case Backend::Scalar:
            for (std::int64_t i = 0; i < n; ++i) {
                body(i);
            }
            return;
        case Backend::OpenMP: {
#if defined(AUTOREJECT_HAVE_OPENMP)
            const int threads = exec.n_threads > 0 ? exec.n_threads : max_threads();
            std::exception_ptr error = nullptr;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
            for (std::int64_t i = 0; i < n; ++i) {
                try {
                    body(i);
                } catch (...) {
#pragma omp critical(autoreject_task_error)
                    if (!error) {
                        error = std::current_exception();
                    }
                }
            }
            if (error) {
                std::rethrow_exception(error);
            }
            return;
#else
            break;
#endif
        }
        case Backend::Cuda:
            break;  // mapped to the host's threads above
    }
    throw std::invalid_argument("backend '" + backend_name(exec.backend) +
                                "' is not compiled into this build; resolve the backend with "
                                "autoreject::resolve_backend() to get one that is");
}

}  // namespace detail
AUTOREJECT_ISA_END
}  // namespace autoreject
