// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The CUDA backend's kernels built by the host compiler against the emulated runtime
// (AUTOREJECT_WITH_CUDA=EMULATE; see cuda_runtime.h): the same source nvcc compiles.
#include "cuda/kernels.cu"
