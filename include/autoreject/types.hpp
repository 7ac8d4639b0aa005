// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file types.hpp
/// @brief Problem shapes shared by the kernels and the run-time dispatch.
#pragma once

#include <cstddef>
#include <vector>

namespace autoreject {

/// Shape of a kept-means problem (all arrays row-major).
struct KeptMeansShape {
    std::size_t n_rows = 0;    ///< rows of the data
    std::size_t n_times = 0;   ///< columns of the data
    std::size_t n_folds = 0;   ///< folds (rows of train_idx / train_keys)
    std::size_t n_train = 0;   ///< training rows per fold (padded with +inf keys)
    std::size_t n_bounds = 0;  ///< bounds per fold
};

/// Shape of a RANSAC correlation problem.
struct RansacShape {
    std::size_t n_epochs = 0;    ///< epochs
    std::size_t n_channels = 0;  ///< channels (predicted and predicting)
    std::size_t n_times = 0;     ///< samples per epoch
    std::size_t n_resample = 0;  ///< resamples (random subsets)
    std::size_t k_max = 0;       ///< columns of `cols` / `weights` (padded)
};

/// One epoch's repair (see repair_epochs): the channels `to` of epoch `epoch` are
/// replaced by `matrix` times its channels `from`. The job only points at the caller's
/// arrays, which must outlive the call.
struct RepairJob {
    std::size_t epoch = 0;            ///< the epoch to repair
    const long long* from = nullptr;  ///< (n_from,) channels interpolated from
    std::size_t n_from = 0;           ///< channels interpolated from
    const long long* to = nullptr;    ///< (n_to,) channels replaced
    std::size_t n_to = 0;             ///< channels replaced
    const double* matrix = nullptr;   ///< (n_to, n_from) row-major weights
};

/// A dense matrix of doubles, row-major, owning its values (interpolation matrices).
struct Matrix {
    std::size_t rows = 0;        ///< number of rows
    std::size_t cols = 0;        ///< number of columns
    std::vector<double> values;  ///< rows * cols values, row after row

    Matrix() = default;
    /// A rows x cols matrix of zeros.
    Matrix(std::size_t n_rows, std::size_t n_cols)
        : rows(n_rows), cols(n_cols), values(n_rows * n_cols, 0.0) {}
    /// The value at row `i`, column `j` (unchecked).
    double operator()(std::size_t i, std::size_t j) const { return values[i * cols + j]; }
    /// The value at row `i`, column `j`, writable (unchecked).
    double& operator()(std::size_t i, std::size_t j) { return values[i * cols + j]; }
};

}  // namespace autoreject
