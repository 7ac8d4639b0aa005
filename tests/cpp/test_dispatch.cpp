// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The library's kernels built per instruction set: each one available here gives the
// bits of the header templates compiled with the tests' own flags.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "autoreject/autoreject.hpp"
#include "autoreject/dispatch.hpp"
#include "helpers.hpp"

namespace ar = autoreject;

using test::available_simd;

TEST_CASE("dispatch: the baseline is always available, auto is the widest", "[dispatch]") {
    const auto levels = ar::simd_levels();
    REQUIRE(levels.size() == 3);
    CHECK(levels[0].available);
    CHECK(ar::resolve_simd("auto") == available_simd().back());
    CHECK(ar::resolve_simd(ar::simd_name(ar::Simd::Baseline)) == ar::Simd::Baseline);
    CHECK_THROWS_WITH(ar::resolve_simd("neon9"), Catch::Contains("unknown instruction set"));
    for (const auto& info : levels) {
        if (!info.available) {
            CHECK_THROWS_WITH(ar::resolve_simd(info.name), Catch::Contains(info.reason));
        }
    }
}

TEST_CASE("dispatch: AUTOREJECT_SIMD is read when no name is given", "[dispatch]") {
    setenv("AUTOREJECT_SIMD", ar::simd_name(ar::Simd::Baseline).c_str(), 1);
    CHECK(ar::resolve_simd() == ar::Simd::Baseline);
    setenv("AUTOREJECT_SIMD", "bogus", 1);
    CHECK_THROWS_WITH(ar::resolve_simd(), Catch::Contains("AUTOREJECT_SIMD"));
    unsetenv("AUTOREJECT_SIMD");
}

TEST_CASE("dispatch: every instruction set gives the templates' bits", "[dispatch][backends]") {
    const std::size_t e = 5;
    const std::size_t c = 12;
    const std::size_t t = 203;
    auto data = test::noise(e * c * t, 21);
    const ar::Exec scalar{ar::Backend::Scalar, 1};

    std::vector<double> ptp_ref(e * c);
    ar::ptp(data.data(), e * c, t, ptp_ref.data(), scalar);

    std::vector<long long> rows = {3, 7, 1, 0, 9, 11, 2};
    std::vector<double> med_ref(t);
    ar::median_rows(data.data(), e * c, t, rows.data(), rows.size(), med_ref.data(), scalar);

    const ar::KeptMeansShape ks{e * c, t, 3, 20, 11};
    std::vector<long long> idx(3 * 20);
    for (std::size_t i = 0; i < idx.size(); ++i) {
        idx[i] = static_cast<long long>((i * 7) % (e * c));
    }
    auto keys = test::noise(3 * 20, 22);
    auto bounds = test::noise(11 * 3, 23);
    auto medians = test::noise(3 * t, 24);
    std::vector<double> km_ref(11 * 3 * t);
    ar::kept_means(data.data(), idx.data(), keys.data(), bounds.data(), ks, km_ref.data(), scalar);
    std::vector<double> loss_ref(11);
    ar::threshold_losses(data.data(), idx.data(), keys.data(), bounds.data(), medians.data(), ks,
                         loss_ref.data(), scalar);

    std::vector<double> sc_ref(11 * 3);
    ar::threshold_scores(data.data(), idx.data(), keys.data(), bounds.data(), medians.data(), ks,
                         sc_ref.data(), scalar);

    std::vector<long long> order(e * c);
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = static_cast<long long>((i * 13) % (e * c));
    }
    const std::vector<long long> cuts = {1, 5, 17, 60};
    std::vector<double> ps_ref(cuts.size() * t);
    ar::prefix_sums(data.data(), e * c, t, order.data(), order.size(), cuts.data(), cuts.size(),
                    ps_ref.data(), scalar);

    const std::size_t r = 9;
    const std::size_t k = 4;
    std::vector<long long> cols(r * k);
    // subsets of 0 to k channels: resamples taken two at a time (AVX-512) pair
    // different lengths, an empty one, and the odd one out last
    std::vector<long long> counts(r);
    for (std::size_t i = 0; i < r; ++i) {
        counts[i] = static_cast<long long>((i * 3) % (k + 1));
    }
    for (std::size_t i = 0; i < cols.size(); ++i) {
        cols[i] = static_cast<long long>((i * 5) % c);
    }
    auto weights = test::noise(r * c * k, 25);
    const ar::RansacShape rs{e, c, t, r, k};
    std::vector<double> rc_ref(e * c);
    ar::ransac_correlations(data.data(), cols.data(), counts.data(), weights.data(), rs,
                            rc_ref.data(), scalar);

    for (ar::Simd simd : available_simd()) {
        for (const auto& exec : test::all_execs()) {
            INFO("simd " << ar::simd_name(simd) << ", backend " << ar::backend_name(exec.backend)
                         << " x" << exec.n_threads);
            std::vector<double> got(e * c);
            ar::dispatch::ptp(data.data(), e * c, t, got.data(), exec, simd);
            CHECK(test::same_bits(got, ptp_ref));
            got.assign(t, 0.0);
            ar::dispatch::median_rows(data.data(), e * c, t, rows.data(), rows.size(), got.data(),
                                      exec, simd);
            CHECK(test::same_bits(got, med_ref));
            got.assign(km_ref.size(), 0.0);
            ar::dispatch::kept_means(data.data(), idx.data(), keys.data(), bounds.data(), ks,
                                     got.data(), exec, simd);
            CHECK(test::same_bits(got, km_ref));
            got.assign(loss_ref.size(), 0.0);
            ar::dispatch::threshold_losses(data.data(), idx.data(), keys.data(), bounds.data(),
                                           medians.data(), ks, got.data(), exec, simd);
            CHECK(test::same_bits(got, loss_ref));
            got.assign(sc_ref.size(), 0.0);
            ar::dispatch::threshold_scores(data.data(), idx.data(), keys.data(), bounds.data(),
                                           medians.data(), ks, got.data(), exec, simd);
            CHECK(test::same_bits(got, sc_ref));
            got.assign(ps_ref.size(), 0.0);
            ar::dispatch::prefix_sums(data.data(), e * c, t, order.data(), order.size(),
                                      cuts.data(), cuts.size(), got.data(), exec, simd);
            CHECK(test::same_bits(got, ps_ref));
            got.assign(rc_ref.size(), 0.0);
            ar::dispatch::ransac_correlations(data.data(), cols.data(), counts.data(),
                                              weights.data(), rs, got.data(), exec, simd);
            CHECK(test::same_bits(got, rc_ref));
        }
    }
}

TEST_CASE("dispatch: a NaN prediction gives NumPy's NaN median on every set", "[dispatch]") {
    // one epoch, 3 channels, 5 samples; channel 2 holds a NaN, so every resample that
    // reads it predicts NaN there and the correlations of those channels are NaN
    std::vector<double> data = {1, 2, 3, 4, 5, 2, 1, 0, 1, 2, 1, 1, 1, 1, 1};
    data[12] = std::numeric_limits<double>::quiet_NaN();
    const long long cols[3] = {2, 2, 0};
    const long long counts[3] = {1, 1, 1};
    const double weights[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const ar::RansacShape rs{1, 3, 5, 3, 1};
    std::vector<double> ref(3);
    ar::ransac_correlations(data.data(), cols, counts, weights, rs, ref.data(),
                            {ar::Backend::Scalar, 1});
    CHECK(std::isnan(ref[0]));
    CHECK(std::isnan(ref[2]));
    for (ar::Simd simd : available_simd()) {
        std::vector<double> got(3);
        ar::dispatch::ransac_correlations(data.data(), cols, counts, weights, rs, got.data(),
                                          {ar::Backend::Scalar, 1}, simd);
        CHECK(test::same_bits(got, ref));
    }
}
