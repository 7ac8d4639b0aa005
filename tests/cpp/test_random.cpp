// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// NumPy's legacy RandomState stream and the splitters (autoreject/random.hpp): the raw
// Mersenne Twister against published reference outputs and the standard library's
// std::mt19937 (same seeding recurrence), derived draws against values printed by NumPy
// 2.4 / scikit-learn 1.9.1 / SciPy 1.17 (quoted below with the call that printed them),
// properties of the splits, and the argument checks. tests/python/test_cpp_random.py
// compares every function with those libraries live over many seeds and sizes.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "autoreject/random.hpp"

namespace {

using autoreject::LegacyRandomState;
using autoreject::Split;
using Indices = std::vector<std::size_t>;

std::vector<int> two_classes(std::size_t per_class) {
    std::vector<int> y(2 * per_class, 0);
    std::fill(y.begin() + static_cast<std::ptrdiff_t>(per_class), y.end(), 1);
    return y;
}

/// Checks that `train` and `test` are disjoint, duplicate-free and inside [0, n).
void require_disjoint_within(const Split& s, std::size_t n) {
    std::set<std::size_t> seen;
    for (const std::size_t i : s.train) {
        REQUIRE(i < n);
        REQUIRE(seen.insert(i).second);
    }
    for (const std::size_t i : s.test) {
        REQUIRE(i < n);
        REQUIRE(seen.insert(i).second);
    }
}

bool is_permutation_of_iota(Indices v) {
    std::sort(v.begin(), v.end());
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] != i) {
            return false;
        }
    }
    return true;
}

template <typename F>
void require_invalid_argument_mentioning(F&& f, const std::string& word) {
    try {
        f();
        FAIL("expected std::invalid_argument mentioning '" << word << "'");
    } catch (const std::invalid_argument& e) {
        const std::string what = e.what();
        INFO(what);
        REQUIRE(what.find(word) != std::string::npos);
    }
}

}  // namespace

TEST_CASE("mt19937: published reference outputs for the default seed 5489", "[random][mt19937]") {
    LegacyRandomState rng(5489U);
    // first output of the reference generator (Matsumoto & Nishimura's mt19937ar.c)
    REQUIRE(rng.next_uint32() == 3499211612U);
    for (int i = 2; i < 10000; ++i) {
        rng.next_uint32();
    }
    // the 10000th output, the value the C++ standard requires of std::mt19937 ([rand.predef])
    REQUIRE(rng.next_uint32() == 4123659995U);
}

TEST_CASE("mt19937: same stream as std::mt19937 for the same 32-bit seed", "[random][mt19937]") {
    for (const std::uint32_t seed : {0U, 1U, 42U, 5489U, 123456789U, 0xffffffffU}) {
        LegacyRandomState rng(seed);
        std::mt19937 reference(seed);
        for (int i = 0; i < 2000; ++i) {
            INFO("seed " << seed << ", output " << i);
            REQUIRE(rng.next_uint32() == reference());
        }
    }
}

TEST_CASE("mt19937: 64-bit draws join two outputs, the first one high", "[random][mt19937]") {
    LegacyRandomState a(7U);
    std::mt19937 b(7U);
    for (int i = 0; i < 100; ++i) {
        const std::uint64_t high = b();
        const std::uint64_t low = b();
        REQUIRE(a.next_uint64() == ((high << 32U) | low));
    }
}

TEST_CASE("random_sample: NumPy's published first draws", "[random]") {
    // np.random.RandomState(0).random_sample(3) -> 0.5488135039273248, 0.7151893663724195,
    // 0.6027633760716439 (exact bits as printed by float.hex())
    LegacyRandomState rng0(0U);
    REQUIRE(rng0.random_sample() == 0x1.18fe1565f12a8p-1);
    REQUIRE(rng0.random_sample() == 0x1.6e2d4cf608733p-1);
    REQUIRE(rng0.random_sample() == 0x1.349d66b6e894bp-1);
    // np.random.RandomState(42).random_sample(2) -> 0.3745401188473625, 0.9507143064099162
    LegacyRandomState rng42(42U);
    REQUIRE(rng42.random_sample() == 0x1.7f8771e5f51ecp-2);
    REQUIRE(rng42.random_sample() == 0x1.e6c4068bbd654p-1);
}

TEST_CASE("random_sample and uniform: ranges and the 53-bit construction", "[random]") {
    LegacyRandomState rng(3U);
    std::mt19937 reference(3U);
    for (int i = 0; i < 1000; ++i) {
        const double u = rng.random_sample();
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
        const std::uint64_t a = reference() >> 5U;
        const std::uint64_t b = reference() >> 6U;
        REQUIRE(u == static_cast<double>((a << 26U) | b) * 0x1p-53);
    }
    for (int i = 0; i < 1000; ++i) {
        const double v = rng.uniform(-2.5, 4.0);
        REQUIRE(v >= -2.5);
        REQUIRE(v < 4.0);
    }
    // uniform(0, 1) is random_sample() itself
    LegacyRandomState x(11U);
    LegacyRandomState y(11U);
    for (int i = 0; i < 50; ++i) {
        REQUIRE(x.uniform(0.0, 1.0) == y.random_sample());
    }
}

TEST_CASE("bounded: masked rejection on 32- and 64-bit draws", "[random]") {
    SECTION("max 0 draws nothing") {
        LegacyRandomState a(5U);
        LegacyRandomState b(5U);
        REQUIRE(a.bounded(0) == 0);
        REQUIRE(a.next_uint32() == b.next_uint32());
    }
    SECTION("a power-of-two-minus-one bound takes the masked output as is") {
        LegacyRandomState a(9U);
        std::mt19937 b(9U);
        for (int i = 0; i < 100; ++i) {
            REQUIRE(a.bounded(0xffU) == (b() & 0xffU));
        }
    }
    SECTION("values in range, every value reached") {
        LegacyRandomState rng(1U);
        std::vector<int> hits(6, 0);
        for (int i = 0; i < 6000; ++i) {
            const std::uint64_t v = rng.bounded(5);
            REQUIRE(v <= 5);
            ++hits[v];
        }
        for (const int h : hits) {
            REQUIRE(h > 800);
            REQUIRE(h < 1200);
        }
    }
    SECTION("bounds above 32 bits use 64-bit outputs") {
        // np.random.RandomState(0).randint(0, 2**40 + 1, dtype=np.uint64) -> 741280623151
        LegacyRandomState rng(0U);
        REQUIRE(rng.bounded((std::uint64_t{1} << 40U)) == 741280623151ULL);
        LegacyRandomState full(4U);
        LegacyRandomState raw(4U);
        REQUIRE(full.bounded(~std::uint64_t{0}) == raw.next_uint64());
    }
    SECTION("the 32-bit boundary") {
        // np.random.RandomState(2**32 - 1).randint(0, 2**32, dtype=np.uint64) -> 419326371
        LegacyRandomState rng(0xffffffffU);
        REQUIRE(rng.bounded(0xffffffffULL) == 419326371ULL);
    }
}

TEST_CASE("permutation and choice: NumPy's draws for seeds 0 and 42", "[random]") {
    // np.random.RandomState(0).permutation(10) -> [2 8 4 9 1 6 7 3 0 5]
    REQUIRE(LegacyRandomState(0U).permutation(10) == Indices{2, 8, 4, 9, 1, 6, 7, 3, 0, 5});
    // np.random.RandomState(42).choice(10, 3, replace=False) -> [8 1 5]
    REQUIRE(LegacyRandomState(42U).choice_without_replacement(10, 3) == Indices{8, 1, 5});
    // choice is the head of the permutation, and the whole permutation is drawn
    LegacyRandomState a(17U);
    LegacyRandomState b(17U);
    const Indices head = a.choice_without_replacement(50, 7);
    const Indices full = b.permutation(50);
    REQUIRE(head == Indices(full.begin(), full.begin() + 7));
    REQUIRE(a.next_uint32() == b.next_uint32());
}

TEST_CASE("permutation: a permutation of 0..n-1 for every n", "[random]") {
    LegacyRandomState rng(2U);
    for (std::size_t n = 0; n <= 300; ++n) {
        const Indices p = rng.permutation(n);
        REQUIRE(p.size() == n);
        REQUIRE(is_permutation_of_iota(p));
    }
    // n <= 1 makes no draw
    LegacyRandomState a(8U);
    LegacyRandomState b(8U);
    REQUIRE(a.permutation(1) == Indices{0});
    REQUIRE(a.permutation(0).empty());
    REQUIRE(a.next_uint32() == b.next_uint32());
}

TEST_CASE("choice_without_replacement: argument checks", "[random]") {
    LegacyRandomState rng(0U);
    require_invalid_argument_mentioning([&] { rng.choice_without_replacement(3, 4); }, "size");
    REQUIRE(rng.choice_without_replacement(0, 0).empty());
    require_invalid_argument_mentioning(
        [&] { rng.uniform(-1e308, std::numeric_limits<double>::infinity()); }, "finite");
}

TEST_CASE("kfold_splits: fold sizes and partition", "[random][split]") {
    for (const std::size_t n : {10U, 23U, 232U}) {
        for (const std::size_t k : {2U, 5U, 10U}) {
            INFO("n " << n << ", k " << k);
            const std::vector<Split> splits = autoreject::kfold_splits(n, k);
            REQUIRE(splits.size() == k);
            std::size_t next = 0;
            for (std::size_t f = 0; f < k; ++f) {
                const Split& s = splits[f];
                const std::size_t expected = n / k + (f < n % k ? 1 : 0);
                REQUIRE(s.test.size() == expected);
                REQUIRE(s.train.size() == n - expected);
                for (const std::size_t i : s.test) {
                    REQUIRE(i == next++);
                }
                REQUIRE(std::is_sorted(s.train.begin(), s.train.end()));
                require_disjoint_within(s, n);
            }
            REQUIRE(next == n);
        }
    }
    // 23 samples in 5 folds: 5, 5, 5, 4, 4
    const std::vector<Split> s = autoreject::kfold_splits(23, 5);
    REQUIRE(s[0].test == Indices{0, 1, 2, 3, 4});
    REQUIRE(s[3].test == Indices{15, 16, 17, 18});
    REQUIRE(s[4].test == Indices{19, 20, 21, 22});
}

TEST_CASE("kfold_splits: argument checks", "[random][split]") {
    require_invalid_argument_mentioning([] { autoreject::kfold_splits(10, 1); }, "n_splits");
    require_invalid_argument_mentioning([] { autoreject::kfold_splits(10, 0); }, "n_splits");
    require_invalid_argument_mentioning([] { autoreject::kfold_splits(4, 5); }, "n_samples");
    REQUIRE(autoreject::kfold_splits(5, 5).size() == 5);
}

TEST_CASE("stratified_shuffle_splits: scikit-learn's draws for a small case", "[random][split]") {
    // list(StratifiedShuffleSplit(2, test_size=0.2, random_state=0).split(y, y)) with
    // y = [0]*5 + [1]*5 -> train [0 6 3 9 2 5 1 7], test [4 8];
    //                      train [9 2 7 3 6 8 1 4], test [0 5]
    const std::vector<Split> s = autoreject::stratified_shuffle_splits(two_classes(5), 2, 0.2, 0U);
    REQUIRE(s.size() == 2);
    REQUIRE(s[0].train == Indices{0, 6, 3, 9, 2, 5, 1, 7});
    REQUIRE(s[0].test == Indices{4, 8});
    REQUIRE(s[1].train == Indices{9, 2, 7, 3, 6, 8, 1, 4});
    REQUIRE(s[1].test == Indices{0, 5});
}

TEST_CASE("stratified_shuffle_splits: sizes, disjointness and class balance", "[random][split]") {
    for (const std::size_t per_class : {10U, 11U, 57U, 232U, 300U}) {
        for (const std::uint32_t seed : {0U, 1U, 42U, 0xffffffffU}) {
            INFO("per class " << per_class << ", seed " << seed);
            const std::vector<int> y = two_classes(per_class);
            const std::size_t n = y.size();
            const auto n_test = static_cast<std::size_t>(std::ceil(0.2 * static_cast<double>(n)));
            const std::vector<Split> splits =
                autoreject::stratified_shuffle_splits(y, 10, 0.2, seed);
            REQUIRE(splits.size() == 10);
            for (const Split& s : splits) {
                REQUIRE(s.test.size() == n_test);
                REQUIRE(s.train.size() == n - n_test);
                require_disjoint_within(s, n);
                std::size_t ones = 0;
                for (const std::size_t i : s.test) {
                    ones += static_cast<std::size_t>(y[i]);
                }
                // equal classes: the test set splits evenly, up to one for an odd size
                REQUIRE(ones * 2 + 1 >= n_test);
                REQUIRE(ones * 2 <= n_test + 1);
            }
            REQUIRE(splits[0].test != splits[1].test);
        }
    }
}

TEST_CASE("stratified_shuffle_splits: unequal classes follow their proportions",
          "[random][split]") {
    std::vector<int> y;
    for (const auto& [label, count] : std::vector<std::pair<int, int>>{{7, 40}, {-3, 9}, {2, 4}}) {
        y.insert(y.end(), static_cast<std::size_t>(count), label);
    }
    const std::size_t n = y.size();  // 53; 11 test, 42 train
    for (const std::uint32_t seed : {0U, 5U}) {
        for (const Split& s : autoreject::stratified_shuffle_splits(y, 10, 0.2, seed)) {
            REQUIRE(s.test.size() == 11);
            REQUIRE(s.train.size() == 42);
            require_disjoint_within(s, n);
            std::size_t big = 0;
            for (const std::size_t i : s.test) {
                big += y[i] == 7 ? 1 : 0;
            }
            // 40 / 53 * 11 = 8.3: the approximate mode gives 8 or 9
            REQUIRE(big >= 8);
            REQUIRE(big <= 9);
        }
    }
    // same seed, same splits
    const auto a = autoreject::stratified_shuffle_splits(y, 3, 0.3, 99U);
    const auto b = autoreject::stratified_shuffle_splits(y, 3, 0.3, 99U);
    for (std::size_t i = 0; i < 3; ++i) {
        REQUIRE(a[i].train == b[i].train);
        REQUIRE(a[i].test == b[i].test);
    }
}

TEST_CASE("stratified_shuffle_splits: argument checks", "[random][split]") {
    const std::vector<int> y = two_classes(10);
    require_invalid_argument_mentioning(
        [&] { autoreject::stratified_shuffle_splits(y, 0, 0.2, 0); }, "n_splits");
    for (const double bad : {0.0, 1.0, -0.1, 1.5, std::nan("")}) {
        require_invalid_argument_mentioning(
            [&] { autoreject::stratified_shuffle_splits(y, 10, bad, 0); }, "test_size");
    }
    std::vector<int> lonely = y;
    lonely.push_back(4);
    require_invalid_argument_mentioning(
        [&] { autoreject::stratified_shuffle_splits(lonely, 10, 0.2, 0); }, "class 4");
    // 3 classes of 2: test_size 0.1 gives 1 test sample, fewer than the classes
    const std::vector<int> three{0, 0, 1, 1, 2, 2};
    require_invalid_argument_mentioning(
        [&] { autoreject::stratified_shuffle_splits(three, 2, 0.1, 0); }, "test size");
    require_invalid_argument_mentioning(
        [&] { autoreject::stratified_shuffle_splits(three, 2, 0.8, 0); }, "training size");
    require_invalid_argument_mentioning(
        [&] { autoreject::stratified_shuffle_splits({}, 2, 0.2, 0); }, "training set is empty");
}

TEST_CASE("random_search_draws: SciPy's loc + scale * u over one stream", "[random]") {
    // [p["thresh"] for p in ParameterSampler({"thresh": scipy.stats.uniform(1.0, 2.0)},
    //  n_iter=3, random_state=0)] -> 2.0976270078546495, 2.430378732744839, 2.205526752143288
    const std::vector<double> d = autoreject::random_search_draws(1.0, 2.0, 3, 0U);
    REQUIRE(d.size() == 3);
    REQUIRE(d[0] == 2.0976270078546495);
    REQUIRE(d[1] == 2.430378732744839);
    REQUIRE(d[2] == 2.205526752143288);
    LegacyRandomState rng(42U);
    for (const double v : autoreject::random_search_draws(-3.0, 0.5, 20, 42U)) {
        REQUIRE(v == rng.random_sample() * 0.5 + -3.0);
    }
    REQUIRE(autoreject::random_search_draws(4.0, 0.0, 5, 1U) == std::vector<double>(5, 4.0));
    require_invalid_argument_mentioning([] { autoreject::random_search_draws(0.0, -1.0, 5, 1U); },
                                        "scale");
    require_invalid_argument_mentioning(
        [] { autoreject::random_search_draws(std::nan(""), 1.0, 5, 1U); }, "loc");
}

TEST_CASE("ransac_subsets: successive choices over one stream", "[random]") {
    const auto subsets = autoreject::ransac_subsets(64, 16, 50, 42U);
    REQUIRE(subsets.size() == 50);
    LegacyRandomState rng(42U);
    for (const Indices& s : subsets) {
        REQUIRE(s.size() == 16);
        REQUIRE(std::set<std::size_t>(s.begin(), s.end()).size() == 16);
        REQUIRE(*std::max_element(s.begin(), s.end()) < 64);
        const Indices full = rng.permutation(64);
        REQUIRE(s == Indices(full.begin(), full.begin() + 16));
    }
    // seed 42, first subset of np.random.RandomState(42).choice(10, 3, replace=False)
    REQUIRE(autoreject::ransac_subsets(10, 3, 1, 42U)[0] == Indices{8, 1, 5});
    require_invalid_argument_mentioning([] { autoreject::ransac_subsets(8, 9, 5, 0U); }, "n_pick");
}
