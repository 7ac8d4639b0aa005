// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// Google Benchmark of every kernel of the core on realistic shapes, on each backend and
// instruction set, next to the machine's bounds measured in the same run (copy
// bandwidth, peak adds per instruction set).
//
// The kernels run through autoreject::dispatch::*, i.e. the builds compiled into the
// library once per instruction set (SSE2, AVX2, AVX-512), exactly what the Python module
// runs; the program's own flags do not matter for them. vote_bad_epochs has no dispatch
// entry and runs the header template (compiled with this program's flags: SSE2 unless
// AUTOREJECT_BENCH_NATIVE); its <simd> is "template".
//
// Names: BM_<kernel>/<shape>/<backend>/<threads>/<simd>, e.g. BM_ptp/eeg/openmp/2/avx512.
// The widest available instruction set runs on scalar/1, openmp/1 and openmp/2; the
// narrower ones on scalar/1 only (to keep the run short).
// Shapes:
//   eeg  EEGMMIDB-like: 232 epochs x 64 channels x 641 samples. Threshold search on one
//        channel's augmented data, 464 x 641, 10 folds x 371 training rows, 41 bounds.
//        RANSAC: 50 resamples, subsets of 16 of the 64 channels. Consensus CV: 10 folds.
//   meg  MEG-like: 300 epochs x 306 channels x 201 samples. Threshold search: 600 x 201,
//        10 folds x 480 training rows, 41 bounds. RANSAC: 50 resamples of 77 channels
//        (autoreject's min_channels = 0.25 of 306).
// Every counter is a rate (benchmark::Counter::kIsRate, divided by the wall-clock time
// since every benchmark uses real time): the operation counts it is computed from are
// what the kernel *must* do, written next to each benchmark.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "autoreject/autoreject.hpp"
#include "autoreject/dispatch.hpp"

#if defined(AUTOREJECT_HAVE_OPENMP)
#include <omp.h>
#endif

namespace {

using autoreject::Backend;
using autoreject::Exec;
using autoreject::Simd;
namespace dispatch = autoreject::dispatch;

// Bounds summed together (the lanes of one vector: kernels::kKeptLanes<double> of the
// AVX-512 build) by kept_means, threshold_scores and threshold_losses, each group of
// increasing bounds reading the rows its widest bound keeps; used only to count the
// rows those kernels read (from a copy of a tile of samples held in cache).
constexpr std::size_t kKeptGroup = 8;

// --- shapes --------------------------------------------------------------------------

struct Shape {
    const char* name;
    std::size_t n_epochs;
    std::size_t n_channels;
    std::size_t n_times;
    std::size_t n_resample;     // RANSAC resamples
    std::size_t k_subset;       // channels per RANSAC subset
    std::size_t ransac_epochs;  // epochs timed for RANSAC (its cost is linear in epochs)
    std::size_t n_folds;        // threshold-search folds (StratifiedShuffleSplit, test 20 %)
    std::size_t n_bounds;       // threshold-search candidates per call
    std::size_t n_consensus;    // consensus values (cuts of the consensus CV prefix sums)
    std::size_t cv_folds;       // consensus CV KFold folds
};

// RANSAC is timed on a subset of the epochs: one full EEG pass takes seconds and a full
// MEG pass tens of seconds on this class of machine. Every epoch is an independent task
// with the same work, so the rate is that of the full data set; time scales linearly.
const Shape kEeg{"eeg", 232, 64, 641, 50, 16, 24, 10, 41, 11, 10};
const Shape kMeg{"meg", 300, 306, 201, 50, 77, 6, 10, 41, 11, 10};

std::size_t n_aug(const Shape& s) { return 2 * s.n_epochs; }  // augmented rows
std::size_t n_train(const Shape& s) {
    // StratifiedShuffleSplit(test_size=0.2): n_test = ceil(0.2 * n)
    const std::size_t n = n_aug(s);
    return n - (n + 4) / 5;
}

// --- data, made once per shape on first use ------------------------------------------

std::vector<double> normal_noise(std::size_t n, std::uint64_t seed, double scale_spread) {
    std::mt19937_64 gen(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::lognormal_distribution<double> scale(0.0, scale_spread);
    std::vector<double> out(n);
    // rows of 64 samples share a scale so that peak-to-peak amplitudes spread out
    double sc = 1.0;
    for (std::size_t i = 0; i < n; ++i) {
        if (i % 64 == 0) {
            sc = scale(gen);
        }
        out[i] = 1e-5 * sc * normal(gen);
    }
    return out;
}

struct Data {
    // epochs (n_epochs, n_channels, n_times) and their peak-to-peak amplitudes
    std::vector<double> epochs;
    std::vector<double> ptps;  // (n_epochs, n_channels)
    std::vector<double> threshes;
    // threshold search on one channel: augmented data (n_aug, n_times)
    std::vector<double> channel;
    std::vector<long long> train_idx;  // (n_folds, n_train)
    std::vector<double> train_keys;    // (n_folds, n_train)
    std::vector<double> bounds;        // (n_bounds, n_folds)
    std::vector<double> medians;       // (n_folds, n_times)
    std::size_t kept_rows = 0;         // sum over (bound, fold) of the rows each keeps
    std::size_t group_rows = 0;        // rows streamed: per (fold, group of kKeptGroup
                                       // bounds), the rows the group's widest bound keeps
    // consensus CV: one test fold (KFold, first fold) and the epochs sorted by a key
    std::vector<long long> test_rows;
    std::vector<long long> epoch_order;
    std::vector<long long> consensus_cuts;
    // exact threshold search: every prefix of the sorted augmented rows
    std::vector<long long> aug_order;
    std::vector<long long> aug_cuts;
    // RANSAC subsets
    std::vector<long long> cols;    // (n_resample, k)
    std::vector<long long> counts;  // (n_resample,)
    std::vector<double> weights;    // (n_resample, n_channels, k)
};

Data make_data(const Shape& s) {
    Data d;
    const std::size_t per_epoch = s.n_channels * s.n_times;
    d.epochs = normal_noise(s.n_epochs * per_epoch, 1, 0.5);
    d.ptps.resize(s.n_epochs * s.n_channels);
    autoreject::ptp(d.epochs.data(), s.n_epochs * s.n_channels, s.n_times, d.ptps.data());
    d.threshes.resize(s.n_channels);
    for (std::size_t c = 0; c < s.n_channels; ++c) {
        std::vector<double> col(s.n_epochs);
        for (std::size_t e = 0; e < s.n_epochs; ++e) {
            col[e] = d.ptps[e * s.n_channels + c];
        }
        std::nth_element(col.begin(), col.begin() + col.size() * 9 / 10, col.end());
        d.threshes[c] = col[col.size() * 9 / 10];  // about 10 % of the sensors bad
    }

    // threshold search, as thresholds.py prepares it
    const std::size_t na = n_aug(s);
    const std::size_t nt = n_train(s);
    d.channel = normal_noise(na * s.n_times, 2, 0.5);
    std::vector<double> deltas(na);
    autoreject::ptp(d.channel.data(), na, s.n_times, deltas.data());
    std::mt19937_64 gen(3);
    std::vector<long long> perm(na);
    d.train_idx.resize(s.n_folds * nt);
    d.train_keys.resize(s.n_folds * nt);
    d.medians.resize(s.n_folds * s.n_times);
    std::vector<double> floors(s.n_folds);
    for (std::size_t f = 0; f < s.n_folds; ++f) {
        std::iota(perm.begin(), perm.end(), 0LL);
        std::shuffle(perm.begin(), perm.end(), gen);
        std::copy(perm.begin(), perm.begin() + nt, d.train_idx.begin() + f * nt);
        double floor = deltas[perm[0]];
        for (std::size_t j = 0; j < nt; ++j) {
            d.train_keys[f * nt + j] = deltas[perm[j]];
            floor = std::min(floor, deltas[perm[j]]);
        }
        floors[f] = floor;
        autoreject::median_rows(d.channel.data(), na, s.n_times, perm.data() + nt, na - nt,
                                d.medians.data() + f * s.n_times);
    }
    // the initial candidates: 40 evenly spaced by rank, plus the largest
    std::vector<double> sorted = deltas;
    std::sort(sorted.begin(), sorted.end());
    d.bounds.resize(s.n_bounds * s.n_folds);
    for (std::size_t c = 0; c < s.n_bounds; ++c) {
        const std::size_t rank = c + 1 == s.n_bounds ? na - 1 : c * na / (s.n_bounds - 1);
        for (std::size_t f = 0; f < s.n_folds; ++f) {
            const double b = std::max(sorted[rank], floors[f]);
            d.bounds[c * s.n_folds + f] = b;
            for (std::size_t j = 0; j < nt; ++j) {
                d.kept_rows += d.train_keys[f * nt + j] <= b ? 1 : 0;
            }
        }
    }
    for (std::size_t f = 0; f < s.n_folds; ++f) {
        for (std::size_t c0 = 0; c0 < s.n_bounds; c0 += kKeptGroup) {
            const std::size_t c1 = std::min(c0 + kKeptGroup, s.n_bounds);
            double widest = d.bounds[c0 * s.n_folds + f];
            for (std::size_t c = c0; c < c1; ++c) {
                widest = std::max(widest, d.bounds[c * s.n_folds + f]);
            }
            for (std::size_t j = 0; j < nt; ++j) {
                d.group_rows += d.train_keys[f * nt + j] <= widest ? 1 : 0;
            }
        }
    }

    // consensus CV: KFold(10)'s first test fold; epochs sorted by bad-sensor count
    const std::size_t n_test = (s.n_epochs + s.cv_folds - 1) / s.cv_folds;
    for (std::size_t i = 0; i < n_test; ++i) {
        d.test_rows.push_back(static_cast<long long>(i));
    }
    d.epoch_order.resize(s.n_epochs);
    std::iota(d.epoch_order.begin(), d.epoch_order.end(), 0LL);
    std::shuffle(d.epoch_order.begin(), d.epoch_order.end(), gen);
    for (std::size_t i = 1; i <= s.n_consensus; ++i) {
        d.consensus_cuts.push_back(static_cast<long long>(i * s.n_epochs / s.n_consensus));
    }
    d.aug_order.resize(na);
    std::iota(d.aug_order.begin(), d.aug_order.end(), 0LL);
    std::sort(d.aug_order.begin(), d.aug_order.end(),
              [&](long long a, long long b) { return deltas[a] < deltas[b]; });
    for (std::size_t i = 1; i <= na; ++i) {
        d.aug_cuts.push_back(static_cast<long long>(i));
    }

    // RANSAC: sorted random subsets, random interpolation weights
    d.cols.resize(s.n_resample * s.k_subset);
    d.counts.assign(s.n_resample, static_cast<long long>(s.k_subset));
    std::vector<long long> chans(s.n_channels);
    for (std::size_t r = 0; r < s.n_resample; ++r) {
        std::iota(chans.begin(), chans.end(), 0LL);
        std::shuffle(chans.begin(), chans.end(), gen);
        std::sort(chans.begin(), chans.begin() + s.k_subset);
        std::copy(chans.begin(), chans.begin() + s.k_subset, d.cols.begin() + r * s.k_subset);
    }
    std::uniform_real_distribution<double> uni(-0.2, 0.4);
    d.weights.resize(s.n_resample * s.n_channels * s.k_subset);
    for (auto& w : d.weights) {
        w = uni(gen);
    }
    return d;
}

const Data& data_for(const Shape& s) {
    static std::map<std::string, std::unique_ptr<Data>> cache;
    auto& slot = cache[s.name];
    if (!slot) {
        slot = std::make_unique<Data>(make_data(s));
    }
    return *slot;
}

// --- helpers -------------------------------------------------------------------------

void set_rate(benchmark::State& state, const char* name, double per_iteration) {
    state.counters[name] = benchmark::Counter(
        per_iteration * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void set_bytes(benchmark::State& state, double per_iteration) {
    state.SetBytesProcessed(static_cast<std::int64_t>(per_iteration) * state.iterations());
}

struct Variant {
    std::string name;  // "scalar/1", "openmp/1", "openmp/2"
    Exec exec;
};

std::vector<Variant> variants(bool all) {
    std::vector<Variant> out{{"scalar/1", {Backend::Scalar, 1}}};
    if (!all) {
        return out;
    }
    for (const auto& info : autoreject::backends()) {
        if (info.backend == Backend::OpenMP && info.available) {
            out.push_back({"openmp/1", {Backend::OpenMP, 1}});
            out.push_back({"openmp/2", {Backend::OpenMP, 2}});
        }
    }
    return out;
}

// The available instruction sets of the library's dispatched kernels, narrowest first.
std::vector<autoreject::SimdInfo> available_simd() {
    std::vector<autoreject::SimdInfo> out;
    for (const auto& info : autoreject::simd_levels()) {
        if (info.available) {
            out.push_back(info);
        }
    }
    return out;
}

// --- kernels ---------------------------------------------------------------------------

// ptp over every (epoch, channel) row. Memory-bound: it must read every value once.
//   bytes       = 8 * n_epochs * n_channels * n_times (+ 8 per row written)
//   comparisons = 2 * n_epochs * n_channels * n_times (a min and a max per value)
void bm_ptp(benchmark::State& state, const Shape& s, Exec exec, Simd simd) {
    const Data& d = data_for(s);
    const std::size_t rows = s.n_epochs * s.n_channels;
    std::vector<double> out(rows);
    for (auto _ : state) {
        dispatch::ptp(d.epochs.data(), rows, s.n_times, out.data(), exec, simd);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    const double values = static_cast<double>(rows * s.n_times);
    set_bytes(state, 8.0 * values + 8.0 * static_cast<double>(rows));
    set_rate(state, "comparisons_per_second", 2.0 * values);
}

// transform's copy of the kept epochs (9 in 10 here) into a freshly allocated array, as
// the Python module hands it to MNE: the new pages are first touched by the copying
// threads.
//   bytes = 8 * values copied, read + written (the bound: BM_memcpy of the same size)
void bm_take_rows(benchmark::State& state, const Shape& s, Exec exec) {
    const Data& d = data_for(s);
    const std::size_t row = s.n_channels * s.n_times;
    std::vector<long long> keep;
    for (std::size_t e = 0; e < s.n_epochs; ++e) {
        if (e % 10 != 3) {
            keep.push_back(static_cast<long long>(e));
        }
    }
    for (auto _ : state) {
        std::unique_ptr<double[]> out(new double[keep.size() * row]);  // untouched pages
        autoreject::take_rows(d.epochs.data(), s.n_epochs, row * sizeof(double), keep.data(),
                              keep.size(), out.get(), exec);
        benchmark::DoNotOptimize(out.get());
        benchmark::ClobberMemory();
    }
    set_bytes(state, 2.0 * 8.0 * static_cast<double>(keep.size() * row));
}

// Column medians of one consensus-CV test fold (KFold(10)'s first: 24 of 232 epochs,
// 30 of 300), over every (channel, sample) column, as local_reject_cv.py asks for them.
//   bytes  = 8 * n_sel * n_channels * n_times read + 8 * n_channels * n_times written
//   values = n_sel * n_channels * n_times (each goes through one selection)
//   comparators (informative) = network size * n_channels * n_times
void bm_median_rows(benchmark::State& state, const Shape& s, Exec exec, Simd simd) {
    const Data& d = data_for(s);
    const std::size_t cols = s.n_channels * s.n_times;
    std::vector<double> out(cols);
    for (auto _ : state) {
        dispatch::median_rows(d.epochs.data(), s.n_epochs, cols, d.test_rows.data(),
                              d.test_rows.size(), out.data(), exec, simd);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    const double sel = static_cast<double>(d.test_rows.size());
    set_bytes(state, 8.0 * sel * static_cast<double>(cols) + 8.0 * static_cast<double>(cols));
    set_rate(state, "values_per_second", sel * static_cast<double>(cols));
    // what the kernel does (not a must): the pruned sorting network's comparators, each a
    // min and a max of one column
    const double comparators =
        static_cast<double>(autoreject::detail::median_network(static_cast<int>(sel)).size());
    set_rate(state, "comparators_per_second", comparators * static_cast<double>(cols));
    state.counters["network_comparators"] = comparators;
}

autoreject::KeptMeansShape kept_shape(const Shape& s) {
    autoreject::KeptMeansShape ks;
    ks.n_rows = n_aug(s);
    ks.n_times = s.n_times;
    ks.n_folds = s.n_folds;
    ks.n_train = n_train(s);
    ks.n_bounds = s.n_bounds;
    return ks;
}

// The threshold-search kernels read each fold's training rows once per group of
// kKeptGroup (8) bounds, tile by tile of 16 samples copied side by side, and add each
// row to the accumulators of the group's bounds that keep it (masked lanes), in training
// order (the result is that of one bound at a time); the data themselves are read from
// memory once.
//   additions = n_times * sum over (bound, fold) of the rows the bound keeps: the adds
//               the (order-preserving) mean must do
//   bytes     = 8 * n_times * the rows streamed (per fold and group, the rows the group's
//               widest bound keeps) + what is written
//   reread    = rows streamed / n_aug: how many times more data than one pass
void set_kept_counters(benchmark::State& state, const Shape& s, const Data& d, double extra_adds,
                       double written) {
    const double t = static_cast<double>(s.n_times);
    set_rate(state, "adds_per_second", t * static_cast<double>(d.kept_rows) + extra_adds);
    set_bytes(state, 8.0 * t * static_cast<double>(d.group_rows) + 8.0 * written);
    state.counters["reread"] = static_cast<double>(d.group_rows) / static_cast<double>(n_aug(s));
}

// Means of the kept training rows for 41 bounds x 10 folds of one channel.
void bm_kept_means(benchmark::State& state, const Shape& s, Exec exec, Simd simd) {
    const Data& d = data_for(s);
    const auto ks = kept_shape(s);
    std::vector<double> out(ks.n_bounds * ks.n_folds * ks.n_times);
    for (auto _ : state) {
        dispatch::kept_means(d.channel.data(), d.train_idx.data(), d.train_keys.data(),
                             d.bounds.data(), ks, out.data(), exec, simd);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    set_kept_counters(state, s, d, 0.0, static_cast<double>(out.size()));
}

// Each fold's score of each bound, -RMSE(test median, kept mean), straight from the kept
// rows (no means array).
//   additions = as kept_means + 2 * n_bounds * n_folds * n_times (RMSE: a subtraction and
//               a sum term per sample)
void bm_threshold_scores(benchmark::State& state, const Shape& s, Exec exec, Simd simd) {
    const Data& d = data_for(s);
    const auto ks = kept_shape(s);
    std::vector<double> out(ks.n_bounds * ks.n_folds);
    for (auto _ : state) {
        dispatch::threshold_scores(d.channel.data(), d.train_idx.data(), d.train_keys.data(),
                                   d.bounds.data(), d.medians.data(), ks, out.data(), exec, simd);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    set_kept_counters(state, s, d, 2.0 * static_cast<double>(ks.n_bounds * ks.n_folds * ks.n_times),
                      static_cast<double>(out.size()));
}

// The threshold search's losses: threshold_scores, then the mean over folds.
//   additions = as threshold_scores
void bm_threshold_losses(benchmark::State& state, const Shape& s, Exec exec, Simd simd) {
    const Data& d = data_for(s);
    const auto ks = kept_shape(s);
    std::vector<double> out(ks.n_bounds);
    for (auto _ : state) {
        dispatch::threshold_losses(d.channel.data(), d.train_idx.data(), d.train_keys.data(),
                                   d.bounds.data(), d.medians.data(), ks, out.data(), exec, simd);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    set_kept_counters(state, s, d, 2.0 * static_cast<double>(ks.n_bounds * ks.n_folds * ks.n_times),
                      static_cast<double>(out.size()));
}

// Prefix sums, two uses:
//   <shape>           consensus CV: all epochs (n_epochs, n_channels * n_times) sorted by
//                     bad-sensor count, 11 cuts (one per consensus value)
//   <shape>_exact     method='exact' threshold search: one channel's augmented rows
//                     (n_aug, n_times) sorted by peak-to-peak, a cut after every row
//   additions = n_cols * (rows summed + n_cuts) (each row once, plus the running total)
//   bytes     = 8 * n_cols * (rows summed + n_cuts) (read once, one output row per cut)
void bm_prefix_sums(benchmark::State& state, const Shape& s, Exec exec, Simd simd, bool exact) {
    const Data& d = data_for(s);
    const double* x = exact ? d.channel.data() : d.epochs.data();
    const std::size_t n_rows = exact ? n_aug(s) : s.n_epochs;
    const std::size_t n_cols = exact ? s.n_times : s.n_channels * s.n_times;
    const auto& order = exact ? d.aug_order : d.epoch_order;
    const auto& cuts = exact ? d.aug_cuts : d.consensus_cuts;
    std::vector<double> out(cuts.size() * n_cols);
    for (auto _ : state) {
        dispatch::prefix_sums(x, n_rows, n_cols, order.data(), order.size(), cuts.data(),
                              cuts.size(), out.data(), exec, simd);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    const double per = static_cast<double>(n_cols) * static_cast<double>(cuts.back() + cuts.size());
    set_rate(state, "adds_per_second", per);
    set_bytes(state, 8.0 * per);
}

// RANSAC correlations on `ransac_epochs` epochs (see kEeg / kMeg).
//   adds (multiply-adds) = n_epochs * n_channels * n_resample * k * n_times: each
//                          prediction sums k weighted channels (k multiplies, k - 1 adds)
//   medians              = n_epochs * n_channels * n_times, each of n_resample values
//   bytes                = 8 * n_epochs * n_channels * n_times (the epochs, read once)
//   comparators (informative) = network size * n_epochs * n_channels * n_times
void bm_ransac(benchmark::State& state, const Shape& s, Exec exec, Simd simd) {
    const Data& d = data_for(s);
    autoreject::RansacShape rs;
    rs.n_epochs = s.ransac_epochs;
    rs.n_channels = s.n_channels;
    rs.n_times = s.n_times;
    rs.n_resample = s.n_resample;
    rs.k_max = s.k_subset;
    std::vector<double> out(rs.n_epochs * rs.n_channels);
    for (auto _ : state) {
        dispatch::ransac_correlations(d.epochs.data(), d.cols.data(), d.counts.data(),
                                      d.weights.data(), rs, out.data(), exec, simd);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    const double samples = static_cast<double>(rs.n_epochs * rs.n_channels * rs.n_times);
    set_rate(state, "adds_per_second", samples * static_cast<double>(rs.n_resample * rs.k_max));
    set_rate(state, "medians_per_second", samples);
    // what the kernel does (not a must): the pruned sorting network of n_resample values
    const double comparators = static_cast<double>(
        autoreject::detail::median_network(static_cast<int>(rs.n_resample)).size());
    set_rate(state, "comparators_per_second", comparators * samples);
    state.counters["network_comparators"] = comparators;
    set_bytes(state, 8.0 * samples);
    state.counters["epochs"] = static_cast<double>(rs.n_epochs);
}

// Vote: one comparison per (epoch, sensor).
//   comparisons = n_epochs * n_sensors
//   bytes       = 9 * n_epochs * n_sensors (read a double, write a byte)
//                 + 8 * n_epochs (counts) + 8 * n_sensors (thresholds)
void bm_vote(benchmark::State& state, const Shape& s, Exec exec) {
    const Data& d = data_for(s);
    const std::size_t n = s.n_epochs * s.n_channels;
    std::vector<std::uint8_t> bad(n);
    std::vector<std::int64_t> counts(s.n_epochs);
    for (auto _ : state) {
        autoreject::vote_bad_epochs(d.ptps.data(), s.n_epochs, s.n_channels, d.threshes.data(),
                                    bad.data(), counts.data(), exec);
        benchmark::DoNotOptimize(bad.data());
        benchmark::DoNotOptimize(counts.data());
        benchmark::ClobberMemory();
    }
    set_rate(state, "comparisons_per_second", static_cast<double>(n));
    set_bytes(state, 9.0 * static_cast<double>(n) + 8.0 * static_cast<double>(s.n_epochs) +
                         8.0 * static_cast<double>(s.n_channels));
}

// --- machine bounds --------------------------------------------------------------------

template <class Body>
void on_threads(int threads, Body&& body) {
#if defined(AUTOREJECT_HAVE_OPENMP)
#pragma omp parallel num_threads(threads)
    body(omp_get_thread_num(), omp_get_num_threads());
#else
    (void)threads;
    body(0, 1);
#endif
}

// Copy bandwidth: memcpy of `bytes` split between `threads` threads.
//   bytes/s = 2 * bytes per copy (a read and a write of each byte; the write-allocate
//             read of the destination is not counted, as in STREAM)
void bm_memcpy(benchmark::State& state, std::size_t bytes, int threads) {
    std::vector<char> src(bytes, 1);
    std::vector<char> dst(bytes, 2);
    for (auto _ : state) {
        on_threads(threads, [&](int t, int nt) {
            const std::size_t lo = bytes * static_cast<std::size_t>(t) / nt;
            const std::size_t hi = bytes * static_cast<std::size_t>(t + 1) / nt;
            std::memcpy(dst.data() + lo, src.data() + lo, hi - lo);
        });
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, 2.0 * static_cast<double>(bytes));
}

// Peak additions: A independent vector accumulators, each `acc += inc` per step, in one
// vector width per instruction set: 16-byte SSE2 vectors (the baseline build), 32-byte
// AVX2 and 64-byte AVX-512 ones, each compiled with a function-level target attribute
// and run only when the processor supports it (__builtin_cpu_supports). Without
// -ffast-math the compiler may not merge the chains, so this is the add throughput of
// the cores, latency hidden by A chains.
//   adds = steps * A * lanes per thread
#define AR_ADD_CHAINS(NAME, BYTES, ATTR)                                            \
    template <int A>                                                                \
    ATTR double NAME(std::int64_t steps, double step) {                             \
        typedef double v __attribute__((vector_size(BYTES)));                       \
        constexpr int lanes = BYTES / 8;                                            \
        v acc[A];                                                                   \
        const v inc = v{} + step; /* a broadcast: stays in a register */            \
        for (int l = 0; l < lanes; ++l) {                                           \
            for (int a = 0; a < A; ++a) {                                           \
                acc[a][l] = a + l;                                                  \
            }                                                                       \
        }                                                                           \
        for (std::int64_t i = 0; i < steps; ++i) {                                  \
            _Pragma("GCC unroll 16") for (int a = 0; a < A; ++a) { acc[a] += inc; } \
        }                                                                           \
        double total = 0;                                                           \
        for (int a = 0; a < A; ++a) {                                               \
            for (int l = 0; l < lanes; ++l) {                                       \
                total += acc[a][l];                                                 \
            }                                                                       \
        }                                                                           \
        return total;                                                               \
    }

AR_ADD_CHAINS(add_chains_sse2, 16, )
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define AR_HAVE_WIDE_PEAK 1
AR_ADD_CHAINS(add_chains_avx2, 32, __attribute__((target("avx2"))))
AR_ADD_CHAINS(add_chains_avx512, 64, __attribute__((target("avx512f"))))
#endif
#undef AR_ADD_CHAINS

struct PeakIsa {
    std::string name;  // "sse2", "avx2", "avx512": the library's names
    int lanes;
};

// The instruction sets the processor runs, narrowest first.
std::vector<PeakIsa> peak_isas() {
    std::vector<PeakIsa> out{{"sse2", 2}};
#if defined(AR_HAVE_WIDE_PEAK)
    if (__builtin_cpu_supports("avx2")) {
        out.push_back({"avx2", 4});
    }
    if (__builtin_cpu_supports("avx512f")) {
        out.push_back({"avx512", 8});
    }
#endif
    return out;
}

template <int A>
double add_chains(const std::string& isa, std::int64_t steps, double step) {
#if defined(AR_HAVE_WIDE_PEAK)
    if (isa == "avx512") {
        return add_chains_avx512<A>(steps, step);
    }
    if (isa == "avx2") {
        return add_chains_avx2<A>(steps, step);
    }
#endif
    (void)isa;
    return add_chains_sse2<A>(steps, step);
}

template <int A>
void bm_peak_adds(benchmark::State& state, const PeakIsa& isa, int threads) {
    constexpr std::int64_t steps = 1 << 20;
    volatile double step = 1e-9;
    double sink = 0;
    for (auto _ : state) {
        on_threads(threads, [&](int, int) {
            const double r = add_chains<A>(isa.name, steps, step);
#if defined(AUTOREJECT_HAVE_OPENMP)
#pragma omp atomic
#endif
            sink += r;
        });
    }
    benchmark::DoNotOptimize(sink);
    set_rate(state, "adds_per_second", static_cast<double>(steps) * A * isa.lanes * threads);
}

// --- registration ----------------------------------------------------------------------

template <class Fn>
void add(const std::string& name, Fn fn) {
    benchmark::RegisterBenchmark(name.c_str(), fn)->UseRealTime()->Unit(benchmark::kMillisecond);
}

void register_all() {
    const int max_threads = 2;
    for (int t = 1; t <= max_threads; ++t) {
        const std::string tn = "/" + std::to_string(t);
        add("BM_memcpy/256MiB" + tn, [t](benchmark::State& st) { bm_memcpy(st, 256u << 20, t); });
        add("BM_memcpy/64MiB" + tn, [t](benchmark::State& st) { bm_memcpy(st, 64u << 20, t); });
        // source + destination = 1 MiB per thread: within one core's 2 MiB L2
        add("BM_memcpy/L2_512KiB_per_thread" + tn, [t](benchmark::State& st) {
            bm_memcpy(st, static_cast<std::size_t>(t) * (512u << 10), t);
        });
        for (const PeakIsa& isa : peak_isas()) {
            const std::string pre = "BM_peak_adds/" + isa.name;
            add(pre + "/8acc" + tn,
                [isa, t](benchmark::State& st) { bm_peak_adds<8>(st, isa, t); });
            add(pre + "/12acc" + tn,
                [isa, t](benchmark::State& st) { bm_peak_adds<12>(st, isa, t); });
        }
    }
    const auto simds = available_simd();
    for (const Shape* sp : {&kEeg, &kMeg}) {
        const Shape& s = *sp;
        for (std::size_t i = 0; i < simds.size(); ++i) {
            const Simd simd = simds[i].simd;
            const bool widest = i + 1 == simds.size();
            for (const auto& v : variants(widest)) {
                const std::string tail =
                    std::string("/") + s.name + "/" + v.name + "/" + simds[i].name;
                const Exec e = v.exec;
                add("BM_ptp" + tail,
                    [&s, e, simd](benchmark::State& st) { bm_ptp(st, s, e, simd); });
                add("BM_median_rows" + tail,
                    [&s, e, simd](benchmark::State& st) { bm_median_rows(st, s, e, simd); });
                add("BM_kept_means" + tail,
                    [&s, e, simd](benchmark::State& st) { bm_kept_means(st, s, e, simd); });
                add("BM_threshold_losses" + tail,
                    [&s, e, simd](benchmark::State& st) { bm_threshold_losses(st, s, e, simd); });
                add("BM_threshold_scores" + tail,
                    [&s, e, simd](benchmark::State& st) { bm_threshold_scores(st, s, e, simd); });
                add("BM_prefix_sums" + tail,
                    [&s, e, simd](benchmark::State& st) { bm_prefix_sums(st, s, e, simd, false); });
                add("BM_prefix_sums/" + std::string(s.name) + "_exact/" + v.name + "/" +
                        simds[i].name,
                    [&s, e, simd](benchmark::State& st) { bm_prefix_sums(st, s, e, simd, true); });
                add("BM_ransac_correlations" + tail,
                    [&s, e, simd](benchmark::State& st) { bm_ransac(st, s, e, simd); });
            }
        }
        // no dispatch entry: the header template, built with this program's flags
        for (const auto& v : variants(true)) {
            const Exec e = v.exec;
            add("BM_vote_bad_epochs/" + std::string(s.name) + "/" + v.name + "/template",
                [&s, e](benchmark::State& st) { bm_vote(st, s, e); });
            add("BM_take_rows/" + std::string(s.name) + "/" + v.name + "/template",
                [&s, e](benchmark::State& st) { bm_take_rows(st, s, e); });
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::AddCustomContext("autoreject_version", AUTOREJECT_VERSION_STRING);
#if defined(__AVX512F__)
    const char* program_vector = "64 (AVX-512)";
#elif defined(__AVX__)
    const char* program_vector = "32 (AVX)";
#else
    const char* program_vector = "16 (SSE2)";
#endif
    // the vector width of this program's own code (vote_bad_epochs' template), not of the
    // dispatched kernels
    benchmark::AddCustomContext("program_vector_bytes", program_vector);
    std::string names;
    for (const auto& info : autoreject::backends()) {
        names += info.name + (info.available ? "(available) " : "(unavailable) ");
    }
    benchmark::AddCustomContext("backends", names);
    std::string levels;
    for (const auto& info : autoreject::simd_levels()) {
        levels += info.name + (info.available ? "(available) " : "(" + info.reason + ") ");
    }
    benchmark::AddCustomContext("simd_levels", levels);
    benchmark::AddCustomContext("simd_auto",
                                autoreject::simd_name(autoreject::resolve_simd("auto")));
    benchmark::AddCustomContext("openmp_max_threads", std::to_string(autoreject::max_threads()));
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
