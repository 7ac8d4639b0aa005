// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file algorithms/ransac_decision.hpp
/// @brief RANSAC's bad-channel decision from its correlation matrix.
///
/// A channel is RANSAC-bad in an epoch when its correlation with its prediction is
/// strictly below `min_corr` (a NaN correlation is not below anything, so it is never
/// bad). A channel is bad overall when the number of epochs in which it is bad is
/// strictly greater than `unbroken_time * n_epochs`, that product taken in double
/// precision, as autoreject 0.5.1 decides (`Ransac.bad_chs_`).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "autoreject/config.hpp"
#include "autoreject/errors.hpp"

namespace autoreject {
AUTOREJECT_ISA_BEGIN

/// The RANSAC-bad channels of a correlation matrix.
///
/// @param corr          (n_epochs, n_channels) correlations, row-major (autoreject's
///                      `Ransac.corr_`); each is compared with `min_corr` in double
/// @param n_epochs      epochs (rows)
/// @param n_channels    channels (columns)
/// @param min_corr      a correlation strictly below it marks the channel bad in that epoch
/// @param unbroken_time a channel bad in strictly more than `unbroken_time * n_epochs`
///                      epochs is bad
/// @param out           receives the bad channels' column indices, ascending (cleared first)
/// @throws std::invalid_argument when corr is null for a non-empty matrix
template <class T>
void ransac_bad_channels(const T* corr, std::size_t n_epochs, std::size_t n_channels,
                         double min_corr, double unbroken_time, std::vector<std::size_t>& out) {
    require(corr != nullptr || n_epochs == 0 || n_channels == 0,
            "ransac_bad_channels: corr is null but the matrix is " + std::to_string(n_epochs) +
                " x " + std::to_string(n_channels));
    out.clear();
    const double bound = unbroken_time * static_cast<double>(n_epochs);
    for (std::size_t c = 0; c < n_channels; ++c) {
        std::size_t n_bad = 0;
        for (std::size_t e = 0; e < n_epochs; ++e) {
            n_bad += static_cast<double>(corr[e * n_channels + c]) < min_corr ? 1 : 0;
        }
        if (static_cast<double>(n_bad) > bound) {
            out.push_back(c);
        }
    }
}

AUTOREJECT_ISA_END
}  // namespace autoreject
