// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The C++ pipeline (autoreject/pipeline.hpp): against autoreject 0.5.1's stored
// outputs (RANSAC subsets, correlations and bad channels; random-search
// thresholds), on synthetic epochs with planted artifacts, across backends,
// thread counts and input types, and on invalid input.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "autoreject/io/npy.hpp"
#include "autoreject/pipeline.hpp"
#include "helpers.hpp"

namespace ar = autoreject;
namespace io = autoreject::io;
using Npz = std::map<std::string, io::NpyArray>;

namespace {

constexpr double kPi = 3.14159265358979323846;

// ------------------------------------------------------------ stored references

bool load(const std::string& name, Npz& z) {
    const std::string path = std::string(AUTOREJECT_REFERENCES_DIR) + "/" + name + ".npz";
    if (!std::filesystem::exists(path)) {
        WARN("reference " << path << " is missing: skipped");
        return false;
    }
    z = io::load_npz(path);
    return true;
}

struct Recording {
    std::vector<double> data;
    std::size_t n_epochs = 0, n_channels = 0, n_times = 0;
    std::vector<ar::ChannelInfo> channels;
};

Recording recording(const Npz& z) {
    Recording r;
    const io::NpyArray& data = z.at("epochs_data");
    REQUIRE(data.shape.size() == 3);
    r.n_epochs = data.shape[0];
    r.n_channels = data.shape[1];
    r.n_times = data.shape[2];
    if (data.dtype == "<f8") {
        r.data = data.as<double>();
    } else {
        const std::vector<float> f = data.as<float>();
        r.data.assign(f.begin(), f.end());
    }
    const auto names = z.at("epochs_ch_names").as_strings();
    const auto types = z.at("epochs_ch_types").as_strings();
    const auto loc = z.at("epochs_loc").as<double>();
    for (std::size_t c = 0; c < r.n_channels; ++c) {
        ar::ChannelInfo ch;
        ch.name = names[c];
        ch.type = types[c];
        ch.position = {loc[c * 12], loc[c * 12 + 1], loc[c * 12 + 2]};
        r.channels.push_back(ch);
    }
    return r;
}

// ------------------------------------------------------------ synthetic epochs

/// Smooth brain-like signal plus noise (microvolts), with large artifacts on
/// `n_art` channels in the epochs listed in `artifact_epochs`, and a single
/// broken channel (channel 3) in epochs 1 and 2.
std::vector<double> synthetic(std::size_t n_epochs, const std::vector<ar::ChannelInfo>& chs,
                              std::size_t n_times, const std::vector<std::size_t>& artifact_epochs,
                              std::size_t n_art, unsigned seed) {
    std::mt19937 gen(seed);
    std::normal_distribution<double> noise(0.0, 1.0);
    const std::size_t n_ch = chs.size();
    std::vector<double> x(n_epochs * n_ch * n_times);
    for (std::size_t e = 0; e < n_epochs; ++e) {
        // a stable evoked-like pattern whose amplitude varies a little between epochs
        const double a = 1.0 + 0.1 * noise(gen), b = 1.0 + 0.1 * noise(gen);
        for (std::size_t c = 0; c < n_ch; ++c) {
            const auto& p = chs[c].position;
            for (std::size_t t = 0; t < n_times; ++t) {
                const double s = static_cast<double>(t) / static_cast<double>(n_times);
                const double brain = 10e-6 * (a * std::sin(2 * kPi * 10 * s) * p[0] / 0.09 +
                                              b * std::cos(2 * kPi * 6 * s) * p[2] / 0.09);
                x[(e * n_ch + c) * n_times + t] = brain + 2e-6 * noise(gen);
            }
        }
    }
    for (std::size_t e : artifact_epochs) {
        for (std::size_t c = 0; c < n_art; ++c) {
            for (std::size_t t = 0; t < n_times; ++t) {
                x[(e * n_ch + c) * n_times + t] += 400e-6 * (t > n_times / 2 ? 1.0 : -1.0);
            }
        }
    }
    for (std::size_t e : {std::size_t{1}, std::size_t{2}}) {
        for (std::size_t t = 0; t < n_times; ++t) {
            x[(e * n_ch + 3) * n_times + t] +=
                150e-6 * std::sin(2 * kPi * 7.3 * static_cast<double>(t) / 100.0);
        }
    }
    return x;
}

}  // namespace

TEST_CASE("pipeline: Ransac draws autoreject's subsets and finds its bad channels",
          "[pipeline][references][ransac]") {
    for (const char* name : {"synthetic_eeg", "eegmmidb"}) {
        Npz z;
        if (!load(name, z)) {
            continue;
        }
        const Recording r = recording(z);
        const ar::EpochsView<double> view(r.data.data(), r.n_epochs, r.n_channels, r.n_times,
                                          r.channels);
        const auto want_subsets = z.at("ransac_ch_subsets").as_strings();
        const auto want_bad = z.at("ransac_bad_chs").as_strings();
        const auto want_corr = z.at("ransac_corr").as<double>();
        for (const char* backend : {"scalar", "openmp"}) {
            INFO(name << " on " << backend);
            ar::RansacParams params;
            params.random_state = 42;
            params.backend = backend;
            params.n_jobs = 2;
            ar::Ransac ransac(params);
            ransac.fit(view);
            const auto& subsets = ransac.subsets();
            REQUIRE(subsets.size() == 50);
            const std::size_t k = subsets[0].size();
            REQUIRE(want_subsets.size() == 50 * k);
            for (std::size_t s = 0; s < 50; ++s) {
                for (std::size_t i = 0; i < k; ++i) {
                    REQUIRE(r.channels[subsets[s][i]].name == want_subsets[s * k + i]);
                }
            }
            REQUIRE(ransac.bad_channels() == want_bad);
            const auto& corr = ransac.correlations();
            REQUIRE(corr.size() == want_corr.size());
            double worst = 0.0;
            for (std::size_t i = 0; i < corr.size(); ++i) {
                worst = std::max(worst, std::abs(corr[i] - want_corr[i]));
            }
            CHECK(worst < 1e-9);
        }
    }
}

TEST_CASE("pipeline: random-search thresholds equal autoreject's",
          "[pipeline][references][thresholds]") {
    for (const char* name : {"synthetic_eeg", "eegmmidb"}) {
        Npz z;
        if (!load(name, z)) {
            continue;
        }
        INFO(name);
        const Recording r = recording(z);
        const ar::EpochsView<double> view(r.data.data(), r.n_epochs, r.n_channels, r.n_times,
                                          r.channels);
        ar::ThresholdParams params;
        params.method = ar::ThresholdMethod::RandomSearch;
        params.random_state = 42;
        params.n_jobs = 2;
        const std::vector<double> got = ar::compute_thresholds(view, {}, params);
        const auto names = z.at("thresh_ch_names").as_strings();
        const auto want = z.at("thresh_random").as<double>();
        REQUIRE(got.size() == r.n_channels);  // every channel is an EEG pick
        for (std::size_t i = 0; i < names.size(); ++i) {
            const std::size_t c = view.channel_index(names[i]);
            INFO(names[i]);
            // the same draw of the same stream; its range (the smallest and largest
            // peak-to-peak, often of an interpolated epoch) agrees to rounding
            CHECK(got[c] == Approx(want[i]).epsilon(1e-10));
        }
    }
}

TEST_CASE("pipeline: AutoReject drops the artifact epochs and repairs a broken channel",
          "[pipeline][autoreject]") {
    const auto chs = test::eeg_montage(24);
    const std::size_t n_epochs = 40, n_times = 100;
    const std::vector<std::size_t> artifacts = {5, 17, 30};
    const auto x = synthetic(n_epochs, chs, n_times, artifacts, 20, 7);
    const auto original = x;
    const ar::EpochsView<double> view(x.data(), n_epochs, chs.size(), n_times, chs);
    ar::AutoRejectParams params;
    params.random_state = 11;
    params.cv = 5;
    ar::AutoReject model(params);
    const ar::CleanEpochs<double> clean = model.fit_transform(view);
    REQUIRE(x == original);  // nothing the caller passed is modified

    const ar::RejectLog& log = clean.log;
    for (std::size_t e : artifacts) {
        CHECK(log.bad_epochs[e] == 1);
    }
    CHECK(log.n_bad_epochs() == artifacts.size());
    REQUIRE(clean.kept.size() == n_epochs - artifacts.size());
    REQUIRE(clean.data.size() == clean.kept.size() * chs.size() * n_times);
    // the broken channel is labelled bad and interpolated in epochs 1 and 2
    CHECK(log.label(1, 3) == 2.0);
    CHECK(log.label(2, 3) == 2.0);
    // the repaired channel follows its neighbours, no longer the 150 uV sine
    const std::size_t k = static_cast<std::size_t>(
        std::find(clean.kept.begin(), clean.kept.end(), 1) - clean.kept.begin());
    double peak = 0.0;
    for (std::size_t t = 0; t < n_times; ++t) {
        peak = std::max(peak, std::abs(clean.data[(k * chs.size() + 3) * n_times + t]));
    }
    CHECK(peak < 60e-6);
    // channels labelled good keep their samples exactly
    for (std::size_t i = 0; i < clean.kept.size(); ++i) {
        for (std::size_t c = 0; c < chs.size(); ++c) {
            if (log.label(clean.kept[i], c) != 2.0) {
                for (std::size_t t = 0; t < n_times; ++t) {
                    REQUIRE(clean.data[(i * chs.size() + c) * n_times + t] ==
                            x[(clean.kept[i] * chs.size() + c) * n_times + t]);
                }
            }
        }
    }
    // parameters chosen among the grids; thresholds on every pick
    CHECK(model.n_interpolate_grid() == std::vector<int>{1, 4, 23});
    CHECK(model.consensus_grid().size() == 11);
    for (double t : model.thresholds()) {
        CHECK(std::isfinite(t));
        CHECK(t > 0.0);
    }
    CHECK(model.loss().at("eeg").size() == 11 * 3 * 5);
}

TEST_CASE("pipeline: results do not depend on backend, threads or the input's type",
          "[pipeline][backends]") {
    const auto chs = test::eeg_montage(16);
    const std::size_t n_epochs = 30, n_times = 64;
    auto x = synthetic(n_epochs, chs, n_times, {4, 9}, 12, 3);
    // float-representable values, so a float view holds the same numbers
    std::vector<float> xf(x.begin(), x.end());
    x.assign(xf.begin(), xf.end());

    auto run = [&](const std::string& backend, int n_jobs, bool as_float,
                   ar::ThresholdMethod method) {
        ar::AutoRejectParams params;
        params.random_state = 5;
        params.cv = 5;
        params.backend = backend;
        params.n_jobs = n_jobs;
        params.thresh_method = method;
        ar::AutoReject model(params);
        std::vector<double> data;
        ar::RejectLog log;
        if (as_float) {
            const ar::EpochsView<float> view(xf.data(), n_epochs, chs.size(), n_times, chs);
            const auto clean = model.fit_transform(view);
            data.assign(clean.data.begin(), clean.data.end());
            log = clean.log;
        } else {
            const ar::EpochsView<double> view(x.data(), n_epochs, chs.size(), n_times, chs);
            const auto clean = model.fit_transform(view);
            data = clean.data;
            log = clean.log;
        }
        return std::make_tuple(model.thresholds(), model.loss().at("eeg"), log.labels, data);
    };
    for (auto method : {ar::ThresholdMethod::Exact, ar::ThresholdMethod::RandomSearch}) {
        const auto ref = run("scalar", 1, false, method);
        for (const auto& [backend, n_jobs] :
             std::vector<std::pair<std::string, int>>{{"openmp", 1}, {"openmp", 2}, {"auto", -1}}) {
            INFO(backend << " with " << n_jobs << " threads");
            const auto got = run(backend, n_jobs, false, method);
            CHECK(test::same_bits(std::get<0>(got), std::get<0>(ref)));
            CHECK(test::same_bits(std::get<1>(got), std::get<1>(ref)));
            CHECK(test::same_bits(std::get<2>(got), std::get<2>(ref)));
            CHECK(test::same_bits(std::get<3>(got), std::get<3>(ref)));
        }
        const auto from_float = run("scalar", 1, true, method);
        CHECK(test::same_bits(std::get<0>(from_float), std::get<0>(ref)));
        CHECK(test::same_bits(std::get<2>(from_float), std::get<2>(ref)));
        // float output: the double result rounded once
        std::vector<double> rounded;
        for (double v : std::get<3>(ref)) {
            rounded.push_back(static_cast<double>(static_cast<float>(v)));
        }
        CHECK(test::same_bits(std::get<3>(from_float), rounded));
    }
}

TEST_CASE("pipeline: a user MatrixSource repairs channels of other types",
          "[pipeline][interpolation]") {
    // 8 "mag" channels without positions; the source predicts a bad channel as
    // the mean of the good ones
    std::vector<ar::ChannelInfo> chs(8);
    for (std::size_t c = 0; c < chs.size(); ++c) {
        chs[c].name = "MAG" + std::to_string(c);
        chs[c].type = "mag";
    }
    const std::size_t n_epochs = 20, n_times = 50;
    std::mt19937 gen(1);
    std::normal_distribution<double> noise(0.0, 1.0);
    std::vector<double> x(n_epochs * chs.size() * n_times);
    for (std::size_t e = 0; e < n_epochs; ++e) {  // one field seen by every sensor, plus noise
        const double phase = 0.2 * noise(gen);
        for (std::size_t c = 0; c < chs.size(); ++c) {
            for (std::size_t t = 0; t < n_times; ++t) {
                x[(e * chs.size() + c) * n_times + t] =
                    1e-12 * std::sin(2 * kPi * 3.0 * static_cast<double>(t) / 50.0 + phase) +
                    2e-14 * noise(gen);
            }
        }
    }
    for (std::size_t t = 0; t < n_times; ++t) {
        x[(6 * chs.size() + 2) * n_times + t] += 5e-11 * (t % 2 ? 1 : -1);  // epoch 6, MAG2
    }
    std::atomic<std::size_t> calls{0};
    ar::AutoRejectParams params;
    params.random_state = 0;
    params.cv = 4;
    params.n_interpolate = {1};
    params.consensus = {1.0};  // drop an epoch only when every channel is bad
    params.interpolators["meg"] = [&calls](const std::vector<std::size_t>& from,
                                           const std::vector<std::size_t>& to) {
        ++calls;
        ar::Matrix m(to.size(), from.size());
        for (double& v : m.values) {
            v = 1.0 / static_cast<double>(from.size());
        }
        return m;
    };
    ar::AutoReject model(params);
    const ar::EpochsView<double> view(x.data(), n_epochs, chs.size(), n_times, chs);
    const auto clean = model.fit_transform(view);
    CHECK(calls > 0);
    REQUIRE(clean.log.label(6, 2) == 2.0);
    const auto at = static_cast<std::size_t>(std::find(clean.kept.begin(), clean.kept.end(), 6) -
                                             clean.kept.begin());
    REQUIRE(at < clean.kept.size());
    for (std::size_t t = 0; t < n_times; ++t) {
        double mean = 0.0;
        for (std::size_t c = 0; c < chs.size(); ++c) {
            if (c != 2) {
                mean += (1.0 / 7.0) * x[(6 * chs.size() + c) * n_times + t];
            }
        }
        CHECK(clean.data[(at * chs.size() + 2) * n_times + t] == Approx(mean).margin(1e-24));
    }
    // without a source the MEG group cannot be interpolated: a clear error
    ar::AutoRejectParams no_source = params;
    no_source.interpolators.clear();
    ar::AutoReject without(no_source);
    CHECK_THROWS_WITH(without.fit(view),
                      Catch::Contains("'meg'") && Catch::Contains("MatrixSource"));
}

TEST_CASE("pipeline: get_rejection_threshold finds the smallest-loss global threshold",
          "[pipeline][global]") {
    const auto chs = test::eeg_montage(12);
    const std::size_t n_epochs = 25, n_times = 40;
    const auto x = synthetic(n_epochs, chs, n_times, {3, 8, 20}, 12, 9);
    const ar::EpochsView<double> view(x.data(), n_epochs, chs.size(), n_times, chs);
    const auto reject = ar::get_rejection_threshold(view);
    REQUIRE(reject.size() == 1);
    const double thresh = reject.at("eeg");
    // the threshold is one epoch's largest peak-to-peak, and keeps the clean epochs
    // while rejecting the 800 uV artifacts
    CHECK(thresh < 700e-6);
    CHECK(thresh > 20e-6);
    ar::GlobalThresholdParams scalar;
    scalar.backend = "scalar";
    CHECK(ar::get_rejection_threshold(view, scalar).at("eeg") == thresh);
    ar::GlobalThresholdParams missing;
    missing.ch_types = {"mag"};
    CHECK_THROWS_AS(ar::get_rejection_threshold(view, missing), std::invalid_argument);
}

TEST_CASE("pipeline: invalid input is refused with a message naming the fix",
          "[pipeline][validation]") {
    auto chs = test::eeg_montage(6);
    const std::size_t n_epochs = 12, n_times = 20;
    std::vector<double> x = synthetic(n_epochs, chs, n_times, {}, 0, 1);
    using V = ar::EpochsView<double>;
    CHECK_THROWS_WITH(V(x.data(), n_epochs, 5, n_times, chs),
                      Catch::Contains("one ChannelInfo per channel"));
    CHECK_THROWS_WITH(V(nullptr, n_epochs, 6, n_times, chs), Catch::Contains("null"));
    CHECK_THROWS_WITH(V(x.data(), 0, 6, n_times, chs), Catch::Contains("empty"));
    auto twins = chs;
    twins[1].name = twins[0].name;
    CHECK_THROWS_WITH(V(x.data(), n_epochs, 6, n_times, twins), Catch::Contains("twice"));

    const V view(x.data(), n_epochs, 6, n_times, chs);
    ar::AutoReject model;
    CHECK_THROWS_AS(model.get_reject_log(view), std::logic_error);
    CHECK_THROWS_AS(model.thresholds(), std::logic_error);
    // too few epochs for the folds
    ar::AutoRejectParams many;
    many.cv = 20;
    CHECK_THROWS_WITH(ar::AutoReject(many).fit(view), Catch::Contains("cv"));
    ar::AutoRejectParams bad;
    bad.consensus = {1.5};
    CHECK_THROWS_WITH(ar::AutoReject(bad), Catch::Contains("consensus"));
    bad = {};
    bad.cv = 1;
    CHECK_THROWS_WITH(ar::AutoReject(bad), Catch::Contains("cv"));
    bad = {};
    bad.cv = 3;
    bad.picks = {0, 9};
    CHECK_THROWS_WITH(ar::AutoReject(bad).fit(view), Catch::Contains("picks"));
    bad.picks = {0, 1, 2};
    CHECK_THROWS_WITH(ar::AutoReject(bad).fit(view), Catch::Contains("at least 4"));
    bad.n_interpolate = {1};  // an explicit grid does not lift it: interpolation needs 4
    CHECK_THROWS_WITH(ar::AutoReject(bad).fit(view),
                      Catch::Contains("'eeg'") && Catch::Contains("at least 4"));
    bad.n_interpolate = {};
    bad.picks = {};
    bad.n_interpolate = {7};
    CHECK_THROWS_WITH(ar::AutoReject(bad).fit(view), Catch::Contains("n_interpolate"));

    // NaN and infinity, named by channel and epoch
    auto with_nan = x;
    with_nan[(2 * 6 + 4) * n_times + 3] = std::numeric_limits<double>::quiet_NaN();
    const V nan_view(with_nan.data(), n_epochs, 6, n_times, chs);
    ar::AutoRejectParams ok;
    ok.cv = 3;
    CHECK_THROWS_WITH(ar::AutoReject(ok).fit(nan_view),
                      Catch::Contains("NaN") && Catch::Contains(chs[4].name));
    // ... unless that channel is marked bad (then it is not picked)
    auto marked = chs;
    marked[4].bad = true;
    const V marked_view(with_nan.data(), n_epochs, 6, n_times, marked);
    ar::AutoRejectParams five = ok;
    five.n_interpolate = {1};
    CHECK_NOTHROW(ar::AutoReject(five).fit(marked_view));
    // an EEG channel without a position cannot be interpolated
    auto lost = chs;
    lost[2].position[0] = std::numeric_limits<double>::quiet_NaN();
    const V lost_view(x.data(), n_epochs, 6, n_times, lost);
    CHECK_THROWS_WITH(ar::AutoReject(ok).fit(lost_view), Catch::Contains("position"));
    // transform on other channels
    ar::AutoReject fitted(ok);
    fitted.fit(view);
    auto renamed = chs;
    renamed[0].name = "X";
    const V renamed_view(x.data(), n_epochs, 6, n_times, renamed);
    CHECK_THROWS_WITH(fitted.transform(renamed_view), Catch::Contains("fitted"));
    // a reject log of another shape
    ar::RejectLog short_log = fitted.get_reject_log(view);
    short_log.bad_epochs.pop_back();
    short_log.n_epochs -= 1;
    CHECK_THROWS_WITH(fitted.transform(view, &short_log), Catch::Contains("reject log"));
    // Ransac
    ar::RansacParams rp;
    rp.min_channels = 0.0;
    CHECK_THROWS_WITH(ar::Ransac(rp), Catch::Contains("min_channels"));
    rp = {};
    rp.min_channels = 0.05;  // round(0.3) = 0 channels per subset
    CHECK_THROWS_WITH(ar::Ransac(rp).fit(view), Catch::Contains("min_channels"));
}
