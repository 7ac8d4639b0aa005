// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// A host emulation of the part of the CUDA runtime that src/cuda uses, for testing the
// CUDA backend on machines without a GPU (AUTOREJECT_WITH_CUDA=EMULATE, never a default).
//
// With it the host compiler builds src/cuda/kernels.cu as C++ and the backend's own code
// runs: its argument checks, its chunking by free memory, its retries after a failed
// allocation, its copies, and the device loops, whose grid is run serially on the calling
// thread (blocks and threads last to first, so a kernel that relied on an order of
// execution would show it). What it cannot show is anything the hardware does: speed,
// the device compiler's code, races between real threads.
//
// Device memory is host memory that the emulation tracks. cudaMemcpy checks that the
// device side of a copy lies inside one live allocation and the host side inside none,
// so a copy in the wrong direction or past the end of a buffer is an error rather than
// a silent overrun. Two environment variables, read at every call, shape the device:
//   AUTOREJECT_CUDA_EMULATION_MEMORY         bytes the device holds (default 1 GiB);
//   AUTOREJECT_CUDA_EMULATION_REPORTED_FREE  bytes cudaMemGetInfo claims are free
//                                            (default: the truth); claiming more than
//                                            there is makes allocations fail as they do
//                                            when another process takes the memory
//                                            between the query and the allocation.
#pragma once

#include <cstddef>
#include <functional>

#define CUDART_VERSION 13000

#define __global__
#define __host__
#define __device__

enum cudaError_t {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidDevicePointer = 17,
};

enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
};

struct uint3 {
    unsigned int x, y, z;
};
struct dim3 {
    unsigned int x, y, z;
};

cudaError_t cudaMalloc(void** ptr, std::size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemGetInfo(std::size_t* free, std::size_t* total);
cudaError_t cudaGetLastError();
cudaError_t cudaDeviceSynchronize();
const char* cudaGetErrorName(cudaError_t error);
const char* cudaGetErrorString(cudaError_t error);

namespace autoreject_cuda_emulation {

/// The grid coordinates of the emulated thread that runs now (one per host thread).
struct Grid {
    uint3 block_idx{0, 0, 0};
    uint3 thread_idx{0, 0, 0};
    dim3 block_dim{1, 1, 1};
    dim3 grid_dim{1, 1, 1};
};
Grid& grid();

/// Runs `body` once per thread of a one-dimensional grid of `blocks` x `threads`, with
/// grid() set for each; an invalid configuration is reported by cudaGetLastError().
void launch(int blocks, int threads, const std::function<void()>& body);

/// What the emulated device has done since the process started.
struct Stats {
    std::size_t allocations = 0;         ///< successful cudaMalloc calls
    std::size_t failed_allocations = 0;  ///< cudaMalloc calls refused for lack of memory
    std::size_t launches = 0;            ///< kernel launches run
    std::size_t live_bytes = 0;          ///< bytes allocated and not yet freed
    std::size_t bytes_to_device = 0;     ///< bytes copied from the host to the device
};
Stats stats();

}  // namespace autoreject_cuda_emulation

#define blockIdx (::autoreject_cuda_emulation::grid().block_idx)
#define threadIdx (::autoreject_cuda_emulation::grid().thread_idx)
#define blockDim (::autoreject_cuda_emulation::grid().block_dim)
#define gridDim (::autoreject_cuda_emulation::grid().grid_dim)
