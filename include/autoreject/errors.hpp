// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file errors.hpp
/// @brief Argument checks that throw std::invalid_argument naming the argument and the fix.
#pragma once

#include "autoreject/config.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>

namespace autoreject {
AUTOREJECT_ISA_BEGIN

/// Throws std::invalid_argument with `message` unless `condition` holds.
inline void require(bool condition, const std::string& message) {
    if (!condition) {
        throw std::invalid_argument(message);
    }
}

/// Throws unless `size` is non-zero: `name` must not be empty.
inline void require_non_empty(std::size_t size, const char* name) {
    require(size > 0, std::string(name) + " is empty; pass at least one element");
}

/// Throws unless every index of `idx[0..n)` lies in [0, bound).
inline void require_indices(const long long* idx, std::size_t n, std::size_t bound,
                            const char* name, const char* what) {
    for (std::size_t i = 0; i < n; ++i) {
        if (idx[i] < 0 || static_cast<unsigned long long>(idx[i]) >= bound) {
            throw std::invalid_argument(std::string(name) + "[" + std::to_string(i) +
                                        "] = " + std::to_string(idx[i]) + " is outside [0, " +
                                        std::to_string(bound) + "): it must index " + what);
        }
    }
}

AUTOREJECT_ISA_END
}  // namespace autoreject
