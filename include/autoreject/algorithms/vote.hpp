// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file algorithms/vote.hpp
/// @brief Vote bad epochs: which sensors exceed their threshold in each epoch.
#pragma once

#include "autoreject/config.hpp"

#include <cstddef>
#include <cstdint>

#include "autoreject/backend.hpp"
#include "autoreject/errors.hpp"
#include "autoreject/parallel.hpp"

namespace autoreject {
AUTOREJECT_ISA_BEGIN

namespace kernels {

/// One epoch of the vote: `bad[p] = deltas[p] > threshes[p]` (strictly; NaN is never
/// bad) for p in [0, n_sensors); returns how many are bad. The body every backend runs.
template <class T>
AUTOREJECT_HD std::int64_t vote_row(const T* deltas, const T* threshes, std::size_t n_sensors,
                                    std::uint8_t* bad) {
    std::int64_t count = 0;
    for (std::size_t p = 0; p < n_sensors; ++p) {
        const bool is_bad = deltas[p] > threshes[p];
        bad[p] = is_bad ? 1 : 0;
        count += is_bad ? 1 : 0;
    }
    return count;
}

}  // namespace kernels

/// Marks sensor p of epoch e bad when its peak-to-peak amplitude exceeds its
/// threshold (strictly: a sensor at its threshold is good; NaN is never bad), and
/// counts the bad sensors of each epoch.
///
/// @param deltas   (n_epochs, n_sensors) peak-to-peak amplitudes
/// @param n_epochs  epochs
/// @param n_sensors sensors per epoch
/// @param threshes (n_sensors,) thresholds
/// @param bad      (n_epochs, n_sensors) output, 1 for bad, 0 for good
/// @param counts   (n_epochs,) output, bad sensors per epoch
/// @param exec    backend and threads (results do not depend on them)
template <class T>
void vote_bad_epochs(const T* deltas, std::size_t n_epochs, std::size_t n_sensors,
                     const T* threshes, std::uint8_t* bad, std::int64_t* counts,
                     const Exec& exec = {}) {
    check_exec(exec);
    detail::for_each_task(exec, static_cast<std::int64_t>(n_epochs), [&](std::int64_t e) {
        const std::size_t row = static_cast<std::size_t>(e) * n_sensors;
        counts[e] = kernels::vote_row(deltas + row, threshes, n_sensors, bad + row);
    });
}

/// An epoch is bad when at least `consensus * n_sensors` of its sensors are bad.
inline void bad_epochs(const std::int64_t* counts, std::size_t n_epochs, double consensus,
                       std::size_t n_sensors, std::uint8_t* out) {
    require(consensus >= 0.0 && consensus <= 1.0,
            "consensus = " + std::to_string(consensus) + " must be a fraction in [0, 1]");
    const double bound = consensus * static_cast<double>(n_sensors);
    for (std::size_t e = 0; e < n_epochs; ++e) {
        out[e] = static_cast<double>(counts[e]) >= bound ? 1 : 0;
    }
}

AUTOREJECT_ISA_END
}  // namespace autoreject
