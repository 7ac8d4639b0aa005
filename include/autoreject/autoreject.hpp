// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file autoreject.hpp
/// @brief Umbrella header: the public C++ API of autoreject_cpp.
#pragma once

#include "autoreject/algorithms/ransac.hpp"
#include "autoreject/algorithms/ransac_decision.hpp"
#include "autoreject/algorithms/repair.hpp"
#include "autoreject/algorithms/vote.hpp"
#include "autoreject/backend.hpp"
#include "autoreject/config.hpp"
#include "autoreject/errors.hpp"
#include "autoreject/interpolation.hpp"
#include "autoreject/kernels/kept_means.hpp"
#include "autoreject/kernels/median.hpp"
#include "autoreject/kernels/prefix_sums.hpp"
#include "autoreject/kernels/ptp.hpp"
#include "autoreject/kernels/sum.hpp"
#include "autoreject/kernels/take.hpp"
#include "autoreject/pipeline.hpp"
#include "autoreject/random.hpp"
#include "autoreject/resident.hpp"
#include "autoreject/types.hpp"
