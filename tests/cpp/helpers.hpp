// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// Shared test helpers: the backends to run every kernel on, bit comparison, data.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "autoreject/backend.hpp"
#include "autoreject/dispatch.hpp"
#include "autoreject/pipeline.hpp"

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

/// Sets (or unsets, for nullptr) an environment variable for one scope.
struct ScopedEnv {
    ScopedEnv(const char* name, const char* value) : name_(name) {
        const char* old = std::getenv(name);
        had_ = old != nullptr;
        old_ = had_ ? old : "";
        if (value != nullptr) {
            setenv(name, value, 1);
        } else {
            unsetenv(name);
        }
    }
    ~ScopedEnv() {
        if (had_) {
            setenv(name_, old_.c_str(), 1);
        } else {
            unsetenv(name_);
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

  private:
    const char* name_;
    bool had_ = false;
    std::string old_;
};

/// NumPy's pairwise sum of v[0, n), written out for the tests: below 8 values a running
/// sum from -0.0; up to 128, eight partial sums combined as a tree; beyond, two halves
/// (the first a multiple of 8) summed alone. `np.sum` of a contiguous run adds it to
/// 0.0; a reduction over rows starts from the first row and adds the rest's.
template <class T>
T numpy_pairwise(const T* v, std::ptrdiff_t n) {
    if (n < 8) {
        T s = T(-0.0);
        for (std::ptrdiff_t i = 0; i < n; ++i) {
            s += v[i];
        }
        return s;
    }
    if (n <= 128) {
        T r[8];
        for (int j = 0; j < 8; ++j) {
            r[j] = v[j];
        }
        std::ptrdiff_t i = 8;
        for (; i < n - (n % 8); i += 8) {
            for (int j = 0; j < 8; ++j) {
                r[j] += v[i + j];
            }
        }
        T s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) {
            s += v[i];
        }
        return s;
    }
    std::ptrdiff_t half = n / 2;
    half -= half % 8;
    return numpy_pairwise(v, half) + numpy_pairwise(v + half, n - half);
}

/// True when a and b hold the same bits (NaN payloads included); float or double.
template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
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

/// `n` points spread over a sphere of radius 9 cm by a golden-angle spiral, from the
/// top down to height `1 - span` (in radii): 1.2 covers a cap as EEG montages do.
inline std::vector<std::array<double, 3>> cap(std::size_t n, double span = 1.2) {
    const double pi = 3.14159265358979323846;
    const double golden = pi * (3.0 - std::sqrt(5.0));
    std::vector<std::array<double, 3>> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double z = 1.0 - span * (static_cast<double>(i) + 0.5) / static_cast<double>(n);
        const double r = std::sqrt(1.0 - z * z);
        const double phi = golden * static_cast<double>(i);
        out[i] = {0.09 * r * std::cos(phi), 0.09 * r * std::sin(phi), 0.09 * z};
    }
    return out;
}

/// EEG channels E1..En on a cap (positions from cap(n, 0.9)).
inline std::vector<autoreject::ChannelInfo> eeg_montage(std::size_t n) {
    const auto positions = cap(n, 0.9);
    std::vector<autoreject::ChannelInfo> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i].name = "E" + std::to_string(i + 1);
        out[i].type = "eeg";
        out[i].position = positions[i];
    }
    return out;
}

/// The instruction sets this processor runs (those the dispatch tests compare).
inline std::vector<autoreject::Simd> available_simd() {
    std::vector<autoreject::Simd> out;
    for (const auto& info : autoreject::simd_levels()) {
        if (info.available) {
            out.push_back(info.simd);
        }
    }
    return out;
}

}  // namespace test
