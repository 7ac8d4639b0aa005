"""Chunked processing when the device memory cannot hold the working set.

The torch and JAX backends split their kernels into chunks that fit the
budget of ``AUTOREJECT_DEVICE_MEMORY`` (or a fraction of a GPU's free memory),
halve the chunk when the device runs out of memory all the same, and say so
in the log. Here a tiny budget forces chunking on the CPU, and out-of-memory
errors are simulated.
"""

import warnings

import numpy as np
import pytest
from mne.utils import catch_logging, use_log_level
from numpy.testing import assert_allclose, assert_array_equal

import autoreject_cpp.backends as backends
from autoreject_cpp.backends import _common, get_backend
from autoreject_cpp.backends._common import (
    MEMORY_ENV,
    memory_budget,
    parse_bytes,
    run_in_chunks,
)

from _data import gpu_backends

ENV = MEMORY_ENV
#: chunked matrix products may differ from one product in the last bits (BLAS
#: and XLA pick kernels by matrix size); everything else is bit-identical
PRODUCT_RTOL = 1e-13
OOM_MESSAGES = {
    "torch": "CUDA out of memory. Tried to allocate 2.00 GiB",
    "jax": "RESOURCE_EXHAUSTED: Out of memory while trying to allocate 2147483648 bytes.",
}


@pytest.fixture(params=["torch", "jax", *gpu_backends()])
def backend(request):
    """The installed device backends (on their CPU device, then any GPU)."""
    pytest.importorskip(request.param.split(":")[0])
    return get_backend(request.param)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """No budget or backend selection leaks into (or out of) a test."""
    for var in (ENV,) + backends._ENV_VARS:
        monkeypatch.delenv(var, raising=False)


def chunked(monkeypatch, func, budget="64KB"):
    """``func()`` under ``budget``, with what was logged at INFO."""
    monkeypatch.setenv(ENV, budget)
    with use_log_level("info"), catch_logging() as log:
        out = func()
    monkeypatch.delenv(ENV)
    return out, log.getvalue()


def assert_chunked_log(log, kernel, n_chunks=None):
    lines = [line for line in log.splitlines() if f" {kernel}: the working set" in line]
    assert len(lines) == 1, log  # once per call
    assert "exceeds the device memory budget (64.0 kB); processing in" in lines[0]
    if n_chunks is not None:
        assert f"processing in {n_chunks} chunks of" in lines[0]


def data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --------------------------------------------------------------------------
# the budget
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, n_bytes",
    [
        ("1000000", 1_000_000),
        ("64KB", 64_000),
        ("64kb", 64_000),
        ("512 MB", 512_000_000),
        ("2G", 2_000_000_000),
        ("1.5GiB", 3 * 2**29),
        (" 8 KiB ", 8192),
    ],
)
def test_parse_bytes(text, n_bytes):
    assert parse_bytes(text) == n_bytes


@pytest.mark.parametrize("text", ["lots", "-5MB", "5 XB", "MB", "1e9", "0", "0.1"])
def test_parse_bytes_errors(text):
    with pytest.raises(ValueError, match=ENV):
        parse_bytes(text)


def test_memory_budget(monkeypatch):
    # no variable: a fraction of the free memory of a GPU, nothing on the CPU
    assert memory_budget(lambda: 1000) == 500
    assert memory_budget(lambda: None) is None
    assert memory_budget(None) is None

    def broken():
        raise RuntimeError("no driver")

    assert memory_budget(broken) is None
    # the variable wins, read at every call
    monkeypatch.setenv(ENV, "2MB")
    assert memory_budget(lambda: 1000) == 2_000_000
    monkeypatch.setenv(ENV, "none")
    assert memory_budget(lambda: 1000) is None
    monkeypatch.setenv(ENV, "lots")
    with pytest.raises(ValueError, match=f"{ENV} must be a number of bytes.*'lots'"):
        memory_budget(None)


def test_bad_budget_fails_clearly(backend, monkeypatch):
    monkeypatch.setenv(ENV, "a lot")
    with pytest.raises(ValueError, match=f"{ENV} must be a number of bytes"):
        backend.ptp(data((4, 5)), axis=-1)


def test_cpu_devices_have_no_proactive_limit(backend):
    if backend.device != "cpu":
        pytest.skip("a GPU device: see test_gpu_budget_is_a_fraction_of_free_memory")
    assert backend._free_memory() is None
    assert memory_budget(backend._free_memory) is None


def test_gpu_budget_is_a_fraction_of_free_memory(backend):
    if backend.device == "cpu":
        pytest.skip("CPU devices have no proactive limit")
    free = backend._free_memory()
    assert isinstance(free, int) and 0 < free < 2**50
    budget = memory_budget(backend._free_memory)
    # free memory moves a little between the two queries
    assert 0.9 * _common.DEVICE_MEMORY_FRACTION * free < budget
    assert budget <= _common.DEVICE_MEMORY_FRACTION * free * 1.1


# --------------------------------------------------------------------------
# the driver
# --------------------------------------------------------------------------
def test_run_in_chunks():
    calls = []

    def func(start, stop, size):
        calls.append((start, stop, size))
        return np.arange(start, stop)

    with use_log_level("info"), catch_logging() as log:
        out = run_in_chunks(func, 10, 30, budget=100, label="x:cpu k", unit="epochs")
    assert_array_equal(out, np.arange(10))
    assert calls == [(0, 3, 3), (3, 6, 3), (6, 9, 3), (9, 10, 3)]
    assert log.getvalue().strip() == (
        "x:cpu k: the working set (300 B) exceeds the device memory budget "
        "(100 B); processing in 4 chunks of 3 epochs"
    )
    # fits, no budget, or another bound (max_chunk): no message
    for budget, max_chunk, n_calls in [(80, None, 1), (None, None, 1), (None, 4, 3)]:
        calls.clear()
        with use_log_level("info"), catch_logging() as log:
            out = run_in_chunks(func, 10, 8, budget=budget, label="x", max_chunk=max_chunk)
        assert_array_equal(out, np.arange(10))
        assert len(calls) == n_calls and log.getvalue() == ""
    # zero items: one call
    calls.clear()
    assert run_in_chunks(func, 0, 8, budget=1, label="x").size == 0
    assert calls == [(0, 0, 1)]


def test_run_in_chunks_recovers_from_oom():
    calls, released = [], []

    def func(start, stop, size):
        calls.append((start, stop))
        if stop - start > 3:
            raise RuntimeError("CUDA out of memory. Tried to allocate 1 GiB")
        return np.arange(start, stop)

    with pytest.warns(RuntimeWarning, match="x: ran out of memory .*chunks of 2 items"):
        out = run_in_chunks(func, 10, 8, budget=None, label="x", on_oom=lambda: released.append(1))
    assert_array_equal(out, np.arange(10))
    assert calls == [(0, 10), (0, 5), (0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
    assert len(released) == 2

    def always(start, stop, size):
        raise MemoryError()

    with pytest.raises(MemoryError, match="out of memory even for a single one of the 4 epochs"):
        run_in_chunks(always, 4, 8, budget=None, label="x", unit="epochs")

    def other(start, stop, size):
        raise RuntimeError("something else")

    with pytest.raises(RuntimeError, match="something else"):
        run_in_chunks(other, 4, 8, budget=None, label="x")


@pytest.mark.parametrize(
    "err, oom",
    [
        (MemoryError(), True),
        (RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB"), True),
        (RuntimeError("MPS backend out of memory"), True),
        (RuntimeError("[enforce fail at alloc_cpu.cpp:116] DefaultCPUAllocator: "
                      "can't allocate memory: you tried to allocate 8 bytes"), True),  # fmt: skip
        (RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate"), True),
        (RuntimeError("shapes do not match"), False),
        (ValueError("out of memory"), False),
    ],
)
def test_is_out_of_memory(err, oom):
    assert _common.is_out_of_memory(err) is oom


# --------------------------------------------------------------------------
# chunked kernels equal one call
# --------------------------------------------------------------------------
# 60 slices of 2 * 7 * 40 * 8 B along axis 0, 14 a chunk; 7 of 2 * 60 * 40 * 8 B along axis 1
@pytest.mark.parametrize("axis, n_chunks", [(-1, 5), (2, 5), (0, 7), ((1, 2), 5), (None, 5)])
def test_ptp_chunks(backend, monkeypatch, axis, n_chunks):
    x = data((60, 7, 40))
    x[3, 2, 1] = np.nan
    want = backend.ptp(x, axis=axis)
    got, log = chunked(monkeypatch, lambda: backend.ptp(x, axis=axis))
    assert_array_equal(got, want, strict=True)
    assert_array_equal(got, np.ptp(x, axis=axis))
    assert_chunked_log(log, "ptp", n_chunks)
    # the backend's own arrays too
    got, log = chunked(monkeypatch, lambda: backend.ptp(backend.asarray(x), axis=axis))
    assert_array_equal(got, want, strict=True)
    assert_chunked_log(log, "ptp")


@pytest.mark.parametrize("n", [50, 51])
@pytest.mark.parametrize("axis", [0, -1])
def test_median_chunks(backend, monkeypatch, n, axis):
    x = data((n, 12, 200), seed=n) if axis == 0 else data((60, 12, n), seed=n)
    x[1, 2, 3] = np.nan
    x[:, 4, 5] = np.inf
    want = backend.median(x, axis=axis)
    got, log = chunked(monkeypatch, lambda: backend.median(x, axis=axis))
    assert_array_equal(got, want, strict=True)
    assert_array_equal(got, np.median(x, axis=axis))
    assert_chunked_log(log, "median")
    if axis == 0:
        assert f"chunks of {64_000 // (3 * n * 8)} columns" in log  # flattened


@pytest.mark.parametrize("shape", [(80, 500), (80, 5, 100)])
@pytest.mark.parametrize("path", ["product", "cumsum"])
def test_prefix_sums_chunks(backend, monkeypatch, shape, path):
    x = data(shape)
    rng = np.random.default_rng(1)
    order = rng.permutation(80)[:70]
    cuts = np.array([3, 10, 40, 70]) if path == "product" else np.arange(1, 71)
    want = backend.prefix_sums(x, order, cuts)
    got, log = chunked(monkeypatch, lambda: backend.prefix_sums(x, order, cuts))
    assert got.shape == want.shape == (len(cuts),) + shape[1:]
    if path == "cumsum":
        assert_array_equal(got, want, strict=True)
    else:
        assert_allclose(got, want, rtol=PRODUCT_RTOL, atol=PRODUCT_RTOL * np.abs(want).max())
    ref = np.array([x[order[:k]].sum(0) for k in cuts])
    assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert_chunked_log(log, "prefix_sums")


def test_interp_apply_chunks(backend, monkeypatch):
    rng = np.random.default_rng(2)
    matrix = rng.standard_normal((3, 29))
    x = data((40, 29, 150))
    want = backend.interp_apply(matrix, x)
    got, log = chunked(monkeypatch, lambda: backend.interp_apply(matrix, x))
    assert_allclose(got, want, rtol=PRODUCT_RTOL, atol=PRODUCT_RTOL * np.abs(want).max())
    assert_allclose(got, matrix @ x, rtol=1e-12, atol=1e-12 * np.abs(want).max())
    # 64 kB / (2 * (3 + 29) * 150 * 8 B) = 1 epoch per chunk
    assert_chunked_log(log, "interp_apply", 40)
    assert "chunks of 1 epoch" in log


def test_ransac_correlations_chunks(backend, monkeypatch):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((9, 1, 30)) + 0.5 * rng.standard_normal((9, 10, 30))
    mappings = np.zeros((7 * 10, 10))
    for r in range(7):  # each resample predicts from 3 channels
        mappings[r * 10 : (r + 1) * 10, rng.choice(10, 3, replace=False)] = 1 / 3
    want = backend.ransac_correlations(x, mappings, 7)
    got, log = chunked(monkeypatch, lambda: backend.ransac_correlations(x, mappings, 7))
    assert_allclose(got, want, rtol=PRODUCT_RTOL)
    assert_allclose(got, get_backend("numpy").ransac_correlations(x, mappings, 7), rtol=1e-12)
    assert_chunked_log(log, "ransac_correlations", 9)  # 18 * 10 * 30 * 8 B per epoch


# --------------------------------------------------------------------------
# out-of-memory errors of the device library: halve and retry
# --------------------------------------------------------------------------
def fail_above(backend, monkeypatch, ndim, axis, limit):
    """Make moving (chunks of) the data of :func:`test_recovers_from_oom`
    (``(40, 20, 60)``, or ``(40, 1200)`` for ``ndim=2``) with more than
    ``limit`` items along ``axis`` to the device raise the library's OOM
    error."""
    shape = (40, 20, 60) if ndim == 3 else (40, 1200)
    rest = shape[:axis] + shape[axis + 1 :]
    real = backend.asarray
    sizes = []

    def asarray(x):
        if np.ndim(x) == ndim and x.shape[:axis] + x.shape[axis + 1 :] == rest:
            sizes.append(x.shape[axis])
            if x.shape[axis] > limit:
                raise RuntimeError(OOM_MESSAGES[backend.name])
        return real(x)

    monkeypatch.setattr(backend, "asarray", asarray)
    return sizes


KERNEL_CASES = {
    # name: (call, ndim and axis of the chunked input, items, exact)
    "ptp": (lambda be, x: be.ptp(x, axis=-1), 3, 0, 40, True),
    "median": (lambda be, x: be.median(x, axis=0), 2, 1, 20 * 60, True),
    "prefix_sums": (
        lambda be, x: be.prefix_sums(x.reshape(40, -1), np.arange(40), np.array([5, 17, 40])),
        2, 1, 20 * 60, False,
    ),  # fmt: skip
    "interp_apply": (
        lambda be, x: be.interp_apply(np.ones((2, 20)) / 20, x), 3, 0, 40, False,
    ),  # fmt: skip
}


@pytest.mark.parametrize("kernel", sorted(KERNEL_CASES))
def test_recovers_from_oom(backend, monkeypatch, kernel):
    call, ndim, axis, n_items, exact = KERNEL_CASES[kernel]
    x = data((40, 20, 60))
    want = call(backend, x)
    limit = n_items // 5
    sizes = fail_above(backend, monkeypatch, ndim, axis, limit)
    with pytest.warns(RuntimeWarning, match=f"{kernel}: ran out of memory .*recovered"):
        got = call(backend, x)
    # the whole, halves until they fit, then chunks that fit and cover it all
    assert sizes[0] == n_items
    assert sum(size for size in sizes if size <= limit) == n_items
    if exact:
        assert_array_equal(got, want, strict=True)
    else:
        assert_allclose(got, want, rtol=PRODUCT_RTOL, atol=PRODUCT_RTOL * np.abs(want).max())
    # a single item that does not fit: a clear error
    fail_above(backend, monkeypatch, ndim, axis, 0)
    with pytest.raises(MemoryError, match=f"{kernel}: out of memory even for a single one"):
        call(backend, x)


def test_no_warning_without_oom(backend, monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chunked(monkeypatch, lambda: backend.ptp(data((60, 7, 300)), axis=-1))


# --------------------------------------------------------------------------
# end to end
# --------------------------------------------------------------------------
def test_autoreject_with_tiny_budget(monkeypatch):
    """A whole fit in chunks gives the numpy backend's result."""
    pytest.importorskip("torch")
    import autoreject_cpp
    from autoreject_cpp.datasets import make_synthetic_epochs

    epochs = make_synthetic_epochs(n_epochs=30, n_channels=16)
    kw = dict(cv=3, n_interpolate=[1, 4], consensus=[0.2, 0.5, 0.8], random_state=0)
    want, want_log = autoreject_cpp.AutoReject(backend="numpy", verbose=False, **kw).fit_transform(
        epochs, return_log=True
    )
    (got, got_log), log = chunked(
        monkeypatch,
        lambda: autoreject_cpp.AutoReject(backend="torch", verbose=None, **kw).fit_transform(
            epochs, return_log=True
        ),
    )
    for kernel in ("median", "interp_apply", "prefix_sums"):
        assert f"torch:cpu {kernel}: the working set" in log, kernel
    assert_array_equal(got_log.labels, want_log.labels)
    assert_array_equal(got_log.bad_epochs, want_log.bad_epochs)
    assert_allclose(got.get_data(), want.get_data(), rtol=1e-12, atol=1e-12 * 1e-4)


def test_numpy_ransac_buffers_stay_within_the_host_budget(monkeypatch):
    """The numpy backend's RANSAC prediction buffers, for all its workers
    together, are bounded by HOST_RANSAC_CHUNK_ELEMENTS (one epoch at least),
    whatever the number of epochs; the correlations do not change."""
    import tracemalloc

    rng = np.random.default_rng(0)
    data = rng.standard_normal((200, 8, 100))
    mappings = rng.standard_normal((400, 8)) * (rng.random((400, 8)) < 0.5)
    be = get_backend("numpy")
    expected = be.ransac_correlations(data, mappings, 50)
    monkeypatch.setattr(_common, "HOST_RANSAC_CHUNK_ELEMENTS", 2**16)
    import autoreject_cpp.backends._numpy as numpy_backend

    monkeypatch.setattr(numpy_backend, "HOST_RANSAC_CHUNK_ELEMENTS", 2**16)
    tracemalloc.start()
    try:
        got = be.ransac_correlations(data, mappings, 50)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert_array_equal(got, expected)
    # all 200 epochs at once would need 200 * 8 * 100 * 50 * 8 B = 64 MB
    assert peak < 4 * 2**20
