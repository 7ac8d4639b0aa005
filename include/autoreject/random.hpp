// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file random.hpp
/// @brief NumPy's legacy `RandomState` stream and the scikit-learn splitters built on it,
/// reproduced draw for draw so that the C++ pipeline and the Python module agree for the
/// same integer seed.
///
/// The generator is the 32-bit Mersenne Twister (MT19937, period 2^19937 - 1) seeded the
/// way `np.random.RandomState(int)` seeds it: the reference `init_genrand` recurrence on
/// the 32-bit seed. On top of it sit the legacy derived draws:
/// - doubles in [0, 1) built from two outputs (27 high bits, then 26 high bits);
/// - bounded integers by masked rejection: the smallest all-ones mask covering the bound,
///   one 32-bit output per try when the bound fits 32 bits, one 64-bit output (first
///   output in the high half) otherwise;
/// - Fisher-Yates shuffles walking from the last position down to position 1;
/// - sampling without replacement as the head of a full permutation.
///
/// The splitters reproduce scikit-learn 1.9's `KFold` (no shuffle),
/// `StratifiedShuffleSplit`, the draws of `ParameterSampler` over one
/// `scipy.stats.uniform` distribution, and autoreject's RANSAC channel subsets.
///
/// Floating-point results rely on IEEE semantics without contraction of multiply-add
/// (the project builds with `-ffp-contract=off`).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace autoreject {

/// The stream of NumPy's legacy `np.random.RandomState(seed)` for an integer seed.
class LegacyRandomState {
  public:
    /// Seeds the Mersenne Twister as `RandomState(seed)` does for `0 <= seed < 2**32`.
    explicit LegacyRandomState(std::uint32_t seed) {
        state_[0] = seed;
        for (std::uint32_t i = 1; i < kStateSize; ++i) {
            const std::uint32_t prev = state_[i - 1];
            state_[i] = 1812433253U * (prev ^ (prev >> 30U)) + i;
        }
        position_ = kStateSize;
    }

    /// The next raw 32-bit output of the generator.
    std::uint32_t next_uint32() {
        if (position_ >= kStateSize) {
            regenerate();
        }
        std::uint32_t y = state_[position_++];
        y ^= y >> 11U;
        y ^= (y << 7U) & 0x9d2c5680U;
        y ^= (y << 15U) & 0xefc60000U;
        y ^= y >> 18U;
        return y;
    }

    /// Two 32-bit outputs joined as one 64-bit value, the first one in the high half.
    std::uint64_t next_uint64() {
        const std::uint64_t high = next_uint32();
        const std::uint64_t low = next_uint32();
        return (high << 32U) | low;
    }

    /// A double in [0, 1) with 53 random bits, as `RandomState.random_sample()`.
    double random_sample() {
        const std::uint32_t high27 = next_uint32() >> 5U;
        const std::uint32_t low26 = next_uint32() >> 6U;
        return (static_cast<double>(high27) * 67108864.0 + static_cast<double>(low26)) /
               9007199254740992.0;
    }

    /// `low + (high - low) * random_sample()`, as `RandomState.uniform(low, high)`.
    /// Throws std::invalid_argument when `high - low` is not finite.
    double uniform(double low, double high) {
        const double range = high - low;
        if (!std::isfinite(range)) {
            throw std::invalid_argument(
                "uniform: high - low must be finite; pass finite low and high whose "
                "difference does not overflow");
        }
        return low + range * random_sample();
    }

    /// A uniform integer in [0, max] by NumPy's legacy masked rejection (the method its
    /// shuffles use): 32-bit outputs when `max` fits 32 bits, 64-bit outputs otherwise.
    std::uint64_t bounded(std::uint64_t max) {
        if (max == 0) {
            return 0;
        }
        std::uint64_t mask = max;
        mask |= mask >> 1U;
        mask |= mask >> 2U;
        mask |= mask >> 4U;
        mask |= mask >> 8U;
        mask |= mask >> 16U;
        mask |= mask >> 32U;
        std::uint64_t value = 0;
        if (max <= 0xffffffffULL) {
            do {
                value = next_uint32() & mask;
            } while (value > max);
        } else {
            do {
                value = next_uint64() & mask;
            } while (value > max);
        }
        return value;
    }

    /// Shuffles `values` in place exactly as `RandomState.shuffle` shuffles a 1-D array.
    template <typename T>
    void shuffle(std::vector<T>& values) {
        for (std::size_t i = values.size(); i > 1; --i) {
            const std::size_t last = i - 1;
            const auto j = static_cast<std::size_t>(bounded(last));
            std::swap(values[last], values[j]);
        }
    }

    /// `RandomState.permutation(n)`: a shuffled `0, 1, ..., n - 1`.
    std::vector<std::size_t> permutation(std::size_t n) {
        std::vector<std::size_t> out(n);
        std::iota(out.begin(), out.end(), std::size_t{0});
        shuffle(out);
        return out;
    }

    /// `RandomState.choice(n, size=size, replace=False)`: the first `size` entries of
    /// `permutation(n)` (the whole permutation is drawn even when `size < n`).
    /// Throws std::invalid_argument when `size > n`.
    std::vector<std::size_t> choice_without_replacement(std::size_t n, std::size_t size) {
        if (size > n) {
            throw std::invalid_argument("choice_without_replacement: size (" +
                                        std::to_string(size) + ") exceeds the population n (" +
                                        std::to_string(n) +
                                        "); pass size <= n when sampling without replacement");
        }
        std::vector<std::size_t> out = permutation(n);
        out.resize(size);
        return out;
    }

  private:
    static constexpr std::uint32_t kStateSize = 624;
    static constexpr std::uint32_t kShift = 397;

    void regenerate() {
        constexpr std::uint32_t upper = 0x80000000U;
        constexpr std::uint32_t lower = 0x7fffffffU;
        constexpr std::uint32_t twist = 0x9908b0dfU;
        for (std::uint32_t k = 0; k < kStateSize; ++k) {
            const std::uint32_t y = (state_[k] & upper) | (state_[(k + 1) % kStateSize] & lower);
            state_[k] =
                state_[(k + kShift) % kStateSize] ^ (y >> 1U) ^ ((y & 1U) != 0U ? twist : 0U);
        }
        position_ = 0;
    }

    std::array<std::uint32_t, kStateSize> state_{};
    std::uint32_t position_ = kStateSize;
};

/// One train / test split: indices into the samples.
struct Split {
    std::vector<std::size_t> train;  ///< training indices
    std::vector<std::size_t> test;   ///< test indices
};

/// scikit-learn's `KFold(n_splits).split(range(n_samples))` without shuffling: contiguous
/// test folds in order, the first `n_samples % n_splits` of them one sample larger, and
/// the remaining indices (ascending) as training set.
/// Throws std::invalid_argument unless `2 <= n_splits <= n_samples`.
inline std::vector<Split> kfold_splits(std::size_t n_samples, std::size_t n_splits) {
    if (n_splits < 2) {
        throw std::invalid_argument("kfold_splits: n_splits must be at least 2; got " +
                                    std::to_string(n_splits) + "; pass n_splits >= 2");
    }
    if (n_splits > n_samples) {
        throw std::invalid_argument("kfold_splits: n_splits (" + std::to_string(n_splits) +
                                    ") exceeds n_samples (" + std::to_string(n_samples) +
                                    "); pass n_splits <= n_samples or use more samples");
    }
    std::vector<Split> splits(n_splits);
    const std::size_t base = n_samples / n_splits;
    const std::size_t larger = n_samples % n_splits;
    std::size_t start = 0;
    for (std::size_t f = 0; f < n_splits; ++f) {
        const std::size_t stop = start + base + (f < larger ? 1 : 0);
        Split& s = splits[f];
        s.test.resize(stop - start);
        std::iota(s.test.begin(), s.test.end(), start);
        s.train.reserve(n_samples - (stop - start));
        for (std::size_t i = 0; i < start; ++i) {
            s.train.push_back(i);
        }
        for (std::size_t i = stop; i < n_samples; ++i) {
            s.train.push_back(i);
        }
        start = stop;
    }
    return splits;
}

namespace detail {

/// scikit-learn's approximate mode of the multivariate hypergeometric distribution: each
/// class gets the floor of its proportional share of `n_draws`; the missing draws go to
/// the classes with the largest fractional parts, largest first, and a group of equal
/// fractional parts too large to take whole is sampled with `choice` without replacement.
inline std::vector<std::size_t> approximate_mode(const std::vector<std::size_t>& counts,
                                                 std::size_t n_draws, LegacyRandomState& rng) {
    const std::size_t n_classes = counts.size();
    std::size_t total = 0;
    for (const std::size_t c : counts) {
        total += c;
    }
    std::vector<double> fraction(n_classes);
    std::vector<std::size_t> out(n_classes);
    std::size_t assigned = 0;
    for (std::size_t i = 0; i < n_classes; ++i) {
        // same operation order as scikit-learn: (count / total) * n_draws
        const double share = static_cast<double>(counts[i]) / static_cast<double>(total) *
                             static_cast<double>(n_draws);
        const double whole = std::floor(share);
        fraction[i] = share - whole;
        out[i] = static_cast<std::size_t>(whole);
        assigned += out[i];
    }
    std::size_t missing = n_draws > assigned ? n_draws - assigned : 0;
    if (missing == 0) {
        return out;
    }
    std::vector<double> levels = fraction;
    std::sort(levels.begin(), levels.end(), [](double a, double b) { return a > b; });
    levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
    for (const double level : levels) {
        std::vector<std::size_t> tied;
        for (std::size_t i = 0; i < n_classes; ++i) {
            if (fraction[i] == level) {
                tied.push_back(i);
            }
        }
        const std::size_t take = std::min(tied.size(), missing);
        const std::vector<std::size_t> picks = rng.choice_without_replacement(tied.size(), take);
        for (const std::size_t p : picks) {
            ++out[tied[p]];
        }
        missing -= take;
        if (missing == 0) {
            break;
        }
    }
    return out;
}

}  // namespace detail

/// scikit-learn's `StratifiedShuffleSplit(n_splits, test_size=test_size,
/// random_state=seed).split(X, y)` for a float `test_size` and no `train_size`:
/// `ceil(test_size * n)` test samples, the rest for training, allocated to the classes
/// (sorted label values) by the approximate hypergeometric mode, each class's members
/// drawn from a fresh permutation, and the train and test lists shuffled once more.
/// Throws std::invalid_argument for `n_splits == 0`, `test_size` outside (0, 1), an empty
/// training set, a class with fewer than 2 members, or fewer train or test samples than
/// classes.
inline std::vector<Split> stratified_shuffle_splits(const std::vector<int>& y, std::size_t n_splits,
                                                    double test_size, std::uint32_t seed) {
    if (n_splits < 1) {
        throw std::invalid_argument(
            "stratified_shuffle_splits: n_splits must be at least 1; pass n_splits >= 1");
    }
    if (!(test_size > 0.0 && test_size < 1.0)) {
        throw std::invalid_argument(
            "stratified_shuffle_splits: test_size must lie in (0, 1); got " +
            std::to_string(test_size) + "; pass a fraction strictly between 0 and 1");
    }
    const std::size_t n_samples = y.size();
    const double n_test_real = std::ceil(test_size * static_cast<double>(n_samples));
    const auto n_test = static_cast<std::size_t>(n_test_real);
    const std::size_t n_train = n_samples - n_test;
    if (n_train == 0) {
        throw std::invalid_argument(
            "stratified_shuffle_splits: with " + std::to_string(n_samples) +
            " samples and test_size=" + std::to_string(test_size) +
            " the training set is empty; pass a smaller test_size or more samples in y");
    }
    // classes in increasing label order, members of each in increasing index order
    std::map<int, std::vector<std::size_t>> by_label;
    for (std::size_t i = 0; i < n_samples; ++i) {
        by_label[y[i]].push_back(i);
    }
    std::vector<std::vector<std::size_t>> members;
    std::vector<std::size_t> counts;
    members.reserve(by_label.size());
    for (auto& entry : by_label) {
        if (entry.second.size() < 2) {
            throw std::invalid_argument(
                "stratified_shuffle_splits: class " + std::to_string(entry.first) +
                " of y has only 1 member; every class needs at least 2 members, so add "
                "samples of that class or remove it from y");
        }
        counts.push_back(entry.second.size());
        members.push_back(std::move(entry.second));
    }
    const std::size_t n_classes = counts.size();
    if (n_train < n_classes) {
        throw std::invalid_argument("stratified_shuffle_splits: the training size (" +
                                    std::to_string(n_train) + ") is below the number of classes (" +
                                    std::to_string(n_classes) + "); pass a smaller test_size");
    }
    if (n_test < n_classes) {
        throw std::invalid_argument("stratified_shuffle_splits: the test size (" +
                                    std::to_string(n_test) + ") is below the number of classes (" +
                                    std::to_string(n_classes) + "); pass a larger test_size");
    }

    LegacyRandomState rng(seed);
    std::vector<Split> splits(n_splits);
    for (Split& split : splits) {
        const std::vector<std::size_t> n_i = detail::approximate_mode(counts, n_train, rng);
        std::vector<std::size_t> remaining(n_classes);
        for (std::size_t c = 0; c < n_classes; ++c) {
            remaining[c] = counts[c] - n_i[c];
        }
        const std::vector<std::size_t> t_i = detail::approximate_mode(remaining, n_test, rng);
        split.train.reserve(n_train);
        split.test.reserve(n_test);
        for (std::size_t c = 0; c < n_classes; ++c) {
            const std::vector<std::size_t> order = rng.permutation(counts[c]);
            for (std::size_t k = 0; k < n_i[c]; ++k) {
                split.train.push_back(members[c][order[k]]);
            }
            for (std::size_t k = n_i[c]; k < n_i[c] + t_i[c]; ++k) {
                split.test.push_back(members[c][order[k]]);
            }
        }
        rng.shuffle(split.train);
        rng.shuffle(split.test);
    }
    return splits;
}

/// The thresholds `ParameterSampler({"thresh": scipy.stats.uniform(loc, scale)}, n_iter,
/// random_state=seed)` yields: per iteration one `random_sample()` `u` and the value
/// `u * scale + loc`; a zero `scale` yields `loc` without drawing (as SciPy does).
/// Throws std::invalid_argument for a negative or non-finite `scale` or a non-finite `loc`.
inline std::vector<double> random_search_draws(double loc, double scale, std::size_t n_iter,
                                               std::uint32_t seed) {
    if (!std::isfinite(loc)) {
        throw std::invalid_argument("random_search_draws: loc must be finite; pass a finite loc");
    }
    if (!std::isfinite(scale) || scale < 0.0) {
        throw std::invalid_argument("random_search_draws: scale must be finite and >= 0; got " +
                                    std::to_string(scale) + "; pass a non-negative finite scale");
    }
    std::vector<double> out(n_iter, loc);
    if (scale == 0.0) {
        return out;
    }
    LegacyRandomState rng(seed);
    for (double& v : out) {
        const double u = rng.random_sample();
        v = u * scale + loc;
    }
    return out;
}

/// autoreject's RANSAC subsets: with one `RandomState(seed)`, `n_resample` successive
/// `choice(n_good, size=n_pick, replace=False)` draws, as indices into the good channels.
/// Throws std::invalid_argument when `n_pick > n_good`.
inline std::vector<std::vector<std::size_t>> ransac_subsets(std::size_t n_good, std::size_t n_pick,
                                                            std::size_t n_resample,
                                                            std::uint32_t seed) {
    if (n_pick > n_good) {
        throw std::invalid_argument("ransac_subsets: n_pick (" + std::to_string(n_pick) +
                                    ") exceeds n_good (" + std::to_string(n_good) +
                                    "); pass n_pick <= n_good (fewer channels per subset or "
                                    "more good channels)");
    }
    LegacyRandomState rng(seed);
    std::vector<std::vector<std::size_t>> out(n_resample);
    for (auto& subset : out) {
        subset = rng.choice_without_replacement(n_good, n_pick);
    }
    return out;
}

}  // namespace autoreject
