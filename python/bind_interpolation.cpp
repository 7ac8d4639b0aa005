// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The spherical-spline matrices (autoreject/interpolation.hpp) as _core.spline_matrix and
// _core.spline_leave_one_out. Inputs are converted to C-ordered float64 / int64 copies
// (the caller's arrays are never written), checked with the GIL held, and the matrices
// are computed without it.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "autoreject/interpolation.hpp"

namespace py = pybind11;
namespace ar = autoreject;

namespace {

using Doubles = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Indices = py::array_t<long long, py::array::c_style | py::array::forcecast>;

std::vector<ar::Position> positions_of(const Doubles& pos) {
    if (pos.ndim() != 2 || pos.shape(1) != 3) {
        std::string shape = "(";
        for (py::ssize_t i = 0; i < pos.ndim(); ++i) {
            shape += (i > 0 ? ", " : "") + std::to_string(pos.shape(i));
        }
        shape += pos.ndim() == 1 ? ",)" : ")";
        throw std::invalid_argument("pos must have shape (n_channels, 3); got " + shape);
    }
    const auto n = static_cast<std::size_t>(pos.shape(0));
    std::vector<ar::Position> out(n);
    if (n > 0) {
        std::memcpy(out.data(), pos.data(), n * 3 * sizeof(double));
    }
    return out;
}

std::vector<std::size_t> indices_of(const Indices& idx, const char* name) {
    if (idx.ndim() != 1) {
        throw std::invalid_argument(std::string(name) +
                                    " must be a 1-D array of channel indices; "
                                    "got " +
                                    std::to_string(idx.ndim()) + "-D");
    }
    const auto n = static_cast<std::size_t>(idx.shape(0));
    std::vector<std::size_t> out(n);
    const long long* p = idx.data();
    for (std::size_t i = 0; i < n; ++i) {
        if (p[i] < 0) {
            throw std::invalid_argument(std::string(name) + "[" + std::to_string(i) +
                                        "] = " + std::to_string(p[i]) +
                                        " is negative; pass indices into pos (0 .. n - 1)");
        }
        out[i] = static_cast<std::size_t>(p[i]);
    }
    return out;
}

py::array_t<double> to_array(const ar::Matrix& m) {
    py::array_t<double> out({static_cast<py::ssize_t>(m.rows), static_cast<py::ssize_t>(m.cols)});
    if (!m.values.empty()) {
        std::memcpy(out.mutable_data(), m.values.data(), m.values.size() * sizeof(double));
    }
    return out;
}

py::array_t<double> spline_matrix(const Doubles& pos, const Indices& from, const Indices& to,
                                  double alpha) {
    const std::vector<ar::Position> positions = positions_of(pos);
    const std::vector<std::size_t> f = indices_of(from, "from");
    const std::vector<std::size_t> t = indices_of(to, "to");
    ar::Matrix m;
    {
        py::gil_scoped_release release;
        m = ar::spline_interpolation_matrix(positions, f, t, alpha);
    }
    return to_array(m);
}

py::array_t<double> spline_leave_one_out(const Doubles& pos, const Indices& channels,
                                         double alpha) {
    std::vector<ar::Position> positions = positions_of(pos);
    const std::vector<std::size_t> c = indices_of(channels, "channels");
    std::vector<ar::Matrix> rows;
    {
        py::gil_scoped_release release;
        const ar::SplineInterpolator spline(std::move(positions), alpha);
        rows = spline.leave_one_out(c);
    }
    const std::size_t n = c.size();
    py::array_t<double> out({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(n - 1)});
    double* dst = out.mutable_data();
    for (std::size_t i = 0; i < n; ++i) {
        std::memcpy(dst + i * (n - 1), rows[i].values.data(), (n - 1) * sizeof(double));
    }
    return out;
}

}  // namespace

void bind_interpolation(py::module_& m) {
    m.def("spline_matrix", &spline_matrix, py::arg("pos"), py::arg("from_"), py::arg("to"),
          py::arg("alpha") = 1e-5,
          "Spherical-spline matrix interpolating channels ``to`` from channels ``from_`` "
          "(indices into ``pos``), shape (len(to), len(from_)); MNE's "
          "_make_interpolation_matrix(pos[from_], pos[to], alpha).");
    m.def("spline_leave_one_out", &spline_leave_one_out, py::arg("pos"), py::arg("channels"),
          py::arg("alpha") = 1e-5,
          "Leave-one-out spline rows, shape (n, n - 1): row i interpolates channels[i] from "
          "the other channels, in order.");
}
