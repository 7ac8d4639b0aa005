// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The CUDA backend: the registry's answers on a machine without a GPU (or without a CUDA
// build), and, where a device exists, every dispatched kernel on cuda against scalar.
// The GPU cases skip with a warning naming the reason when cuda is unavailable.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "autoreject/autoreject.hpp"
#include "autoreject/dispatch.hpp"
#include "helpers.hpp"

namespace ar = autoreject;

namespace {

ar::BackendInfo cuda_row() {
    for (const auto& info : ar::backends()) {
        if (info.backend == ar::Backend::Cuda) {
            return info;
        }
    }
    FAIL("the registry has no cuda row");
    return {};
}

// the same bits, or NaN on both sides: a GPU writes its own canonical NaN where the
// processor propagates an operand's payload (the values are equal, the payloads not)
template <class T>
bool same_or_both_nan(const std::vector<T>& a, const std::vector<T>& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!(std::isnan(a[i]) && std::isnan(b[i])) && std::memcmp(&a[i], &b[i], sizeof(T)) != 0) {
            UNSCOPED_INFO("first difference at " << i << ": " << a[i] << " vs " << b[i]);
            return false;
        }
    }
    return true;
}

// the test values in precision T
template <class T>
std::vector<T> as(const std::vector<double>& v) {
    return std::vector<T>(v.begin(), v.end());
}

// true when cuda can run here; otherwise a warning naming why, and the case skips
bool cuda_or_warn() {
    const auto row = cuda_row();
    if (!row.available) {
        WARN("skipped: the cuda backend is unavailable here (" << row.reason << ")");
    }
    return row.available;
}

const ar::Exec kScalar{ar::Backend::Scalar, 1};
const ar::Exec kCuda{ar::Backend::Cuda, 0};
const ar::Simd kSimd = ar::Simd::Baseline;

}  // namespace

TEST_CASE("cuda: the registry's row says whether it is compiled in and why it cannot run",
          "[cuda][backend]") {
    const auto row = cuda_row();
    CHECK(row.name == "cuda");
    CHECK(row.available == row.reason.empty());
#if defined(AUTOREJECT_HAVE_CUDA)
    CHECK(row.compiled);
    if (!row.available) {
        const bool known = row.reason.rfind("no CUDA driver (", 0) == 0 ||
                           row.reason.rfind("driver too old (driver ", 0) == 0 ||
                           row.reason == "no CUDA device" ||
                           row.reason.rfind("the CUDA driver failed to initialise", 0) == 0;
        INFO("reason: " << row.reason);
        CHECK(known);
    }
#else
    CHECK_FALSE(row.compiled);
    CHECK_FALSE(row.available);
    CHECK(row.reason.rfind("not compiled in", 0) == 0);
#endif
    // detection is cached: the same answer every time
    const auto again = cuda_row();
    CHECK(again.available == row.available);
    CHECK(again.reason == row.reason);
}

TEST_CASE("cuda: unavailable, it is refused with the reason and what is available",
          "[cuda][backend]") {
    const auto row = cuda_row();
    if (row.available) {
        CHECK(ar::resolve_backend("cuda") == ar::Backend::Cuda);
        CHECK(ar::resolve_backend("auto") == ar::Backend::Cuda);
        return;
    }
    test::ScopedEnv env("AUTOREJECT_BACKEND", nullptr);
    CHECK_THROWS_AS(ar::resolve_backend("cuda"), std::invalid_argument);
    CHECK_THROWS_WITH(ar::resolve_backend("cuda"),
                      Catch::StartsWith("backend 'cuda' (from the argument) is unavailable: ") &&
                          Catch::Contains(row.reason) &&
                          Catch::Contains("available here: 'auto', 'scalar'"));
    CHECK(ar::resolve_backend("auto") != ar::Backend::Cuda);
    CHECK(ar::resolve_backend() != ar::Backend::Cuda);
    // every kernel entry point refuses it too, with the same reason
    const std::vector<double> x = {1.0, 2.0, 3.0};
    double out = 0;
    CHECK_THROWS_WITH(
        ar::dispatch::ptp(x.data(), 1, 3, &out, kCuda, kSimd),
        Catch::Contains("backend 'cuda' is unavailable") && Catch::Contains(row.reason));
    CHECK_THROWS_AS(ar::check_exec(kCuda), std::invalid_argument);
}

TEST_CASE("cuda: AUTOREJECT_BACKEND=cuda without a usable GPU is an error, not a fallback",
          "[cuda][backend]") {
    const auto row = cuda_row();
    test::ScopedEnv env("AUTOREJECT_BACKEND", "cuda");
    if (row.available) {
        CHECK(ar::resolve_backend() == ar::Backend::Cuda);
        return;
    }
    CHECK_THROWS_WITH(ar::resolve_backend(),
                      Catch::Contains("from the environment variable AUTOREJECT_BACKEND") &&
                          Catch::Contains(row.reason));
    CHECK_THROWS_WITH(ar::resolve_backend(""), Catch::Contains("AUTOREJECT_BACKEND"));
}

TEST_CASE("prefix_sums: segments of hundreds of rows recurse with the caller's scratch",
          "[cuda][prefix_sums]") {
    const std::size_t n_rows = 1500;  // segments of 1499 and 600 rows: four levels of halving
    const auto data = test::noise(n_rows, 31);
    std::vector<long long> order(n_rows);
    for (std::size_t i = 0; i < n_rows; ++i) {
        order[i] = static_cast<long long>((i * 7) % n_rows);
    }
    std::vector<double> ordered(n_rows);
    for (std::size_t i = 0; i < n_rows; ++i) {
        ordered[i] = data[static_cast<std::size_t>(order[i])];
    }
    const std::vector<long long> cuts = {900, 1500};
    // each segment: its first row, plus the pairwise sum of the others
    const double first = ordered[0] + test::numpy_pairwise(ordered.data() + 1, 899);
    const double second = ordered[900] + test::numpy_pairwise(ordered.data() + 901, 599);
    const std::vector<double> expected = {first, first + second};
    CHECK(ar::kernels::pairwise_rows_levels(1499) == 4);
    std::vector<double> got(2);
    ar::prefix_sums(data.data(), n_rows, 1, order.data(), n_rows, cuts.data(), 2, got.data(),
                    kScalar);
    CHECK(test::same_bits(got, expected));
    if (!cuda_or_warn()) {
        return;
    }
    std::vector<double> gpu(2);
    ar::dispatch::prefix_sums(data.data(), n_rows, 1, order.data(), n_rows, cuts.data(), 2,
                              gpu.data(), kCuda, kSimd);
    CHECK(test::same_bits(gpu, expected));
}

TEMPLATE_TEST_CASE("cuda: every dispatched kernel gives scalar's bits, float64 and float32",
                   "[cuda][backends]", double, float) {
    using T = TestType;
    if (!cuda_or_warn()) {
        return;
    }
    // a memory cap that forces several chunks must not change a bit either
    const char* limit = GENERATE(static_cast<const char*>(nullptr), "300000");
    test::ScopedEnv env("AUTOREJECT_CUDA_MEMORY_LIMIT", limit);
    INFO("AUTOREJECT_CUDA_MEMORY_LIMIT = " << (limit != nullptr ? limit : "unset"));
    const std::size_t e = 37;
    const std::size_t c = 19;
    const std::size_t t = 641;
    auto data = as<T>(test::noise(e * c * t, 41));
    data[5 * t + 17] = std::numeric_limits<T>::quiet_NaN();  // a NaN in row 5
    data[9 * t + 3] = std::numeric_limits<T>::infinity();
    data[11 * t] = T(-0.0);

    std::vector<T> ref(e * c);
    std::vector<T> got(e * c);
    ar::dispatch::ptp(data.data(), e * c, t, ref.data(), kScalar, kSimd);
    ar::dispatch::ptp(data.data(), e * c, t, got.data(), kCuda, kSimd);
    CHECK(same_or_both_nan(ref, got));

    // odd, even, above the network's 512 rows, with repeats and the NaN row
    for (std::size_t n_sel : {1U, 2U, 7U, 40U, 600U}) {
        INFO("median_rows over " << n_sel << " rows");
        std::vector<long long> rows(n_sel);
        for (std::size_t i = 0; i < n_sel; ++i) {
            rows[i] = static_cast<long long>((i * 11 + 3) % (e * c));
        }
        std::vector<T> mref(t);
        std::vector<T> mgot(t);
        ar::dispatch::median_rows(data.data(), e * c, t, rows.data(), n_sel, mref.data(), kScalar,
                                  kSimd);
        ar::dispatch::median_rows(data.data(), e * c, t, rows.data(), n_sel, mgot.data(), kCuda,
                                  kSimd);
        CHECK(same_or_both_nan(mref, mgot));
    }

    // one channel's epochs; bounds from nothing kept to everything kept
    const std::size_t n_folds = 5;
    const std::size_t n_train = 30;
    const std::size_t n_bounds = 23;
    const ar::KeptMeansShape ks{e, t, n_folds, n_train, n_bounds};
    std::vector<long long> idx(n_folds * n_train);
    for (std::size_t i = 0; i < idx.size(); ++i) {
        idx[i] = static_cast<long long>((i * 13 + i / n_train) % e);
    }
    auto keys = as<T>(test::noise(n_folds * n_train, 42));
    keys[n_train - 1] = std::numeric_limits<T>::infinity();  // padding
    std::vector<T> bounds(n_bounds * n_folds);
    for (std::size_t b = 0; b < bounds.size(); ++b) {
        bounds[b] = T(-3.0) + T(0.3) * static_cast<T>(b / n_folds);
    }
    const auto medians = as<T>(test::noise(n_folds * t, 43));
    const T* channel = data.data();  // its first e rows: (n_epochs, n_times)
    std::vector<T> kref(n_bounds * n_folds * t);
    std::vector<T> kgot(kref.size());
    ar::dispatch::kept_means(channel, idx.data(), keys.data(), bounds.data(), ks, kref.data(),
                             kScalar, kSimd);
    ar::dispatch::kept_means(channel, idx.data(), keys.data(), bounds.data(), ks, kgot.data(),
                             kCuda, kSimd);
    CHECK(same_or_both_nan(kref, kgot));
    std::vector<T> sref(n_bounds * n_folds);
    std::vector<T> sgot(sref.size());
    ar::dispatch::threshold_scores(channel, idx.data(), keys.data(), bounds.data(), medians.data(),
                                   ks, sref.data(), kScalar, kSimd);
    ar::dispatch::threshold_scores(channel, idx.data(), keys.data(), bounds.data(), medians.data(),
                                   ks, sgot.data(), kCuda, kSimd);
    CHECK(same_or_both_nan(sref, sgot));
    std::vector<T> lref(n_bounds);
    std::vector<T> lgot(n_bounds);
    ar::dispatch::threshold_losses(channel, idx.data(), keys.data(), bounds.data(), medians.data(),
                                   ks, lref.data(), kScalar, kSimd);
    ar::dispatch::threshold_losses(channel, idx.data(), keys.data(), bounds.data(), medians.data(),
                                   ks, lgot.data(), kCuda, kSimd);
    CHECK(same_or_both_nan(lref, lgot));

    // prefix sums: segments of 1, a few, more than 128 rows
    std::vector<long long> order(e * c);
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = static_cast<long long>((i * 29) % (e * c));
    }
    const std::vector<long long> cuts = {1, 4, 9, 150, 400, 703};
    std::vector<T> pref(cuts.size() * t);
    std::vector<T> pgot(pref.size());
    ar::dispatch::prefix_sums(data.data(), e * c, t, order.data(), order.size(), cuts.data(),
                              cuts.size(), pref.data(), kScalar, kSimd);
    ar::dispatch::prefix_sums(data.data(), e * c, t, order.data(), order.size(), cuts.data(),
                              cuts.size(), pgot.data(), kCuda, kSimd);
    CHECK(same_or_both_nan(pref, pgot));

    // RANSAC: subsets of several sizes, one empty, an even and an odd resample count
    for (std::size_t r : {6U, 25U}) {
        INFO("ransac with " << r << " resamples");
        const std::size_t k = 5;
        std::vector<long long> cols(r * k);
        std::vector<long long> counts(r);
        for (std::size_t i = 0; i < r; ++i) {
            counts[i] = static_cast<long long>(i % (k + 1));
            for (std::size_t j = 0; j < k; ++j) {
                cols[i * k + j] = static_cast<long long>((i * 3 + j * 7) % c);
            }
        }
        const auto weights = as<T>(test::noise(r * c * k, 44));
        const ar::RansacShape rs{e, c, t, r, k};
        std::vector<T> rref(e * c);
        std::vector<T> rgot(e * c);
        ar::dispatch::ransac_correlations(data.data(), cols.data(), counts.data(), weights.data(),
                                          rs, rref.data(), kScalar, kSimd);
        ar::dispatch::ransac_correlations(data.data(), cols.data(), counts.data(), weights.data(),
                                          rs, rgot.data(), kCuda, kSimd);
        CHECK(same_or_both_nan(rref, rgot));
    }
}

TEST_CASE("cuda: bad arguments are refused as on the CPU", "[cuda][backends]") {
    if (!cuda_or_warn()) {
        return;
    }
    const std::vector<double> x(12, 1.0);
    double out[4] = {};
    CHECK_THROWS_WITH(ar::dispatch::ptp(x.data(), 3, 0, out, kCuda, kSimd),
                      Catch::Contains("n_cols = 0"));
    const long long bad_rows[] = {0, 7};
    CHECK_THROWS_WITH(ar::dispatch::median_rows(x.data(), 3, 4, bad_rows, 2, out, kCuda, kSimd),
                      Catch::Contains("rows[1] = 7 is outside [0, 3)"));
    const long long order[] = {0, 1, 2};
    const long long bad_cuts[] = {2, 2};
    CHECK_THROWS_WITH(
        ar::dispatch::prefix_sums(x.data(), 3, 4, order, 3, bad_cuts, 2, out, kCuda, kSimd),
        Catch::Contains("strictly increasing"));
    const ar::KeptMeansShape ks{3, 4, 1, 2, 1};
    const long long idx[] = {0, 5};
    const double keys[] = {0.0, 0.0};
    const double bounds[] = {1.0};
    CHECK_THROWS_WITH(ar::dispatch::kept_means(x.data(), idx, keys, bounds, ks, out, kCuda, kSimd),
                      Catch::Contains("train_idx[1] = 5"));
}

TEST_CASE("cuda: DeviceResidency registers nothing off the GPU and refuses an unusable cuda",
          "[cuda][resident]") {
    const std::vector<double> x(100, 1.0);
    for (const auto& exec : test::all_execs()) {
        if (exec.backend != ar::Backend::Cuda) {
            ar::DeviceResidency on_cpu(exec);
            CHECK_FALSE(on_cpu.add(x.data(), x.size()));
            CHECK(on_cpu.bytes() == 0);
        }
    }
    const auto row = cuda_row();
    if (row.available) {
        ar::DeviceResidency on_gpu(kCuda);
        CHECK(on_gpu.add(x.data(), x.size()));
        CHECK_FALSE(on_gpu.add(x.data(), 0));  // empty
        CHECK(on_gpu.bytes() == x.size() * sizeof(double));
        return;
    }
    CHECK_THROWS_WITH(ar::DeviceResidency(kCuda), Catch::Contains(row.reason));
}
