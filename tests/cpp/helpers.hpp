// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// Shared test helpers: the backends to run every kernel on, bit comparison, data.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "autoreject/backend.hpp"

namespace test {

/// Every backend available in this build, each with 1 and several threads.
inline std::vector<autoreject::Exec> all_execs() {
    std::vector<autoreject::Exec> out;
    for (const auto& info : autoreject::backends()) {
        if (!info.available) {
            continue;
        }
        out.push_back({info.backend, 1});
        if (info.backend != autoreject::Backend::Scalar) {
            out.push_back({info.backend, 3});
        }
    }
    return out;
}

/// True when a and b hold the same bits (NaN payloads included).
inline bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

inline bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof(double)) == 0; }

/// Normal noise with magnitudes over several decades (sums that round differently
/// in another order).
inline std::vector<double> noise(std::size_t n, unsigned seed) {
    std::mt19937_64 gen(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::uniform_int_distribution<int> decade(-6, 3);
    std::vector<double> out(n);
    for (auto& v : out) {
        v = normal(gen) * std::pow(10.0, decade(gen));
    }
    return out;
}

}  // namespace test
