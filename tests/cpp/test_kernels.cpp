// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// Every kernel: hand-made cases with values worked out by hand or read off NumPy,
// then every available backend (1 and 3 threads) against the scalar backend, bit for bit.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "autoreject/autoreject.hpp"
#include "helpers.hpp"

namespace ar = autoreject;
using ar::Backend;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();
const ar::Exec kScalar{Backend::Scalar, 1};
}  // namespace

// ----------------------------------------------------------------------------- sums
TEST_CASE("sum: NumPy's pairwise order, not a running sum", "[sum]") {
    // np.sum(np.arange(1, 200) * 0.1) == 1990.0; a running sum gives 1990.0000000000002
    std::vector<double> c(199);
    for (int i = 0; i < 199; ++i) {
        c[i] = (i + 1) * 0.1;
    }
    CHECK(test::same_bits(ar::kernels::numpy_sum(c.data(), 199), 1990.0));
    double running = 0;
    for (double v : c) {
        running += v;
    }
    CHECK(running != 1990.0);
    // np.sum([1e16, 1, 1, 1, 1, 1, 1, 1, -1e16, 1]) == 7.0, np.mean == 0.7
    const double a[10] = {1e16, 1, 1, 1, 1, 1, 1, 1, -1e16, 1};
    CHECK(ar::kernels::numpy_sum(a, 10) == 7.0);
    CHECK(ar::kernels::numpy_mean(a, 10) == 0.7);
    // seven terms: one running sum, np.sum([0.1] * 7) == 0.7
    const double b[7] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1};
    CHECK(ar::kernels::numpy_sum(b, 7) == 0.7);
    // strided access reads every other value
    const double s[6] = {1, 100, 2, 100, 3, 100};
    CHECK(ar::kernels::numpy_sum(s, 3, 2) == 6.0);
}

// ----------------------------------------------------------------------------- ptp
TEST_CASE("ptp: hand-made rows", "[ptp]") {
    // rows: plain, one value, NaN at every lane position, inf, -inf..inf, ties
    const std::size_t n = 11;
    std::vector<double> x(6 * n, 0.0);
    for (std::size_t t = 0; t < n; ++t) {
        x[t] = static_cast<double>(t % 5) - 2.0;  // min -2, max 2
        x[n + t] = 3.0;
        x[3 * n + t] = static_cast<double>(t);
        x[4 * n + t] = static_cast<double>(t);
        x[5 * n + t] = -1.5;
    }
    x[2 * n + 9] = kNaN;
    x[3 * n + 4] = kInf;
    x[4 * n + 10] = -kInf;
    x[4 * n + 0] = kInf;
    std::vector<double> out(6);
    ar::ptp(x.data(), 6, n, out.data(), kScalar);
    CHECK(out[0] == 4.0);
    CHECK(out[1] == 0.0);
    CHECK(std::isnan(out[2]));
    CHECK(out[3] == kInf);
    CHECK(out[4] == kInf);
    CHECK(out[5] == 0.0);
    // NaN anywhere in a row of any length
    for (std::size_t len = 1; len <= 20; ++len) {
        for (std::size_t pos = 0; pos < len; ++pos) {
            std::vector<double> row(len, 1.0);
            row[pos] = kNaN;
            double r = 0;
            ar::ptp(row.data(), 1, len, &r, kScalar);
            CHECK(std::isnan(r));
        }
    }
    // one value per row
    const double single[3] = {5.0, -1.0, kInf};
    std::vector<double> o(3);
    ar::ptp(single, 3, 1, o.data(), kScalar);
    CHECK(o[0] == 0.0);
    CHECK(o[1] == 0.0);
    CHECK(std::isnan(o[2]));  // inf - inf, as np.ptp
}

TEST_CASE("ptp: empty rows are refused, no rows is fine", "[ptp]") {
    double out[1];
    CHECK_THROWS_AS(ar::ptp(static_cast<const double*>(nullptr), 1, 0, out, kScalar),
                    std::invalid_argument);
    CHECK_NOTHROW(ar::ptp(static_cast<const double*>(nullptr), 0, 0, out, kScalar));
}

TEST_CASE("ptp: every backend equals scalar", "[ptp][backends]") {
    const std::size_t rows = 257;
    const std::size_t cols = 641;
    auto x = test::noise(rows * cols, 1);
    x[5 * cols + 17] = kNaN;
    std::vector<double> ref(rows);
    ar::ptp(x.data(), rows, cols, ref.data(), kScalar);
    for (const auto& exec : test::all_execs()) {
        std::vector<double> got(rows);
        ar::ptp(x.data(), rows, cols, got.data(), exec);
        CHECK(test::same_bits(got, ref));
    }
}

// --------------------------------------------------------------------------- median
TEST_CASE("median: odd, even, ties, NaN, overflow as NumPy", "[median]") {
    auto med = [](std::vector<double> v) {
        return ar::kernels::median_inplace(v.data(), static_cast<std::ptrdiff_t>(v.size()));
    };
    CHECK(med({3, 1, 2}) == 2.0);
    CHECK(med({3, 1, 2, 4}) == 2.5);
    CHECK(med({7}) == 7.0);
    CHECK(med({2, 2, 2, 2}) == 2.0);
    CHECK(med({1, 5, 5, 5, 9, 0}) == 5.0);
    CHECK(std::isnan(med({1, kNaN, 3})));
    CHECK(med({-kInf, 0, kInf}) == 0.0);
    CHECK(std::isnan(med({-kInf, kInf})));  // (-inf + inf) / 2
    CHECK(med({1e308, 1e308}) == kInf);     // (a + b) / 2 overflows, as np.median
    // every permutation of a small array
    std::vector<double> v = {4, 1, 3, 1, 2, 5};
    std::sort(v.begin(), v.end());
    do {
        CHECK(med(v) == 2.5);
    } while (std::next_permutation(v.begin(), v.end()));
}

TEST_CASE("median_rows: selected rows, repeats allowed, bad indices refused", "[median]") {
    // x = [[1, 10], [2, 20], [3, 30], [4, 40]]
    const double x[8] = {1, 10, 2, 20, 3, 30, 4, 40};
    const long long rows[3] = {3, 0, 0};
    double out[2];
    ar::median_rows(x, 4, 2, rows, 3, out, kScalar);
    CHECK(out[0] == 1.0);
    CHECK(out[1] == 10.0);
    const long long bad[1] = {4};
    CHECK_THROWS_AS(ar::median_rows(x, 4, 2, bad, 1, out, kScalar), std::invalid_argument);
    CHECK_THROWS_AS(ar::median_rows(x, 4, 2, rows, 0, out, kScalar), std::invalid_argument);
}

TEST_CASE("median_rows: matches sorting, and every backend equals scalar", "[median][backends]") {
    for (std::size_t n_sel : {1u, 2u, 7u, 8u, 93u, 128u, 200u}) {
        const std::size_t n_rows = 250;
        const std::size_t n_cols = 130;
        auto x = test::noise(n_rows * n_cols, static_cast<unsigned>(n_sel));
        // ties: a repeated column
        for (std::size_t r = 0; r < n_rows; ++r) {
            x[r * n_cols + 3] = static_cast<double>(r % 4);
        }
        std::vector<long long> rows(n_sel);
        for (std::size_t i = 0; i < n_sel; ++i) {
            rows[i] = static_cast<long long>((i * 37) % n_rows);
        }
        std::vector<double> ref(n_cols);
        ar::median_rows(x.data(), n_rows, n_cols, rows.data(), n_sel, ref.data(), kScalar);
        for (std::size_t c = 0; c < n_cols; ++c) {
            std::vector<double> col;
            col.reserve(rows.size());
            for (auto r : rows) {
                col.push_back(x[static_cast<std::size_t>(r) * n_cols + c]);
            }
            std::sort(col.begin(), col.end());
            const double want =
                n_sel % 2 ? col[n_sel / 2] : (col[n_sel / 2 - 1] + col[n_sel / 2]) / 2.0;
            CHECK(test::same_bits(ref[c], want));
        }
        for (const auto& exec : test::all_execs()) {
            std::vector<double> got(n_cols);
            ar::median_rows(x.data(), n_rows, n_cols, rows.data(), n_sel, got.data(), exec);
            CHECK(test::same_bits(got, ref));
        }
    }
}

// ----------------------------------------------------------------------- kept means
TEST_CASE("kept_means: epoch-order sums of the kept rows", "[kept_means]") {
    // 3 rows x 2 samples; one fold training on rows (2, 0, 1) with keys (1, 5, 3)
    const double data[6] = {1, 2, 10, 20, 100, 200};
    const long long idx[3] = {2, 0, 1};
    const double keys[3] = {1, 5, 3};
    const double bounds[3] = {3, 0.5, 5};  // keeps rows 2,1 / none / all
    ar::KeptMeansShape s;
    s.n_rows = 3;
    s.n_times = 2;
    s.n_folds = 1;
    s.n_train = 3;
    s.n_bounds = 3;
    std::vector<double> out(6);
    ar::kept_means(data, idx, keys, bounds, s, out.data(), kScalar);
    CHECK(out[0] == 55.0);
    CHECK(out[1] == 110.0);
    CHECK(std::isnan(out[2]));
    CHECK(std::isnan(out[3]));
    CHECK(out[4] == 37.0);
    CHECK(out[5] == 74.0);
    // a running sum, not pairwise: rows 1e16, 1, -1e16 (in that order) mean (1e16 + 1 - 1e16)/3
    const double d2[3] = {1e16, 1, -1e16};
    const long long i2[3] = {0, 1, 2};
    const double k2[3] = {0, 0, 0};
    const double b2[1] = {1};
    ar::KeptMeansShape s2{3, 1, 1, 3, 1};
    double o2 = 1;
    ar::kept_means(d2, i2, k2, b2, s2, &o2, kScalar);
    CHECK(o2 == 0.0);  // 1e16 + 1 rounds to 1e16
}

TEST_CASE("kept_means and threshold_losses: every backend equals scalar",
          "[kept_means][backends]") {
    const std::size_t n_rows = 120;
    const std::size_t n_times = 161;
    const std::size_t n_folds = 10;
    const std::size_t n_train = 96;
    const std::size_t n_bounds = 9;
    auto data = test::noise(n_rows * n_times, 7);
    auto keys = test::noise(n_folds * n_train, 8);
    auto bounds = test::noise(n_bounds * n_folds, 9);
    auto medians = test::noise(n_folds * n_times, 10);
    std::vector<long long> idx(n_folds * n_train);
    for (std::size_t i = 0; i < idx.size(); ++i) {
        idx[i] = static_cast<long long>((i * 53 + i / 7) % n_rows);
    }
    ar::KeptMeansShape s{n_rows, n_times, n_folds, n_train, n_bounds};
    std::vector<double> ref(n_bounds * n_folds * n_times);
    ar::kept_means(data.data(), idx.data(), keys.data(), bounds.data(), s, ref.data(), kScalar);
    std::vector<double> ref_loss(n_bounds);
    ar::threshold_losses(data.data(), idx.data(), keys.data(), bounds.data(), medians.data(), s,
                         ref_loss.data(), kScalar);
    std::vector<double> ref_scores(n_bounds * n_folds);
    ar::threshold_scores(data.data(), idx.data(), keys.data(), bounds.data(), medians.data(), s,
                         ref_scores.data(), kScalar);
    // the scores and the loss from the means, by their definitions
    for (std::size_t c = 0; c < n_bounds; ++c) {
        std::vector<double> scores(n_folds);
        std::vector<double> scratch(n_times);
        for (std::size_t f = 0; f < n_folds; ++f) {
            scores[f] = -ar::kernels::rmse(medians.data() + f * n_times,
                                           ref.data() + (c * n_folds + f) * n_times, n_times,
                                           scratch.data());
        }
        const double want = -ar::kernels::numpy_mean(scores.data(), n_folds);
        CHECK(test::same_bits(ref_loss[c], want));
        for (std::size_t f = 0; f < n_folds; ++f) {
            CHECK(test::same_bits(ref_scores[c * n_folds + f], scores[f]));
        }
    }
    for (const auto& exec : test::all_execs()) {
        std::vector<double> got(ref.size());
        ar::kept_means(data.data(), idx.data(), keys.data(), bounds.data(), s, got.data(), exec);
        CHECK(test::same_bits(got, ref));
        std::vector<double> loss(n_bounds);
        ar::threshold_losses(data.data(), idx.data(), keys.data(), bounds.data(), medians.data(), s,
                             loss.data(), exec);
        CHECK(test::same_bits(loss, ref_loss));
        std::vector<double> scores(n_bounds * n_folds);
        ar::threshold_scores(data.data(), idx.data(), keys.data(), bounds.data(), medians.data(), s,
                             scores.data(), exec);
        CHECK(test::same_bits(scores, ref_scores));
    }
}

namespace {
// kept_means by kernels::kept_means_columns (one bound and one column at a time, the
// arithmetic the GPU runs), the reference for the CPU's tiles of bounds and samples
template <class T>
std::vector<T> kept_means_by_column(const std::vector<T>& data, const std::vector<long long>& idx,
                                    const std::vector<T>& keys, const std::vector<T>& bounds,
                                    const ar::KeptMeansShape& s) {
    std::vector<T> out(s.n_bounds * s.n_folds * s.n_times);
    for (std::size_t c = 0; c < s.n_bounds; ++c) {
        for (std::size_t f = 0; f < s.n_folds; ++f) {
            for (std::size_t t = 0; t < s.n_times; ++t) {
                std::size_t count = 0;
                ar::kernels::kept_means_columns(
                    data.data(), s.n_times, t, std::size_t(1), idx.data() + f * s.n_train,
                    keys.data() + f * s.n_train, s.n_train, bounds.data() + c * s.n_folds + f,
                    s.n_folds, std::size_t(1), out.data() + (c * s.n_folds + f) * s.n_times + t,
                    &count);
            }
        }
    }
    return out;
}

template <class T>
void check_tiles_against_columns(std::size_t n_times, std::size_t n_bounds, unsigned seed) {
    const std::size_t n_rows = 53;
    const std::size_t n_folds = 3;
    const std::size_t n_train = 41;
    const auto noise = test::noise(n_rows * n_times + n_folds * n_train + n_bounds * n_folds, seed);
    std::vector<T> data(n_rows * n_times);
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<T>(noise[i]);
    }
    data[5] = T(-0.0);  // a negative zero kept alone stays +0.0 in a sum started at 0.0
    data[n_times + 1] = std::numeric_limits<T>::infinity();
    data[2 * n_times + 2] = std::numeric_limits<T>::quiet_NaN();
    std::vector<T> keys(n_folds * n_train);
    std::vector<long long> idx(n_folds * n_train);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        keys[i] = static_cast<T>(std::fabs(noise[data.size() + i]));
        idx[i] = static_cast<long long>((i * 17 + i / 5) % n_rows);
    }
    keys[3] = std::numeric_limits<T>::quiet_NaN();  // kept by no bound
    keys[4] = std::numeric_limits<T>::infinity();   // kept by an infinite bound only
    keys[6] = keys[7];                              // a tie with a bound below
    std::vector<T> bounds(n_bounds * n_folds);
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        bounds[i] = static_cast<T>(std::fabs(noise[data.size() + keys.size() + i]));
    }
    bounds[0] = keys[7];                              // equal to a key: keeps it
    bounds[1] = std::numeric_limits<T>::quiet_NaN();  // keeps nothing: NaN means
    bounds[2] = std::numeric_limits<T>::infinity();   // keeps all but the NaN key
    if (n_bounds > 2) {
        bounds[n_folds] = T(0);           // below every key: keeps nothing
        bounds[2 * n_folds] = bounds[0];  // a duplicate bound
    }
    const ar::KeptMeansShape s{n_rows, n_times, n_folds, n_train, n_bounds};
    const auto want = kept_means_by_column(data, idx, keys, bounds, s);
    // the scores by their definition, -rmse(median, mean), from the reference means
    std::vector<T> medians(n_folds * n_times);
    for (std::size_t i = 0; i < medians.size(); ++i) {
        medians[i] = static_cast<T>(noise[(i * 31) % data.size()]);
    }
    std::vector<T> want_scores(n_bounds * n_folds);
    std::vector<T> scratch(n_times);
    for (std::size_t i = 0; i < want_scores.size(); ++i) {
        want_scores[i] = -ar::kernels::rmse(medians.data() + (i % n_folds) * n_times,
                                            want.data() + i * n_times, n_times, scratch.data());
    }
    for (ar::Simd simd : test::available_simd()) {  // lanes and tile widths differ by ISA
        for (const auto& exec : test::all_execs()) {
            INFO("simd " << ar::simd_name(simd) << ", backend " << ar::backend_name(exec.backend)
                         << " x" << exec.n_threads);
            std::vector<T> got(want.size());
            ar::dispatch::kept_means(data.data(), idx.data(), keys.data(), bounds.data(), s,
                                     got.data(), exec, simd);
            CHECK(test::same_bits(got, want));
            std::vector<T> scores(want_scores.size());
            ar::dispatch::threshold_scores(data.data(), idx.data(), keys.data(), bounds.data(),
                                           medians.data(), s, scores.data(), exec, simd);
            CHECK(test::same_bits(scores, want_scores));
        }
    }
}
}  // namespace

TEST_CASE("kept_means: both loop orders (tiles, rows) equal one bound and column at a time",
          "[kept_means]") {
    // samples: below one tile, a whole number of tiles (8 and 16), one past; bounds: one,
    // below and above a vector's lanes (2 to 16 by instruction set and precision)
    for (std::size_t n_times : {1u, 5u, 16u, 33u, 64u}) {
        for (std::size_t n_bounds : {1u, 3u, 9u, 17u, 41u, 300u}) {  // 300: two batches
            CAPTURE(n_times, n_bounds);
            check_tiles_against_columns<double>(n_times, n_bounds, 11);
            check_tiles_against_columns<float>(n_times, n_bounds, 12);
        }
    }
}

TEST_CASE("kept_means: indices outside the data are refused", "[kept_means]") {
    const double data[2] = {1, 2};
    const long long idx[1] = {2};
    const double keys[1] = {0};
    const double bounds[1] = {1};
    ar::KeptMeansShape s{2, 1, 1, 1, 1};
    double out[1];
    CHECK_THROWS_WITH(ar::kept_means(data, idx, keys, bounds, s, out, kScalar),
                      Catch::Contains("train_idx[0] = 2"));
}

// ---------------------------------------------------------------------- prefix sums
TEST_CASE("prefix_sums: reduceat segments then a running total", "[prefix_sums]") {
    // rows 0..3 = 1, 2, 4, 8 (one column); order 3, 0, 1, 2; cuts 1, 3, 4
    const double data[4] = {1, 2, 4, 8};
    const long long order[4] = {3, 0, 1, 2};
    const long long cuts[3] = {1, 3, 4};
    double out[3];
    ar::prefix_sums(data, 4, 1, order, 4, cuts, 3, out, kScalar);
    CHECK(out[0] == 8.0);
    CHECK(out[1] == 11.0);
    CHECK(out[2] == 15.0);
    const long long bad_cuts[2] = {2, 2};
    CHECK_THROWS_AS(ar::prefix_sums(data, 4, 1, order, 4, bad_cuts, 2, out, kScalar),
                    std::invalid_argument);
    const long long bad_order[1] = {9};
    const long long one[1] = {1};
    CHECK_THROWS_AS(ar::prefix_sums(data, 4, 1, bad_order, 1, one, 1, out, kScalar),
                    std::invalid_argument);
}

TEST_CASE("prefix_sums: a segment's rows after its first are summed pairwise", "[prefix_sums]") {
    // one segment of 1 + 199 rows: first + pairwise(0.1 ... 19.9) = 5 + 1990.0 exactly
    std::vector<double> data(200);
    data[0] = 5.0;
    for (int i = 1; i < 200; ++i) {
        data[i] = i * 0.1;
    }
    std::vector<long long> order(200);
    std::iota(order.begin(), order.end(), 0);
    const long long cut = 200;
    double out = 0;
    ar::prefix_sums(data.data(), 200, 1, order.data(), 200, &cut, 1, &out, kScalar);
    CHECK(out == 1995.0);
}

TEST_CASE("prefix_sums: every backend equals scalar", "[prefix_sums][backends]") {
    const std::size_t n_rows = 300;
    const std::size_t n_cols = 700;
    auto data = test::noise(n_rows * n_cols, 3);
    std::vector<long long> order(n_rows);
    for (std::size_t i = 0; i < n_rows; ++i) {
        order[i] = static_cast<long long>((i * 101) % n_rows);
    }
    const std::vector<long long> cuts = {1, 2, 9, 140, 141, 300};
    std::vector<double> ref(cuts.size() * n_cols);
    ar::prefix_sums(data.data(), n_rows, n_cols, order.data(), n_rows, cuts.data(), cuts.size(),
                    ref.data(), kScalar);
    for (const auto& exec : test::all_execs()) {
        std::vector<double> got(ref.size());
        ar::prefix_sums(data.data(), n_rows, n_cols, order.data(), n_rows, cuts.data(), cuts.size(),
                        got.data(), exec);
        CHECK(test::same_bits(got, ref));
    }
}

// ---------------------------------------------------------------------------- RANSAC
TEST_CASE("ransac: a perfect predictor correlates 1, a sign flip -1", "[ransac]") {
    // 1 epoch, 2 channels, 3 samples; 3 resamples each predicting channel c from the other
    const double data[6] = {1, 2, 3, -1, -2, -3};
    const long long cols[3 * 1] = {1, 0, 1};
    const long long counts[3] = {1, 1, 1};
    // weights[r, c, 0]: r=0,2 use channel 1 -> predict ch0 as -1 * ch1, ch1 as 1 * ch1;
    // r=1 uses channel 0 -> predict ch0 as 1 * ch0, ch1 as -1 * ch0
    const double weights[3 * 2 * 1] = {-1, 1, 1, -1, -1, 1};
    ar::RansacShape s{1, 2, 3, 3, 1};
    double out[2];
    ar::ransac_correlations(data, cols, counts, weights, s, out, kScalar);
    CHECK(out[0] == Approx(1.0).epsilon(1e-15));
    CHECK(out[1] == Approx(1.0).epsilon(1e-15));
    const long long too_many[3] = {2, 1, 1};
    CHECK_THROWS_AS(ar::ransac_correlations(data, cols, too_many, weights, s, out, kScalar),
                    std::invalid_argument);
}

TEST_CASE("ransac: every backend equals scalar", "[ransac][backends]") {
    const std::size_t e = 7;
    const std::size_t c = 16;
    const std::size_t t = 211;  // not a multiple of the block
    const std::size_t r = 10;
    const std::size_t k = 6;
    auto data = test::noise(e * c * t, 11);
    auto weights = test::noise(r * c * k, 12);
    std::vector<long long> cols(r * k);
    std::vector<long long> counts(r);
    for (std::size_t i = 0; i < r; ++i) {
        counts[i] = static_cast<long long>(i % 3 == 0 ? k - 1 : k);
        for (std::size_t j = 0; j < k; ++j) {
            cols[i * k + j] = static_cast<long long>((i * 5 + j * 3) % c);
        }
    }
    ar::RansacShape s{e, c, t, r, k};
    std::vector<double> ref(e * c);
    ar::ransac_correlations(data.data(), cols.data(), counts.data(), weights.data(), s, ref.data(),
                            kScalar);
    for (double v : ref) {
        CHECK(std::abs(v) <= 1.0 + 1e-12);
    }
    for (const auto& exec : test::all_execs()) {
        std::vector<double> got(ref.size());
        ar::ransac_correlations(data.data(), cols.data(), counts.data(), weights.data(), s,
                                got.data(), exec);
        CHECK(test::same_bits(got, ref));
    }
}

// ------------------------------------------------------------------------------ vote
TEST_CASE("vote: strictly above the threshold is bad, NaN is good", "[vote]") {
    const double deltas[6] = {1, 2, 3, 2, kNaN, 0};
    const double threshes[3] = {1, 1, 3};
    std::uint8_t bad[6];
    std::int64_t counts[2];
    for (const auto& exec : test::all_execs()) {
        ar::vote_bad_epochs(deltas, 2, 3, threshes, bad, counts, exec);
        CHECK(std::vector<int>(bad, bad + 6) == std::vector<int>{0, 1, 0, 1, 0, 0});
        CHECK(counts[0] == 1);
        CHECK(counts[1] == 1);
    }
    std::uint8_t is_bad[2];
    ar::bad_epochs(counts, 2, 0.3, 3, is_bad);  // 1 >= 0.9
    CHECK(is_bad[0] == 1);
    ar::bad_epochs(counts, 2, 0.4, 3, is_bad);  // 1 < 1.2
    CHECK(is_bad[0] == 0);
    CHECK_THROWS_AS(ar::bad_epochs(counts, 2, 1.5, 3, is_bad), std::invalid_argument);
}

TEST_CASE("median_rows: NaN and infinities through the network's block path", "[median]") {
    const std::size_t n_rows = 9;
    const std::size_t n_cols = 70;  // two blocks of columns
    std::vector<double> x(n_rows * n_cols);
    for (std::size_t r = 0; r < n_rows; ++r) {
        for (std::size_t c = 0; c < n_cols; ++c) {
            x[r * n_cols + c] = static_cast<double>((r * 7 + c) % n_rows);  // 0..8 once each
        }
    }
    x[3 * n_cols + 65] = kNaN;
    x[0 * n_cols + 2] = kInf;  // replaces a value: column 2 becomes {inf, 0..8 without one}
    x[1 * n_cols + 2] = -kInf;
    std::vector<long long> rows(n_rows);
    std::iota(rows.begin(), rows.end(), 0);
    for (const auto& exec : test::all_execs()) {
        std::vector<double> out(n_cols);
        ar::median_rows(x.data(), n_rows, n_cols, rows.data(), n_rows, out.data(), exec);
        CHECK(std::isnan(out[65]));
        CHECK(out[0] == 4.0);
        CHECK(out[64] == 4.0);
        CHECK(out[66] == 4.0);
        // column 2 held 0..8; row 0 held 2 (now inf), row 1 held 0 (now -inf): sorted
        // -inf, 1, 3, 4, 5, 6, 7, 8, inf -> 5
        CHECK(out[2] == 5.0);
    }
}

TEST_CASE("ptp: zero-range rows give +0.0 whatever lane held which zero", "[ptp][backends]") {
    // np.ptp gives +0.0 for every row whose values are all zeros of either sign
    for (std::size_t len : {1u, 2u, 7u, 8u, 9u, 16u, 17u, 33u, 64u, 65u}) {
        for (std::size_t pos = 0; pos < len; ++pos) {
            std::vector<double> row(len, -0.0);
            row[pos] = 0.0;
            std::vector<double> flipped(len, 0.0);
            flipped[pos] = -0.0;
            for (const auto& exec : test::all_execs()) {
                double a = 1;
                double b = 1;
                ar::ptp(row.data(), 1, len, &a, exec);
                ar::ptp(flipped.data(), 1, len, &b, exec);
                CHECK(test::same_bits(a, 0.0));
                CHECK(test::same_bits(b, 0.0));
            }
        }
    }
}

TEST_CASE("median: -0.0 middle values give +0.0, as np.median", "[median]") {
    auto med = [](std::vector<double> v) {
        return ar::kernels::median_inplace(v.data(), static_cast<std::ptrdiff_t>(v.size()));
    };
    CHECK(test::same_bits(med({-0.0}), 0.0));
    CHECK(test::same_bits(med({-0.0, -0.0}), 0.0));
    CHECK(test::same_bits(med({-1.0, -0.0, 3.0}), 0.0));
    // the block (network) path of median_rows as well
    std::vector<double> x(5 * 3, -0.0);
    const long long rows[5] = {0, 1, 2, 3, 4};
    std::vector<double> out(3, 1.0);
    ar::median_rows(x.data(), 5, 3, rows, 5, out.data(), kScalar);
    for (double v : out) {
        CHECK(test::same_bits(v, 0.0));
    }
}

TEST_CASE("ransac: sparse predictions of any length, terms in order", "[ransac]") {
    // 3 channels x 37 samples; predict from channels 2 and 0 with weights 0.5 and -2
    const std::size_t n_times = 37;
    std::vector<double> epoch(3 * n_times);
    for (std::size_t t = 0; t < n_times; ++t) {
        epoch[t] = static_cast<double>(t);                        // channel 0
        epoch[n_times + t] = 100.0;                               // channel 1 (unused)
        epoch[2 * n_times + t] = static_cast<double>(2 * t + 1);  // channel 2
    }
    const long long cols[2] = {2, 0};
    const double w[2] = {0.5, -2.0};
    for (std::size_t t0 : {0u, 3u}) {
        for (std::size_t n : {1u, 5u, 8u, 31u, 33u}) {
            if (t0 + n > n_times) {
                continue;
            }
            std::vector<double> pred(n, 7.0);
            const bool nan = ar::kernels::sparse_prediction(epoch.data(), n_times, cols, w, 2, t0,
                                                            n, pred.data());
            CHECK_FALSE(nan);
            for (std::size_t i = 0; i < n; ++i) {
                const double t = static_cast<double>(t0 + i);
                CHECK(pred[i] == 0.5 * (2 * t + 1) + -2.0 * t);
            }
        }
    }
    std::vector<double> zero(4, 1.0);
    CHECK_FALSE(
        ar::kernels::sparse_prediction(epoch.data(), n_times, cols, w, 0, 0, 4, zero.data()));
    CHECK(zero == std::vector<double>(4, 0.0));
    epoch[2 * n_times + 30] = kNaN;
    std::vector<double> pred(33);
    CHECK(ar::kernels::sparse_prediction(epoch.data(), n_times, cols, w, 2, 0, 33, pred.data()));
}

// ------------------------------------------------------------------------ take rows
TEST_CASE("take_rows: rows gathered in the order asked, on every backend", "[take_rows]") {
    const std::size_t n_src = 300;
    const std::size_t row = 37;  // doubles per row: rows not a multiple of a cache line
    const auto src = test::noise(n_src * row, 21);
    std::vector<long long> rows;
    for (std::size_t i = 0; i < 2 * n_src; ++i) {
        rows.push_back(static_cast<long long>((i * 7919) % n_src));  // repeats, any order
    }
    for (const auto& exec : test::all_execs()) {
        std::vector<double> out(rows.size() * row, -1.0);
        ar::take_rows(src.data(), n_src, row * sizeof(double), rows.data(), rows.size(), out.data(),
                      exec);
        bool same = true;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            for (std::size_t t = 0; t < row; ++t) {
                same = same && test::same_bits(out[i * row + t],
                                               src[static_cast<std::size_t>(rows[i]) * row + t]);
            }
        }
        CHECK(same);
    }
    double out[1] = {0};
    const long long outside[1] = {static_cast<long long>(n_src)};
    CHECK_THROWS_WITH(ar::take_rows(src.data(), n_src, sizeof(double), outside, 1, out, kScalar),
                      Catch::Contains("rows[0] = 300 is outside [0, 300)"));
    ar::take_rows(src.data(), n_src, sizeof(double), outside, 0, out, kScalar);  // nothing
    CHECK(out[0] == 0.0);
}
