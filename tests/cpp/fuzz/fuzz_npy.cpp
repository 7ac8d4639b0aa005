// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target: any bytes given to read_npy and read_npz either parse or throw
// std::invalid_argument; anything else (a crash, a sanitizer report, another exception,
// a leak) is a bug. Parsed arrays are read back through every accessor that applies.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "autoreject/io/npy.hpp"

namespace {

void touch(const autoreject::io::NpyArray& a) {
    try {
        if (a.dtype == "<f8") {
            (void)a.as<double>();
        } else if (a.dtype == "<f4") {
            (void)a.as<float>();
        } else if (a.dtype == "<i8") {
            (void)a.as<std::int64_t>();
        } else if (a.dtype == "|u1" || a.dtype == "|b1") {
            (void)a.as<std::uint8_t>();
        } else if (!a.dtype.empty() && a.dtype[1] == 'U') {
            (void)a.as_strings();
        }
        (void)a.itemsize();
    } catch (const std::invalid_argument&) {
        // an invalid code point in a string: refused, as documented
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        touch(autoreject::io::read_npy(data, size, "fuzz.npy"));
    } catch (const std::invalid_argument&) {
    }
    try {
        for (const auto& kv : autoreject::io::read_npz(data, size, "fuzz.npz")) {
            touch(kv.second);
        }
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
