// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The emulated runtime's API header (see cuda_runtime.h): src/backend.cpp reads
// CUDART_VERSION from it.
#pragma once

#include "cuda_runtime.h"
