// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file algorithms/repair.hpp
/// @brief Repair bad channels: each one replaced by a weighted sum of the good ones.
#pragma once

#include "autoreject/config.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "autoreject/backend.hpp"
#include "autoreject/errors.hpp"
#include "autoreject/parallel.hpp"
#include "autoreject/types.hpp"

namespace autoreject {
AUTOREJECT_ISA_BEGIN

namespace kernels {

/// Samples [t0, t1) of one repaired channel: `dst[t - t0]` = the sum over g of
/// `w[g] * epoch[from[g] * n_times + t]`, added in channel order onto +0.0 (no fused
/// multiply-add). The body every backend runs: the CPU with the whole epoch at once, the
/// GPU one sample per thread; `dst` must not overlap the rows read.
template <class T>
AUTOREJECT_HD void interpolate_samples(const T* epoch, std::size_t n_times, const long long* from,
                                       std::size_t n_from, const double* w, std::size_t t0,
                                       std::size_t t1, T* dst) {
    for (std::size_t t = t0; t < t1; ++t) {
        dst[t - t0] = T(0);
    }
    for (std::size_t g = 0; g < n_from; ++g) {
        const double wg = w[g];
        const T* src = epoch + static_cast<std::size_t>(from[g]) * n_times;
        for (std::size_t t = t0; t < t1; ++t) {
            dst[t - t0] += wg * src[t];
        }
    }
}

}  // namespace kernels

namespace detail {

/// Checks repair jobs: epochs and channels in range, a matrix and index arrays where
/// they are needed, and no channel that a job of an epoch writes is read or written by
/// another job of that epoch, or read by the job itself (jobs run in any order).
inline void check_repair_jobs(std::size_t n_epochs, std::size_t n_channels, const RepairJob* jobs,
                              std::size_t n_jobs) {
    require(jobs != nullptr || n_jobs == 0,
            "repair_epochs: jobs is null but n_jobs = " + std::to_string(n_jobs) +
                "; pass the jobs or n_jobs = 0");
    // per epoch, the job that writes each channel (+1; 0: none), filled job by job
    std::vector<std::vector<std::size_t>> writer(n_epochs);
    for (std::size_t j = 0; j < n_jobs; ++j) {
        const RepairJob& job = jobs[j];
        const std::string who = "repair_epochs: jobs[" + std::to_string(j) + "]";
        require(job.epoch < n_epochs, who + ".epoch = " + std::to_string(job.epoch) +
                                          " is outside [0, " + std::to_string(n_epochs) + ")");
        require((job.from != nullptr || job.n_from == 0) && (job.to != nullptr || job.n_to == 0) &&
                    (job.matrix != nullptr || job.n_to * job.n_from == 0),
                who + " has a null from, to or matrix for a non-empty size");
        require_indices(job.from, job.n_from, n_channels, (who + ".from").c_str(), "a channel");
        require_indices(job.to, job.n_to, n_channels, (who + ".to").c_str(), "a channel");
        std::vector<std::size_t>& w = writer[job.epoch];
        if (w.empty()) {
            w.assign(n_channels, 0);
        }
        for (std::size_t b = 0; b < job.n_to; ++b) {
            std::size_t& slot = w[static_cast<std::size_t>(job.to[b])];
            require(slot == 0, who + " writes channel " + std::to_string(job.to[b]) + " of epoch " +
                                   std::to_string(job.epoch) +
                                   ", which another job (or this one) also writes; give each "
                                   "channel of an epoch to one job");
            slot = j + 1;
        }
    }
    for (std::size_t j = 0; j < n_jobs; ++j) {
        const RepairJob& job = jobs[j];
        const std::vector<std::size_t>& w = writer[job.epoch];
        for (std::size_t g = 0; g < job.n_from; ++g) {
            require(w[static_cast<std::size_t>(job.from[g])] == 0,
                    "repair_epochs: jobs[" + std::to_string(j) + "] reads channel " +
                        std::to_string(job.from[g]) + " of epoch " + std::to_string(job.epoch) +
                        ", which a job writes; interpolate only from channels no job repairs");
        }
    }
}

}  // namespace detail

/// Repairs epochs in place: for each job, `data[epoch, to[b], :]` becomes the sum over g
/// of `matrix[b, g] * data[epoch, from[g], :]`, each sample summed in channel order
/// (kernels::interpolate_samples). Jobs run in any order and on any thread, so they
/// must not depend on each other (checked: see detail::check_repair_jobs).
///
/// @param data     (n_epochs, n_channels, n_times) epochs, modified in place
/// @param n_epochs  epochs
/// @param n_channels channels per epoch
/// @param n_times  samples per channel
/// @param jobs     (n_jobs,) what to repair
/// @param n_jobs   jobs
/// @param exec     backend and threads (results do not depend on them)
/// @throws std::invalid_argument for a job out of range or overlapping another
template <class T>
void repair_epochs(T* data, std::size_t n_epochs, std::size_t n_channels, std::size_t n_times,
                   const RepairJob* jobs, std::size_t n_jobs, const Exec& exec = {}) {
    check_exec(exec);
    detail::check_repair_jobs(n_epochs, n_channels, jobs, n_jobs);
    require(data != nullptr || n_epochs * n_channels * n_times == 0,
            "repair_epochs: data is null but holds " + std::to_string(n_epochs) + " epochs");
    detail::for_each_task(exec, static_cast<std::int64_t>(n_jobs), [&](std::int64_t j) {
        const RepairJob& job = jobs[j];
        T* epoch = data + job.epoch * n_channels * n_times;
        std::vector<T> acc(job.n_to * n_times);
        for (std::size_t b = 0; b < job.n_to; ++b) {
            kernels::interpolate_samples(epoch, n_times, job.from, job.n_from,
                                         job.matrix + b * job.n_from, 0, n_times,
                                         acc.data() + b * n_times);
        }
        for (std::size_t b = 0; b < job.n_to; ++b) {
            const T* src = acc.data() + b * n_times;
            T* dst = epoch + static_cast<std::size_t>(job.to[b]) * n_times;
            for (std::size_t t = 0; t < n_times; ++t) {
                dst[t] = src[t];
            }
        }
    });
}

AUTOREJECT_ISA_END
}  // namespace autoreject
