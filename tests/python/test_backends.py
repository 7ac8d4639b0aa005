"""Tests for the compute backends (:mod:`autoreject_cpp.backends`).

Every kernel of every installed backend is compared with the straightforward
NumPy implementations below (autoreject 0.5.1's own loops where it has the
kernel, kept here as the reference even where the library's NumPy backend
computes faster).
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import autoreject_cpp.backends as backends
from autoreject_cpp.backends import (
    KERNELS,
    Backend,
    detect_hardware,
    get_backend,
    use_backend,
)
from autoreject_cpp.backends import _common

from _data import gpu_backends

BACKENDS = ("numpy", "numba", "torch", "jax", *gpu_backends())
#: kernels that must reproduce the reference bit for bit, per backend
EXACT = {
    "numpy": {"ptp", "median", "interp_apply"},
    "numba": {"ptp", "median", "interp_apply"},
    "torch": {"ptp", "median"},
    "jax": {"ptp", "median"},
}
RTOL = 1e-12


# --------------------------------------------------------------------------
# reference implementations (autoreject 0.5.1 semantics, loop by loop)
# --------------------------------------------------------------------------
def ref_prefix_sums(data, order, cuts):
    return np.array([data[order[:k]].sum(0) for k in cuts])


def check_prefix_sums(got, data, order, cuts):
    """Prefix sums equal the reference up to rounding of the terms' magnitude."""
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    want = ref_prefix_sums(data, order, cuts)
    assert got.shape == want.shape
    scale = np.abs(ref_prefix_sums(np.abs(data), order, cuts)).max()
    assert_allclose(got, want, rtol=RTOL, atol=RTOL * scale)


def ref_ransac_correlations(data, mappings, n_resample):
    n_epochs, n_channels, n_times = data.shape
    corr = np.empty((n_epochs, n_channels))
    for e in range(n_epochs):
        x = data[e]
        pred = x.T.dot(mappings.T)
        pred = pred.reshape((n_times, n_channels, n_resample), order="F")
        pred = np.median(pred, axis=-1)
        num = np.sum(x.T * pred, axis=0)
        den = np.sqrt(np.sum(x.T**2, axis=0)) * np.sqrt(np.sum(pred**2, axis=0))
        corr[e] = num / den
    return corr


# --------------------------------------------------------------------------
# fixtures and data
# --------------------------------------------------------------------------
@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each installed backend (skips the others)."""
    name = request.param
    if name != "numpy":
        pytest.importorskip(name.split(":")[0])
    return get_backend(name)


@pytest.fixture(autouse=True)
def _clean_selection(monkeypatch):
    """No environment variable leaks into (or out of) a test."""
    for var in backends._ENV_VARS:
        monkeypatch.delenv(var, raising=False)


def check(backend, kernel, got, want):
    assert isinstance(got, np.ndarray), f"{backend.name}.{kernel} must return NumPy"
    assert got.shape == want.shape
    if kernel in EXACT[backend.name]:
        assert_array_equal(got, want, strict=True)
    else:
        scale = np.nanmax(np.abs(want)) if np.isfinite(want).any() else 1.0
        assert_allclose(got, want, rtol=RTOL, atol=RTOL * scale * 1e-3, equal_nan=True)


def make_prefix(rng, shape, n_selected, kind):
    """Data, a permutation subset of its rows and cuts of the given kind."""
    data = rng.standard_normal(shape) * 1e-5
    order = rng.permutation(shape[0])[:n_selected]
    if kind == "single":
        cuts = np.array([n_selected])
    elif kind == "first":
        cuts = np.array([1])
    elif kind == "every":
        cuts = np.arange(1, n_selected + 1)
    else:  # a few, not necessarily ending at n_selected
        cuts = np.sort(rng.choice(np.arange(1, n_selected + 1), 5, replace=False))
    return data, order, cuts


def make_ransac(rng, n_epochs=5, n_channels=12, n_times=40, n_resample=7, k=3):
    common = rng.standard_normal((n_epochs, 1, n_times))
    data = (common + 0.5 * rng.standard_normal((n_epochs, n_channels, n_times))) * 1e-5
    mappings = np.zeros((n_resample * n_channels, n_channels))
    for r in range(n_resample):
        sub = rng.choice(n_channels, k, replace=False)
        weights = rng.random((n_channels, k))
        weights /= weights.sum(axis=1, keepdims=True)
        mappings[r * n_channels : (r + 1) * n_channels][:, sub] = weights
    return data, mappings


# --------------------------------------------------------------------------
# kernels against the reference
# --------------------------------------------------------------------------
def test_interface(backend):
    """Every kernel is implemented and the edges are methods."""
    assert isinstance(backend, Backend)
    for kernel in KERNELS + ("asarray", "to_numpy"):
        assert callable(getattr(backend, kernel))
    for kernel in KERNELS:
        assert getattr(type(backend), kernel) is not getattr(Backend, kernel), kernel
    assert backend.dtype == "float64"


def test_asarray_roundtrip(backend):
    x = np.random.default_rng(0).standard_normal((3, 4))
    native = backend.asarray(x)
    back = backend.to_numpy(native)
    assert isinstance(back, np.ndarray) and back.dtype == np.float64
    assert_array_equal(back, x)
    idx = backend.to_numpy(backend.asarray(np.arange(3)))
    assert idx.dtype.kind == "i"


@pytest.mark.parametrize("axis", [-1, 0, 1, (1, 2)])
def test_ptp(backend, axis):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 5, 31))
    x[2, 3, 4] = np.nan
    check(backend, "ptp", backend.ptp(x, axis=axis), np.ptp(x, axis=axis))


@pytest.mark.parametrize("n_times", [1, 2, 7, 8, 9, 16, 17, 641])
def test_ptp_special_values(backend, n_times):
    """Rows of every length around the numba kernel's eight lanes, with a
    NaN, an infinity, both infinities, signed zeros or only infinities."""
    rng = np.random.default_rng(n_times)
    x = rng.standard_normal((40, n_times))
    specials = ([np.nan], [np.inf], [-np.inf, np.inf], [-0.0, 0.0], [-np.inf])
    for row in range(0, 30, 3):
        for value in specials[row % len(specials)]:
            x[row, rng.integers(n_times)] = value
    x[-1] = np.inf
    x[-2] = -0.0
    with np.errstate(invalid="ignore"):
        expected = np.ptp(x, axis=-1)
        got = backend.ptp(x, axis=-1)
    check(backend, "ptp", got, expected)


@pytest.mark.parametrize("n", [1, 2, 7, 8, 50, 51])
@pytest.mark.parametrize("axis", [0, -1])
def test_median(backend, n, axis):
    rng = np.random.default_rng(n)
    # 72 columns: large enough for the numba median network
    x = rng.standard_normal((n, 9, 8)) if axis == 0 else rng.standard_normal((4, 9, n))
    x.flat[::13] = np.round(x.flat[::13])  # ties
    check(backend, "median", backend.median(x, axis=axis), np.median(x, axis=axis))
    x.flat[5] = np.nan
    check(backend, "median", backend.median(x, axis=axis), np.median(x, axis=axis))


@pytest.mark.parametrize("n_rows", [2, 7, 93, 150])
def test_median_of_rows(backend, n_rows):
    """The median of selected rows, as NumPy's of the gathered rows (NaN,
    repeated and negative row indices included)."""
    rng = np.random.default_rng(n_rows)
    x = rng.standard_normal((200, 3, 70))
    rows = rng.permutation(200)[:n_rows]
    check(backend, "median", backend.median_of_rows(x, rows), np.median(x[rows], axis=0))
    x[rows[0], 1, 5] = np.nan
    check(backend, "median", backend.median_of_rows(x, rows), np.median(x[rows], axis=0))
    odd = np.r_[rows, rows[:1], -1]
    check(backend, "median", backend.median_of_rows(x, odd), np.median(x[odd], axis=0))


@pytest.mark.parametrize("n", [92, 93, 129, 200])
def test_median_many_column_blocks(backend, n):
    """Fold-median sized inputs, several column chunks (the last one partial),
    both sub-block widths of the numba kernel, infinities."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 40, 75))
    x[3, 1, 2] = np.inf
    x[:, 5, 7] = np.r_[np.full(n // 2, -np.inf), np.full(n - n // 2, np.inf)]
    check(backend, "median", backend.median(x, axis=0), np.median(x, axis=0))


@pytest.mark.parametrize("shape", [(40,), (40, 1), (40, 17), (40, 4, 17)])
@pytest.mark.parametrize("kind", ["single", "first", "every", "some"])
def test_prefix_sums(backend, shape, kind):
    rng = np.random.default_rng(4)
    data, order, cuts = make_prefix(rng, shape, 30, kind)
    got = backend.prefix_sums(data, order, cuts)
    check_prefix_sums(got, data, order, cuts)
    if backend.name == "numba":  # the same operations as the reference backend
        assert_array_equal(got, get_backend("numpy").prefix_sums(data, order, cuts), strict=True)


@pytest.mark.parametrize("n_selected", [129, 300])
def test_prefix_sums_long(backend, n_selected):
    """Long segments (NumPy's pairwise summation splits above 128 terms)."""
    rng = np.random.default_rng(14)
    data = rng.standard_normal((n_selected + 10, 2, 300))
    order = rng.permutation(n_selected + 10)[:n_selected]
    cuts = np.array([1, 2, 9, n_selected - 7, n_selected])
    got = backend.prefix_sums(data, order, cuts)
    check_prefix_sums(got, data, order, cuts)
    if backend.name == "numba":
        assert_array_equal(got, get_backend("numpy").prefix_sums(data, order, cuts), strict=True)


@pytest.mark.parametrize("ratio", [0, 10**9])
def test_prefix_sums_paths(backend, monkeypatch, ratio):
    """torch and jax: the running-sum path and the weighted-product path."""
    if backend.name not in ("torch", "jax"):
        pytest.skip("one path only")
    module = sys.modules[type(backend).__module__]
    monkeypatch.setattr(module, "_PRODUCT_RATIO", ratio)
    rng = np.random.default_rng(15)
    for kind in ("single", "every", "some"):
        data, order, cuts = make_prefix(rng, (25, 3, 11), 20, kind)
        check_prefix_sums(backend.prefix_sums(data, order, cuts), data, order, cuts)
    # repeated and negative row indices count as NumPy indexing does
    data = rng.standard_normal((6, 4))
    order = np.array([2, -1, 2, 0, 5])
    check_prefix_sums(backend.prefix_sums(data, order, [2, 4, 5]), data, order, [2, 4, 5])


@pytest.mark.parametrize(
    "order, cuts, error",
    [
        ([0, 1, 2], [0, 2], ValueError),  # empty prefix
        ([0, 1, 2], [2, 2], ValueError),  # not strictly increasing
        ([0, 1, 2], [3, 2], ValueError),
        ([0, 1, 2], [4], ValueError),  # past the order
        ([0, 1, 2], [], ValueError),
        ([0, 9, 2], [2], IndexError),  # row out of range
        ([0, -9, 2], [3], IndexError),
    ],
)
def test_prefix_sums_bad_args(backend, order, cuts, error):
    data = np.ones((5, 3))
    with pytest.raises(error):
        backend.prefix_sums(data, np.array(order, dtype=int), np.array(cuts, dtype=int))


def test_interp_apply(backend):
    rng = np.random.default_rng(5)
    matrix = rng.standard_normal((6, 9))
    data = rng.standard_normal((4, 9, 23))
    check(backend, "interp_apply", backend.interp_apply(matrix, data), np.matmul(matrix, data))


@pytest.mark.parametrize("chunk_bytes", [1, 6000, 2**20])
@pytest.mark.parametrize("n_goods", [0, 1, 9])
def test_interp_repair(backend, n_goods, chunk_bytes, monkeypatch):
    """In place, the repaired rows are ``matrix @ goods`` of each listed epoch,
    and every other value keeps its bits, whatever the host chunk size (one
    epoch, two and a remainder, all)."""
    from autoreject_cpp.backends import _numpy

    monkeypatch.setattr(_numpy, "REPAIR_CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(50 + n_goods)
    data = rng.standard_normal((6, 20, 37))
    channels = rng.permutation(20)
    goods, bads = channels[:n_goods], np.sort(channels[n_goods : n_goods + 3])
    matrix = rng.standard_normal((len(bads), n_goods))
    epochs = np.array([4, 0, 2])
    original = data.copy()
    backend.interp_repair(data, epochs, goods, bads, matrix)
    want = original.copy()
    want[epochs[:, None], bads] = np.matmul(matrix, original[epochs[:, None], goods])
    repaired = np.zeros(data.shape, bool)
    repaired[np.ix_(epochs, bads)] = True
    assert_array_equal(data[~repaired], original[~repaired], strict=True)
    check(backend, "interp_apply", data, want)


@pytest.mark.parametrize("n_resample", [1, 6, 7])
def test_ransac_correlations(backend, n_resample):
    rng = np.random.default_rng(6 + n_resample)
    data, mappings = make_ransac(rng, n_resample=n_resample)
    mappings[:12, :] = rng.random((12, 12)) / 12  # one dense resample
    want = ref_ransac_correlations(data, mappings, n_resample)
    got = backend.ransac_correlations(data, mappings, n_resample)
    check(backend, "ransac_correlations", got, want)


def test_ransac_correlations_nan(backend):
    rng = np.random.default_rng(7)
    data, mappings = make_ransac(rng, n_resample=6)
    data[1, 2, 5] = np.nan
    with np.errstate(invalid="ignore"):
        want = ref_ransac_correlations(data, mappings, 6)
    got = backend.ransac_correlations(data, mappings, 6)
    check(backend, "ransac_correlations", got, want)


def test_ransac_chunks(backend, monkeypatch):
    """Results do not depend on how epochs are split into chunks."""
    rng = np.random.default_rng(8)
    data, mappings = make_ransac(rng, n_epochs=9, n_resample=8)
    want = ref_ransac_correlations(data, mappings, 8)
    monkeypatch.setattr(_common, "RANSAC_CHUNK_ELEMENTS", 12 * 40 * 8 * 2)  # 2 epochs
    check(backend, "ransac_correlations", backend.ransac_correlations(data, mappings, 8), want)


@settings(max_examples=40, deadline=None)
@given(
    n_rows=st.integers(1, 300),
    n_cols=st.integers(1, 40),
    n_cuts=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_prefix_sums_property(n_rows, n_cols, n_cuts, seed):
    """Every backend matches the reference; numba matches numpy bit for bit."""
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((n_rows, n_cols)) * 10.0 ** rng.integers(-8, 8)
    order = rng.permutation(n_rows)[: rng.integers(1, n_rows + 1)]
    n_cuts = min(n_cuts, len(order))
    cuts = np.sort(rng.choice(np.arange(1, len(order) + 1), n_cuts, replace=False))
    want = get_backend("numpy").prefix_sums(data, order, cuts)
    check_prefix_sums(want, data, order, cuts)
    for name in backends.available_backends():
        got = get_backend(name).prefix_sums(data, order, cuts)
        if name == "numba":
            assert_array_equal(got, want, strict=True)
        else:
            check_prefix_sums(got, data, order, cuts)


@pytest.mark.parametrize("n", range(1, 66))
def test_median_network(n):
    """The pruned sorting network places the exact middle order statistics."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal((300, n))
    x[:100] = rng.integers(0, 3, (100, n))  # ties (and the 0-1 principle)
    pairs, lo, hi = _common.median_network(n)
    y = x.copy()
    for a, b in pairs:
        y[:, a], y[:, b] = np.minimum(y[:, a], y[:, b]), np.maximum(y[:, a], y[:, b])
    assert_array_equal((y[:, lo] + y[:, hi]) / 2, np.median(x, axis=1))


# --------------------------------------------------------------------------
# the selected backend really runs
# --------------------------------------------------------------------------
def test_backend_really_runs(backend, monkeypatch):
    seen = []
    to_numpy = backend.to_numpy

    def spy(x):
        seen.append(type(x))
        return to_numpy(x)

    monkeypatch.setattr(backend, "to_numpy", spy)
    if backend.name == "numba":
        from autoreject_cpp.backends import _numba

        # the parallel prefix kernel only runs on large inputs
        monkeypatch.setattr(_numba, "_PREFIX_PARALLEL_MIN", 0)
    rng = np.random.default_rng(9)
    data, mappings = make_ransac(rng)
    backend.ransac_correlations(data, mappings, 7)
    backend.prefix_sums(data, np.arange(5), np.array([2, 5]))
    if backend.name == "torch":
        import torch

        assert seen and all(t is torch.Tensor for t in seen)
    elif backend.name == "jax":
        import jax

        assert seen and all(issubclass(t, jax.Array) for t in seen)
    elif backend.name == "numba":
        from autoreject_cpp.backends import _numba

        for kernel in (_numba._ransac_corr, _numba._prefix_sums_blocked):
            assert kernel.signatures, f"{kernel} never compiled, so never ran"
    else:
        assert type(backend).__module__ == "autoreject_cpp.backends._numpy"


def test_numba_wide_vectors_attribute():
    """``_wide_vectors()`` marks the compiled function (the parallel loop's
    one when called in a ``prange`` body) with LLVM's preferred vector width
    of 512 bits; the function still computes the same values."""
    pytest.importorskip("numba")
    from numba import njit, prange

    from autoreject_cpp.backends import _numba

    @njit(parallel=True)
    def scaled(x):
        out = np.empty_like(x)
        for i in prange(x.shape[0]):
            _numba._wide_vectors()
            for t in range(x.shape[1]):
                out[i, t] = 3.0 * x[i, t] - 1.0
        return out

    x = np.random.default_rng(0).standard_normal((4, 37))
    assert np.array_equal(scaled(x), 3.0 * x - 1.0)
    llvm = "\n".join(scaled.inspect_llvm().values())
    assert _numba._WIDE_VECTORS_ATTRIBUTE in llvm


@pytest.mark.parametrize("name", ["torch:cuda", "jax:gpu"])
def test_gpu_kernels(name):
    """The same checks on a GPU; skipped without one."""
    pytest.importorskip(name.split(":")[0])
    if name not in gpu_backends():
        pytest.skip(f"no {name} device")
    be = get_backend(name)
    rng = np.random.default_rng(12)
    data, mappings = make_ransac(rng, n_resample=6)
    want = ref_ransac_correlations(data, mappings, 6)
    check(be, "ransac_correlations", be.ransac_correlations(data, mappings, 6), want)
    check(be, "median", be.median(data, axis=0), np.median(data, axis=0))
    order, cuts = np.array([4, 0, 2, 3]), np.array([1, 3, 4])
    check_prefix_sums(be.prefix_sums(data, order, cuts), data, order, cuts)
    flat = data.reshape(len(data), -1)
    order, cuts = np.array([3, 1, 0, 2]), np.arange(1, 5)  # many cuts: running sum
    check_prefix_sums(be.prefix_sums(flat, order, cuts), flat, order, cuts)


def test_jax_leaves_global_x64_alone():
    jax = pytest.importorskip("jax")
    before = jax.config.jax_enable_x64
    out = get_backend("jax").median(np.arange(5.0) / 3, axis=0)
    assert out.dtype == np.float64 and out == 2 / 3
    assert jax.config.jax_enable_x64 == before


def test_torch_float32():
    pytest.importorskip("torch")
    be = get_backend("torch", precision="float32")
    assert be.dtype == "float32" and be is not get_backend("torch")
    rng = np.random.default_rng(10)
    data, mappings = make_ransac(rng)
    got = be.ransac_correlations(data / 1e-5, mappings, 7)
    assert got.dtype == np.float32
    assert_allclose(got, ref_ransac_correlations(data / 1e-5, mappings, 7), rtol=1e-4)


# --------------------------------------------------------------------------
# selection: names, precedence, errors
# --------------------------------------------------------------------------
def test_names_and_devices():
    assert get_backend("numpy").name == "numpy"
    assert get_backend(" NumPy ") is get_backend("numpy")  # cached, case-insensitive
    be = get_backend("numpy")
    assert get_backend(be) is be
    for name in ("torch:cpu", "jax:cpu"):
        lib = name.split(":")[0]
        if lib in backends.available_backends():
            got = get_backend(name)
            assert (got.name, got.device) == (lib, "cpu")


def test_auto(monkeypatch):
    have_numba = "numba" in backends.available_backends()
    assert get_backend("auto").name == ("numba" if have_numba else "numpy")
    assert get_backend().name == get_backend("auto").name
    monkeypatch.setattr(backends, "_find_gpu", lambda precision: None)
    assert get_backend("auto", size_hint=10**12).name == get_backend("auto").name
    # a GPU is used only for big work
    calls = []
    monkeypatch.setattr(
        backends, "_find_gpu", lambda precision: calls.append(1) or ("numpy", "cpu")
    )
    get_backend("auto", size_hint=backends.GPU_CROSSOVER - 1)
    assert not calls
    get_backend("auto", size_hint=backends.GPU_CROSSOVER)
    assert calls


def test_env_var_precedence(monkeypatch):
    monkeypatch.setenv("AUTOREJECT_BACKEND", "numpy")
    assert get_backend().name == "numpy"
    monkeypatch.setenv("AUTOREJECT_BACKEND", "bogus")
    with pytest.raises(ValueError, match="AUTOREJECT_BACKEND"):
        get_backend()
    monkeypatch.setenv("AUTOREJECT_BACKEND", "numpy")
    monkeypatch.setenv("AUTOREJECT_BACKEND", "bogus")
    assert get_backend().name == "numpy"  # AUTOREJECT_ wins
    assert get_backend("numpy").name == "numpy"  # explicit wins over both


def test_use_backend(monkeypatch):
    monkeypatch.setenv("AUTOREJECT_BACKEND", "bogus")
    with use_backend("numpy") as be:
        assert be.name == "numpy"
        assert get_backend() is be  # context beats the environment
        with use_backend(be):
            assert get_backend() is be
    with pytest.raises(ValueError, match="bogus"):
        get_backend()  # restored
    with pytest.raises(RuntimeError, match="boom"):
        with use_backend("numpy"):
            raise RuntimeError("boom")
    monkeypatch.delenv("AUTOREJECT_BACKEND")
    assert get_backend().name == get_backend("auto").name  # restored after error


def test_use_backend_explicit_wins():
    pytest.importorskip("numba")
    with use_backend("numba"):
        assert get_backend().name == "numba"
        assert get_backend("numpy").name == "numpy"


@pytest.mark.parametrize(
    "name, match",
    [
        ("cupy", "valid names are 'auto', 'numpy', 'numba', 'torch', 'jax'"),
        ("torch:tpu", "'torch:cpu', 'torch:cuda', 'torch:mps'"),
        ("numba:gpu", "no device"),
        ("jax:gpu:0", "no device index"),
    ],
)
def test_unknown_names(name, match):
    with pytest.raises(ValueError, match=match):
        get_backend(name)
    with pytest.raises(ValueError, match=match):
        with use_backend(name):
            pass


def test_bad_types_and_precision():
    with pytest.raises(TypeError, match="backend must be"):
        get_backend(3)
    with pytest.raises(ValueError, match="precision"):
        get_backend("numpy", precision="float16")
    with pytest.raises(ValueError, match="float64 only"):
        get_backend("numpy", precision="float32")


@pytest.mark.parametrize(
    "name, extra", [("numba", "parallel"), ("torch", "gpu"), ("jax", "gpu-cuda")]
)
def test_missing_library(monkeypatch, name, extra):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda lib, *a: None if lib == name else real(lib, *a)
    )
    monkeypatch.setattr(backends, "_instances", {})
    with pytest.raises(ImportError, match=rf"pip install autoreject_cpp\[{extra}\]"):
        get_backend(name)
    assert name not in backends.available_backends()
    if name == "numba":
        assert get_backend("auto").name == "numpy"


def test_mps_needs_float32():
    with pytest.raises(ValueError, match="precision='float32'"):
        get_backend("torch:mps")


def test_missing_devices():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA device"):
            get_backend("torch:cuda")
    jax = pytest.importorskip("jax")
    if not any(d.platform == "gpu" for d in jax.devices()):
        with pytest.raises(RuntimeError, match="no 'gpu' device"):
            get_backend("jax:gpu")


def test_detect_hardware():
    info = detect_hardware()
    assert info["cpu_count"] >= 1
    for lib in ("numba", "torch", "jax"):
        assert set(info[lib]) >= {"available", "version"}
        assert info[lib]["available"] == (lib in backends.available_backends())
    assert set(info["torch"]) >= {"cuda_devices", "mps"}
    assert "devices" in info["jax"]


def test_import_is_light():
    """Importing the backends package loads none of the optional libraries."""
    code = (
        "import sys, autoreject_cpp.backends as b; b.get_backend('numpy'); "
        "b.available_backends(); "
        "print(sorted(m for m in ('numba', 'torch', 'jax', 'jaxlib', 'llvmlite') "
        "if m in sys.modules))"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_kernels_accept_native_arrays(backend):
    """Kernels take the backend's own arrays as well as NumPy arrays."""
    rng = np.random.default_rng(13)
    data, mappings = make_ransac(rng, n_resample=6)
    native = backend.asarray(data)
    want = ref_ransac_correlations(data, mappings, 6)
    check(backend, "ransac_correlations", backend.ransac_correlations(native, mappings, 6), want)
    check(backend, "ptp", backend.ptp(native, axis=-1), np.ptp(data, axis=-1))
    check(backend, "median", backend.median(native, axis=0), np.median(data, axis=0))
    order, cuts = np.array([3, 0, 4]), np.array([1, 3])
    got = backend.prefix_sums(native, order, cuts)
    check_prefix_sums(got, data, order, cuts)


def test_kept_means_is_bit_identical_to_np_mean(backend):
    """Exact epoch-order means on every backend (the threshold search needs
    the last bit), NaN where a bound keeps nothing."""
    rng = np.random.default_rng(3)
    data = rng.standard_normal((60, 33))
    train_idx = np.stack([rng.permutation(60)[:45] for _ in range(4)])
    keys = np.ptp(data, axis=1)[train_idx]
    bounds = np.sort(rng.choice(keys.ravel(), (7, 4)), axis=0)
    bounds[0, 0] = -np.inf
    got = backend.kept_means(backend.asarray(data), train_idx, keys, bounds)
    for c in range(7):
        for f in range(4):
            kept = train_idx[f][keys[f] <= bounds[c, f]]
            if len(kept):
                assert_array_equal(got[c, f], np.mean(data[kept], axis=0))
            else:
                assert np.isnan(got[c, f]).all()


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_device_backends_sum_kept_means_on_the_fastest_exact_host_backend(name, monkeypatch):
    """Epoch-order means run on the host: with numba when it is installed
    (its sums are NumPy's bit for bit), else with NumPy."""
    pytest.importorskip(name)
    from autoreject_cpp.backends._numpy import NumpyBackend

    rng = np.random.default_rng(5)
    data = rng.standard_normal((20, 7))
    train_idx = np.stack([rng.permutation(20)[:15] for _ in range(3)])
    keys = np.ptp(data, axis=1)[train_idx]
    bounds = np.sort(rng.choice(keys.ravel(), (5, 3)), axis=0)
    want = NumpyBackend().kept_means(data, train_idx, keys, bounds)
    for host in ("numba", "numpy"):
        if host == "numba":
            pytest.importorskip("numba")
        else:
            monkeypatch.setattr(
                backends, "available_backends", lambda: ["numpy", "torch", "jax"]
            )
        assert _common.exact_host_backend().name == host
        calls = []
        real = type(get_backend(host)).kept_means
        monkeypatch.setattr(
            type(get_backend(host)), "kept_means",
            lambda self, *args: calls.append(1) or real(self, *args),
        )  # fmt: skip
        got = get_backend(name).kept_means(data, train_idx, keys, bounds)
        assert calls, f"{name} did not use the {host} backend"
        assert_array_equal(got, want)
