"""Shared pytest configuration: markers, options, fixtures and global guards."""

# License: BSD-3-Clause

import os
import sys

import pytest

# never open windows, whatever the user's matplotlibrc says; set before any
# test imports pyplot (the import itself is left to the tests that need it)
os.environ.setdefault("MPLBACKEND", "Agg")

BENCHMARK_SCALES = ("tiny", "small", "medium", "large")

_MARKERS = {
    "retrocompat": "compares autoreject_cpp with stored autoreject 0.5.1 references",
    "oracle": "runs autoreject 0.5.1 (the oracle) and compares live",
    "slow": "takes more than a few seconds",
    "benchmark": "timing benchmark; skipped unless --run-benchmarks is given",
}


def pytest_addoption(parser):
    """Add the benchmark options."""
    group = parser.getgroup("autoreject_cpp")
    group.addoption(
        "--run-benchmarks",
        action="store_true",
        default=False,
        help="run tests marked 'benchmark' (skipped by default)",
    )
    group.addoption(
        "--benchmark-baseline",
        action="store",
        default=None,
        metavar="FILE",
        help="fail benchmarks whose speed ratio to autoreject fell below this "
        "baseline's divided by 1.5",
    )
    group.addoption(
        "--benchmark-save-baseline",
        action="store",
        default=None,
        metavar="FILE",
        help="write the measured speed ratios as a new baseline",
    )
    group.addoption(
        "--benchmark-scale",
        action="store",
        default="tiny",
        choices=BENCHMARK_SCALES,
        help="data size used by the benchmarks (default: tiny)",
    )


def pytest_configure(config):
    """Register the markers and force a non-interactive matplotlib backend."""
    for name, description in _MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    if "matplotlib" in sys.modules:  # imported by a plugin before us
        import matplotlib

        matplotlib.use("Agg", force=True)


def pytest_collection_modifyitems(config, items):
    """Skip benchmark-marked tests unless ``--run-benchmarks`` is given."""
    if config.getoption("--run-benchmarks"):
        return
    skip = pytest.mark.skip(reason="benchmark: pass --run-benchmarks to run it")
    for item in items:
        if "benchmark" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def benchmark_scale(request):
    """The ``--benchmark-scale`` value: 'tiny', 'small', 'medium' or 'large'."""
    return request.config.getoption("--benchmark-scale")


class BenchmarkRatios:
    """The session's :class:`autoreject_cpp.bench.RatioBaseline`, failing the
    test whose ratio stays below the baseline and saving the ratios at the end.

    Parameters
    ----------
    baseline : path-like | None
        The committed baseline (JSON).
    save : path-like | None
        Where to write this session's ratios (same layout) at the end.
    """

    def __init__(self, baseline=None, save=None):
        from autoreject_cpp.bench import RatioBaseline

        self.ratios = RatioBaseline(baseline)
        self.save = save

    def check(self, scale, name, ratio, remeasure=None):
        """Record ``ratio`` (re-measured while below the floor); fail when it stays below."""
        message = self.ratios.check(scale, name, ratio, remeasure)
        if message is not None:
            pytest.fail(message)

    def write(self):
        """Write the measured ratios to ``save`` (if given)."""
        import json

        if self.save is None or not self.ratios.measured:
            return
        with open(self.save, "w") as fid:
            json.dump(self.ratios.to_json(), fid, indent=2)


@pytest.fixture(scope="session")
def benchmark_ratios(request):
    """The session's :class:`BenchmarkRatios` (written at the end)."""
    ratios = BenchmarkRatios(
        request.config.getoption("--benchmark-baseline"),
        request.config.getoption("--benchmark-save-baseline"),
    )
    yield ratios
    ratios.write()


@pytest.fixture(scope="session")
def data_dir():
    """The shared folder of real recordings; skips the test when it is absent."""
    from autoreject_cpp.datasets import DATA_ENV, sample_data_dir

    path = sample_data_dir()
    if path is None:
        pytest.skip(
            f"shared data folder not found (set {DATA_ENV} or place it at "
            "<repo>/../shared/data)"
        )
    return path


@pytest.fixture(scope="session")
def meg_file(data_dir):
    """The MNE sample MEG recording of the shared folder (real sensor
    geometry); skips the test when it is absent."""
    from autoreject_cpp.datasets import _MEG_FILE

    path = data_dir.joinpath(*_MEG_FILE)
    if not path.is_file():
        pytest.skip(f"{path.name} is absent from the shared data folder {data_dir}")
    return path


@pytest.fixture(autouse=True)
def close_figures():
    """Close every matplotlib figure after each test (if pyplot was loaded)."""
    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


@pytest.fixture(autouse=True)
def check_log_level(request):
    """Fail a test that leaves MNE's (and thus autoreject_cpp's) log level changed."""
    from mne.utils import logger

    level = logger.level
    yield
    if logger.level != level:
        logger.setLevel(level)  # restore for the next tests, then report
        pytest.fail(f"{request.node.nodeid} changed the logger level")
