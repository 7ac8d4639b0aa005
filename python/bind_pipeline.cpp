// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
#include <pybind11/pybind11.h>

namespace py = pybind11;

void bind_pipeline(py::module_& m) { (void)m; }
