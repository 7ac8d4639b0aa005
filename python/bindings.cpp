// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// All pybind11 code: the module autoreject_cpp._core. Arrays come in as C-ordered
// float64 / int64 (converted when needed, never modified), shapes are checked while
// the GIL is held, and the kernels run without it. std::invalid_argument becomes
// ValueError.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>

#include "autoreject/autoreject.hpp"
#include "autoreject/dispatch.hpp"

namespace py = pybind11;
namespace ar = autoreject;

namespace {

using Doubles = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Indices = py::array_t<long long, py::array::c_style | py::array::forcecast>;

using OptStr = std::optional<std::string>;

ar::Simd make_simd(const OptStr& simd) { return ar::resolve_simd(simd.value_or(std::string())); }

ar::Exec make_exec(const std::optional<std::string>& backend, int n_threads) {
    ar::Exec exec;
    exec.backend = ar::resolve_backend(backend.value_or(std::string()));
    exec.n_threads = n_threads;
    ar::check_exec(exec);
    return exec;
}

void require_ndim(const py::array& a, py::ssize_t ndim, const char* name, const char* shape) {
    if (a.ndim() != ndim) {
        throw std::invalid_argument(std::string(name) + " must be " + std::to_string(ndim) +
                                    "-D with shape " + shape + "; got " + std::to_string(a.ndim()) +
                                    "-D");
    }
}

void require_dim(py::ssize_t got, py::ssize_t want, const char* what) {
    if (got != want) {
        throw std::invalid_argument(std::string(what) + ": expected " + std::to_string(want) +
                                    ", got " + std::to_string(got));
    }
}

std::size_t sz(py::ssize_t v) { return static_cast<std::size_t>(v); }

Doubles ptp(const Doubles& x, const std::optional<std::string>& backend, int n_threads,
            const OptStr& simd_name) {
    require_ndim(x, 2, "x", "(n_rows, n_cols)");
    auto exec = make_exec(backend, n_threads);
    const auto simd = make_simd(simd_name);
    Doubles out(x.shape(0));
    const double* in = x.data();
    double* res = out.mutable_data();
    {
        py::gil_scoped_release release;
        ar::dispatch::ptp(in, sz(x.shape(0)), sz(x.shape(1)), res, exec, simd);
    }
    return out;
}

Doubles median_rows(const Doubles& x, const Indices& rows,
                    const std::optional<std::string>& backend, int n_threads,
                    const OptStr& simd_name) {
    require_ndim(x, 2, "x", "(n_rows, n_cols)");
    require_ndim(rows, 1, "rows", "(n_selected,)");
    auto exec = make_exec(backend, n_threads);
    const auto simd = make_simd(simd_name);
    Doubles out(x.shape(1));
    const double* in = x.data();
    const long long* idx = rows.data();
    double* res = out.mutable_data();
    {
        py::gil_scoped_release release;
        ar::dispatch::median_rows(in, sz(x.shape(0)), sz(x.shape(1)), idx, sz(rows.shape(0)), res,
                                  exec, simd);
    }
    return out;
}

ar::KeptMeansShape kept_shape(const Doubles& data, const Indices& train_idx,
                              const Doubles& train_keys, const Doubles& bounds) {
    require_ndim(data, 2, "data", "(n_rows, n_times)");
    require_ndim(train_idx, 2, "train_idx", "(n_folds, n_train)");
    require_ndim(train_keys, 2, "train_keys", "(n_folds, n_train)");
    require_ndim(bounds, 2, "bounds", "(n_bounds, n_folds)");
    require_dim(train_keys.shape(0), train_idx.shape(0), "train_keys.shape[0] (folds)");
    require_dim(train_keys.shape(1), train_idx.shape(1), "train_keys.shape[1] (training rows)");
    require_dim(bounds.shape(1), train_idx.shape(0), "bounds.shape[1] (folds)");
    ar::KeptMeansShape s;
    s.n_rows = sz(data.shape(0));
    s.n_times = sz(data.shape(1));
    s.n_folds = sz(train_idx.shape(0));
    s.n_train = sz(train_idx.shape(1));
    s.n_bounds = sz(bounds.shape(0));
    return s;
}

Doubles kept_means(const Doubles& data, const Indices& train_idx, const Doubles& train_keys,
                   const Doubles& bounds, const std::optional<std::string>& backend, int n_threads,
                   const OptStr& simd_name) {
    const auto s = kept_shape(data, train_idx, train_keys, bounds);
    auto exec = make_exec(backend, n_threads);
    const auto simd = make_simd(simd_name);
    Doubles out({s.n_bounds, s.n_folds, s.n_times});
    const double* d = data.data();
    const long long* ti = train_idx.data();
    const double* tk = train_keys.data();
    const double* b = bounds.data();
    double* res = out.mutable_data();
    {
        py::gil_scoped_release release;
        ar::dispatch::kept_means(d, ti, tk, b, s, res, exec, simd);
    }
    return out;
}

// threshold_losses (one value per bound) and threshold_scores (one per bound and fold):
// the same arguments and checks, another kernel and output shape
template <class Kernel>
Doubles fold_kernel(Kernel kernel, bool per_fold, const Doubles& data, const Indices& train_idx,
                    const Doubles& train_keys, const Doubles& bounds, const Doubles& medians,
                    const OptStr& backend, int n_threads, const OptStr& simd_name) {
    const auto s = kept_shape(data, train_idx, train_keys, bounds);
    require_ndim(medians, 2, "medians", "(n_folds, n_times)");
    require_dim(medians.shape(0), train_idx.shape(0), "medians.shape[0] (folds)");
    require_dim(medians.shape(1), data.shape(1), "medians.shape[1] (n_times)");
    auto exec = make_exec(backend, n_threads);
    const auto simd = make_simd(simd_name);
    Doubles out =
        per_fold ? Doubles({s.n_bounds, s.n_folds}) : Doubles(static_cast<py::ssize_t>(s.n_bounds));
    const double* d = data.data();
    const long long* ti = train_idx.data();
    const double* tk = train_keys.data();
    const double* b = bounds.data();
    const double* m = medians.data();
    double* res = out.mutable_data();
    {
        py::gil_scoped_release release;
        kernel(d, ti, tk, b, m, s, res, exec, simd);
    }
    return out;
}

Doubles threshold_losses(const Doubles& data, const Indices& train_idx, const Doubles& train_keys,
                         const Doubles& bounds, const Doubles& medians, const OptStr& backend,
                         int n_threads, const OptStr& simd_name) {
    return fold_kernel(&ar::dispatch::threshold_losses, false, data, train_idx, train_keys, bounds,
                       medians, backend, n_threads, simd_name);
}

Doubles threshold_scores(const Doubles& data, const Indices& train_idx, const Doubles& train_keys,
                         const Doubles& bounds, const Doubles& medians, const OptStr& backend,
                         int n_threads, const OptStr& simd_name) {
    return fold_kernel(&ar::dispatch::threshold_scores, true, data, train_idx, train_keys, bounds,
                       medians, backend, n_threads, simd_name);
}

Doubles rmse_rows(const Doubles& median, const Doubles& means) {
    require_ndim(median, 1, "median", "(n,)");
    require_ndim(means, 2, "means", "(n_means, n)");
    require_dim(means.shape(1), median.shape(0), "means.shape[1]");
    Doubles out(means.shape(0));
    ar::rmse_rows(median.data(), means.data(), sz(means.shape(0)), sz(median.shape(0)),
                  out.mutable_data());
    return out;
}

Doubles prefix_sums(const Doubles& data, const Indices& order, const Indices& cuts,
                    const std::optional<std::string>& backend, int n_threads,
                    const OptStr& simd_name) {
    require_ndim(data, 2, "data", "(n_rows, n_cols)");
    require_ndim(order, 1, "order", "(n_selected,)");
    require_ndim(cuts, 1, "cuts", "(n_cuts,)");
    auto exec = make_exec(backend, n_threads);
    const auto simd = make_simd(simd_name);
    Doubles out({cuts.shape(0), data.shape(1)});
    const double* d = data.data();
    const long long* o = order.data();
    const long long* c = cuts.data();
    double* res = out.mutable_data();
    {
        py::gil_scoped_release release;
        ar::dispatch::prefix_sums(d, sz(data.shape(0)), sz(data.shape(1)), o, sz(order.shape(0)), c,
                                  sz(cuts.shape(0)), res, exec, simd);
    }
    return out;
}

Doubles ransac_correlations(const Doubles& data, const Indices& cols, const Indices& counts,
                            const Doubles& weights, const std::optional<std::string>& backend,
                            int n_threads, const OptStr& simd_name) {
    require_ndim(data, 3, "data", "(n_epochs, n_channels, n_times)");
    require_ndim(cols, 2, "cols", "(n_resample, k_max)");
    require_ndim(counts, 1, "counts", "(n_resample,)");
    require_ndim(weights, 3, "weights", "(n_resample, n_channels, k_max)");
    require_dim(counts.shape(0), cols.shape(0), "counts.shape[0] (resamples)");
    require_dim(weights.shape(0), cols.shape(0), "weights.shape[0] (resamples)");
    require_dim(weights.shape(1), data.shape(1), "weights.shape[1] (channels)");
    require_dim(weights.shape(2), cols.shape(1), "weights.shape[2] (k_max)");
    auto exec = make_exec(backend, n_threads);
    const auto simd = make_simd(simd_name);
    ar::RansacShape s;
    s.n_epochs = sz(data.shape(0));
    s.n_channels = sz(data.shape(1));
    s.n_times = sz(data.shape(2));
    s.n_resample = sz(cols.shape(0));
    s.k_max = sz(cols.shape(1));
    Doubles out({data.shape(0), data.shape(1)});
    const double* d = data.data();
    const long long* c = cols.data();
    const long long* n = counts.data();
    const double* w = weights.data();
    double* res = out.mutable_data();
    {
        py::gil_scoped_release release;
        ar::dispatch::ransac_correlations(d, c, n, w, s, res, exec, simd);
    }
    return out;
}

py::tuple vote_bad_epochs(const Doubles& deltas, const Doubles& threshes) {
    require_ndim(deltas, 2, "deltas", "(n_epochs, n_sensors)");
    require_ndim(threshes, 1, "threshes", "(n_sensors,)");
    require_dim(threshes.shape(0), deltas.shape(1), "threshes.shape[0] (sensors)");
    py::array_t<bool> bad({deltas.shape(0), deltas.shape(1)});
    py::array_t<std::int64_t> counts(deltas.shape(0));
    static_assert(sizeof(bool) == sizeof(std::uint8_t), "bool must be one byte");
    ar::vote_bad_epochs(deltas.data(), sz(deltas.shape(0)), sz(deltas.shape(1)), threshes.data(),
                        reinterpret_cast<std::uint8_t*>(bad.mutable_data()), counts.mutable_data());
    return py::make_tuple(bad, counts);
}

// backends() and simd_levels(): a list of {name, compiled, available, reason}
template <class Table>
py::list info_table(const Table& table) {
    py::list out;
    for (const auto& info : table) {
        py::dict d;
        d["name"] = info.name;
        d["compiled"] = info.compiled;
        d["available"] = info.available;
        d["reason"] = info.reason;
        out.append(d);
    }
    return out;
}

}  // namespace

// the C++ pipeline's pieces, each bound in its own file
void bind_interpolation(py::module_& m);
void bind_random(py::module_& m);
void bind_pipeline(py::module_& m);

PYBIND11_MODULE(_core, m) {
    m.doc() = "autoreject_cpp's C++ core: kernels and the backend registry";
    m.attr("__version__") = AUTOREJECT_VERSION_STRING;
    m.def(
        "backends", []() { return info_table(ar::backends()); },
        "Every backend the core knows: name, compiled, available and why not.");
    m.def(
        "resolve_backend",
        [](const std::optional<std::string>& name) {
            return ar::backend_name(ar::resolve_backend(name.value_or(std::string())));
        },
        py::arg("name") = py::none(),
        "Resolve a backend request (argument, then AUTOREJECT_BACKEND, then 'auto').");
    m.def("max_threads", &ar::max_threads, "Threads the OpenMP backend uses by default.");
    m.def(
        "simd_levels", []() { return info_table(ar::simd_levels()); },
        "Instruction sets the kernels are built for: name, compiled, available and why not.");
    m.def(
        "resolve_simd", [](const OptStr& name) { return ar::simd_name(make_simd(name)); },
        py::arg("name") = py::none(),
        "Resolve an instruction-set request (argument, then AUTOREJECT_SIMD, then 'auto').");
    const auto kw_backend = py::arg("backend") = py::none();
    const auto kw_threads = py::arg("n_threads") = 0;
    const auto kw_simd = py::arg("simd") = py::none();
    m.def("ptp", &ptp, py::arg("x"), py::kw_only(), kw_backend, kw_threads, kw_simd,
          "Peak-to-peak amplitude of each row of a 2-D array.");
    m.def("median_rows", &median_rows, py::arg("x"), py::arg("rows"), py::kw_only(), kw_backend,
          kw_threads, kw_simd, "np.median(x[rows], axis=0), bit for bit.");
    m.def("kept_means", &kept_means, py::arg("data"), py::arg("train_idx"), py::arg("train_keys"),
          py::arg("bounds"), py::kw_only(), kw_backend, kw_threads, kw_simd,
          "Epoch-order means of the kept training rows, (n_bounds, n_folds, n_times).");
    m.def("threshold_losses", &threshold_losses, py::arg("data"), py::arg("train_idx"),
          py::arg("train_keys"), py::arg("bounds"), py::arg("medians"), py::kw_only(), kw_backend,
          kw_threads, kw_simd, "Cross-validated loss of each bound, (n_bounds,).");
    m.def("threshold_scores", &threshold_scores, py::arg("data"), py::arg("train_idx"),
          py::arg("train_keys"), py::arg("bounds"), py::arg("medians"), py::kw_only(), kw_backend,
          kw_threads, kw_simd, "Each fold's -RMSE of each bound, (n_bounds, n_folds).");
    m.def("rmse_rows", &rmse_rows, py::arg("median"), py::arg("means"),
          "np.sqrt(np.mean((median - means) ** 2, axis=-1)), bit for bit.");
    m.def("prefix_sums", &prefix_sums, py::arg("data"), py::arg("order"), py::arg("cuts"),
          py::kw_only(), kw_backend, kw_threads, kw_simd,
          "Prefix sums in NumPy's order, (n_cuts, n_cols).");
    m.def("ransac_correlations", &ransac_correlations, py::arg("data"), py::arg("cols"),
          py::arg("counts"), py::arg("weights"), py::kw_only(), kw_backend, kw_threads, kw_simd,
          "RANSAC correlation of each channel with its median prediction, (n_epochs, n_channels).");
    m.def("vote_bad_epochs", &vote_bad_epochs, py::arg("deltas"), py::arg("threshes"),
          "Bad-sensor matrix (peak-to-peak > threshold) and bad count per epoch.");
    bind_interpolation(m);
    bind_random(m);
    bind_pipeline(m);
}
