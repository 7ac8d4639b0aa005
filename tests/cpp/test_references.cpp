// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The C++ kernels against autoreject 0.5.1's stored outputs (references/*.npz, made by
// references/generate_references.py): peak-to-peak amplitudes and votes with the
// thresholds autoreject learnt, the bad epochs its chosen consensus gives, and RANSAC's
// bad channels from its correlations. Every comparison is exact, on every backend.
// Skipped (with a warning) when the references folder is missing.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "autoreject/algorithms/ransac_decision.hpp"
#include "autoreject/autoreject.hpp"
#include "autoreject/io/npy.hpp"
#include "helpers.hpp"

namespace ar = autoreject;
namespace io = autoreject::io;
using Npz = std::map<std::string, io::NpyArray>;

namespace {

const char* const kDatasets[] = {"synthetic_eeg", "synthetic_meg", "eegmmidb"};

/// The stored file, or an empty map (and a warning) when it is missing.
Npz load_reference(const std::string& name) {
    const std::string path = std::string(AUTOREJECT_REFERENCES_DIR) + "/" + name + ".npz";
    if (!std::filesystem::exists(path)) {
        WARN("reference " << path << " is missing: skipped");
        return {};
    }
    return io::load_npz(path);
}

const io::NpyArray& entry(const Npz& z, const std::string& key) {
    const auto it = z.find(key);
    if (it == z.end()) {
        FAIL("the reference has no entry '" << key << "'");
    }
    return it->second;
}

/// The number that follows `"key": ` in a flat JSON object.
double json_number(const std::string& json, const std::string& key) {
    const std::string pattern = "\"" + key + "\": ";
    const std::size_t at = json.find(pattern);
    REQUIRE(at != std::string::npos);
    return std::stod(json.substr(at + pattern.size()));
}

/// The epochs as stored (float32, exact) widened to double, as autoreject reads them.
std::vector<double> epochs_as_double(const Npz& z, std::size_t& n_epochs, std::size_t& n_chans,
                                     std::size_t& n_times) {
    const io::NpyArray& data = entry(z, "epochs_data");
    REQUIRE(data.shape.size() == 3);
    n_epochs = data.shape[0];
    n_chans = data.shape[1];
    n_times = data.shape[2];
    if (data.dtype == "<f8") {
        return data.as<double>();
    }
    const std::vector<float> f = data.as<float>();
    return std::vector<double>(f.begin(), f.end());
}

std::size_t index_of(const std::vector<std::string>& names, const std::string& name) {
    const auto it = std::find(names.begin(), names.end(), name);
    REQUIRE(it != names.end());
    return static_cast<std::size_t>(it - names.begin());
}

/// One channel type's picks, thresholds and autoreject's votes.
struct TypeVotes {
    std::string ch_type;
    std::vector<std::int64_t> picks;
    std::vector<double> threshes;  // aligned to picks
    std::vector<double> labels;    // (n_epochs, n_chans) autoreject's vote labels
    std::vector<std::int64_t> counts;
};

std::vector<TypeVotes> type_votes(const Npz& z, std::size_t n_epochs, std::size_t n_chans) {
    const std::vector<std::string> ch_names = entry(z, "epochs_ch_names").as_strings();
    const std::vector<std::string> thresh_names = entry(z, "thresh_ch_names").as_strings();
    const std::vector<double> ar_threshes = entry(z, "ar_threshes").as<double>();
    REQUIRE(ar_threshes.size() == thresh_names.size());
    std::vector<TypeVotes> out;
    for (const std::string& t : entry(z, "ch_types_picked").as_strings()) {
        TypeVotes v;
        v.ch_type = t;
        v.picks = entry(z, "picks_" + t).as<std::int64_t>();
        for (std::int64_t p : v.picks) {
            REQUIRE(p >= 0);
            REQUIRE(static_cast<std::size_t>(p) < n_chans);
            v.threshes.push_back(
                ar_threshes[index_of(thresh_names, ch_names[static_cast<std::size_t>(p)])]);
        }
        const io::NpyArray& labels = entry(z, "vote_labels_" + t);
        REQUIRE(labels.shape == std::vector<std::size_t>{n_epochs, n_chans});
        v.labels = labels.as<double>();
        v.counts = entry(z, "vote_counts_" + t).as<std::int64_t>();
        REQUIRE(v.counts.size() == n_epochs);
        out.push_back(v);
    }
    return out;
}

/// ptp of the picked channels of every epoch, then the vote: (bad, counts).
void vote(const std::vector<double>& data, std::size_t n_epochs, std::size_t n_chans,
          std::size_t n_times, const TypeVotes& v, const ar::Exec& exec,
          std::vector<std::uint8_t>& bad, std::vector<std::int64_t>& counts) {
    const std::size_t n_picks = v.picks.size();
    std::vector<double> rows(n_epochs * n_picks * n_times);
    for (std::size_t e = 0; e < n_epochs; ++e) {
        for (std::size_t p = 0; p < n_picks; ++p) {
            const double* src =
                data.data() + (e * n_chans + static_cast<std::size_t>(v.picks[p])) * n_times;
            std::copy(src, src + n_times, rows.begin() + (e * n_picks + p) * n_times);
        }
    }
    std::vector<double> deltas(n_epochs * n_picks);
    ar::ptp(rows.data(), n_epochs * n_picks, n_times, deltas.data(), exec);
    bad.assign(n_epochs * n_picks, 2);
    counts.assign(n_epochs, -1);
    ar::vote_bad_epochs(deltas.data(), n_epochs, n_picks, v.threshes.data(), bad.data(),
                        counts.data(), exec);
}

}  // namespace

TEST_CASE("references: ptp + vote_bad_epochs reproduce autoreject's votes", "[references][vote]") {
    for (const char* name : kDatasets) {
        const Npz z = load_reference(name);
        if (z.empty()) {
            continue;
        }
        INFO(name);
        std::size_t n_epochs = 0, n_chans = 0, n_times = 0;
        const std::vector<double> data = epochs_as_double(z, n_epochs, n_chans, n_times);
        const std::vector<TypeVotes> types = type_votes(z, n_epochs, n_chans);
        REQUIRE(!types.empty());
        for (const TypeVotes& v : types) {
            INFO("channel type " << v.ch_type);
            // autoreject's labels: 0 / 1 on the picked columns, NaN on every other column
            std::vector<bool> picked(n_chans, false);
            for (std::int64_t p : v.picks) {
                picked[static_cast<std::size_t>(p)] = true;
            }
            std::size_t n_bad = 0;
            for (std::size_t e = 0; e < n_epochs; ++e) {
                for (std::size_t c = 0; c < n_chans; ++c) {
                    const double l = v.labels[e * n_chans + c];
                    if (picked[c]) {
                        REQUIRE((l == 0.0 || l == 1.0));
                        n_bad += l == 1.0 ? 1 : 0;
                    } else {
                        REQUIRE(std::isnan(l));
                    }
                }
            }
            CHECK(n_bad > 0);  // the comparison below can fail
            for (const ar::Exec& exec : test::all_execs()) {
                INFO("backend " << ar::backend_name(exec.backend) << ", " << exec.n_threads
                                << " threads");
                std::vector<std::uint8_t> bad;
                std::vector<std::int64_t> counts;
                vote(data, n_epochs, n_chans, n_times, v, exec, bad, counts);
                std::size_t mismatches = 0;
                for (std::size_t e = 0; e < n_epochs; ++e) {
                    for (std::size_t p = 0; p < v.picks.size(); ++p) {
                        const double want =
                            v.labels[e * n_chans + static_cast<std::size_t>(v.picks[p])];
                        mismatches += static_cast<double>(bad[e * v.picks.size() + p]) != want;
                    }
                }
                CHECK(mismatches == 0);
                CHECK(counts == v.counts);
            }
        }
    }
}

TEST_CASE("references: bad_epochs with the chosen consensus gives autoreject's bad epochs",
          "[references][vote]") {
    // autoreject drops the epochs whose bad-sensor count is at least consensus * n_picks
    // (per channel type, product in double; the reject log is the union over types).
    for (const char* name : kDatasets) {
        const Npz z = load_reference(name);
        if (z.empty()) {
            continue;
        }
        INFO(name);
        std::size_t n_epochs = 0, n_chans = 0, n_times = 0;
        const std::vector<double> data = epochs_as_double(z, n_epochs, n_chans, n_times);
        const std::vector<TypeVotes> types = type_votes(z, n_epochs, n_chans);
        const std::vector<std::uint8_t> want = entry(z, "ar_bad_epochs").as<std::uint8_t>();
        REQUIRE(want.size() == n_epochs);
        const std::vector<double> local_params = entry(z, "local_params").as<double>();
        REQUIRE(local_params.size() % 2 == 0);
        const std::size_t n_local = local_params.size() / 2;
        std::vector<std::uint8_t> any_bad(n_epochs, 0);
        for (const TypeVotes& v : types) {
            INFO("channel type " << v.ch_type);
            std::vector<std::uint8_t> bad;
            std::vector<std::int64_t> counts;
            vote(data, n_epochs, n_chans, n_times, v, ar::Exec{ar::Backend::Scalar, 1}, bad,
                 counts);
            REQUIRE(counts == v.counts);
            const double consensus = entry(z, "ar_consensus_" + v.ch_type).item<double>();
            std::vector<std::uint8_t> drop(n_epochs, 2);
            ar::bad_epochs(counts.data(), n_epochs, consensus, v.picks.size(), drop.data());
            for (std::size_t e = 0; e < n_epochs; ++e) {
                any_bad[e] = any_bad[e] | drop[e];
            }
            // the fixed (consensus, n_interpolate) reject logs of the same type
            const io::NpyArray& local = entry(z, "local_bad_epochs_" + v.ch_type);
            REQUIRE(local.shape == std::vector<std::size_t>{n_local, n_epochs});
            const std::vector<std::uint8_t> local_bad = local.as<std::uint8_t>();
            for (std::size_t k = 0; k < n_local; ++k) {
                INFO("local consensus " << local_params[2 * k]);
                ar::bad_epochs(counts.data(), n_epochs, local_params[2 * k], v.picks.size(),
                               drop.data());
                CHECK(std::equal(drop.begin(), drop.end(), local_bad.begin() + k * n_epochs));
            }
            // the reject log's labels: a voted-bad sensor is 1 (bad) or 2 (interpolated)
            const std::vector<double> ar_labels = entry(z, "ar_labels").as<double>();
            REQUIRE(ar_labels.size() == n_epochs * n_chans);
            std::size_t mismatches = 0;
            for (std::size_t e = 0; e < n_epochs; ++e) {
                for (std::size_t p = 0; p < v.picks.size(); ++p) {
                    const double l = ar_labels[e * n_chans + static_cast<std::size_t>(v.picks[p])];
                    const bool voted = bad[e * v.picks.size() + p] == 1;
                    mismatches += voted ? !(l == 1.0 || l == 2.0) : l != 0.0;
                }
            }
            CHECK(mismatches == 0);
        }
        CHECK(std::count(want.begin(), want.end(), 1) > 0);
        CHECK(any_bad == want);
    }
}

TEST_CASE("references: ransac_bad_channels reproduces autoreject's RANSAC bad channels",
          "[references][ransac]") {
    for (const char* name : kDatasets) {
        const Npz z = load_reference(name);
        if (z.empty()) {
            continue;
        }
        INFO(name);
        const std::vector<std::string> ch_names = entry(z, "epochs_ch_names").as_strings();
        const std::vector<std::string> ch_types = entry(z, "epochs_ch_types").as_strings();
        const std::string json = entry(z, "ransac_params").as_strings().at(0);
        const double min_corr = json_number(json, "min_corr");
        const double unbroken_time = json_number(json, "unbroken_time");
        CHECK(min_corr == 0.75);
        CHECK(unbroken_time == 0.4);
        // Ransac's picks: '' (None) is every data channel (autoreject's picks), else a type
        const std::string ransac_picks = entry(z, "ransac_picks").as_strings().at(0);
        std::vector<std::size_t> picks;
        if (ransac_picks.empty()) {
            for (std::int64_t p : entry(z, "ar_picks").as<std::int64_t>()) {
                picks.push_back(static_cast<std::size_t>(p));
            }
        } else {
            for (std::size_t c = 0; c < ch_types.size(); ++c) {
                if (ch_types[c] == ransac_picks) {
                    picks.push_back(c);
                }
            }
        }
        const io::NpyArray& corr = entry(z, "ransac_corr");
        REQUIRE(corr.shape.size() == 2);
        REQUIRE(corr.shape[1] == picks.size());
        const std::vector<double> c = corr.as<double>();
        std::vector<std::size_t> bad;
        ar::ransac_bad_channels(c.data(), corr.shape[0], corr.shape[1], min_corr, unbroken_time,
                                bad);
        std::vector<std::string> got;
        for (std::size_t b : bad) {
            got.push_back(ch_names[picks[b]]);
        }
        const std::vector<std::string> want = entry(z, "ransac_bad_chs").as_strings();
        CHECK(!want.empty());
        CHECK(got == want);
    }
}

TEST_CASE("ransac_bad_channels: strict comparisons, NaN, empty input", "[ransac]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    // 5 epochs x 4 channels; unbroken_time 0.4 -> a channel needs > 2 bad epochs
    // ch0: 3 epochs below 0.75 -> bad; ch1: exactly 0.75 is not below -> good;
    // ch2: 2 below -> at the bound, good; ch3: NaN is never below -> good
    const double corr[5][4] = {{0.1, 0.75, 0.2, nan},
                               {0.7, 0.75, 0.74999, nan},
                               {0.74, 0.75, 0.9, nan},
                               {0.9, 0.75, 0.9, 0.1},
                               {0.9, 0.2, 0.9, 0.1}};
    std::vector<std::size_t> out = {99};
    ar::ransac_bad_channels(&corr[0][0], 5, 4, 0.75, 0.4, out);
    CHECK(out == std::vector<std::size_t>{0});
    ar::ransac_bad_channels(&corr[0][0], 5, 4, 0.75, 0.2, out);  // > 1 bad epoch
    CHECK(out == std::vector<std::size_t>{0, 2, 3});
    ar::ransac_bad_channels(&corr[0][0], 5, 4, 0.7500001, 0.0, out);
    CHECK(out == std::vector<std::size_t>{0, 1, 2, 3});
    const float corr_f[2] = {0.5f, 0.8f};
    ar::ransac_bad_channels(corr_f, 1, 2, 0.75, 0.4, out);
    CHECK(out == std::vector<std::size_t>{0});
    ar::ransac_bad_channels<double>(nullptr, 0, 3, 0.75, 0.4, out);
    CHECK(out.empty());
    CHECK_THROWS_AS(ar::ransac_bad_channels<double>(nullptr, 2, 3, 0.75, 0.4, out),
                    std::invalid_argument);
}
