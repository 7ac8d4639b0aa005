// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
#include <catch2/catch.hpp>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "autoreject/backend.hpp"
#include "autoreject/kernels/ptp.hpp"

using autoreject::Backend;

namespace {
struct EnvGuard {
    explicit EnvGuard(const char* value) {
        const char* old = std::getenv("AUTOREJECT_BACKEND");
        had_ = old != nullptr;
        if (had_) {
            old_ = old;
        }
        if (value != nullptr) {
            setenv("AUTOREJECT_BACKEND", value, 1);
        } else {
            unsetenv("AUTOREJECT_BACKEND");
        }
    }
    ~EnvGuard() {
        if (had_) {
            setenv("AUTOREJECT_BACKEND", old_.c_str(), 1);
        } else {
            unsetenv("AUTOREJECT_BACKEND");
        }
    }
    EnvGuard(const EnvGuard&) = delete;
    EnvGuard& operator=(const EnvGuard&) = delete;

  private:
    bool had_ = false;
    std::string old_;
};

bool compiled(Backend b) {
    for (const auto& info : autoreject::backends()) {
        if (info.backend == b) {
            return info.compiled;
        }
    }
    return false;
}

bool available(Backend b) {
    for (const auto& info : autoreject::backends()) {
        if (info.backend == b) {
            return info.available;
        }
    }
    return false;
}
}  // namespace

TEST_CASE("backend: the table lists scalar, openmp and cuda with reasons", "[backend]") {
    const auto table = autoreject::backends();
    REQUIRE(table.size() == 3);
    CHECK(table[0].name == "scalar");
    CHECK(table[0].available);
    CHECK(table[1].name == "openmp");
    CHECK(table[2].name == "cuda");
    for (const auto& info : table) {
        CHECK(info.available == info.reason.empty());
        if (!info.compiled) {
            CHECK_FALSE(info.available);
        }
    }
}

TEST_CASE("backend: an explicit name wins over the environment variable", "[backend]") {
    EnvGuard env("openmp");
    CHECK(autoreject::resolve_backend("scalar") == Backend::Scalar);
    CHECK(autoreject::resolve_backend("  SCALAR ") == Backend::Scalar);
}

TEST_CASE("backend: the environment variable is read when no name is given", "[backend]") {
    {
        EnvGuard env("scalar");
        CHECK(autoreject::resolve_backend() == Backend::Scalar);
    }
    if (compiled(Backend::OpenMP)) {
        EnvGuard env("openmp");
        CHECK(autoreject::resolve_backend() == Backend::OpenMP);
    }
}

TEST_CASE("backend: auto is cuda when usable, else openmp with several threads, else scalar",
          "[backend]") {
    EnvGuard env(nullptr);
    const Backend want = available(Backend::Cuda) ? Backend::Cuda
                         : compiled(Backend::OpenMP) && autoreject::max_threads() > 1
                             ? Backend::OpenMP
                             : Backend::Scalar;
    CHECK(autoreject::resolve_backend() == want);
    CHECK(autoreject::resolve_backend("auto") == want);
}

TEST_CASE("backend: an unknown name is an error listing what is available", "[backend]") {
    EnvGuard env(nullptr);
    try {
        autoreject::resolve_backend("gpu");
        FAIL("no exception");
    } catch (const std::invalid_argument& err) {
        const std::string msg = err.what();
        CHECK(msg.find("unknown backend 'gpu'") != std::string::npos);
        CHECK(msg.find("'scalar'") != std::string::npos);
    }
    EnvGuard bogus("doesnotexist");
    try {
        autoreject::resolve_backend();
        FAIL("no exception");
    } catch (const std::invalid_argument& err) {
        CHECK(std::string(err.what()).find("AUTOREJECT_BACKEND") != std::string::npos);
    }
}

TEST_CASE("backend: an unavailable backend is an error saying why, never a fallback", "[backend]") {
    for (const auto& info : autoreject::backends()) {
        if (info.available) {
            continue;
        }
        try {
            autoreject::resolve_backend(info.name);
            FAIL("no exception for " + info.name);
        } catch (const std::invalid_argument& err) {
            const std::string msg = err.what();
            CHECK(msg.find(info.reason) != std::string::npos);
            CHECK(msg.find("available here") != std::string::npos);
        }
        // a kernel asked to run there refuses as well
        double x[2] = {1.0, 2.0};
        double out[1];
        CHECK_THROWS_AS(autoreject::ptp(x, 1, 2, out, {info.backend, 0}), std::invalid_argument);
    }
}

TEST_CASE("backend: a negative thread count is refused", "[backend]") {
    double x[2] = {1.0, 2.0};
    double out[1];
    CHECK_THROWS_AS(autoreject::ptp(x, 1, 2, out, {Backend::Scalar, -1}), std::invalid_argument);
}
