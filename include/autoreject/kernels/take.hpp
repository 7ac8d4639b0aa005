// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file kernels/take.hpp
/// @brief Rows of an array gathered into a new one, `x[rows]`, by several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "autoreject/backend.hpp"
#include "autoreject/config.hpp"
#include "autoreject/errors.hpp"
#include "autoreject/parallel.hpp"

namespace autoreject {
AUTOREJECT_ISA_BEGIN

/// `out[i] = src[rows[i]]` for rows of `row_bytes` bytes: the kept epochs of a recording
/// copied into the cleaned one.
///
/// Each thread copies a run of consecutive rows, so that the pages of a freshly
/// allocated `out` are first touched (and zeroed by the system) by the threads that fill
/// them, in parallel: on EEGMMIDB's 73 MB a copy of every epoch is bound by those page
/// faults as much as by the memory's bandwidth.
///
/// @param src       (n_src, row_bytes) bytes
/// @param n_src     rows of `src`
/// @param row_bytes bytes per row
/// @param rows      (n,) indices into `src`, each in [0, n_src)
/// @param n         rows to copy
/// @param out       (n, row_bytes) bytes; must not overlap `src`
/// @param exec      backend and threads (the result does not depend on them)
inline void take_rows(const void* src, std::size_t n_src, std::size_t row_bytes,
                      const long long* rows, std::size_t n, void* out, const Exec& exec = {}) {
    check_exec(exec);
    require_indices(rows, n, n_src, "rows", "a row of the source array");
    if (n == 0 || row_bytes == 0) {
        return;
    }
    // runs of at least 1 MB, and several per thread for balance
    const std::size_t per_task =
        row_bytes >= (std::size_t(1) << 20) ? 1 : (std::size_t(1) << 20) / row_bytes;
    const std::size_t n_tasks = (n + per_task - 1) / per_task;
    const auto* from = static_cast<const unsigned char*>(src);
    auto* to = static_cast<unsigned char*>(out);
    detail::for_each_task(exec, static_cast<std::int64_t>(n_tasks), [&](std::int64_t task) {
        const std::size_t i0 = static_cast<std::size_t>(task) * per_task;
        const std::size_t i1 = i0 + per_task < n ? i0 + per_task : n;
        for (std::size_t i = i0; i < i1; ++i) {
            std::memcpy(to + i * row_bytes, from + static_cast<std::size_t>(rows[i]) * row_bytes,
                        row_bytes);
        }
    });
}

AUTOREJECT_ISA_END
}  // namespace autoreject
