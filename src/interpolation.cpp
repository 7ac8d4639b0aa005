// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// Spherical-spline interpolation matrices (see include/autoreject/interpolation.hpp).
//
// Numerics. The bordered system C has its smallest singular value near alpha (1e-5)
// and its largest near 0.12 * n, so its condition number is 1e5..1e6 for 32..256
// channels. The matrix itself is insensitive to last-bit changes of the cosines (about
// 1e-12 relative), and an LU solve of C X = [H, 1]^T stays within a few 1e-12 of the
// exact result. Forming C^+ explicitly from an SVD and multiplying (MNE's way) loses up
// to cond * eps, hence the LU solve whenever C has full rank, and the SVD pseudo-inverse
// only where singular values must be dropped (alpha = 0 with coincident sensors, ...).
// Eigen runs single-threaded here: callers parallelise over channel sets.
#define EIGEN_DONT_PARALLELIZE
#include "autoreject/interpolation.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace autoreject {

namespace {

constexpr int kTerms = 50;  // Legendre terms of the series
constexpr double kPi = 3.14159265358979323846;

/// The series' coefficients c_1..c_50 (c_0 = 0): (2n + 1) / (n^4 (n + 1)^4 4 pi).
std::array<double, kTerms + 1> series_coefficients() {
    std::array<double, kTerms + 1> c{};
    for (int n = 1; n <= kTerms; ++n) {
        const double a = n;
        const double b = n + 1.0;
        // cppcheck-suppress containerOutOfBounds ; c holds kTerms + 1 values, n <= kTerms
        c[static_cast<std::size_t>(n)] =
            (2.0 * a + 1.0) / (a * a * a * a * (b * b * b * b) * 4.0 * kPi);
    }
    return c;
}

/// g(x) = sum_n c_n P_n(x), by Clenshaw's backward recurrence on the three-term relation
/// (n + 1) P_{n+1}(x) = (2n + 1) x P_n(x) - n P_{n-1}(x).
double spline_kernel(double x) {
    static const std::array<double, kTerms + 1> c = series_coefficients();
    // b_k = c_k + A_k(x) b_{k+1} + B_{k+1} b_{k+2}, with P_{k+1} = A_k P_k + B_k P_{k-1},
    // A_k = (2k + 1) x / (k + 1), B_k = -k / (k + 1); the sum is c_0 + x b_1 + B_1 b_2.
    double b1 = 0.0;  // b_{k+1}
    double b2 = 0.0;  // b_{k+2}
    for (int k = kTerms; k >= 1; --k) {
        const double kk = k;
        const double a_k = (2.0 * kk + 1.0) * x / (kk + 1.0);
        const double b_next = -(kk + 1.0) / (kk + 2.0);
        // cppcheck-suppress containerOutOfBounds ; c holds kTerms + 1 values, k <= kTerms
        const double bk = c[static_cast<std::size_t>(k)] + a_k * b1 + b_next * b2;
        b2 = b1;
        b1 = bk;
    }
    return c[0] + x * b1 - 0.5 * b2;
}

std::string at(const char* name, std::size_t i) {
    return std::string(name) + "[" + std::to_string(i) + "]";
}

/// The positions divided by their norms (zero vectors kept), after checking them.
std::vector<Position> unit_positions(std::vector<Position> positions) {
    if (positions.empty()) {
        throw std::invalid_argument(
            "positions is empty; pass the (x, y, z) position of every channel");
    }
    for (std::size_t i = 0; i < positions.size(); ++i) {
        Position& p = positions[i];
        if (!std::isfinite(p[0]) || !std::isfinite(p[1]) || !std::isfinite(p[2])) {
            throw std::invalid_argument(at("positions", i) +
                                        " has a non-finite coordinate; give every channel a "
                                        "finite (x, y, z) position (or drop the channel)");
        }
        const double norm = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
        if (norm > 0.0) {
            p[0] /= norm;
            p[1] /= norm;
            p[2] /= norm;
        }
    }
    return positions;
}

void check_alpha(double alpha) {
    if (!std::isfinite(alpha) || alpha < 0.0) {
        throw std::invalid_argument("alpha = " + std::to_string(alpha) +
                                    " is invalid; pass a finite regularisation >= 0 (MNE's "
                                    "default is 1e-5)");
    }
}

/// Checks that every index of `idx` lies in [0, n) and, when `distinct`, that none repeats.
void check_indices(const std::vector<std::size_t>& idx, std::size_t n, const char* name,
                   bool distinct) {
    std::vector<std::size_t> first(distinct ? n : 0, n);  // where each channel was seen
    for (std::size_t i = 0; i < idx.size(); ++i) {
        if (idx[i] >= n) {
            throw std::invalid_argument(at(name, i) + " = " + std::to_string(idx[i]) +
                                        " is outside [0, " + std::to_string(n) +
                                        "); pass indices into the positions");
        }
        if (distinct) {
            if (first[idx[i]] != n) {
                throw std::invalid_argument(at(name, i) + " = " + std::to_string(idx[i]) +
                                            " repeats " + at(name, first[idx[i]]) +
                                            "; pass each channel once (remove duplicates)");
            }
            first[idx[i]] = i;
        }
    }
}

double dot(const Position& a, const Position& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

/// The matrix interpolating r channels from k channels, given kernel(a, b) for the a-th
/// from-channel against the b-th from-channel, and cross(a, b) for the a-th to-channel
/// against the b-th from-channel.
template <class Kernel, class Cross>
Matrix solve_spline(std::size_t k, std::size_t r, double alpha, const Kernel& kernel,
                    const Cross& cross) {
    using Eigen::Index;
    if (r == 0) {
        return Matrix(0, k);  // nothing to interpolate (Eigen's solvers need a right-hand side)
    }
    const auto n = static_cast<Index>(k);
    Eigen::MatrixXd system(n + 1, n + 1);
    for (Index b = 0; b < n; ++b) {
        for (Index a = 0; a < n; ++a) {
            system(a, b) = kernel(static_cast<std::size_t>(a), static_cast<std::size_t>(b));
        }
        system(b, b) += alpha;
        system(n, b) = 1.0;
        system(b, n) = 1.0;
    }
    system(n, n) = 0.0;
    // the right-hand sides [H, 1]^T, one column per to-channel
    Eigen::MatrixXd rhs(n + 1, static_cast<Index>(r));
    for (Index a = 0; a < static_cast<Index>(r); ++a) {
        for (Index b = 0; b < n; ++b) {
            rhs(b, a) = cross(static_cast<std::size_t>(a), static_cast<std::size_t>(b));
        }
        rhs(n, a) = 1.0;
    }
    // C is symmetric: its singular values are the moduli of its eigenvalues. Those at or
    // below (k + 1) * eps * the largest count as zero (the pseudo-inverse's rule).
    const Eigen::VectorXd eig =
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(system, Eigen::EigenvaluesOnly)
            .eigenvalues()
            .cwiseAbs();
    const double cutoff =
        eig.maxCoeff() * static_cast<double>(n + 1) * std::numeric_limits<double>::epsilon();
    Eigen::MatrixXd solution;
    if ((eig.array() > cutoff).all()) {
        solution = system.partialPivLu().solve(rhs);
    } else {
        const Eigen::JacobiSVD<Eigen::MatrixXd> svd(system,
                                                    Eigen::ComputeThinU | Eigen::ComputeThinV);
        const Eigen::VectorXd& s = svd.singularValues();
        const double svd_cutoff =
            s(0) * static_cast<double>(n + 1) * std::numeric_limits<double>::epsilon();
        Index rank = 0;
        while (rank < s.size() && s(rank) > svd_cutoff) {
            ++rank;
        }
        // C^+ rhs = V_r diag(1 / s_r) U_r^T rhs
        Eigen::MatrixXd projected = svd.matrixU().leftCols(rank).transpose() * rhs;
        for (Index i = 0; i < rank; ++i) {
            projected.row(i) /= s(i);
        }
        solution = svd.matrixV().leftCols(rank) * projected;
    }
    Matrix out(r, k);
    for (std::size_t a = 0; a < r; ++a) {
        for (std::size_t b = 0; b < k; ++b) {
            out(a, b) = solution(static_cast<Index>(b), static_cast<Index>(a));
        }
    }
    return out;
}

}  // namespace

Matrix spline_interpolation_matrix(const std::vector<Position>& positions,
                                   const std::vector<std::size_t>& from,
                                   const std::vector<std::size_t>& to, double alpha) {
    const std::vector<Position> unit = unit_positions(positions);
    check_alpha(alpha);
    if (from.empty()) {
        throw std::invalid_argument("from is empty; pass at least one channel to interpolate from");
    }
    check_indices(from, unit.size(), "from", true);
    check_indices(to, unit.size(), "to", false);
    const auto kernel = [&](std::size_t a, std::size_t b) {
        return spline_kernel(dot(unit[from[a]], unit[from[b]]));
    };
    const auto cross = [&](std::size_t a, std::size_t b) {
        return spline_kernel(dot(unit[to[a]], unit[from[b]]));
    };
    return solve_spline(from.size(), to.size(), alpha, kernel, cross);
}

struct SplineInterpolator::Impl {
    std::size_t n = 0;
    double alpha = 0.0;
    std::vector<double> table;  // g(u_i . u_j), n x n, row-major

    double g(std::size_t i, std::size_t j) const { return table[i * n + j]; }
};

SplineInterpolator::SplineInterpolator(std::vector<Position> positions, double alpha)
    : impl_(std::make_unique<Impl>()) {
    const std::vector<Position> unit = unit_positions(std::move(positions));
    check_alpha(alpha);
    Impl& d = *impl_;
    d.n = unit.size();
    d.alpha = alpha;
    d.table.assign(d.n * d.n, 0.0);
    for (std::size_t i = 0; i < d.n; ++i) {
        for (std::size_t j = i; j < d.n; ++j) {
            // the products commute, so u_i . u_j and u_j . u_i are the same number
            const double value = spline_kernel(dot(unit[i], unit[j]));
            d.table[i * d.n + j] = value;
            d.table[j * d.n + i] = value;
        }
    }
}

SplineInterpolator::~SplineInterpolator() = default;

SplineInterpolator::SplineInterpolator(const SplineInterpolator& other)
    : impl_(std::make_unique<Impl>(*other.impl_)) {}

SplineInterpolator& SplineInterpolator::operator=(const SplineInterpolator& other) {
    if (this != &other) {
        impl_ = std::make_unique<Impl>(*other.impl_);
    }
    return *this;
}

SplineInterpolator::SplineInterpolator(SplineInterpolator&& other) noexcept = default;

SplineInterpolator& SplineInterpolator::operator=(SplineInterpolator&& other) noexcept = default;

std::size_t SplineInterpolator::n_channels() const { return impl_->n; }

double SplineInterpolator::alpha() const { return impl_->alpha; }

Matrix SplineInterpolator::matrix(const std::vector<std::size_t>& from,
                                  const std::vector<std::size_t>& to) const {
    const Impl& d = *impl_;
    if (from.empty()) {
        throw std::invalid_argument("from is empty; pass at least one channel to interpolate from");
    }
    check_indices(from, d.n, "from", true);
    check_indices(to, d.n, "to", false);
    const auto kernel = [&](std::size_t a, std::size_t b) { return d.g(from[a], from[b]); };
    const auto cross = [&](std::size_t a, std::size_t b) { return d.g(to[a], from[b]); };
    return solve_spline(from.size(), to.size(), d.alpha, kernel, cross);
}

std::vector<Matrix> SplineInterpolator::leave_one_out(
    const std::vector<std::size_t>& channels) const {
    const Impl& d = *impl_;
    if (channels.size() < 2) {
        throw std::invalid_argument("channels has " + std::to_string(channels.size()) +
                                    " element(s); pass at least two channels (each one is "
                                    "interpolated from the others)");
    }
    check_indices(channels, d.n, "channels", true);
    std::vector<Matrix> rows;
    rows.reserve(channels.size());
    std::vector<std::size_t> others(channels.size() - 1);
    for (std::size_t i = 0; i < channels.size(); ++i) {
        std::copy(channels.begin(), channels.begin() + static_cast<std::ptrdiff_t>(i),
                  others.begin());
        std::copy(channels.begin() + static_cast<std::ptrdiff_t>(i) + 1, channels.end(),
                  others.begin() + static_cast<std::ptrdiff_t>(i));
        const std::size_t target = channels[i];
        const auto kernel = [&](std::size_t a, std::size_t b) { return d.g(others[a], others[b]); };
        const auto cross = [&](std::size_t, std::size_t b) { return d.g(target, others[b]); };
        rows.push_back(solve_spline(others.size(), 1, d.alpha, kernel, cross));
    }
    return rows;
}

}  // namespace autoreject
