// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// Only in AUTOREJECT_WITH_CUDA=EMULATE builds: the CUDA backend's host code on the
// emulated GPU (src/cuda/emulation) where a real one cannot be made to fail on demand:
// allocations that fail after the free-memory query, a device too small for one unit of
// work, device memory given back after errors; and the emulation's own copy checks, on
// which the other tests rely to catch a copy past a buffer's end.
#include <cuda_runtime.h>
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "autoreject/autoreject.hpp"
#include "autoreject/dispatch.hpp"
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
