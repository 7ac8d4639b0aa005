// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target for the C++ pipeline's input validation: the bytes choose a
// shape, channel types, positions (some missing), flags, parameters and
// samples (with NaN, infinities, constants), then one of AutoReject,
// compute_thresholds, Ransac or get_rejection_threshold runs on them. The only
// acceptable outcomes are a result or std::invalid_argument /
// std::logic_error; anything else, a crash, a sanitizer report or a change to
// the caller's data is a bug.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "autoreject/pipeline.hpp"

namespace {

struct Bytes {
    const std::uint8_t* data;
    std::size_t size;
    std::size_t at = 0;
    std::uint8_t next() { return at < size ? data[at++] : 0; }
};

double sample(Bytes& in) {
    const std::uint8_t code = in.next();
    switch (code) {
        case 0xff:
            return std::numeric_limits<double>::quiet_NaN();
        case 0xfe:
            return std::numeric_limits<double>::infinity();
        case 0xfd:
            return -std::numeric_limits<double>::infinity();
        case 0xfc:
            return 0.0;
        default:
            return (static_cast<double>(code) - 126.0) * 1e-6;
    }
}

template <class T>
void run(Bytes& in, std::size_t n_e, std::size_t n_c, std::size_t n_t,
         const std::vector<autoreject::ChannelInfo>& channels, std::uint8_t which) {
    std::vector<T> x(n_e * n_c * n_t);
    for (T& v : x) {
        v = static_cast<T>(sample(in));
    }
    const std::vector<T> copy = x;
    const autoreject::EpochsView<T> view(x.data(), n_e, n_c, n_t, channels);
    autoreject::InterpolationSources sources;
    if (in.next() & 1) {
        sources["meg"] = [](const std::vector<std::size_t>& from,
                            const std::vector<std::size_t>& to) {
            autoreject::Matrix m(to.size(), from.size());
            for (double& v : m.values) {
                v = 1.0 / static_cast<double>(from.size());
            }
            return m;
        };
    }
    const std::optional<std::uint32_t> seed = in.next();
    const std::string backend = (in.next() & 1) ? "scalar" : "auto";
    switch (which % 4) {
        case 0: {
            autoreject::AutoRejectParams p;
            p.cv = 2 + in.next() % 4;
            p.random_state = seed;
            p.backend = backend;
            p.interpolators = sources;
            p.thresh_method = (in.next() & 1) ? autoreject::ThresholdMethod::RandomSearch
                                              : autoreject::ThresholdMethod::Exact;
            for (std::uint8_t k = in.next() % 3; k > 0; --k) {
                p.n_interpolate.push_back(static_cast<int>(in.next() % 10) - 1);
            }
            for (std::uint8_t k = in.next() % 3; k > 0; --k) {
                p.consensus.push_back(static_cast<double>(in.next()) / 200.0);
            }
            autoreject::AutoReject model(p);
            const auto clean = model.fit_transform(view);
            if (clean.data.size() != clean.kept.size() * n_c * n_t) {
                std::abort();
            }
            break;
        }
        case 1: {
            autoreject::ThresholdParams p;
            p.random_state = seed;
            p.backend = backend;
            p.interpolators = sources;
            p.augment = (in.next() & 1) != 0;
            (void)autoreject::compute_thresholds(view, {}, p);
            break;
        }
        case 2: {
            autoreject::RansacParams p;
            p.random_state = seed;
            p.backend = backend;
            p.n_resample = in.next() % 6;
            p.min_channels = static_cast<double>(in.next()) / 200.0;
            autoreject::Ransac(p).fit(view);
            break;
        }
        default: {
            autoreject::GlobalThresholdParams p;
            p.cv = in.next() % 6;
            p.backend = backend;
            (void)autoreject::get_rejection_threshold(view, p);
            break;
        }
    }
    if (std::memcmp(x.data(), copy.data(), x.size() * sizeof(T)) != 0) {
        std::abort();  // the caller's data were modified
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Bytes in{data, size};
    const std::size_t n_e = in.next() % 14;  // 0 is refused by EpochsView
    const std::size_t n_c = in.next() % 9;
    const std::size_t n_t = in.next() % 12;
    const std::uint8_t flags = in.next();
    std::vector<autoreject::ChannelInfo> channels(n_c);
    static const char* const kTypes[] = {"eeg", "eeg", "mag", "grad", "eog", "misc"};
    for (std::size_t c = 0; c < n_c; ++c) {
        const std::uint8_t b = in.next();
        channels[c].name = "C" + std::to_string(c);
        channels[c].type = kTypes[b % 6];
        channels[c].bad = (b & 0x80) != 0;
        for (double& p : channels[c].position) {
            const std::uint8_t q = in.next();
            p = q == 0xff ? std::numeric_limits<double>::quiet_NaN()
                          : (static_cast<double>(q) - 128.0) / 1000.0;
        }
    }
    try {
        if (flags & 0x10) {
            run<float>(in, n_e, n_c, n_t, channels, flags);
        } else {
            run<double>(in, n_e, n_c, n_t, channels, flags);
        }
    } catch (const std::invalid_argument&) {
    } catch (const std::logic_error&) {
    }
    return 0;
}
