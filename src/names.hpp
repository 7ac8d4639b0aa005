// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// How the registries read a requested name (private to src/).
#pragma once

#include <cctype>
#include <string>

namespace autoreject {
namespace names {

/// A requested backend or instruction-set name, blanks dropped and lower-cased.
inline std::string normalise(const std::string& text) {
    std::string out;
    for (char ch : text) {
        if (std::isspace(static_cast<unsigned char>(ch)) == 0) {
            out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
        }
    }
    return out;
}

}  // namespace names
}  // namespace autoreject
