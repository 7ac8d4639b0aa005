// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// Spherical-spline matrices (autoreject/interpolation.hpp): properties that hold whatever
// the implementation (exact interpolation without regularisation, weights summing to one,
// invariance under relabelling, rotation and radial scaling, minimum-norm splitting of
// coincident sensors), the argument checks, and MNE's matrices stored by
// references/make_spline_reference.py.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "autoreject/interpolation.hpp"
#include "helpers.hpp"

#if defined(AUTOREJECT_REFERENCES_DIR)
#include <filesystem>
#include <map>

#include "autoreject/io/npy.hpp"
#endif

namespace ar = autoreject;

namespace {

using test::cap;

std::vector<std::size_t> range(std::size_t begin, std::size_t end) {
    std::vector<std::size_t> out(end - begin);
    std::iota(out.begin(), out.end(), begin);
    return out;
}

double max_abs(const ar::Matrix& m) {
    double out = 0.0;
    for (const double v : m.values) {
        out = std::max(out, std::abs(v));
    }
    return out;
}

double max_abs_diff(const ar::Matrix& a, const ar::Matrix& b) {
    REQUIRE(a.rows == b.rows);
    REQUIRE(a.cols == b.cols);
    double out = 0.0;
    for (std::size_t i = 0; i < a.values.size(); ++i) {
        out = std::max(out, std::abs(a.values[i] - b.values[i]));
    }
    return out;
}

/// Calls `f` and checks that it throws std::invalid_argument mentioning `word`.
template <class F>
void require_invalid(F&& f, const std::string& word) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        INFO("message: " << e.what());
        CHECK(std::string(e.what()).find(word) != std::string::npos);
        return;
    }
    FAIL("no std::invalid_argument thrown (expected one about '" << word << "')");
}

}  // namespace

TEST_CASE("spline: without regularisation, channels interpolated onto themselves are kept",
          "[interpolation][spline]") {
    const auto pos = cap(24);
    const auto all = range(0, 24);
    const ar::Matrix m = ar::spline_interpolation_matrix(pos, all, all, 0.0);
    REQUIRE(m.rows == 24);
    REQUIRE(m.cols == 24);
    for (std::size_t i = 0; i < 24; ++i) {
        for (std::size_t j = 0; j < 24; ++j) {
            CHECK(m(i, j) == Approx(i == j ? 1.0 : 0.0).margin(1e-6));
        }
    }
    // with MNE's alpha the spline smooths, so the diagonal stays below one
    const ar::Matrix smooth = ar::spline_interpolation_matrix(pos, all, all);
    for (std::size_t i = 0; i < 24; ++i) {
        CHECK(smooth(i, i) < 1.0);
        CHECK(smooth(i, i) > 0.0);
    }
}

TEST_CASE("spline: every row's weights sum to one (constants are interpolated exactly)",
          "[interpolation][spline]") {
    const auto pos = cap(40);
    const std::vector<std::size_t> from = {0, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    const ar::Matrix m = ar::spline_interpolation_matrix(pos, from, range(0, 40));
    for (std::size_t i = 0; i < m.rows; ++i) {
        double sum = 0.0;
        for (std::size_t j = 0; j < m.cols; ++j) {
            sum += m(i, j);
        }
        CHECK(sum == Approx(1.0).margin(1e-12));
    }
}

TEST_CASE("spline: one channel to interpolate from gives that channel's value everywhere",
          "[interpolation][spline]") {
    const ar::Matrix m = ar::spline_interpolation_matrix(cap(8), {4}, {0, 1, 4, 7});
    REQUIRE(m.rows == 4);
    REQUIRE(m.cols == 1);
    for (const double v : m.values) {
        CHECK(v == Approx(1.0).margin(1e-12));
    }
}

TEST_CASE("spline: relabelling channels permutes rows and columns", "[interpolation][spline]") {
    const std::size_t n = 30;
    const auto pos = cap(n);
    const std::vector<std::size_t> from = {1, 4, 6, 9, 10, 14, 15, 20, 22, 25, 27, 29};
    const std::vector<std::size_t> to = {0, 2, 3, 8, 21};
    const ar::Matrix ref = ar::spline_interpolation_matrix(pos, from, to);

    // positions stored in reverse order: channel c now sits at n - 1 - c
    std::vector<ar::Position> reversed(pos.rbegin(), pos.rend());
    std::vector<std::size_t> from_r;
    std::vector<std::size_t> to_r;
    from_r.reserve(from.size());
    to_r.reserve(to.size());
    for (const std::size_t c : from) {
        from_r.push_back(n - 1 - c);
    }
    for (const std::size_t c : to) {
        to_r.push_back(n - 1 - c);
    }
    // and the from / to lists themselves reordered
    std::reverse(from_r.begin(), from_r.end());
    std::rotate(to_r.begin(), to_r.begin() + 2, to_r.end());
    const ar::Matrix got = ar::spline_interpolation_matrix(reversed, from_r, to_r);
    for (std::size_t i = 0; i < to.size(); ++i) {
        const std::size_t gi = (i + to.size() - 2) % to.size();
        for (std::size_t j = 0; j < from.size(); ++j) {
            const std::size_t gj = from.size() - 1 - j;
            CHECK(got(gi, gj) == Approx(ref(i, j)).margin(1e-12));
        }
    }
}

TEST_CASE("spline: rotating the montage or moving sensors along their radius changes nothing",
          "[interpolation][spline]") {
    const auto pos = cap(32);
    const std::vector<std::size_t> from = range(0, 24);
    const std::vector<std::size_t> to = range(20, 32);
    const ar::Matrix ref = ar::spline_interpolation_matrix(pos, from, to);

    // a rotation by 0.7 rad about z then 0.3 rad about x, and each sensor at its own radius
    const double c1 = std::cos(0.7);
    const double s1 = std::sin(0.7);
    const double c2 = std::cos(0.3);
    const double s2 = std::sin(0.3);
    std::vector<ar::Position> moved(pos.size());
    for (std::size_t i = 0; i < pos.size(); ++i) {
        const auto& p = pos[i];
        const double x = c1 * p[0] - s1 * p[1];
        const double y = s1 * p[0] + c1 * p[1];
        const double z = p[2];
        const double scale = 0.5 + 0.1 * static_cast<double>(i % 7);
        moved[i] = {scale * x, scale * (c2 * y - s2 * z), scale * (s2 * y + c2 * z)};
    }
    const ar::Matrix got = ar::spline_interpolation_matrix(moved, from, to);
    CHECK(max_abs_diff(got, ref) <= 1e-10 * max_abs(ref));
}

TEST_CASE("spline: coincident sensors without regularisation share their weight equally",
          "[interpolation][spline]") {
    // channel 12 repeats channel 3's position: with alpha = 0 the system is singular and the
    // pseudo-inverse gives the minimum-norm weights, half of channel 3's weight each
    auto pos = cap(12);
    pos.push_back(pos[3]);
    const std::vector<std::size_t> distinct = range(0, 10);
    std::vector<std::size_t> with_copy = distinct;
    with_copy.push_back(12);
    const std::vector<std::size_t> to = {10, 11};
    const ar::Matrix ref = ar::spline_interpolation_matrix(pos, distinct, to, 0.0);
    const ar::Matrix got = ar::spline_interpolation_matrix(pos, with_copy, to, 0.0);
    REQUIRE(got.cols == 11);
    for (std::size_t i = 0; i < to.size(); ++i) {
        for (std::size_t j = 0; j < 10; ++j) {
            const double want = j == 3 ? 0.5 * ref(i, 3) : ref(i, j);
            CHECK(got(i, j) == Approx(want).margin(1e-8));
        }
        CHECK(got(i, 10) == Approx(0.5 * ref(i, 3)).margin(1e-8));
    }
}

TEST_CASE("spline: a sensor at the origin is kept as the zero vector", "[interpolation][spline]") {
    // its cosines with every sensor, itself included, are 0 (MNE does not reject it); the
    // system stays regular: finite weights that sum to one
    auto pos = cap(10);
    pos[5] = {0.0, 0.0, 0.0};
    const ar::Matrix m = ar::spline_interpolation_matrix(pos, range(0, 8), {8, 9, 5});
    for (std::size_t i = 0; i < m.rows; ++i) {
        double sum = 0.0;
        for (std::size_t j = 0; j < m.cols; ++j) {
            REQUIRE(std::isfinite(m(i, j)));
            sum += m(i, j);
        }
        CHECK(sum == Approx(1.0).margin(1e-12));
    }
}

TEST_CASE("spline interpolator: the same numbers as spline_interpolation_matrix",
          "[interpolation][spline]") {
    const auto pos = cap(36);
    const ar::SplineInterpolator spline(pos, 1e-5);
    CHECK(spline.n_channels() == 36);
    CHECK(spline.alpha() == 1e-5);
    const std::vector<std::vector<std::size_t>> froms = {
        range(0, 36), {2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 32, 35}, {7}};
    for (const auto& from : froms) {
        const std::vector<std::size_t> to = {0, 1, 2, 35, 17};
        const ar::Matrix a = spline.matrix(from, to);
        const ar::Matrix b = ar::spline_interpolation_matrix(pos, from, to, 1e-5);
        CHECK(a.rows == to.size());
        CHECK(a.cols == from.size());
        CHECK(a.values == b.values);  // same series values, same solve: same bits
    }
    // copies compute the same (the copy constructor is under test)
    // NOLINTNEXTLINE(performance-unnecessary-copy-initialization)
    const ar::SplineInterpolator copy = spline;
    CHECK(copy.matrix(range(0, 10), {20}).values == spline.matrix(range(0, 10), {20}).values);
    ar::SplineInterpolator moved(cap(3));
    moved = ar::SplineInterpolator(copy);
    CHECK(moved.n_channels() == 36);
}

TEST_CASE("spline interpolator: leave_one_out rows are matrix(others, {channel})",
          "[interpolation][spline]") {
    const auto pos = cap(20);
    const ar::SplineInterpolator spline(pos);
    const std::vector<std::size_t> channels = {19, 0, 4, 7, 8, 12, 3, 15};
    const std::vector<ar::Matrix> rows = spline.leave_one_out(channels);
    REQUIRE(rows.size() == channels.size());
    for (std::size_t i = 0; i < channels.size(); ++i) {
        std::vector<std::size_t> others = channels;
        others.erase(others.begin() + static_cast<std::ptrdiff_t>(i));
        const ar::Matrix want = spline.matrix(others, {channels[i]});
        CHECK(rows[i].rows == 1);
        CHECK(rows[i].cols == channels.size() - 1);
        CHECK(rows[i].values == want.values);
    }
}

TEST_CASE("spline interpolator: matrix() from several threads gives the serial numbers",
          "[interpolation][spline]") {
    const auto pos = cap(48);
    const ar::SplineInterpolator spline(pos);
    std::vector<std::vector<std::size_t>> froms;
    for (std::size_t s = 0; s < 16; ++s) {
        std::vector<std::size_t> from;
        for (std::size_t c = 0; c < 48; ++c) {
            if ((c * 7 + s) % 5 != 0) {
                from.push_back(c);
            }
        }
        froms.push_back(from);
    }
    std::vector<ar::Matrix> serial;
    serial.reserve(froms.size());
    for (const auto& from : froms) {
        serial.push_back(spline.matrix(from, range(0, 48)));
    }
    std::vector<ar::Matrix> parallel(froms.size());
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (std::size_t s = t; s < froms.size(); s += 4) {
                parallel[s] = spline.matrix(froms[s], range(0, 48));
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    for (std::size_t s = 0; s < froms.size(); ++s) {
        CHECK(parallel[s].values == serial[s].values);
    }
}

TEST_CASE("spline: invalid arguments are rejected with their name", "[interpolation][spline]") {
    const auto pos = cap(6);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    require_invalid([&] { ar::spline_interpolation_matrix({}, {0}, {0}); }, "positions");
    auto bad = pos;
    bad[2][1] = nan;
    require_invalid([&] { ar::spline_interpolation_matrix(bad, {0, 1}, {3}); }, "positions[2]");
    bad[2][1] = inf;
    require_invalid([&] { ar::SplineInterpolator s(bad); }, "positions[2]");
    require_invalid([&] { ar::spline_interpolation_matrix(pos, {}, {0}); }, "from");
    require_invalid([&] { ar::spline_interpolation_matrix(pos, {0, 6}, {1}); }, "from[1]");
    require_invalid([&] { ar::spline_interpolation_matrix(pos, {0, 1}, {1, 9}); }, "to[1]");
    require_invalid([&] { ar::spline_interpolation_matrix(pos, {0, 1, 0}, {2}); }, "from[2]");
    require_invalid([&] { ar::spline_interpolation_matrix(pos, {0, 1}, {2}, -1e-5); }, "alpha");
    require_invalid([&] { ar::spline_interpolation_matrix(pos, {0, 1}, {2}, nan); }, "alpha");
    require_invalid([&] { ar::SplineInterpolator s(pos, inf); }, "alpha");
    const ar::SplineInterpolator spline(pos);
    require_invalid([&] { (void)spline.matrix({}, {1}); }, "from");
    require_invalid([&] { (void)spline.matrix({1, 1}, {0}); }, "from[1]");
    require_invalid([&] { (void)spline.matrix({1}, {6}); }, "to[0]");
    require_invalid([&] { (void)spline.leave_one_out({3}); }, "channels");
    require_invalid([&] { (void)spline.leave_one_out({3, 4, 3}); }, "channels[2]");
    require_invalid([&] { (void)spline.leave_one_out({3, 7}); }, "channels[1]");
    // `to` may be empty, repeat, and overlap `from`
    CHECK(ar::spline_interpolation_matrix(pos, {0, 1}, {}).rows == 0);
    CHECK(ar::spline_interpolation_matrix(pos, {0, 1}, {1, 1, 0}).rows == 3);
}

#if defined(AUTOREJECT_REFERENCES_DIR)
TEST_CASE("spline: MNE's matrices on the biosemi64 montage, to 1e-10 of their peak",
          "[interpolation][spline][references]") {
    namespace io = autoreject::io;
    const std::string path = std::string(AUTOREJECT_REFERENCES_DIR) + "/spline_matrices.npz";
    if (!std::filesystem::exists(path)) {
        WARN("reference " << path << " is missing: skipped");
        return;
    }
    const std::map<std::string, io::NpyArray> z = io::load_npz(path);
    const auto get = [&](const std::string& key) -> const io::NpyArray& {
        const auto it = z.find(key);
        if (it == z.end()) {
            FAIL("the reference has no entry '" << key << "'");
        }
        return it->second;
    };
    const io::NpyArray& pos_array = get("pos");
    REQUIRE(pos_array.shape.size() == 2);
    REQUIRE(pos_array.shape[1] == 3);
    const std::vector<double> flat = pos_array.as<double>();
    std::vector<ar::Position> pos(pos_array.shape[0]);
    for (std::size_t i = 0; i < pos.size(); ++i) {
        pos[i] = {flat[3 * i], flat[3 * i + 1], flat[3 * i + 2]};
    }
    const ar::SplineInterpolator spline(pos);
    const auto indices = [&](const std::string& key) {
        const std::vector<std::int64_t> v = get(key).as<std::int64_t>();
        return std::vector<std::size_t>(v.begin(), v.end());
    };
    for (const std::string name : {"loo", "bads", "ransac"}) {
        SECTION(name) {
            const std::vector<std::size_t> from = indices(name + "_from");
            const std::vector<std::size_t> to = indices(name + "_to");
            const io::NpyArray& ref_array = get(name + "_matrix");
            REQUIRE(ref_array.shape == std::vector<std::size_t>{to.size(), from.size()});
            ar::Matrix ref(to.size(), from.size());
            ref.values = ref_array.as<double>();
            const double peak = max_abs(ref);
            const ar::Matrix direct = ar::spline_interpolation_matrix(pos, from, to);
            const ar::Matrix tabled = spline.matrix(from, to);
            INFO(name << ": max |diff| / max |ref| = " << max_abs_diff(direct, ref) / peak);
            CHECK(max_abs_diff(direct, ref) <= 1e-10 * peak);
            CHECK(max_abs_diff(tabled, ref) <= 1e-10 * peak);
        }
    }
    SECTION("leave-one-out row of channel 10") {
        const std::vector<ar::Matrix> rows = spline.leave_one_out(range(0, pos.size()));
        ar::Matrix ref(1, pos.size() - 1);
        ref.values = get("loo_matrix").as<double>();
        CHECK(max_abs_diff(rows[10], ref) <= 1e-10 * max_abs(ref));
    }
}
#endif
