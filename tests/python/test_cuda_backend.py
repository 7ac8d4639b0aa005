"""Tests for the CUDA backend of the compiled core.

On a machine without a GPU (or a build without CUDA) they check what the
registry says and that nothing falls back silently; where a device exists
they compare every kernel, and the decisions of AutoReject, Ransac and
get_rejection_threshold, with the scalar backend. Set
``AUTOREJECT_EXPECT_CUDA=1`` (tools/gpu-check.sh does) to require a build
with CUDA compiled in.
"""

# License: BSD-3-Clause

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import autoreject_cpp
from autoreject_cpp import _core
from autoreject_cpp.backends import get_backend

from _data import eeg_epochs

PYTHON_DIR = str(Path(autoreject_cpp.__file__).resolve().parents[1])
KNOWN_REASONS = (
    "no CUDA driver (",
    "driver too old (driver ",
    "no CUDA device",
    "the CUDA driver failed to initialise",
)


def cuda_row():
    return [row for row in autoreject_cpp.backends() if row["name"] == "cuda"][0]


CUDA = cuda_row()
needs_gpu = pytest.mark.skipif(
    not CUDA["available"], reason=f"the cuda backend is unavailable here: {CUDA['reason']}"
)


def run_python(code, **env):
    """Run `code` in a fresh interpreter that imports this autoreject_cpp."""
    environ = {k: v for k, v in os.environ.items() if k != "AUTOREJECT_BACKEND"}
    environ["PYTHONPATH"] = os.pathsep.join([PYTHON_DIR, environ.get("PYTHONPATH", "")])
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=120
    )


# --------------------------------------------------------------------------
# the registry, on every machine
# --------------------------------------------------------------------------
def test_cuda_row_says_why():
    """Compiled in or not, and when not available, one of the known reasons."""
    assert CUDA["available"] == (CUDA["reason"] == "")
    if os.environ.get("AUTOREJECT_EXPECT_CUDA") == "1":
        assert CUDA["compiled"], "this build was expected to have the CUDA backend"
    if not CUDA["compiled"]:
        assert not CUDA["available"]
        assert CUDA["reason"].startswith("not compiled in")
    elif not CUDA["available"]:
        assert CUDA["reason"].startswith(KNOWN_REASONS), CUDA["reason"]


def test_cuda_env_var_without_gpu_is_a_clear_error():
    """AUTOREJECT_BACKEND=cuda where cuda cannot run: ValueError with the
    reason and what is available, in a fresh process."""
    if CUDA["available"]:
        pytest.skip("the cuda backend is available here")
    code = (
        "import autoreject_cpp\n"
        "from autoreject_cpp.backends import get_backend\n"
        "try:\n"
        "    get_backend()\n"
        "except ValueError as err:\n"
        "    print('ValueError:', err)\n"
    )
    out = run_python(code, AUTOREJECT_BACKEND="cuda")
    assert out.returncode == 0, out.stderr
    message = out.stdout.strip()
    assert message.startswith("ValueError: backend 'cuda' (from the environment variable ")
    assert "AUTOREJECT_BACKEND" in message
    assert CUDA["reason"] in message
    assert "available here: 'auto', 'scalar'" in message


def test_explicit_cuda_without_gpu_raises():
    if CUDA["available"]:
        pytest.skip("the cuda backend is available here")
    with pytest.raises(ValueError, match="backend 'cuda' \\(from the argument\\) is unavailable"):
        _core.resolve_backend("cuda")
    assert _core.resolve_backend("auto") != "cuda"


def test_import_prints_nothing_loads_no_driver_starts_no_thread():
    """Importing the package and its core is silent, maps no libcuda and starts
    no thread; the driver is looked up on the first backends() call."""
    code = (
        "import threading\n"
        "import autoreject_cpp, autoreject_cpp._core\n"
        "maps = open('/proc/self/maps').read()\n"
        "assert 'libcuda.so' not in maps, 'libcuda mapped at import'\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    assert out.stderr == ""


def test_vote_bad_epochs_on_every_available_backend():
    """The core's vote: strictly above the threshold, NaN never bad, on every
    backend this machine offers (cuda too where it runs)."""
    rng = np.random.default_rng(5)
    deltas = rng.random((300, 6))
    threshes = np.array([0.0, 0.2, 0.5, 0.9, 1.0, np.inf])
    deltas[0, 2] = threshes[2]  # at the threshold: good
    deltas[1, 3] = np.nan
    deltas[2, 5] = np.inf  # inf against inf: good
    want = deltas > threshes
    assert not want[0, 2] and not want[1, 3] and not want[2, 5]
    for row in _core.backends():
        if not row["available"]:
            continue
        bad, counts = _core.vote_bad_epochs(deltas, threshes, backend=row["name"])
        assert_array_equal(bad, want, strict=True)
        assert_array_equal(counts, want.sum(axis=1).astype(np.int64), strict=True)
    with pytest.raises(ValueError, match="threshes"):
        _core.vote_bad_epochs(deltas, threshes[:3])


def test_residency_off_the_gpu_registers_nothing():
    x = np.ones((4, 5))
    for row in _core.backends():
        if not row["available"] or row["name"] == "cuda":
            continue
        with _core.DeviceResidency(backend=row["name"]) as keep:
            assert keep.add(x) is False
            assert keep.bytes == 0
        with get_backend(row["name"]).resident(x):
            pass
    if not CUDA["available"]:
        with pytest.raises(ValueError, match="backend 'cuda' \\(from the argument\\)"):
            _core.DeviceResidency(backend="cuda")


# --------------------------------------------------------------------------
# where a device exists: cuda against scalar
# --------------------------------------------------------------------------
def same(got, want):
    """Equal values, NaN where NaN, and the same sign of every other value
    (a GPU writes its own NaN payload)."""
    got = np.asarray(got)
    want = np.asarray(want)
    assert_array_equal(got, want, strict=True)
    finite = ~np.isnan(want)
    assert_array_equal(np.signbit(got[finite]), np.signbit(want[finite]))


@needs_gpu
def test_every_kernel_on_cuda_equals_scalar():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 9, 301)) * 1e-5
    x[3, 2, 10] = np.nan
    flat = x.reshape(40, -1)
    cuda = dict(backend="cuda", n_threads=0)
    scalar = dict(backend="scalar", n_threads=1)
    rows = x.reshape(-1, 301)
    same(_core.ptp(rows, **cuda), _core.ptp(rows, **scalar))
    for n_sel in (1, 4, 7, 39):
        sel = rng.integers(0, 40, n_sel)
        same(_core.median_rows(flat, sel, **cuda), _core.median_rows(flat, sel, **scalar))
    order = rng.permutation(40)
    cuts = np.array([1, 3, 20, 40])
    same(
        _core.prefix_sums(flat, order, cuts, **cuda), _core.prefix_sums(flat, order, cuts, **scalar)
    )
    gpu = get_backend("cuda")
    cpu = get_backend("scalar")
    channel = x[:, 0, :]
    train_idx = np.array([rng.permutation(40)[:30] for _ in range(4)])
    train_keys = rng.random((4, 30))
    bounds = np.sort(rng.random((12, 4)), axis=0)
    medians = rng.standard_normal((4, 301)) * 1e-5
    same(
        gpu.kept_means(channel, train_idx, train_keys, bounds),
        cpu.kept_means(channel, train_idx, train_keys, bounds),
    )
    for name in ("threshold_losses", "threshold_scores"):
        same(
            getattr(gpu, name)(channel, train_idx, train_keys, bounds, medians),
            getattr(cpu, name)(channel, train_idx, train_keys, bounds, medians),
        )
    deltas = _core.ptp(rows, **scalar).reshape(40, 9)
    threshes = np.quantile(deltas, 0.8, axis=0)
    for got, want in zip(
        _core.vote_bad_epochs(deltas, threshes, **cuda),
        _core.vote_bad_epochs(deltas, threshes, **scalar),
    ):
        assert_array_equal(got, want, strict=True)


def _cpp_inputs(epochs):
    """The arrays and channel lists the C++ pipeline's bindings take."""
    info = epochs.info
    names = list(info["ch_names"])
    return (
        epochs.get_data(copy=False),
        names,
        ["eeg"] * len(names),
        np.array([ch["loc"][:3] for ch in info["chs"]], dtype=float),
        [False] * len(names),
    )


@needs_gpu
@pytest.mark.parametrize("thresh_method", ["random_search", "exact"])
def test_cpp_pipeline_on_cuda_equals_scalar(thresh_method):
    """The C++ pipeline (thresholds, vote and repairs on the GPU) decides and
    repairs as on the scalar backend, bit for bit."""
    inputs = _cpp_inputs(eeg_epochs(n_channels=16, n_epochs=40, n_times=101))
    kw = dict(cv=3, n_interpolate=[1, 4], thresh_method=thresh_method, random_state=0)
    runs = {
        backend: _core.pipeline_autoreject(*inputs, **kw, backend=backend)
        for backend in ("scalar", "cuda")
    }
    for key in ("thresholds", "labels", "bad_epochs", "kept", "clean"):
        assert_array_equal(runs["cuda"][key], runs["scalar"][key], strict=True)
    assert runs["cuda"]["consensus"] == runs["scalar"]["consensus"]
    assert runs["cuda"]["n_interpolate"] == runs["scalar"]["n_interpolate"]


@needs_gpu
def test_cpp_thresholds_ransac_global_on_cuda_equal_scalar():
    """The C++ compute_thresholds (both searches, with the augmentation),
    Ransac and get_rejection_threshold give scalar's bits on the GPU."""
    inputs = _cpp_inputs(eeg_epochs(n_channels=16, n_epochs=40, n_times=101))
    for method in ("random_search", "exact"):
        got, want = (
            _core.pipeline_compute_thresholds(
                *inputs, method=method, random_state=0, backend=backend
            )
            for backend in ("cuda", "scalar")
        )
        assert_array_equal(got, want, strict=True)
    got, want = (
        _core.pipeline_ransac(*inputs, n_resample=20, random_state=0, backend=backend)
        for backend in ("cuda", "scalar")
    )
    assert got["bad_chs"] == want["bad_chs"]
    assert_array_equal(got["subsets"], want["subsets"])
    assert_array_equal(got["corr"], want["corr"], strict=True)
    got, want = (
        _core.pipeline_get_rejection_threshold(*inputs, backend=backend)
        for backend in ("cuda", "scalar")
    )
    assert got == want and set(got) == {"eeg"}


@needs_gpu
def test_autoreject_ransac_thresholds_decide_as_scalar():
    from autoreject_cpp import AutoReject, Ransac, get_rejection_threshold

    epochs = eeg_epochs(n_channels=16, n_epochs=40, n_times=101)
    fast = dict(cv=3, n_interpolate=[1, 4], thresh_method="random_search", random_state=0)
    logs = {}
    for backend in ("scalar", "cuda"):
        ar = AutoReject(**fast, backend=backend, verbose=False).fit(epochs)
        logs[backend] = ar.get_reject_log(epochs)
    assert_array_equal(logs["cuda"].bad_epochs, logs["scalar"].bad_epochs)
    assert_array_equal(logs["cuda"].labels, logs["scalar"].labels)
    bads = {}
    for backend in ("scalar", "cuda"):
        bads[backend] = Ransac(random_state=0, backend=backend, verbose=False).fit(epochs).bad_chs_
    assert bads["cuda"] == bads["scalar"]
    thresholds = {
        backend: get_rejection_threshold(epochs, random_state=0, verbose=False, backend=backend)
        for backend in ("scalar", "cuda")
    }
    assert thresholds["cuda"] == thresholds["scalar"]


@needs_gpu
def test_residency_registers_contiguous_float_arrays_until_closed():
    x = np.random.default_rng(0).standard_normal((30, 50))
    with _core.DeviceResidency(backend="cuda") as keep:
        assert keep.add(x) and keep.bytes == x.nbytes
        assert not keep.add(x[:, ::2])  # strided: the kernels would copy it anyway
        assert not keep.add(np.arange(3))  # integers
        assert not keep.add(x[3:5])  # inside a registered array
        same(_core.ptp(x[3:9], backend="cuda"), _core.ptp(x[3:9], backend="scalar"))
    assert keep.bytes == 0


@needs_gpu
def test_bayesian_search_keeps_each_channel_on_the_gpu(monkeypatch):
    """The augmented epochs go to the device once for the ten folds' medians,
    every channel's once for all its proposals, and the thresholds are
    scalar's."""
    from autoreject_cpp import compute_thresholds
    from autoreject_cpp.backends._core import CoreBackend

    epochs = eeg_epochs(n_channels=8, n_epochs=40, n_times=101)
    seen = []
    original = CoreBackend.resident

    def spy(self, *arrays):
        keep = original(self, *arrays)
        seen.append((self.name, arrays[0].ndim, getattr(keep, "bytes", 0)))
        return keep

    monkeypatch.setattr(CoreBackend, "resident", spy)
    kw = dict(method="bayesian_optimization", random_state=0, verbose=False)
    gpu = compute_thresholds(epochs, backend="cuda", **kw)
    cpu = compute_thresholds(epochs, backend="scalar", **kw)
    assert gpu == cpu
    on_gpu = [(ndim, size) for name, ndim, size in seen if name == "cuda"]
    # (2 n_epochs, n_channels, n_times) for the medians, then (2 n_epochs, n_times) each
    assert [ndim for ndim, _ in on_gpu] == [3] + [2] * len(epochs.ch_names)
    assert all(size > 0 for _, size in on_gpu)
    assert all(size == 0 for name, _, size in seen if name == "scalar")
