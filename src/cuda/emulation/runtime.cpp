// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The emulated CUDA runtime (see cuda_runtime.h): device memory as tracked host memory,
// kernels run serially on the calling thread.
#include "cuda_runtime.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>

namespace autoreject_cuda_emulation {
namespace {

constexpr std::size_t kDefaultMemory = std::size_t(1) << 30;
constexpr int kMaxThreadsPerBlock = 1024;

struct Device {
    std::mutex mutex;
    std::map<std::uintptr_t, std::size_t> live;  // start address -> bytes
    Stats stats;
};

Device& device() {
    static Device d;
    return d;
}

thread_local cudaError_t last_error = cudaSuccess;

// the value of a byte-count environment variable, or `fallback` when it is unset or
// not a number
std::size_t env_bytes(const char* name, std::size_t fallback) {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') {
        return fallback;
    }
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    return *end == '\0' ? static_cast<std::size_t>(v) : fallback;
}

std::size_t capacity() { return env_bytes("AUTOREJECT_CUDA_EMULATION_MEMORY", kDefaultMemory); }

// whether [p, p + bytes) lies inside one live allocation (the caller holds the mutex)
bool inside_allocation(const Device& d, const void* p, std::size_t bytes) {
    const auto at = reinterpret_cast<std::uintptr_t>(p);
    auto it = d.live.upper_bound(at);
    if (it == d.live.begin()) {
        return false;
    }
    --it;
    return at >= it->first && bytes <= it->second && at - it->first <= it->second - bytes;
}

// whether [p, p + bytes) overlaps any live allocation (the caller holds the mutex)
bool touches_allocation(const Device& d, const void* p, std::size_t bytes) {
    const auto at = reinterpret_cast<std::uintptr_t>(p);
    auto it = d.live.upper_bound(at);
    if (it != d.live.begin() && std::prev(it)->first + std::prev(it)->second > at) {
        return true;
    }
    return it != d.live.end() && bytes > 0 && it->first < at + bytes;
}

cudaError_t fail(cudaError_t error) {
    last_error = error;
    return error;
}

}  // namespace

Grid& grid() {
    thread_local Grid g;
    return g;
}

void launch(int blocks, int threads, const std::function<void()>& body) {
    if (blocks <= 0 || threads <= 0 || threads > kMaxThreadsPerBlock) {
        fail(cudaErrorInvalidConfiguration);
        return;
    }
    Grid& g = grid();
    const Grid saved = g;
    g.grid_dim = {static_cast<unsigned>(blocks), 1, 1};
    g.block_dim = {static_cast<unsigned>(threads), 1, 1};
    for (int b = blocks - 1; b >= 0; --b) {
        for (int t = threads - 1; t >= 0; --t) {
            g.block_idx = {static_cast<unsigned>(b), 0, 0};
            g.thread_idx = {static_cast<unsigned>(t), 0, 0};
            body();
        }
    }
    g = saved;
    std::lock_guard<std::mutex> lock(device().mutex);
    ++device().stats.launches;
}

Stats stats() {
    std::lock_guard<std::mutex> lock(device().mutex);
    return device().stats;
}

}  // namespace autoreject_cuda_emulation

using autoreject_cuda_emulation::device;
using autoreject_cuda_emulation::fail;

cudaError_t cudaMalloc(void** ptr, std::size_t bytes) {
    if (ptr == nullptr) {
        return fail(cudaErrorInvalidValue);
    }
    auto& d = device();
    std::lock_guard<std::mutex> lock(d.mutex);
    if (bytes > autoreject_cuda_emulation::capacity() ||
        d.stats.live_bytes > autoreject_cuda_emulation::capacity() - bytes) {
        ++d.stats.failed_allocations;
        return fail(cudaErrorMemoryAllocation);
    }
    void* p = std::malloc(bytes == 0 ? 1 : bytes);
    if (p == nullptr) {
        ++d.stats.failed_allocations;
        return fail(cudaErrorMemoryAllocation);
    }
    d.live[reinterpret_cast<std::uintptr_t>(p)] = bytes;
    d.stats.live_bytes += bytes;
    ++d.stats.allocations;
    *ptr = p;
    return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
    if (ptr == nullptr) {
        return cudaSuccess;
    }
    auto& d = device();
    std::lock_guard<std::mutex> lock(d.mutex);
    const auto it = d.live.find(reinterpret_cast<std::uintptr_t>(ptr));
    if (it == d.live.end()) {
        return fail(cudaErrorInvalidDevicePointer);
    }
    d.stats.live_bytes -= it->second;
    d.live.erase(it);
    std::free(ptr);
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
    if (bytes == 0) {
        return cudaSuccess;
    }
    auto& d = device();
    {
        std::lock_guard<std::mutex> lock(d.mutex);
        const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
        const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
        const bool dst_ok =
            dst_device ? inside_allocation(d, dst, bytes) : !touches_allocation(d, dst, bytes);
        const bool src_ok =
            src_device ? inside_allocation(d, src, bytes) : !touches_allocation(d, src, bytes);
        if (dst == nullptr || src == nullptr || !dst_ok || !src_ok) {
            return fail(cudaErrorInvalidValue);
        }
        if (kind == cudaMemcpyHostToDevice) {
            d.stats.bytes_to_device += bytes;
        }
    }
    std::memmove(dst, src, bytes);
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(std::size_t* free, std::size_t* total) {
    if (free == nullptr || total == nullptr) {
        return fail(cudaErrorInvalidValue);
    }
    auto& d = device();
    std::lock_guard<std::mutex> lock(d.mutex);
    const std::size_t cap = autoreject_cuda_emulation::capacity();
    const std::size_t truth = cap > d.stats.live_bytes ? cap - d.stats.live_bytes : 0;
    *free = autoreject_cuda_emulation::env_bytes("AUTOREJECT_CUDA_EMULATION_REPORTED_FREE", truth);
    *total = cap;
    return cudaSuccess;
}

cudaError_t cudaGetLastError() {
    const cudaError_t e = autoreject_cuda_emulation::last_error;
    autoreject_cuda_emulation::last_error = cudaSuccess;
    return e;
}

cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

const char* cudaGetErrorName(cudaError_t error) {
    switch (error) {
        case cudaSuccess:
            return "cudaSuccess";
        case cudaErrorInvalidValue:
            return "cudaErrorInvalidValue";
        case cudaErrorMemoryAllocation:
            return "cudaErrorMemoryAllocation";
        case cudaErrorInvalidConfiguration:
            return "cudaErrorInvalidConfiguration";
        case cudaErrorInvalidDevicePointer:
            return "cudaErrorInvalidDevicePointer";
    }
    return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
    switch (error) {
        case cudaSuccess:
            return "no error";
        case cudaErrorInvalidValue:
            return "invalid argument (emulation: a copy outside a live device allocation, or "
                   "a host side inside one)";
        case cudaErrorMemoryAllocation:
            return "out of memory (emulated device)";
        case cudaErrorInvalidConfiguration:
            return "invalid configuration argument";
        case cudaErrorInvalidDevicePointer:
            return "invalid device pointer";
    }
    return "unknown error";
}
