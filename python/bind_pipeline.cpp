// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The C++ pipeline (autoreject/pipeline.hpp) seen from Python: used by the tests
// that check the C++ API against the Python module, and handy to run the C++
// code paths on mne.Epochs. Epochs come in as a (n_epochs, n_channels, n_times)
// float64 or float32 array with channel names, types, positions and bad flags.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "autoreject/pipeline.hpp"

namespace py = pybind11;
namespace ar = autoreject;

namespace {

using OptSeed = std::optional<std::uint32_t>;
using OptPicks = std::optional<std::vector<std::size_t>>;

std::vector<ar::ChannelInfo> make_channels(
    const std::vector<std::string>& names, const std::vector<std::string>& types,
    const py::array_t<double, py::array::c_style | py::array::forcecast>& pos,
    const std::vector<bool>& bads) {
    const std::size_t n = names.size();
    if (types.size() != n || bads.size() != n) {
        throw std::invalid_argument("ch_types and bads must have one entry per name (" +
                                    std::to_string(n) + ")");
    }
    if (pos.ndim() != 2 || static_cast<std::size_t>(pos.shape(0)) != n || pos.shape(1) != 3) {
        throw std::invalid_argument("positions must have shape (n_channels, 3) = (" +
                                    std::to_string(n) + ", 3)");
    }
    std::vector<ar::ChannelInfo> out(n);
    auto p = pos.unchecked<2>();
    for (std::size_t c = 0; c < n; ++c) {
        out[c].name = names[c];
        out[c].type = types[c];
        out[c].position = {p(c, 0), p(c, 1), p(c, 2)};
        out[c].bad = bads[c];
    }
    return out;
}

ar::ThresholdMethod make_method(const std::string& method) {
    if (method == "exact") {
        return ar::ThresholdMethod::Exact;
    }
    if (method == "random_search") {
        return ar::ThresholdMethod::RandomSearch;
    }
    throw std::invalid_argument(
        "thresh_method must be 'exact' or 'random_search' in the C++ "
        "pipeline; got '" +
        method + "'");
}

/// Calls `body(view)` with an EpochsView of the array's dtype (float64 or float32).
template <class Body>
py::object with_view(const py::array& data, const std::vector<ar::ChannelInfo>& channels,
                     Body&& body) {
    if (data.ndim() != 3) {
        throw std::invalid_argument("data must be 3-D, (n_epochs, n_channels, n_times); got " +
                                    std::to_string(data.ndim()) + "-D");
    }
    const auto n_e = static_cast<std::size_t>(data.shape(0));
    const auto n_c = static_cast<std::size_t>(data.shape(1));
    const auto n_t = static_cast<std::size_t>(data.shape(2));
    if (py::isinstance<py::array_t<float>>(data)) {
        auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(data);
        return body(ar::EpochsView<float>(a.data(), n_e, n_c, n_t, channels));
    }
    auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(data);
    if (!a) {
        throw std::invalid_argument("data must be an array of float64 or float32");
    }
    return body(ar::EpochsView<double>(a.data(), n_e, n_c, n_t, channels));
}

template <class T>
py::array_t<T> array3(const std::vector<T>& v, std::size_t a, std::size_t b, std::size_t c) {
    py::array_t<T> out({a, b, c});
    std::copy(v.begin(), v.end(), out.mutable_data());
    return out;
}

py::dict log_dict(const ar::RejectLog& log) {
    py::dict d;
    py::array_t<double> labels({log.n_epochs, log.n_channels});
    std::copy(log.labels.begin(), log.labels.end(), labels.mutable_data());
    py::array_t<bool> bad(log.n_epochs);
    for (std::size_t e = 0; e < log.n_epochs; ++e) {
        bad.mutable_data()[e] = log.bad_epochs[e] != 0;
    }
    d["labels"] = labels;
    d["bad_epochs"] = bad;
    return d;
}

}  // namespace

void bind_pipeline(py::module_& m) {
    using Pos = py::array_t<double, py::array::c_style | py::array::forcecast>;
    m.def(
        "pipeline_autoreject",
        [](const py::array& data, const std::vector<std::string>& names,
           const std::vector<std::string>& types, const Pos& positions,
           const std::vector<bool>& bads, std::optional<std::vector<int>> n_interpolate,
           std::optional<std::vector<double>> consensus, std::size_t cv,
           const std::string& thresh_method, OptSeed random_state, OptPicks picks,
           std::optional<std::string> backend, int n_jobs) {
            const auto channels = make_channels(names, types, positions, bads);
            ar::AutoRejectParams params;
            params.n_interpolate = n_interpolate.value_or(std::vector<int>{});
            params.consensus = consensus.value_or(std::vector<double>{});
            params.cv = cv;
            params.thresh_method = make_method(thresh_method);
            params.random_state = random_state;
            params.picks = picks.value_or(std::vector<std::size_t>{});
            params.backend = backend.value_or(std::string());
            params.n_jobs = n_jobs;
            return with_view(data, channels, [&](const auto& view) -> py::object {
                using T = std::remove_const_t<std::remove_pointer_t<decltype(view.data())>>;
                ar::AutoReject ar_(params);
                ar::CleanEpochs<T> clean;
                {
                    py::gil_scoped_release release;
                    clean = ar_.fit(view).transform(view);
                }
                py::dict out = log_dict(clean.log);
                py::array_t<double> thresholds(view.n_channels());
                std::copy(ar_.thresholds().begin(), ar_.thresholds().end(),
                          thresholds.mutable_data());
                out["thresholds"] = thresholds;
                out["consensus"] = ar_.consensus();
                out["n_interpolate"] = ar_.n_interpolate();
                py::dict losses;
                for (const auto& [type, loss] : ar_.loss()) {
                    losses[py::str(type)] = array3(loss, ar_.consensus_grid().size(),
                                                   ar_.n_interpolate_grid().size(), cv);
                }
                out["loss"] = losses;
                out["picks"] = ar_.picks();
                out["kept"] = clean.kept;
                out["clean"] =
                    array3(clean.data, clean.kept.size(), view.n_channels(), view.n_times());
                return std::move(out);
            });
        },
        py::arg("data"), py::arg("ch_names"), py::arg("ch_types"), py::arg("positions"),
        py::arg("bads"), py::kw_only(), py::arg("n_interpolate") = py::none(),
        py::arg("consensus") = py::none(), py::arg("cv") = 10, py::arg("thresh_method") = "exact",
        py::arg("random_state") = py::none(), py::arg("picks") = py::none(),
        py::arg("backend") = py::none(), py::arg("n_jobs") = 1,
        "The C++ AutoReject: fit then transform; a dict of thresholds, consensus, "
        "n_interpolate, loss, labels, bad_epochs, kept and clean.");
    m.def(
        "pipeline_compute_thresholds",
        [](const py::array& data, const std::vector<std::string>& names,
           const std::vector<std::string>& types, const Pos& positions,
           const std::vector<bool>& bads, OptPicks picks, const std::string& method,
           OptSeed random_state, bool augment, std::optional<std::string> backend, int n_jobs) {
            const auto channels = make_channels(names, types, positions, bads);
            ar::ThresholdParams params;
            params.method = make_method(method);
            params.random_state = random_state;
            params.augment = augment;
            params.backend = backend.value_or(std::string());
            params.n_jobs = n_jobs;
            const auto p = picks.value_or(std::vector<std::size_t>{});
            return with_view(data, channels, [&](const auto& view) -> py::object {
                std::vector<double> out;
                {
                    py::gil_scoped_release release;
                    out = ar::compute_thresholds(view, p, params);
                }
                return py::array_t<double>(out.size(), out.data());
            });
        },
        py::arg("data"), py::arg("ch_names"), py::arg("ch_types"), py::arg("positions"),
        py::arg("bads"), py::kw_only(), py::arg("picks") = py::none(), py::arg("method") = "exact",
        py::arg("random_state") = py::none(), py::arg("augment") = true,
        py::arg("backend") = py::none(), py::arg("n_jobs") = 1,
        "The C++ compute_thresholds: one threshold per pick.");
    m.def(
        "pipeline_ransac",
        [](const py::array& data, const std::vector<std::string>& names,
           const std::vector<std::string>& types, const Pos& positions,
           const std::vector<bool>& bads, std::size_t n_resample, double min_channels,
           double min_corr, double unbroken_time, OptSeed random_state, OptPicks picks,
           std::optional<std::string> backend, int n_jobs) {
            const auto channels = make_channels(names, types, positions, bads);
            ar::RansacParams params;
            params.n_resample = n_resample;
            params.min_channels = min_channels;
            params.min_corr = min_corr;
            params.unbroken_time = unbroken_time;
            params.random_state = random_state;
            params.picks = picks.value_or(std::vector<std::size_t>{});
            params.backend = backend.value_or(std::string());
            params.n_jobs = n_jobs;
            return with_view(data, channels, [&](const auto& view) -> py::object {
                ar::Ransac ransac(params);
                {
                    py::gil_scoped_release release;
                    ransac.fit(view);
                }
                py::dict out;
                out["bad_chs"] = ransac.bad_channels();
                py::array_t<double> corr({view.n_epochs(), ransac.picks().size()});
                std::copy(ransac.correlations().begin(), ransac.correlations().end(),
                          corr.mutable_data());
                out["corr"] = corr;
                out["picks"] = ransac.picks();
                out["subsets"] = ransac.subsets();
                return std::move(out);
            });
        },
        py::arg("data"), py::arg("ch_names"), py::arg("ch_types"), py::arg("positions"),
        py::arg("bads"), py::kw_only(), py::arg("n_resample") = 50, py::arg("min_channels") = 0.25,
        py::arg("min_corr") = 0.75, py::arg("unbroken_time") = 0.4,
        py::arg("random_state") = py::none(), py::arg("picks") = py::none(),
        py::arg("backend") = py::none(), py::arg("n_jobs") = 1,
        "The C++ Ransac: bad channel names, correlations, picks and subsets.");
    m.def(
        "pipeline_get_rejection_threshold",
        [](const py::array& data, const std::vector<std::string>& names,
           const std::vector<std::string>& types, const Pos& positions,
           const std::vector<bool>& bads, std::optional<std::vector<std::string>> ch_types,
           std::size_t cv, std::optional<std::string> backend, int n_jobs) {
            const auto channels = make_channels(names, types, positions, bads);
            ar::GlobalThresholdParams params;
            params.ch_types = ch_types.value_or(std::vector<std::string>{});
            params.cv = cv;
            params.backend = backend.value_or(std::string());
            params.n_jobs = n_jobs;
            return with_view(data, channels, [&](const auto& view) -> py::object {
                std::map<std::string, double> out;
                {
                    py::gil_scoped_release release;
                    out = ar::get_rejection_threshold(view, params);
                }
                return py::cast(out);
            });
        },
        py::arg("data"), py::arg("ch_names"), py::arg("ch_types"), py::arg("positions"),
        py::arg("bads"), py::kw_only(), py::arg("ch_types_to_fit") = py::none(), py::arg("cv") = 5,
        py::arg("backend") = py::none(), py::arg("n_jobs") = 1,
        "The C++ get_rejection_threshold (exhaustive search): type -> threshold.");
}
