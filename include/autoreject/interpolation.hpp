// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file interpolation.hpp
/// @brief Spherical-spline (Perrin et al., 1989) interpolation matrices for EEG sensors,
///        the numbers of MNE's `_make_interpolation_matrix` (stiffness m = 4, 50 Legendre
///        terms, regularisation alpha on the diagonal, a constant term, pseudo-inverse).
///
/// Each position is projected onto the unit sphere around the origin (divided by its
/// norm; a position at the origin is kept as the zero vector). For unit vectors u_i, u_j
/// the kernel is g(u_i . u_j) with
///
///     g(x) = sum_{n=1..50} (2n + 1) / (4 pi n^4 (n + 1)^4) P_n(x)
///
/// (P_n the Legendre polynomials). With `from` = f_1..f_k and `to` = t_1..t_r, the system
///
///     C = [[G + alpha I, 1], [1^T, 0]],  G_ab = g(u_{f_a} . u_{f_b})   (size k + 1)
///
/// is pseudo-inverted (singular values at or below (k + 1) * eps * max singular value
/// count as zero, SciPy's default) and the matrix is [H, 1] C^+ restricted to its first k
/// columns, H_ab = g(u_{t_a} . u_{f_b}). Row a holds the weights that estimate channel t_a
/// from channels f_1..f_k. When C has full rank (always the case with alpha > 0 and
/// distinct positions), C^+ = C^-1 and the system is solved by LU factorisation rather
/// than by forming the inverse from the SVD: the result is then within a few 1e-12 of
/// the exact matrix (relative to its largest entry). MNE's SVD-based numbers are
/// themselves up to ~1.3e-10 from it on 32- to 128-channel montages and ~1e-9 at 256
/// channels (the system's condition number is ~1e6), which bounds how close the two
/// can agree.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <vector>

#include "autoreject/types.hpp"

namespace autoreject {

/// A sensor position (x, y, z); any scale, projected onto the unit sphere.
using Position = std::array<double, 3>;

/// The spherical-spline matrix interpolating channels `to` from channels `from`.
///
/// @param positions sensor positions (at least one, all coordinates finite)
/// @param from      channels interpolated from, indices into `positions`: at least one
///                  (one channel gives a constant: every weight 1), no index twice
/// @param to        channels interpolated to, indices into `positions`; may be empty,
///                  may repeat and may overlap `from`
/// @param alpha     regularisation added to the diagonal of G (finite, >= 0)
/// @return a `to.size()` x `from.size()` matrix, row-major
/// @throws std::invalid_argument for empty `positions` or `from`, a non-finite
///         coordinate, an index outside [0, positions.size()), an index repeated in
///         `from`, or a negative or non-finite `alpha`
Matrix spline_interpolation_matrix(const std::vector<Position>& positions,
                                   const std::vector<std::size_t>& from,
                                   const std::vector<std::size_t>& to, double alpha = 1e-5);

/// Spherical-spline matrices for one montage and many channel sets.
///
/// The series g is evaluated once, on every pair of channels, when the interpolator is
/// built; each matrix then reads its entries from that table (the same values
/// spline_interpolation_matrix computes). All const methods may be called from several
/// threads at once.
class SplineInterpolator {
  public:
    /// Projects `positions` onto the unit sphere and tabulates g on every pair.
    /// @param positions sensor positions (at least one, all coordinates finite)
    /// @param alpha     regularisation added to the diagonal of G (finite, >= 0)
    /// @throws std::invalid_argument for empty `positions`, a non-finite coordinate, or a
    ///         negative or non-finite `alpha`
    explicit SplineInterpolator(std::vector<Position> positions, double alpha = 1e-5);
    /// Releases the tables.
    ~SplineInterpolator();
    /// A copy sharing nothing with `other`.
    SplineInterpolator(const SplineInterpolator& other);
    /// Replaces the tables with copies of `other`'s.
    SplineInterpolator& operator=(const SplineInterpolator& other);
    /// Takes `other`'s tables; `other` may then only be destroyed or assigned to.
    SplineInterpolator(SplineInterpolator&& other) noexcept;
    /// Takes `other`'s tables; `other` may then only be destroyed or assigned to.
    SplineInterpolator& operator=(SplineInterpolator&& other) noexcept;

    /// The number of positions the interpolator was built with.
    std::size_t n_channels() const;

    /// The regularisation the interpolator was built with.
    double alpha() const;

    /// The matrix interpolating `to` from `from`: spline_interpolation_matrix(positions,
    /// from, to, alpha), with the series read from the table.
    /// @throws std::invalid_argument for an empty `from`, an index outside
    ///         [0, n_channels()), or an index repeated in `from`
    Matrix matrix(const std::vector<std::size_t>& from, const std::vector<std::size_t>& to) const;

    /// Leave-one-out rows: for each channel c_i of `channels`, the 1 x (n - 1) matrix
    /// interpolating c_i from the other channels of `channels`, in their order with c_i
    /// skipped (n = channels.size()). Equal to matrix(others, {c_i}) for every i; each
    /// row is solved on its own system (one LU factorisation of size n per channel).
    /// @throws std::invalid_argument for fewer than two channels, an index outside
    ///         [0, n_channels()), or an index given twice
    std::vector<Matrix> leave_one_out(const std::vector<std::size_t>& channels) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace autoreject
