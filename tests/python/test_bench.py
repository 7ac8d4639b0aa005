"""The benchmark runner (``autoreject-cpp bench``): workloads, checks, output."""

import copy

import numpy as np
import pytest

from autoreject_cpp import bench


@pytest.fixture(scope="module")
def tiny_workloads():
    autoreject = pytest.importorskip("autoreject")
    epochs = bench.load_data("synthetic", "tiny")
    return bench.Workloads(epochs, oracle=autoreject)


@pytest.mark.oracle
@pytest.mark.parametrize("name", bench.WORKLOADS)
def test_every_workload_matches_autoreject(tiny_workloads, name):
    ours = tiny_workloads.call(name, "fr")
    ref = tiny_workloads.call(name, "ar")
    assert bench.same_result(name, ours, ref)


@pytest.mark.oracle
def test_same_result_detects_differences(tiny_workloads):
    model = tiny_workloads.model("fr")
    ref = tiny_workloads.model("ar")
    other = copy.deepcopy(model)
    name = next(iter(other.threshes_))
    other.threshes_[name] *= 1 + 1e-6
    assert not bench.same_result("AutoReject.fit", other, ref)
    other = copy.deepcopy(model)
    other.consensus_ = {k: v + 0.1 for k, v in other.consensus_.items()}
    assert not bench.same_result("AutoReject.fit", other, ref)
    log = tiny_workloads.call("reject_log", "fr")
    log_ref = tiny_workloads.call("reject_log", "ar")
    log.bad_epochs = ~np.asarray(log.bad_epochs)
    assert not bench.same_result("reject_log", log, log_ref)
    with pytest.raises(ValueError, match="Unknown workload"):
        bench.same_result("nope", None, None)


@pytest.mark.oracle
def test_run_reports_times_ratios_and_identity(capsys):
    pytest.importorskip("autoreject")
    results = bench.run(
        "synthetic", scale="tiny", repeat=1, workloads=["reject_log", "AutoReject.transform"]
    )
    assert results["shape"] == [30, 16, 101]
    for row in results["workloads"].values():
        assert row["identical"] is True
        assert row["autoreject_cpp_s"] > 0 and row["ratio"] > 0
        assert row["autoreject_cpp_peak_bytes"] > 0
    table = bench.format_table(results)
    assert "AutoReject.transform" in table and "identical" in table


def test_cli_bench_without_oracle(capsys):
    from autoreject_cpp.cli import main

    code = main(
        ["bench", "--data", "synthetic", "--scale", "tiny", "--repeat", "1",
         "--workloads", "reject_log", "--no-oracle", "--no-memory"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "synthetic-tiny (30, 16, 101)" in out and "reject_log" in out


def test_bad_arguments():
    with pytest.raises(ValueError, match="scale must be one of"):
        bench.load_data("synthetic", "huge")
    with pytest.raises(ValueError, match="kind must be"):
        bench.load_data("nope")
    with pytest.raises(ValueError, match="Unknown workload"):
        bench.run("synthetic", scale="tiny", workloads=["nope"], oracle=False)


def test_hardware_names_the_blas_kernels_and_the_core():
    """Results record the machine, the BLAS kernels NumPy and SciPy use, and
    the core's backends and default OpenMP threads."""
    import autoreject_cpp
    from autoreject_cpp import _core

    hardware = bench._hardware()
    assert hardware["cpus"] >= 1 and hardware["machine"]
    from threadpoolctl import threadpool_info

    kernels = {lib["architecture"] for lib in threadpool_info() if lib["user_api"] == "blas"}
    assert hardware["blas"] == sorted(kernels) and hardware["blas"]
    from numpy._core import _multiarray_umath as umath

    assert set(hardware["numpy_simd"]) <= set(umath.__cpu_dispatch__)
    assert all(umath.__cpu_features__[t] for t in hardware["numpy_simd"])
    assert bench._kernel_fingerprint() == {
        "blas": hardware["blas"],
        "numpy_simd": hardware["numpy_simd"],
    }
    assert hardware["openmp_threads"] == _core.max_threads()
    assert hardware["backends"] == autoreject_cpp.backends.available_backends()
    assert "llvm_cpu" not in hardware
    versions = bench._versions()
    assert versions["core"] == _core.__version__
    assert not {"numba", "torch", "jax"} & set(versions)


def test_results_name_the_backend():
    results = bench.run(
        "synthetic", scale="tiny", repeat=1, workloads=["reject_log"], oracle=False,
        memory=False, backend="scalar",
    )  # fmt: skip
    assert results["backend"] == "scalar"


BASELINE = {"tolerance": 2.0, "ratios": {"small": {"fit": 10.0}}}


def _remeasure(values):
    """A fake re-measurement returning ``values`` in turn, counting its calls."""
    values = list(values)
    calls = []

    def remeasure():
        calls.append(1)
        return values[len(calls) - 1]

    return remeasure, calls


def test_ratio_baseline_passes_at_the_floor_without_measuring_again():
    ratios = bench.RatioBaseline(BASELINE)
    assert ratios.floor("small", "fit") == 5.0
    remeasure, calls = _remeasure([])
    assert ratios.check("small", "fit", 5.0, remeasure) is None
    assert calls == [] and ratios.measured == {"small": {"fit": 5.0}}


def test_ratio_baseline_keeps_the_best_of_the_measurements():
    ratios = bench.RatioBaseline(BASELINE)
    remeasure, calls = _remeasure([4.0, 6.0, 1.0])
    assert ratios.check("small", "fit", 3.0, remeasure) is None
    assert len(calls) == 2  # stopped once above the floor
    assert ratios.history[("small", "fit")] == [3.0, 4.0, 6.0]
    assert ratios.measured["small"]["fit"] == 6.0


def test_ratio_baseline_fails_a_ratio_that_stays_low():
    ratios = bench.RatioBaseline(BASELINE, attempts=3)
    remeasure, calls = _remeasure([4.0, 4.5, 4.9, 100.0])
    message = ratios.check("small", "fit", 3.0, remeasure)
    assert len(calls) == 3
    assert message is not None
    for text in ("3.00x", "4.00x", "4.50x", "4.90x", "10.00x", "5.00x"):
        assert text in message
    assert ratios.measured["small"]["fit"] == 4.9
    # without a way to measure again, one low ratio fails at once
    assert bench.RatioBaseline(BASELINE).check("small", "fit", 4.99) is not None


def test_ratio_baseline_without_a_value_only_records():
    remeasure, calls = _remeasure([])
    for ratios in (bench.RatioBaseline(), bench.RatioBaseline(BASELINE)):
        assert ratios.check("medium", "fit", 0.1, remeasure) is None
        assert ratios.measured == {"medium": {"fit": 0.1}}
    assert calls == []


def test_ratio_baseline_file_round_trip(tmp_path):
    import json

    ratios = bench.RatioBaseline(BASELINE)
    ratios.check("small", "fit", 12.5)
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(ratios.to_json()))
    again = bench.RatioBaseline(path)
    assert again.expected == {"small": {"fit": 12.5}} and again.tolerance == 2.0
    assert bench.RatioBaseline({"ratios": {}}).tolerance == 2.0  # the default
    with pytest.raises(ValueError, match="tolerance must be at least 1"):
        bench.RatioBaseline({"tolerance": 0.5, "ratios": {}})


def test_interleaved_ratio_alternates_the_calls(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(bench.time, "perf_counter", lambda: now[0])
    order = []
    oracle_costs = iter([5.0, 3.0, 4.0])

    def ours():
        order.append("ours")
        now[0] += 1.5

    def oracle():
        order.append("oracle")
        now[0] += next(oracle_costs)

    ratio = bench._interleaved_ratio(ours, oracle, 3)
    assert order == ["oracle", "ours"] * 3
    assert ratio == 2.0  # the oracle's best, 3, over ours, 1.5
