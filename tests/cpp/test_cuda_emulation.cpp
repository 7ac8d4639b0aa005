// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// Only in AUTOREJECT_WITH_CUDA=EMULATE builds: the CUDA backend's host code on the
// emulated GPU (src/cuda/emulation) where a real one cannot be made to fail on demand:
// allocations that fail after the free-memory query, a device too small for one unit of
// work, device memory given back after errors; and the emulation's own copy checks, on
// which the other tests rely to catch a copy past a buffer's end.
#include <cuda_runtime.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "autoreject/autoreject.hpp"
#include "autoreject/dispatch.hpp"
#include "autoreject/pipeline.hpp"
#include "helpers.hpp"

namespace ar = autoreject;
namespace emu = autoreject_cuda_emulation;

namespace {
const ar::Exec kScalar{ar::Backend::Scalar, 1};
const ar::Exec kCuda{ar::Backend::Cuda, 0};
const ar::Simd kSimd = ar::Simd::Baseline;
}  // namespace

TEST_CASE("cuda emulation: the emulated device checks copies and counts its memory",
          "[cuda][emulation]") {
    const std::size_t live = emu::stats().live_bytes;
    void* dev = nullptr;
    REQUIRE(cudaMalloc(&dev, 64) == cudaSuccess);
    CHECK(emu::stats().live_bytes == live + 64);
    std::vector<char> host(128, 1);
    CHECK(cudaMemcpy(dev, host.data(), 64, cudaMemcpyHostToDevice) == cudaSuccess);
    CHECK(cudaMemcpy(host.data(), dev, 64, cudaMemcpyDeviceToHost) == cudaSuccess);
    // past the end, the wrong direction, a host buffer where the device's is expected
    CHECK(cudaMemcpy(dev, host.data(), 65, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
    CHECK(cudaMemcpy(static_cast<char*>(dev) + 1, host.data(), 64, cudaMemcpyHostToDevice) ==
          cudaErrorInvalidValue);
    CHECK(cudaMemcpy(dev, host.data(), 8, cudaMemcpyDeviceToHost) == cudaErrorInvalidValue);
    CHECK(cudaMemcpy(host.data(), host.data() + 64, 8, cudaMemcpyHostToDevice) ==
          cudaErrorInvalidValue);
    CHECK(cudaGetLastError() == cudaErrorInvalidValue);
    CHECK(cudaGetLastError() == cudaSuccess);  // read once, then cleared
    CHECK(cudaFree(dev) == cudaSuccess);
    CHECK(cudaFree(dev) == cudaErrorInvalidDevicePointer);
    CHECK(emu::stats().live_bytes == live);
    // a grid runs every thread once, with its coordinates
    std::vector<int> seen(3 * 4, 0);
    emu::launch(3, 4, [&] { ++seen[blockIdx.x * blockDim.x + threadIdx.x]; });
    CHECK(seen == std::vector<int>(12, 1));
    emu::launch(1, 2048, [] {});
    CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
}

TEMPLATE_TEST_CASE(
    "cuda emulation: allocations failing after the memory query are retried in "
    "smaller chunks with the same bits",
    "[cuda][emulation]", double, float) {
    using T = TestType;
    const std::size_t e = 40;
    const std::size_t c = 8;
    const std::size_t t = 500;
    const auto raw = test::noise(e * c * t, 80);
    const std::vector<T> data(raw.begin(), raw.end());
    std::vector<T> want(e * c);
    ar::dispatch::ptp(data.data(), e * c, t, want.data(), kScalar, kSimd);
    std::vector<long long> rows(e * c);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        rows[i] = static_cast<long long>((i * 7) % rows.size());
    }
    std::vector<T> want_med(t);
    ar::dispatch::median_rows(data.data(), e * c, t, rows.data(), rows.size(), want_med.data(),
                              kScalar, kSimd);

    // the device holds a fifth of the data, but claims a terabyte free
    test::ScopedEnv memory("AUTOREJECT_CUDA_EMULATION_MEMORY",
                           std::to_string(data.size() * sizeof(T) / 5).c_str());
    test::ScopedEnv claim("AUTOREJECT_CUDA_EMULATION_REPORTED_FREE", "1000000000000");
    const auto before = emu::stats();
    std::vector<T> got(e * c);
    ar::dispatch::ptp(data.data(), e * c, t, got.data(), kCuda, kSimd);
    CHECK(test::same_bits(got, want));
    std::vector<T> got_med(t);
    ar::dispatch::median_rows(data.data(), e * c, t, rows.data(), rows.size(), got_med.data(),
                              kCuda, kSimd);
    CHECK(test::same_bits(got_med, want_med));
    const auto after = emu::stats();
    CHECK(after.failed_allocations >= before.failed_allocations + 2);  // each call retried
    CHECK(after.launches >= before.launches + 2 * 5);                  // in five chunks or more
    CHECK(after.live_bytes == before.live_bytes);
}

TEST_CASE(
    "cuda emulation: a device too small for one unit of work is a clear error, and "
    "leaks nothing",
    "[cuda][emulation]") {
    const std::vector<double> x(4 * 1000, 1.0);
    std::vector<double> out(4);
    const std::size_t live = emu::stats().live_bytes;
    {
        test::ScopedEnv memory("AUTOREJECT_CUDA_EMULATION_MEMORY", "4000");  // < one row
        test::ScopedEnv claim("AUTOREJECT_CUDA_EMULATION_REPORTED_FREE", "1000000000000");
        CHECK_THROWS_AS(ar::dispatch::ptp(x.data(), 4, 1000, out.data(), kCuda, kSimd),
                        std::runtime_error);
        CHECK_THROWS_WITH(ar::dispatch::ptp(x.data(), 4, 1000, out.data(), kCuda, kSimd),
                          Catch::Contains("ptp: the device has no memory left for one unit of "
                                          "work") &&
                              Catch::Contains("use the 'openmp' or 'scalar' backend"));
    }
    CHECK(emu::stats().live_bytes == live);
    // the same work with the memory the query reports fits in chunks planned for it
    test::ScopedEnv memory("AUTOREJECT_CUDA_EMULATION_MEMORY", "20000");
    ar::dispatch::ptp(x.data(), 4, 1000, out.data(), kCuda, kSimd);
    CHECK(out == std::vector<double>(4, 0.0));
    CHECK(emu::stats().live_bytes == live);
}

TEST_CASE("cuda emulation: repairs retried in smaller chunks give the planned chunks' bits",
          "[cuda][emulation][repair]") {
    const std::size_t n_epochs = 30;
    const std::size_t n_channels = 6;
    const std::size_t n_times = 200;
    const std::vector<long long> from{0, 2, 3, 5};
    const std::vector<long long> to{1, 4};
    const auto matrix = test::noise(to.size() * from.size(), 81);
    std::vector<ar::RepairJob> jobs;
    for (std::size_t ep = 0; ep < n_epochs; ep += 2) {
        jobs.push_back({ep, from.data(), from.size(), to.data(), to.size(), matrix.data()});
    }
    const auto data = test::noise(n_epochs * n_channels * n_times, 82);
    auto want = data;
    ar::dispatch::repair_epochs(want.data(), n_epochs, n_channels, n_times, jobs.data(),
                                jobs.size(), kScalar);
    test::ScopedEnv memory("AUTOREJECT_CUDA_EMULATION_MEMORY", "40000");  // about 3 jobs
    test::ScopedEnv claim("AUTOREJECT_CUDA_EMULATION_REPORTED_FREE", "1000000000000");
    const auto before = emu::stats();
    auto got = data;
    ar::dispatch::repair_epochs(got.data(), n_epochs, n_channels, n_times, jobs.data(), jobs.size(),
                                kCuda);
    CHECK(test::same_bits(got, want));
    CHECK(emu::stats().failed_allocations > before.failed_allocations);
    CHECK(emu::stats().live_bytes == before.live_bytes);
}

TEST_CASE("cuda emulation: a resident array is copied to the device once, not per call",
          "[cuda][emulation][resident]") {
    const std::size_t e = 50;
    const std::size_t t = 300;
    const std::size_t n_folds = 4;
    const std::size_t n_train = 40;
    const auto data = test::noise(e * t, 90);
    std::vector<long long> idx(n_folds * n_train);
    std::vector<double> keys(idx.size());
    for (std::size_t i = 0; i < idx.size(); ++i) {
        idx[i] = static_cast<long long>((i * 7 + i / n_train) % e);
        keys[i] = static_cast<double>(i % 13);
    }
    const auto medians = test::noise(n_folds * t, 91);
    const ar::KeptMeansShape ks{e, t, n_folds, n_train, 1};
    const std::size_t calls = 6;
    auto losses = [&](const ar::Exec& exec) {
        std::vector<double> out(calls);
        for (std::size_t c = 0; c < calls; ++c) {  // one proposal per call, as the search does
            const std::vector<double> bounds(n_folds, static_cast<double>(c + 4));
            ar::dispatch::threshold_losses(data.data(), idx.data(), keys.data(), bounds.data(),
                                           medians.data(), ks, &out[c], exec, kSimd);
        }
        return out;
    };
    const auto want = losses(kScalar);
    const std::size_t data_bytes = data.size() * sizeof(double);

    auto before = emu::stats();
    CHECK(test::same_bits(losses(kCuda), want));
    const std::size_t plain = emu::stats().bytes_to_device - before.bytes_to_device;
    CHECK(plain >= calls * data_bytes);  // the data went up with every call

    const std::size_t live = emu::stats().live_bytes;
    {
        ar::DeviceResidency resident(kCuda);
        CHECK(resident.add(data.data(), data.size()));
        CHECK_FALSE(resident.add(data.data() + 10, 5));  // inside a registered array
        CHECK(resident.bytes() == data_bytes);
        CHECK(emu::stats().live_bytes == live + data_bytes);
        before = emu::stats();
        CHECK(test::same_bits(losses(kCuda), want));
        const std::size_t kept = emu::stats().bytes_to_device - before.bytes_to_device;
        CHECK(kept + calls * data_bytes == plain);  // everything else went up as before
        // a slice of the array is found too: peak-to-peak of rows 10..19
        std::vector<double> ref(10);
        std::vector<double> got(10);
        ar::dispatch::ptp(data.data() + 10 * t, 10, t, ref.data(), kScalar, kSimd);
        before = emu::stats();
        ar::dispatch::ptp(data.data() + 10 * t, 10, t, got.data(), kCuda, kSimd);
        CHECK(emu::stats().bytes_to_device == before.bytes_to_device);
        CHECK(test::same_bits(got, ref));
    }
    CHECK(emu::stats().live_bytes == live);  // given back with the object
    // after it: copied per call again
    before = emu::stats();
    CHECK(test::same_bits(losses(kCuda), want));
    CHECK(emu::stats().bytes_to_device - before.bytes_to_device == plain);
    // off the GPU, and on a device with no room, nothing is registered
    ar::DeviceResidency on_cpu(kScalar);
    CHECK_FALSE(on_cpu.add(data.data(), data.size()));
    CHECK(on_cpu.bytes() == 0);
    test::ScopedEnv memory("AUTOREJECT_CUDA_EMULATION_MEMORY", "1000");
    ar::DeviceResidency full(kCuda);
    CHECK_FALSE(full.add(data.data(), data.size()));
    CHECK(full.bytes() == 0);
}

TEST_CASE("cuda emulation: medians of a resident array's rows are gathered on the device",
          "[cuda][emulation][resident]") {
    const std::size_t n_rows = 60;
    const std::size_t n_cols = 700;
    const auto x = test::noise(n_rows * n_cols, 92);
    std::vector<long long> rows = {3, 59, 0, 17, 17, 42, 8};
    std::vector<double> want(n_cols);
    ar::dispatch::median_rows(x.data(), n_rows, n_cols, rows.data(), rows.size(), want.data(),
                              kScalar, kSimd);
    ar::DeviceResidency resident(kCuda);
    REQUIRE(resident.add(x.data(), x.size()));
    const auto before = emu::stats();
    std::vector<double> got(n_cols);
    for (int fold = 0; fold < 3; ++fold) {
        ar::dispatch::median_rows(x.data(), n_rows, n_cols, rows.data(), rows.size(), got.data(),
                                  kCuda, kSimd);
        CHECK(test::same_bits(got, want));
    }
    // only the row indices went up, never the rows
    CHECK(emu::stats().bytes_to_device - before.bytes_to_device == 3 * rows.size() * 8);
    // in chunks of columns too
    test::ScopedEnv limit("AUTOREJECT_CUDA_MEMORY_LIMIT", "20000");
    std::fill(got.begin(), got.end(), 0.0);
    ar::dispatch::median_rows(x.data(), n_rows, n_cols, rows.data(), rows.size(), got.data(), kCuda,
                              kSimd);
    CHECK(test::same_bits(got, want));
}

TEST_CASE("cuda emulation: prefix sums of a resident array gather their rows on the device",
          "[cuda][emulation][resident]") {
    const std::size_t n_rows = 40;
    const std::size_t n_cols = 300;
    const auto x = test::noise(n_rows * n_cols, 93);
    const std::vector<long long> order = {7, 0, 39, 12, 12, 5, 21, 3, 30, 18, 2};
    const std::vector<long long> cuts = {1, 4, 9, 11};
    std::vector<double> want(cuts.size() * n_cols);
    ar::dispatch::prefix_sums(x.data(), n_rows, n_cols, order.data(), order.size(), cuts.data(),
                              cuts.size(), want.data(), kScalar, kSimd);
    std::vector<double> got(want.size());
    auto before = emu::stats();
    ar::dispatch::prefix_sums(x.data(), n_rows, n_cols, order.data(), order.size(), cuts.data(),
                              cuts.size(), got.data(), kCuda, kSimd);
    CHECK(test::same_bits(got, want));
    const std::size_t index_bytes = (order.size() + cuts.size()) * 8;
    // not resident: the ordered rows went up
    CHECK(emu::stats().bytes_to_device - before.bytes_to_device ==
          index_bytes + order.size() * n_cols * 8);
    ar::DeviceResidency resident(kCuda);
    REQUIRE(resident.add(x.data(), x.size()));
    before = emu::stats();
    std::fill(got.begin(), got.end(), 0.0);
    ar::dispatch::prefix_sums(x.data(), n_rows, n_cols, order.data(), order.size(), cuts.data(),
                              cuts.size(), got.data(), kCuda, kSimd);
    CHECK(test::same_bits(got, want));
    // resident: the order went up once more (the gather's rows), never the rows
    CHECK(emu::stats().bytes_to_device - before.bytes_to_device == index_bytes + order.size() * 8);
    // in chunks of columns too
    test::ScopedEnv limit("AUTOREJECT_CUDA_MEMORY_LIMIT", "3000");
    std::fill(got.begin(), got.end(), 0.0);
    ar::dispatch::prefix_sums(x.data(), n_rows, n_cols, order.data(), order.size(), cuts.data(),
                              cuts.size(), got.data(), kCuda, kSimd);
    CHECK(test::same_bits(got, want));
}

TEST_CASE("cuda emulation: the C++ pipeline's threshold search runs on the device",
          "[cuda][emulation][pipeline]") {
    const std::size_t n_epochs = 40;
    const std::size_t n_ch = 6;
    const std::size_t n_times = 50;
    const auto x = test::noise(n_epochs * n_ch * n_times, 94);
    const auto chs = test::eeg_montage(n_ch);
    const ar::EpochsView<double> view(x.data(), n_epochs, n_ch, n_times, chs);
    const std::size_t data_bytes = x.size() * sizeof(double);
    for (const auto method : {ar::ThresholdMethod::RandomSearch, ar::ThresholdMethod::Exact}) {
        INFO((method == ar::ThresholdMethod::Exact ? "exact" : "random search"));
        ar::ThresholdParams params;
        params.method = method;
        params.random_state = 3;
        params.augment = false;  // the data the search sees is the caller's, bytes for bytes
        params.backend = "scalar";
        const auto want = ar::compute_thresholds(view, {}, params);
        params.backend = "cuda";
        const auto before = emu::stats();
        const auto got = ar::compute_thresholds(view, {}, params);
        const auto after = emu::stats();
        CHECK(test::same_bits(got, want));
        // the channels as tasks on three host threads, each launching its own kernels
        params.n_jobs = 3;
        CHECK(test::same_bits(ar::compute_thresholds(view, {}, params), want));
        params.n_jobs = 1;
        // ten fold medians, then for every channel its peak-to-peak and its losses
        // (random search) or its eleven prefix sums (exact) on the device
        const std::size_t per_channel = method == ar::ThresholdMethod::Exact ? 1 + 2 * 11 : 2;
        CHECK(after.launches - before.launches >= 10 + n_ch * per_channel);
        // the data once for the ten medians and each channel's epochs once for all its
        // kernels, plus indices, bounds and medians (a copy per call would be 12 times)
        CHECK(after.bytes_to_device - before.bytes_to_device < 3 * data_bytes);
        CHECK(after.live_bytes == before.live_bytes);
    }
}

TEST_CASE("cuda emulation: get_rejection_threshold's amplitudes and medians run on the device",
          "[cuda][emulation][pipeline]") {
    const std::size_t n_epochs = 30;
    const std::size_t n_ch = 5;
    const std::size_t n_times = 40;
    auto x = test::noise(n_epochs * n_ch * n_times, 95);
    // a few loud epochs, so that the candidates spread
    for (const std::size_t e : {3U, 11U, 20U}) {
        for (std::size_t t = 0; t < n_ch * n_times; ++t) {
            x[e * n_ch * n_times + t] *= 6.0;
        }
    }
    const auto chs = test::eeg_montage(n_ch);
    const ar::EpochsView<double> view(x.data(), n_epochs, n_ch, n_times, chs);
    ar::GlobalThresholdParams params;
    params.backend = "scalar";
    const auto want = ar::get_rejection_threshold(view, params);
    REQUIRE(want.count("eeg") == 1);
    params.backend = "cuda";
    const auto before = emu::stats();
    const auto got = ar::get_rejection_threshold(view, params);
    const auto after = emu::stats();
    REQUIRE(got.count("eeg") == 1);
    CHECK(test::same_bits(got.at("eeg"), want.at("eeg")));
    // one peak-to-peak launch and one median per fold
    CHECK(after.launches - before.launches >= 1 + params.cv);
    // the data went up once for all of them (a copy per call would be six times)
    const std::size_t data_bytes = x.size() * sizeof(double);
    CHECK(after.bytes_to_device - before.bytes_to_device < 2 * data_bytes);
    CHECK(after.live_bytes == before.live_bytes);
}
