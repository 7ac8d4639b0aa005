// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The float32 kernels (dtype='float32'): the same bits on every instruction set, CPU
// backend and thread count, and within single-precision rounding of the float64 kernels
// run on the same (float-representable) values.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "autoreject/autoreject.hpp"
#include "autoreject/dispatch.hpp"
#include "helpers.hpp"

namespace ar = autoreject;

namespace {

// EEG-like values (volts): normal noise of 10 uV, exactly representable in float32
std::vector<float> volts(std::size_t n, unsigned seed) {
    std::mt19937_64 gen(seed);
    std::normal_distribution<double> normal(0.0, 1e-5);
    std::vector<float> out(n);
    for (auto& v : out) {
        v = static_cast<float>(normal(gen));
    }
    return out;
}

std::vector<double> widen(const std::vector<float>& x) { return {x.begin(), x.end()}; }

// |got - want| <= rtol * max|want| for every value (NaN where want is NaN)
bool close(const std::vector<float>& got, const std::vector<double>& want, double rtol) {
    if (got.size() != want.size()) {
        return false;
    }
    double scale = 0.0;
    for (double w : want) {
        if (!std::isnan(w)) {
            scale = std::max(scale, std::abs(w));
        }
    }
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (std::isnan(want[i]) != std::isnan(got[i])) {
            return false;
        }
        if (!std::isnan(want[i]) && std::abs(double(got[i]) - want[i]) > rtol * scale) {
            return false;
        }
    }
    return true;
}

using test::available_simd;

// every available CPU backend, one and three threads
std::vector<ar::Exec> cpu_execs() {
    std::vector<ar::Exec> out;
    for (const auto& exec : test::all_execs()) {
        if (exec.backend != ar::Backend::Cuda) {
            out.push_back(exec);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("float32: every set and CPU backend gives the same bits, close to float64",
          "[dispatch][float32]") {
    const std::size_t e = 6;
    const std::size_t c = 11;
    const std::size_t t = 301;
    const std::size_t n = e * c;
    const auto data = volts(n * t, 31);
    const auto data64 = widen(data);
    const ar::Exec scalar{ar::Backend::Scalar, 1};
    const ar::Simd base = ar::Simd::Baseline;

    // float64 references on the same values
    std::vector<double> ptp64(n);
    ar::dispatch::ptp(data64.data(), n, t, ptp64.data(), scalar, base);
    const std::vector<long long> rows = {3, 7, 1, 0, 9, 11, 2, 40};
    std::vector<double> med64(t);
    ar::dispatch::median_rows(data64.data(), n, t, rows.data(), rows.size(), med64.data(), scalar,
                              base);
    const ar::KeptMeansShape ks{n, t, 3, 20, 7};
    std::vector<long long> idx(3 * 20);
    for (std::size_t i = 0; i < idx.size(); ++i) {
        idx[i] = static_cast<long long>((i * 7) % n);
    }
    // keys and bounds as peak-to-peak amplitudes: bounds between the keys
    const auto keys = volts(3 * 20, 32);
    std::vector<float> bounds(7 * 3);
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        bounds[i] = static_cast<float>(-1e-5 + 3e-6 * double(i / 3));
    }
    const auto medians = volts(3 * t, 33);
    std::vector<double> km64(7 * 3 * t);
    ar::dispatch::kept_means(data64.data(), idx.data(), widen(keys).data(), widen(bounds).data(),
                             ks, km64.data(), scalar, base);
    std::vector<double> loss64(7);
    ar::dispatch::threshold_losses(data64.data(), idx.data(), widen(keys).data(),
                                   widen(bounds).data(), widen(medians).data(), ks, loss64.data(),
                                   scalar, base);
    std::vector<double> sc64(7 * 3);
    ar::dispatch::threshold_scores(data64.data(), idx.data(), widen(keys).data(),
                                   widen(bounds).data(), widen(medians).data(), ks, sc64.data(),
                                   scalar, base);
    std::vector<long long> order(n);
    for (std::size_t i = 0; i < n; ++i) {
        order[i] = static_cast<long long>((i * 13) % n);
    }
    const std::vector<long long> cuts = {1, 5, 17, 60, 66};
    std::vector<double> ps64(cuts.size() * t);
    ar::dispatch::prefix_sums(data64.data(), n, t, order.data(), order.size(), cuts.data(),
                              cuts.size(), ps64.data(), scalar, base);
    const std::size_t r = 9;
    const std::size_t k = 4;
    std::vector<long long> cols(r * k);
    const std::vector<long long> counts(r, static_cast<long long>(k));
    for (std::size_t i = 0; i < cols.size(); ++i) {
        cols[i] = static_cast<long long>((i * 5) % c);
    }
    std::vector<float> weights(r * c * k);
    std::mt19937_64 gen(34);
    std::uniform_real_distribution<double> unit(0.0, 0.5);
    for (auto& w : weights) {
        w = static_cast<float>(unit(gen));
    }
    const ar::RansacShape rs{e, c, t, r, k};
    std::vector<double> rc64(n);
    ar::dispatch::ransac_correlations(data64.data(), cols.data(), counts.data(),
                                      widen(weights).data(), rs, rc64.data(), scalar, base);

    // float32 on the scalar backend and the baseline set: the reference bits
    std::vector<float> ptp32(n);
    ar::dispatch::ptp(data.data(), n, t, ptp32.data(), scalar, base);
    std::vector<float> med32(t);
    ar::dispatch::median_rows(data.data(), n, t, rows.data(), rows.size(), med32.data(), scalar,
                              base);
    std::vector<float> km32(km64.size());
    ar::dispatch::kept_means(data.data(), idx.data(), keys.data(), bounds.data(), ks, km32.data(),
                             scalar, base);
    std::vector<float> loss32(loss64.size());
    ar::dispatch::threshold_losses(data.data(), idx.data(), keys.data(), bounds.data(),
                                   medians.data(), ks, loss32.data(), scalar, base);
    std::vector<float> sc32(sc64.size());
    ar::dispatch::threshold_scores(data.data(), idx.data(), keys.data(), bounds.data(),
                                   medians.data(), ks, sc32.data(), scalar, base);
    std::vector<float> ps32(ps64.size());
    ar::dispatch::prefix_sums(data.data(), n, t, order.data(), order.size(), cuts.data(),
                              cuts.size(), ps32.data(), scalar, base);
    std::vector<float> rc32(rc64.size());
    ar::dispatch::ransac_correlations(data.data(), cols.data(), counts.data(), weights.data(), rs,
                                      rc32.data(), scalar, base);

    // max - min of two floats and the mean of two floats round once
    CHECK(close(ptp32, ptp64, 1e-7));
    CHECK(close(med32, med64, 1e-7));
    // sums of up to 66 rows: a few hundred float ulps of the largest value at most
    CHECK(close(km32, km64, 2e-5));
    CHECK(close(ps32, ps64, 2e-5));
    CHECK(close(loss32, loss64, 1e-4));
    CHECK(close(sc32, sc64, 1e-4));
    CHECK(close(rc32, rc64, 1e-4));
    // the bounds keep some rows and drop others (a NaN column in both)
    CHECK(std::count_if(km64.begin(), km64.end(), [](double v) { return std::isnan(v); }) > 0);

    for (ar::Simd simd : available_simd()) {
        for (const auto& exec : cpu_execs()) {
            INFO("simd " << ar::simd_name(simd) << ", backend " << ar::backend_name(exec.backend)
                         << " x" << exec.n_threads);
            std::vector<float> got(n);
            ar::dispatch::ptp(data.data(), n, t, got.data(), exec, simd);
            CHECK(test::same_bits(got, ptp32));
            got.assign(t, 0.0f);
            ar::dispatch::median_rows(data.data(), n, t, rows.data(), rows.size(), got.data(), exec,
                                      simd);
            CHECK(test::same_bits(got, med32));
            got.assign(km32.size(), 0.0f);
            ar::dispatch::kept_means(data.data(), idx.data(), keys.data(), bounds.data(), ks,
                                     got.data(), exec, simd);
            CHECK(test::same_bits(got, km32));
            got.assign(loss32.size(), 0.0f);
            ar::dispatch::threshold_losses(data.data(), idx.data(), keys.data(), bounds.data(),
                                           medians.data(), ks, got.data(), exec, simd);
            CHECK(test::same_bits(got, loss32));
            got.assign(sc32.size(), 0.0f);
            ar::dispatch::threshold_scores(data.data(), idx.data(), keys.data(), bounds.data(),
                                           medians.data(), ks, got.data(), exec, simd);
            CHECK(test::same_bits(got, sc32));
            got.assign(ps32.size(), 0.0f);
            ar::dispatch::prefix_sums(data.data(), n, t, order.data(), order.size(), cuts.data(),
                                      cuts.size(), got.data(), exec, simd);
            CHECK(test::same_bits(got, ps32));
            got.assign(rc32.size(), 0.0f);
            ar::dispatch::ransac_correlations(data.data(), cols.data(), counts.data(),
                                              weights.data(), rs, got.data(), exec, simd);
            CHECK(test::same_bits(got, rc32));
        }
    }
}

TEST_CASE("float32: the cuda backend takes float32 like float64 (refused here without a GPU)",
          "[dispatch][float32]") {
    const std::vector<float> x = {1.0f, 2.0f, 4.0f};
    std::vector<float> out(1);
    const ar::Exec cuda{ar::Backend::Cuda, 1};
    bool available = false;
    for (const auto& row : ar::backends()) {
        available = available || (row.name == "cuda" && row.available);
    }
    if (available) {
        ar::dispatch::ptp(x.data(), 1, 3, out.data(), cuda, ar::Simd::Baseline);
        CHECK(out[0] == 3.0f);
    } else {
        // the registry's refusal, as for float64: it says why and what is available
        CHECK_THROWS_WITH(ar::dispatch::ptp(x.data(), 1, 3, out.data(), cuda, ar::Simd::Baseline),
                          Catch::Contains("cuda") && Catch::Contains("scalar"));
    }
}
