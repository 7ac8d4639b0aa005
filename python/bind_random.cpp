// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// NumPy's legacy RandomState stream and the scikit-learn splitters (autoreject/random.hpp),
// exposed so the tests can compare them with NumPy, scikit-learn and SciPy draw for draw.
// Indices come back as int64 arrays, doubles as float64 arrays.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "autoreject/random.hpp"

namespace py = pybind11;
namespace ar = autoreject;

namespace {

using Labels = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

py::array_t<std::int64_t> to_int64(const std::vector<std::size_t>& v) {
    py::array_t<std::int64_t> out(static_cast<py::ssize_t>(v.size()));
    auto* p = out.mutable_data();
    for (std::size_t i = 0; i < v.size(); ++i) {
        p[i] = static_cast<std::int64_t>(v[i]);
    }
    return out;
}

py::list splits_to_list(const std::vector<ar::Split>& splits) {
    py::list out;
    for (const ar::Split& s : splits) {
        out.append(py::make_tuple(to_int64(s.train), to_int64(s.test)));
    }
    return out;
}

std::vector<int> labels_of(const Labels& y) {
    if (y.ndim() != 1) {
        throw std::invalid_argument(
            "y must be one-dimensional (one integer label per sample); got " +
            std::to_string(y.ndim()) + " dimensions");
    }
    const auto n = static_cast<std::size_t>(y.shape(0));
    std::vector<int> out(n);
    const std::int64_t* p = y.data();
    for (std::size_t i = 0; i < n; ++i) {
        if (p[i] < std::numeric_limits<int>::min() || p[i] > std::numeric_limits<int>::max()) {
            throw std::invalid_argument("y holds label " + std::to_string(p[i]) +
                                        ", outside the 32-bit int range; relabel the classes "
                                        "with small integers");
        }
        out[i] = static_cast<int>(p[i]);
    }
    return out;
}

}  // namespace

void bind_random(py::module_& m) {
    m.def(
        "legacy_permutation",
        [](std::uint32_t seed, std::size_t n) {
            return to_int64(ar::LegacyRandomState(seed).permutation(n));
        },
        py::arg("seed"), py::arg("n"),
        "``np.random.RandomState(seed).permutation(n)``, draw for draw.");
    m.def(
        "legacy_uniform",
        [](std::uint32_t seed, std::size_t n) {
            ar::LegacyRandomState rng(seed);
            py::array_t<double> out(static_cast<py::ssize_t>(n));
            double* p = out.mutable_data();
            for (std::size_t i = 0; i < n; ++i) {
                p[i] = rng.random_sample();
            }
            return out;
        },
        py::arg("seed"), py::arg("n"),
        "``np.random.RandomState(seed).random_sample(n)``, draw for draw.");
    m.def(
        "legacy_bounded",
        [](std::uint32_t seed, std::uint64_t max, std::size_t n) {
            ar::LegacyRandomState rng(seed);
            py::array_t<std::uint64_t> out(static_cast<py::ssize_t>(n));
            std::uint64_t* p = out.mutable_data();
            for (std::size_t i = 0; i < n; ++i) {
                p[i] = rng.bounded(max);
            }
            return out;
        },
        py::arg("seed"), py::arg("max"), py::arg("n"),
        "``n`` masked-rejection integers in [0, max] from ``RandomState(seed)`` (the legacy "
        "``randint(0, max + 1, dtype=np.uint64)`` draws, one at a time).");
    m.def(
        "legacy_choice",
        [](std::uint32_t seed, std::size_t n, std::size_t size) {
            return to_int64(ar::LegacyRandomState(seed).choice_without_replacement(n, size));
        },
        py::arg("seed"), py::arg("n"), py::arg("size"),
        "``np.random.RandomState(seed).choice(n, size=size, replace=False)``.");
    m.def(
        "kfold_splits",
        [](std::size_t n_samples, std::size_t n_splits) {
            return splits_to_list(ar::kfold_splits(n_samples, n_splits));
        },
        py::arg("n_samples"), py::arg("n_splits"),
        "``KFold(n_splits).split(range(n_samples))`` as a list of (train, test) int64 arrays.");
    m.def(
        "stratified_shuffle_splits",
        [](const Labels& y, std::size_t n_splits, double test_size, std::uint32_t seed) {
            return splits_to_list(
                ar::stratified_shuffle_splits(labels_of(y), n_splits, test_size, seed));
        },
        py::arg("y"), py::arg("n_splits"), py::arg("test_size"), py::arg("seed"),
        "``StratifiedShuffleSplit(n_splits, test_size=test_size, random_state=seed).split(y, y)`` "
        "as a list of (train, test) int64 arrays.");
    m.def(
        "random_search_draws",
        [](double loc, double scale, std::size_t n_iter, std::uint32_t seed) {
            const std::vector<double> v = ar::random_search_draws(loc, scale, n_iter, seed);
            py::array_t<double> out(static_cast<py::ssize_t>(v.size()));
            double* p = out.mutable_data();
            for (std::size_t i = 0; i < v.size(); ++i) {
                p[i] = v[i];
            }
            return out;
        },
        py::arg("loc"), py::arg("scale"), py::arg("n_iter"), py::arg("seed"),
        "The thresholds of ``ParameterSampler({'thresh': scipy.stats.uniform(loc, scale)}, "
        "n_iter, random_state=seed)`` as a float64 array.");
    m.def(
        "ransac_subsets",
        [](std::size_t n_good, std::size_t n_pick, std::size_t n_resample, std::uint32_t seed) {
            const auto subsets = ar::ransac_subsets(n_good, n_pick, n_resample, seed);
            py::array_t<std::int64_t> out(
                {static_cast<py::ssize_t>(n_resample), static_cast<py::ssize_t>(n_pick)});
            std::int64_t* p = out.mutable_data();
            for (const auto& subset : subsets) {
                for (const std::size_t idx : subset) {
                    *p++ = static_cast<std::int64_t>(idx);
                }
            }
            return out;
        },
        py::arg("n_good"), py::arg("n_pick"), py::arg("n_resample"), py::arg("seed"),
        "RANSAC's channel subsets: ``n_resample`` successive ``choice(n_good, n_pick, "
        "replace=False)`` draws of one ``RandomState(seed)``, shape (n_resample, n_pick).");
}
