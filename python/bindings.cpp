// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// All pybind11 code: the module autoreject_cpp._core. Arrays come in as C-ordered
// float64 / int64 (converted when needed, never modified; a float32 data array runs the
// float32 kernels instead, with its companions converted to float32), shapes are checked while
// the GIL is held, and the kernels run without it. std::invalid_argument becomes
// ValueError.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "autoreject/autoreject.hpp"
#include "autoreject/dispatch.hpp"
#include "autoreject/resident.hpp"

namespace py = pybind11;
namespace ar = autoreject;

namespace {

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

// The kernels' arrays in precision T (forcecast: converted when needed, never modified).
template <class T>
using Arr = py::array_t<T, py::array::c_style | py::array::forcecast>;
using Doubles = Arr<double>;

// Whether `h` is a NumPy float32 array: the kernels then run in float32 (their other
// float arguments are converted to float32) and return float32; anything else is
// converted to float64, as before float32 support.
bool is_float32(const py::handle& h) {
    if (!py::isinstance<py::array>(h)) {
        return false;
    }
    const auto dt = py::reinterpret_borrow<py::array>(h).dtype();
    return dt.kind() == 'f' && dt.itemsize() == 4;
}

template <class T>
Arr<T> as_array(const py::handle& h, const char* name) {
    try {
        return h.cast<Arr<T>>();
    } catch (const py::cast_error&) {
        throw py::type_error(std::string(name) + " must be an array of real numbers; got " +
                             std::string(py::str(py::type::of(h).attr("__name__"))));
    }
}

// Calls `impl.template operator()<T>()` with T = float for float32 `x`, else double.
template <class Impl>
py::array by_dtype(const py::handle& x, Impl&& impl) {
    if (is_float32(x)) {
        return impl(float{});
    }
    return impl(double{});
}

template <class T>
Arr<T> ptp_t(const Arr<T>& x, const OptStr& backend, int n_threads, const OptStr& simd_name) {
    require_ndim(x, 2, "x", "(n_rows, n_cols)");
    auto exec = make_exec(backend, n_threads);
    const auto simd = make_simd(simd_name);
    Arr<T> out(x.shape(0));
    const T* in = x.data();
    T* res = out.mutable_data();
    {
        py::gil_scoped_release release;
        ar::dispatch::ptp(in, sz(x.shape(0)), sz(x.shape(1)), res, exec, simd);
    }
    return out;
}

py::array ptp(const py::object& x, const OptStr& backend, int n_threads, const OptStr& simd_name) {
    return by_dtype(x, [&](auto t) -> py::array {
        using T = decltype(t);
        return ptp_t<T>(as_array<T>(x, "x"), backend, n_threads, simd_name);
    });
}

template <class T>
Arr<T> median_rows_t(const Arr<T>& x, const Indices& rows, const OptStr& backend, int n_threads,
                     const OptStr& simd_name) {
    require_ndim(x, 2, "x", "(n_rows, n_cols)");
    require_ndim(rows, 1, "rows", "(n_selected,)");
    auto exec = make_exec(backend, n_threads);
    const auto simd = make_simd(simd_name);
    Arr<T> out(x.shape(1));
    const T* in = x.data();
    const long long* idx = rows.data();
    T* res = out.mutable_data();
    {
        py::gil_scoped_release release;
        ar::dispatch::median_rows(in, sz(x.shape(0)), sz(x.shape(1)), idx, sz(rows.shape(0)), res,
                                  exec, simd);
    }
    return out;
}

py::array median_rows(const py::object& x, const Indices& rows, const OptStr& backend,
                      int n_threads, const OptStr& simd_name) {
    return by_dtype(x, [&](auto t) -> py::array {
        using T = decltype(t);
        return median_rows_t<T>(as_array<T>(x, "x"), rows, backend, n_threads, simd_name);
    });
}

template <class T>
ar::KeptMeansShape kept_shape(const Arr<T>& data, const Indices& train_idx,
                              const Arr<T>& train_keys, const Arr<T>& bounds) {
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

template <class T>
Arr<T> kept_means_t(const Arr<T>& data, const Indices& train_idx, const Arr<T>& train_keys,
                    const Arr<T>& bounds, const OptStr& backend, int n_threads,
                    const OptStr& simd_name) {
    const auto s = kept_shape(data, train_idx, train_keys, bounds);
    auto exec = make_exec(backend, n_threads);
    const auto simd = make_simd(simd_name);
    Arr<T> out({s.n_bounds, s.n_folds, s.n_times});
    const T* d = data.data();
    const long long* ti = train_idx.data();
    const T* tk = train_keys.data();
    const T* b = bounds.data();
    T* res = out.mutable_data();
    {
        py::gil_scoped_release release;
        ar::dispatch::kept_means(d, ti, tk, b, s, res, exec, simd);
    }
    return out;
}

py::array kept_means(const py::object& data, const Indices& train_idx, const py::object& train_keys,
                     const py::object& bounds, const OptStr& backend, int n_threads,
                     const OptStr& simd_name) {
    return by_dtype(data, [&](auto t) -> py::array {
        using T = decltype(t);
        return kept_means_t<T>(as_array<T>(data, "data"), train_idx,
                               as_array<T>(train_keys, "train_keys"), as_array<T>(bounds, "bounds"),
                               backend, n_threads, simd_name);
    });
}

// threshold_losses (one value per bound) and threshold_scores (one per bound and fold):
// the same arguments and checks, another kernel and output shape
template <class T, class Kernel>
Arr<T> fold_kernel(Kernel kernel, bool per_fold, const Arr<T>& data, const Indices& train_idx,
                   const Arr<T>& train_keys, const Arr<T>& bounds, const Arr<T>& medians,
                   const OptStr& backend, int n_threads, const OptStr& simd_name) {
    const auto s = kept_shape(data, train_idx, train_keys, bounds);
    require_ndim(medians, 2, "medians", "(n_folds, n_times)");
    require_dim(medians.shape(0), train_idx.shape(0), "medians.shape[0] (folds)");
    require_dim(medians.shape(1), data.shape(1), "medians.shape[1] (n_times)");
    auto exec = make_exec(backend, n_threads);
    const auto simd = make_simd(simd_name);
    Arr<T> out =
        per_fold ? Arr<T>({s.n_bounds, s.n_folds}) : Arr<T>(static_cast<py::ssize_t>(s.n_bounds));
    const T* d = data.data();
    const long long* ti = train_idx.data();
    const T* tk = train_keys.data();
    const T* b = bounds.data();
    const T* m = medians.data();
    T* res = out.mutable_data();
    {
        py::gil_scoped_release release;
        kernel(d, ti, tk, b, m, s, res, exec, simd);
    }
    return out;
}

template <bool PerFold>
py::array fold_entry(const py::object& data, const Indices& train_idx, const py::object& train_keys,
                     const py::object& bounds, const py::object& medians, const OptStr& backend,
                     int n_threads, const OptStr& simd_name) {
    return by_dtype(data, [&](auto t) -> py::array {
        using T = decltype(t);
        using Fn = void (*)(const T*, const long long*, const T*, const T*, const T*,
                            const ar::KeptMeansShape&, T*, const ar::Exec&, ar::Simd);
        const Fn kernel = PerFold ? static_cast<Fn>(&ar::dispatch::threshold_scores)
                                  : static_cast<Fn>(&ar::dispatch::threshold_losses);
        return fold_kernel<T>(kernel, PerFold, as_array<T>(data, "data"), train_idx,
                              as_array<T>(train_keys, "train_keys"), as_array<T>(bounds, "bounds"),
                              as_array<T>(medians, "medians"), backend, n_threads, simd_name);
    });
}

py::array threshold_losses(const py::object& data, const Indices& train_idx,
                           const py::object& train_keys, const py::object& bounds,
                           const py::object& medians, const OptStr& backend, int n_threads,
                           const OptStr& simd_name) {
    return fold_entry<false>(data, train_idx, train_keys, bounds, medians, backend, n_threads,
                             simd_name);
}

py::array threshold_scores(const py::object& data, const Indices& train_idx,
                           const py::object& train_keys, const py::object& bounds,
                           const py::object& medians, const OptStr& backend, int n_threads,
                           const OptStr& simd_name) {
    return fold_entry<true>(data, train_idx, train_keys, bounds, medians, backend, n_threads,
                            simd_name);
}

Doubles rmse_rows(const Doubles& median, const Doubles& means, const OptStr& backend,
                  int n_threads) {
    require_ndim(median, 1, "median", "(n,)");
    require_ndim(means, 2, "means", "(n_means, n)");
    require_dim(means.shape(1), median.shape(0), "means.shape[1]");
    const auto exec = make_exec(backend, n_threads);
    Doubles out(means.shape(0));
    const double* med = median.data();
    const double* rows = means.data();
    double* res = out.mutable_data();
    {
        py::gil_scoped_release release;
        ar::dispatch::rmse_rows(med, rows, sz(means.shape(0)), sz(median.shape(0)), res, exec);
    }
    return out;
}

template <class T>
Arr<T> prefix_sums_t(const Arr<T>& data, const Indices& order, const Indices& cuts,
                     const OptStr& backend, int n_threads, const OptStr& simd_name) {
    require_ndim(data, 2, "data", "(n_rows, n_cols)");
    require_ndim(order, 1, "order", "(n_selected,)");
    require_ndim(cuts, 1, "cuts", "(n_cuts,)");
    auto exec = make_exec(backend, n_threads);
    const auto simd = make_simd(simd_name);
    Arr<T> out({cuts.shape(0), data.shape(1)});
    const T* d = data.data();
    const long long* o = order.data();
    const long long* c = cuts.data();
    T* res = out.mutable_data();
    {
        py::gil_scoped_release release;
        ar::dispatch::prefix_sums(d, sz(data.shape(0)), sz(data.shape(1)), o, sz(order.shape(0)), c,
                                  sz(cuts.shape(0)), res, exec, simd);
    }
    return out;
}

py::array prefix_sums(const py::object& data, const Indices& order, const Indices& cuts,
                      const OptStr& backend, int n_threads, const OptStr& simd_name) {
    return by_dtype(data, [&](auto t) -> py::array {
        using T = decltype(t);
        return prefix_sums_t<T>(as_array<T>(data, "data"), order, cuts, backend, n_threads,
                                simd_name);
    });
}

template <class T>
Arr<T> ransac_correlations_t(const Arr<T>& data, const Indices& cols, const Indices& counts,
                             const Arr<T>& weights, const OptStr& backend, int n_threads,
                             const OptStr& simd_name) {
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
    Arr<T> out({data.shape(0), data.shape(1)});
    const T* d = data.data();
    const long long* c = cols.data();
    const long long* n = counts.data();
    const T* w = weights.data();
    T* res = out.mutable_data();
    {
        py::gil_scoped_release release;
        ar::dispatch::ransac_correlations(d, c, n, w, s, res, exec, simd);
    }
    return out;
}

py::array ransac_correlations(const py::object& data, const Indices& cols, const Indices& counts,
                              const py::object& weights, const OptStr& backend, int n_threads,
                              const OptStr& simd_name) {
    return by_dtype(data, [&](auto t) -> py::array {
        using T = decltype(t);
        return ransac_correlations_t<T>(as_array<T>(data, "data"), cols, counts,
                                        as_array<T>(weights, "weights"), backend, n_threads,
                                        simd_name);
    });
}

py::tuple vote_bad_epochs(const Doubles& deltas, const Doubles& threshes, const OptStr& backend,
                          int n_threads) {
    require_ndim(deltas, 2, "deltas", "(n_epochs, n_sensors)");
    require_ndim(threshes, 1, "threshes", "(n_sensors,)");
    require_dim(threshes.shape(0), deltas.shape(1), "threshes.shape[0] (sensors)");
    py::array_t<bool> bad({deltas.shape(0), deltas.shape(1)});
    py::array_t<std::int64_t> counts(deltas.shape(0));
    static_assert(sizeof(bool) == sizeof(std::uint8_t), "bool must be one byte");
    const auto exec = make_exec(backend, n_threads);
    ar::dispatch::vote_bad_epochs(
        deltas.data(), sz(deltas.shape(0)), sz(deltas.shape(1)), threshes.data(),
        reinterpret_cast<std::uint8_t*>(bad.mutable_data()), counts.mutable_data(), exec);
    return py::make_tuple(bad, counts);
}

// DeviceResidency for Python: holds a reference to each registered array (which must
// outlive its registration) and works as a context manager.
class PyResidency {
  public:
    PyResidency(const OptStr& backend, int n_threads)
        : impl_(std::make_unique<ar::DeviceResidency>(make_exec(backend, n_threads))) {}

    // Registers `a` when it is a C-contiguous float64 or float32 array (what the kernels
    // read without a copy); anything else would be converted per call, so is left alone.
    bool add(const py::array& a) {
        if (!impl_ || !(a.flags() & py::array::c_style) || a.size() == 0) {
            return false;
        }
        bool added = false;
        if (py::isinstance<py::array_t<double>>(a)) {
            added = impl_->add(static_cast<const double*>(a.data()), sz(a.size()));
        } else if (py::isinstance<py::array_t<float>>(a)) {
            added = impl_->add(static_cast<const float*>(a.data()), sz(a.size()));
        }
        if (added) {
            keep_.append(a);
        }
        return added;
    }

    std::size_t bytes() const { return impl_ ? impl_->bytes() : 0; }

    void close() {
        impl_.reset();  // unregisters, then the arrays may go
        keep_ = py::list();
    }

  private:
    std::unique_ptr<ar::DeviceResidency> impl_;
    py::list keep_;
};

// backends() and simd_levels(): a list of {name, compiled, available, reason}
// x[rows] along the first axis into a new array of x's dtype: any C-ordered array
// (not converted); the copy runs without the GIL on the backend's threads.
py::array take_rows(const py::array& x, const Indices& rows, const OptStr& backend, int n_threads) {
    if (x.ndim() < 1) {
        throw std::invalid_argument(
            "x must have at least one dimension (rows are taken along "
            "the first); got a 0-D array");
    }
    if (!(x.flags() & py::array::c_style)) {
        throw std::invalid_argument(
            "x must be C-contiguous; pass np.ascontiguousarray(x) or index it with NumPy");
    }
    if (std::string("biufc").find(x.dtype().kind()) == std::string::npos) {
        throw py::type_error(std::string("x must hold numbers (bool, integer, float or complex); "
                                         "got dtype kind '") +
                             x.dtype().kind() + "'");
    }
    require_ndim(rows, 1, "rows", "(n,)");
    const auto exec = make_exec(backend, n_threads);
    std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
    shape[0] = rows.shape(0);
    py::array out(x.dtype(), shape);
    const std::size_t row_bytes = x.shape(0) == 0 ? 0 : sz(x.nbytes() / x.shape(0));
    {
        py::gil_scoped_release release;
        ar::take_rows(x.data(), sz(x.shape(0)), row_bytes, rows.data(), sz(rows.shape(0)),
                      out.mutable_data(), exec);
    }
    return out;
}

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
    m.def("rmse_rows", &rmse_rows, py::arg("median"), py::arg("means"), py::kw_only(), kw_backend,
          kw_threads, "np.sqrt(np.mean((median - means) ** 2, axis=-1)), bit for bit.");
    m.def("prefix_sums", &prefix_sums, py::arg("data"), py::arg("order"), py::arg("cuts"),
          py::kw_only(), kw_backend, kw_threads, kw_simd,
          "Prefix sums in NumPy's order, (n_cuts, n_cols).");
    m.def("ransac_correlations", &ransac_correlations, py::arg("data"), py::arg("cols"),
          py::arg("counts"), py::arg("weights"), py::kw_only(), kw_backend, kw_threads, kw_simd,
          "RANSAC correlation of each channel with its median prediction, (n_epochs, n_channels).");
    m.def("take_rows", &take_rows, py::arg("x"), py::arg("rows"), py::kw_only(), kw_backend,
          kw_threads, "x[rows] (rows along the first axis) as a new C-ordered array of x's dtype.");
    m.def("vote_bad_epochs", &vote_bad_epochs, py::arg("deltas"), py::arg("threshes"),
          py::kw_only(), kw_backend, kw_threads,
          "Bad-sensor matrix (peak-to-peak > threshold) and bad count per epoch.");
    py::class_<PyResidency>(
        m, "DeviceResidency",
        "Arrays kept on the GPU until close() (or the end of a with block): kernel inputs "
        "inside a registered array are not copied again. Registered arrays must not be "
        "modified meanwhile. Off the cuda backend nothing is registered.")
        .def(py::init<const OptStr&, int>(), py::kw_only(), kw_backend, kw_threads)
        .def("add", &PyResidency::add, py::arg("array"),
             "Register a C-contiguous float64/float32 array; True when it is now resident.")
        .def_property_readonly("bytes", &PyResidency::bytes, "Bytes kept on the device.")
        .def("close", &PyResidency::close, "Unregister every array and free its device copy.")
        .def("__enter__", [](PyResidency& self) -> PyResidency& { return self; })
        .def("__exit__", [](PyResidency& self, const py::args&) { self.close(); });
    bind_interpolation(m);
    bind_random(m);
    bind_pipeline(m);
}
