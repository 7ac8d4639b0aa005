"""Timing benchmarks against autoreject 0.5.1 (off by default).

Run with ``pytest tests/python/test_benchmarks.py --run-benchmarks
--benchmark-scale=small`` (scales: tiny, small, medium, large). Each test
times one workload of :mod:`autoreject_cpp.bench` with pytest-benchmark, times
autoreject on the same data in the same process, checks that the results
are identical and records the speed ratio in ``extra_info``.

``--benchmark-baseline=FILE`` fails a workload whose ratio fell below the
baseline's divided by its tolerance (2: autoreject_cpp twice as slow relative
to autoreject as when the baseline was recorded): a ratio, so a slower or
busier machine does not make it fail, and a ratio below that floor is measured
again up to three times, the two libraries' calls alternating, before it
fails (:class:`autoreject_cpp.bench.RatioBaseline`). ``--benchmark-save-baseline=FILE``
writes the ratios measured in this session as a new baseline.
"""

import pytest

from autoreject_cpp import bench

pytestmark = pytest.mark.benchmark

#: autoreject_cpp rounds per workload (the minimum is kept)
ROUNDS = 5
#: autoreject rounds per workload: its fits are slow, the rest is cheap
ORACLE_ROUNDS = {"compute_thresholds": 2, "local_reject_cv": 2, "AutoReject.fit": 2}


@pytest.fixture(scope="module")
def workloads(benchmark_scale):
    """The benchmark workloads on simulated EEG of the chosen scale."""
    pytest.importorskip("pytest_benchmark")
    epochs = bench.load_data("synthetic", benchmark_scale)
    wl = bench.Workloads(epochs, oracle=bench.import_oracle())
    wl.call("reject_log", "fr")  # warm the caches outside the timings
    return wl


@pytest.mark.parametrize("name", bench.WORKLOADS)
def test_workload(benchmark, workloads, name, benchmark_scale, benchmark_ratios):
    """One workload: identical to autoreject, and not slower than the baseline."""
    ours = benchmark.pedantic(
        workloads.call, args=(name, "fr"), rounds=ROUNDS, iterations=1, warmup_rounds=1
    )
    if workloads.oracle is None:
        pytest.skip("autoreject is not installed: no ratio to record")
    oracle_s, ref = bench._best_time(
        lambda: workloads.call(name, "ar"), ORACLE_ROUNDS.get(name, ROUNDS)
    )
    assert bench.same_result(name, ours, ref), f"{name}: results differ from autoreject"
    ours_s = benchmark.stats.stats.min
    ratio = oracle_s / ours_s
    benchmark.extra_info.update(autoreject_s=oracle_s, ratio=ratio, scale=benchmark_scale)
    benchmark_ratios.check(
        benchmark_scale,
        name,
        ratio,
        remeasure=lambda: bench._interleaved_ratio(
            lambda: workloads.call(name, "fr"),
            lambda: workloads.call(name, "ar"),
            ORACLE_ROUNDS.get(name, ROUNDS),
        ),
    )
