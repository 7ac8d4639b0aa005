// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
/// @file resident.hpp
/// @brief Arrays kept on the GPU across kernel calls (the cuda backend).
#pragma once

#include <cstddef>
#include <vector>

#include "autoreject/backend.hpp"

namespace autoreject {

/// Keeps arrays on the GPU while the object lives, so that kernels stop copying them.
///
/// The cuda backend copies a kernel's inputs to the device on every call. A caller
/// that passes the same array to many calls (the threshold search passes one channel's
/// epochs to the loss of every proposed threshold) registers it here once: while the
/// object lives, the peak-to-peak, kept-means, threshold-loss and -score, RMSE, RANSAC
/// and vote kernels read an input that lies inside a registered array from its device
/// copy instead of copying it again, and median_rows gathers the rows it needs from a
/// registered array on the device. Registration is explicit and by address range: the
/// caller promises not to modify a registered array, nor free it, while it is
/// registered, since the device copy would then be stale.
///
/// With another backend, or in a build without CUDA, nothing is registered and the
/// kernels run as usual. An array the device has no room for is not registered either
/// (add() returns false) and is copied per call as before. Results never depend on
/// residency.
class DeviceResidency {
  public:
    /// Registers nothing yet; `exec` says whether arrays go to the GPU (Backend::Cuda).
    /// @throws std::invalid_argument when `exec` is unavailable (check_exec).
    explicit DeviceResidency(const Exec& exec);
    /// Unregisters and frees every array this object registered.
    ~DeviceResidency();
    DeviceResidency(const DeviceResidency&) = delete;
    DeviceResidency& operator=(const DeviceResidency&) = delete;

    /// Copies `n` values at `data` to the device and registers them. Returns whether
    /// they are resident: false off the cuda backend, for an empty or already
    /// registered range, or when the device has no room.
    bool add(const double* data, std::size_t n);
    /// The float32 overload of add().
    bool add(const float* data, std::size_t n);

    /// Bytes this object keeps on the device.
    std::size_t bytes() const { return bytes_; }

  private:
    bool add_bytes(const void* data, std::size_t bytes);

    bool on_gpu_;
    std::size_t bytes_ = 0;
    std::vector<const void*> arrays_;
};

}  // namespace autoreject
