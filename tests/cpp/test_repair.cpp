// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// repair_epochs and vote_bad_epochs through dispatch:: on every available backend (cuda
// too where it runs, e.g. the emulated GPU of AUTOREJECT_WITH_CUDA=EMULATE), against sums
// and comparisons written out in the test.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "autoreject/autoreject.hpp"
#include "autoreject/dispatch.hpp"
#include "helpers.hpp"

namespace ar = autoreject;

namespace {

constexpr std::size_t kEpochs = 7;
constexpr std::size_t kChannels = 9;
constexpr std::size_t kTimes = 301;  // more than one block of 256 threads per channel

struct Plan {
    std::vector<long long> from_a{8, 0, 3, 5};  // repairs 1 and 4 (from in any order)
    std::vector<long long> to_a{1, 4};
    std::vector<long long> from_b{6, 7};  // repairs 2 (another group of the same epoch)
    std::vector<long long> to_b{2};
    std::vector<double> matrix_a = test::noise(2 * 4, 71);
    std::vector<double> matrix_b = test::noise(1 * 2, 72);
    std::vector<ar::RepairJob> jobs;

    Plan() {
        // epochs 0, 3, 6 with job a; epoch 3 also with job b; epoch 5 with job b only
        for (std::size_t e : {0U, 3U, 6U}) {
            jobs.push_back(
                {e, from_a.data(), from_a.size(), to_a.data(), to_a.size(), matrix_a.data()});
        }
        jobs.push_back(
            {3, from_b.data(), from_b.size(), to_b.data(), to_b.size(), matrix_b.data()});
        jobs.push_back(
            {5, from_b.data(), from_b.size(), to_b.data(), to_b.size(), matrix_b.data()});
    }
};

// the repair written out: each sample a running sum from +0.0 in the order of `from`
std::vector<double> expected_repair(std::vector<double> data, const Plan& plan) {
    const std::vector<double> before = data;
    for (const auto& job : plan.jobs) {
        for (std::size_t b = 0; b < job.n_to; ++b) {
            for (std::size_t t = 0; t < kTimes; ++t) {
                double sum = 0.0;
                for (std::size_t g = 0; g < job.n_from; ++g) {
                    const std::size_t src =
                        (job.epoch * kChannels + static_cast<std::size_t>(job.from[g])) * kTimes;
                    sum += job.matrix[b * job.n_from + g] * before[src + t];
                }
                data[(job.epoch * kChannels + static_cast<std::size_t>(job.to[b])) * kTimes + t] =
                    sum;
            }
        }
    }
    return data;
}

}  // namespace

TEST_CASE("repair_epochs: each sample is the matrix row's sum in channel order, on every backend",
          "[repair][backends][cuda]") {
    const Plan plan;
    auto data = test::noise(kEpochs * kChannels * kTimes, 70);
    data[(3 * kChannels + 6) * kTimes + 10] = std::numeric_limits<double>::quiet_NaN();
    data[(0 * kChannels + 8) * kTimes + 11] = std::numeric_limits<double>::infinity();
    const auto want = expected_repair(data, plan);
    for (const auto& exec : test::all_execs()) {
        INFO("backend " << ar::backend_name(exec.backend) << ", " << exec.n_threads << " threads");
        auto got = data;
        ar::dispatch::repair_epochs(got.data(), kEpochs, kChannels, kTimes, plan.jobs.data(),
                                    plan.jobs.size(), exec);
        CHECK(test::same_bits(got, want));
    }
    // no job: nothing changes
    auto untouched = data;
    ar::dispatch::repair_epochs(untouched.data(), kEpochs, kChannels, kTimes, nullptr, 0, {});
    CHECK(test::same_bits(untouched, data));
}

TEST_CASE("repair_epochs: overlapping or out-of-range jobs are refused before any write",
          "[repair][backends][cuda]") {
    Plan plan;
    const auto data = test::noise(kEpochs * kChannels * kTimes, 73);
    for (const auto& exec : test::all_execs()) {
        INFO("backend " << ar::backend_name(exec.backend));
        auto got = data;
        // a job reads channel 1 of epoch 0, which job a writes
        std::vector<ar::RepairJob> reads_written = plan.jobs;
        const std::vector<long long> from_bad{1, 6};
        const std::vector<long long> to_free{7};
        reads_written.push_back({0, from_bad.data(), 2, to_free.data(), 1, plan.matrix_b.data()});
        CHECK_THROWS_WITH(
            ar::dispatch::repair_epochs(got.data(), kEpochs, kChannels, kTimes,
                                        reads_written.data(), reads_written.size(), exec),
            Catch::Contains("jobs[5] reads channel 1 of epoch 0, which a job writes"));
        // two jobs write channel 2 of epoch 5
        std::vector<ar::RepairJob> twice = plan.jobs;
        twice.push_back(plan.jobs.back());
        CHECK_THROWS_WITH(ar::dispatch::repair_epochs(got.data(), kEpochs, kChannels, kTimes,
                                                      twice.data(), twice.size(), exec),
                          Catch::Contains("writes channel 2 of epoch 5"));
        std::vector<ar::RepairJob> far = plan.jobs;
        far[1].epoch = kEpochs;
        CHECK_THROWS_WITH(ar::dispatch::repair_epochs(got.data(), kEpochs, kChannels, kTimes,
                                                      far.data(), far.size(), exec),
                          Catch::Contains("jobs[1].epoch = 7 is outside [0, 7)"));
        const std::vector<long long> to_far{9};
        std::vector<ar::RepairJob> wide = plan.jobs;
        wide[4].to = to_far.data();
        CHECK_THROWS_WITH(ar::dispatch::repair_epochs(got.data(), kEpochs, kChannels, kTimes,
                                                      wide.data(), wide.size(), exec),
                          Catch::Contains("jobs[4].to[0] = 9 is outside [0, 9)"));
        CHECK(test::same_bits(got, data));
    }
}

TEMPLATE_TEST_CASE("vote_bad_epochs: strictly above the threshold, NaN never bad, on every backend",
                   "[vote][backends][cuda]", double, float) {
    using T = TestType;
    const std::size_t n_epochs = 300;  // more than one block of threads
    const std::size_t n_sensors = 5;
    const auto raw = test::noise(n_epochs * n_sensors, 74);
    std::vector<T> deltas(raw.begin(), raw.end());
    const std::vector<T> threshes = {T(0), T(-1e-3), T(1e-2), T(1),
                                     std::numeric_limits<T>::infinity()};
    deltas[3] = threshes[3];                          // at the threshold: good
    deltas[8] = std::numeric_limits<T>::quiet_NaN();  // NaN: good
    deltas[9] = std::numeric_limits<T>::infinity();   // +inf against +inf: good
    deltas[10] = std::numeric_limits<T>::infinity();  // +inf against 0: bad
    std::vector<std::uint8_t> want(n_epochs * n_sensors);
    std::vector<std::int64_t> want_counts(n_epochs, 0);
    for (std::size_t e = 0; e < n_epochs; ++e) {
        for (std::size_t p = 0; p < n_sensors; ++p) {
            const bool bad = deltas[e * n_sensors + p] > threshes[p];
            want[e * n_sensors + p] = bad ? 1 : 0;
            want_counts[e] += bad ? 1 : 0;
        }
    }
    CHECK(want[3] == 0);
    CHECK(want[8] == 0);
    CHECK(want[9] == 0);
    CHECK(want[10] == 1);
    for (const auto& exec : test::all_execs()) {
        INFO("backend " << ar::backend_name(exec.backend) << ", " << exec.n_threads << " threads");
        std::vector<std::uint8_t> bad(n_epochs * n_sensors, 7);
        std::vector<std::int64_t> counts(n_epochs, -1);
        ar::dispatch::vote_bad_epochs(deltas.data(), n_epochs, n_sensors, threshes.data(),
                                      bad.data(), counts.data(), exec);
        CHECK(bad == want);
        CHECK(counts == want_counts);
    }
}

TEMPLATE_TEST_CASE("rmse_rows: NumPy's sqrt(mean((median - row) ** 2)) on every backend",
                   "[rmse][backends][cuda]", double, float) {
    using T = TestType;
    const std::size_t n_rows = 270;  // more than one block of threads
    const std::size_t n = 300;       // pairwise sums of several levels
    const auto raw_median = test::noise(n, 75);
    const auto raw_means = test::noise(n_rows * n, 76);
    const std::vector<T> median(raw_median.begin(), raw_median.end());
    std::vector<T> means(raw_means.begin(), raw_means.end());
    means[3 * n + 7] = std::numeric_limits<T>::quiet_NaN();
    // the reference written out: squared differences, np.sum (0.0 plus the pairwise sum),
    // over n, sqrt
    std::vector<T> want(n_rows);
    std::vector<T> sq(n);
    for (std::size_t r = 0; r < n_rows; ++r) {
        for (std::size_t t = 0; t < n; ++t) {
            const T d = median[t] - means[r * n + t];
            sq[t] = d * d;
        }
        const T sum = T(0) + test::numpy_pairwise(sq.data(), static_cast<std::ptrdiff_t>(n));
        want[r] = std::sqrt(sum / static_cast<T>(n));
    }
    CHECK(std::isnan(want[3]));
    for (const auto& exec : test::all_execs()) {
        INFO("backend " << ar::backend_name(exec.backend) << ", " << exec.n_threads << " threads");
        std::vector<T> got(n_rows, T(7));
        ar::dispatch::rmse_rows(median.data(), means.data(), n_rows, n, got.data(), exec);
        CHECK(test::same_bits(got, want));
    }
    std::vector<T> none(1, T(7));
    CHECK_THROWS_WITH(ar::dispatch::rmse_rows(median.data(), means.data(), 1, 0, none.data(),
                                              test::all_execs().front()),
                      Catch::Contains("median is empty"));
}
