// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// Built against the installed package by the ctest "consumer: find_package": uses the
// header templates, the compiled registry and the dispatched kernels; exits 0 when the
// answers are right.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "autoreject/autoreject.hpp"
#include "autoreject/dispatch.hpp"

int main() {
    // 2 epochs x 2 channels x 4 samples
    const std::vector<double> data = {0, 1, 2, 3, 5, 5, 5, 5, 0, -4, 4, 0, 1, 1, 1, 9};
    std::vector<double> peaks(4);
    const autoreject::Exec exec{autoreject::resolve_backend("scalar"), 1};
    autoreject::ptp(data.data(), 4, 4, peaks.data(), exec);
    std::vector<double> peaks_dispatched(4);
    autoreject::dispatch::ptp(data.data(), 4, 4, peaks_dispatched.data(), exec,
                              autoreject::resolve_simd("auto"));
    const std::vector<double> want = {3, 0, 8, 8};
    if (peaks != want || peaks_dispatched != want) {
        std::fprintf(stderr, "wrong peak-to-peak amplitudes\n");
        return 1;
    }
    const double threshes[2] = {5.0, 5.0};
    std::uint8_t bad[4];
    std::int64_t counts[2];
    autoreject::vote_bad_epochs(peaks.data(), 2, 2, threshes, bad, counts, exec);
    if (counts[0] != 0 || counts[1] != 2) {
        std::fprintf(stderr, "wrong bad-sensor counts\n");
        return 1;
    }
    std::printf("consumer: ok (%zu backends known)\n", autoreject::backends().size());
    return 0;
}
