"""Tests for the compute backends (:mod:`autoreject_cpp.backends`).

Every kernel of every available backend of the compiled core is compared with
the NumPy reference of ``_reference.py``: bit for bit (the sign of zeros
included) where the core promises NumPy's floating-point operations, to
``rtol=1e-12`` for the RANSAC correlations, whose products are summed in
another order.
"""

# License: BSD-3-Clause

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import autoreject_cpp
import autoreject_cpp.backends as backends
from autoreject_cpp.backends import (
    KERNELS,
    Backend,
    available_backends,
    detect_hardware,
    get_backend,
    use_backend,
)
from autoreject_cpp.backends import _base

from _data import core_backends
from _reference import NumpyReference, ransac_loop, rmse_rows

REF = NumpyReference()
#: the backends of the core that can run here ('cuda' only with a GPU build
#: and a device)
BACKENDS = core_backends()
RANSAC_RTOL = 1e-12
PYTHON_DIR = str(Path(autoreject_cpp.__file__).resolve().parents[1])


# --------------------------------------------------------------------------
# fixtures and helpers
# --------------------------------------------------------------------------
@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each backend of the core that can run here."""
    return get_backend(request.param)


@pytest.fixture(autouse=True)
def _clean_selection(monkeypatch):
    """No environment variable leaks into (or out of) a test."""
    monkeypatch.delenv(backends.ENV_VAR, raising=False)


def assert_bits(got, want):
    """Same shape, dtype and values, NaN where NaN, and the same sign of
    every non-NaN value (so -0.0 differs from 0.0)."""
    assert isinstance(got, np.ndarray) and isinstance(want, np.ndarray)
    assert_array_equal(got, want, strict=True)
    finite = ~np.isnan(want)
    assert_array_equal(np.signbit(got[finite]), np.signbit(want[finite]))


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


def make_folds(rng, n_rows, n_times, n_folds=4, n_bounds=7):
    """Data, training rows and keys per fold, bounds (one keeping nothing)."""
    data = rng.standard_normal((n_rows, n_times))
    n_train = max(1, (4 * n_rows) // 5)
    train_idx = np.stack([rng.permutation(n_rows)[:n_train] for _ in range(n_folds)])
    keys = np.ptp(data, axis=1)[train_idx]
    bounds = np.sort(rng.choice(keys.ravel(), (n_bounds, n_folds)), axis=0)
    bounds[0, 0] = -np.inf  # nothing kept: NaN
    bounds[-1] = np.inf  # everything kept
    return data, train_idx, keys, bounds


# --------------------------------------------------------------------------
# the interface
# --------------------------------------------------------------------------
def test_interface(backend):
    """Every kernel is there; the core's own ones are not the base's stubs."""
    assert isinstance(backend, Backend)
    assert backend.name in ("scalar", "openmp", "cuda")
    for kernel in KERNELS:
        assert callable(getattr(backend, kernel)), kernel
    for kernel in set(KERNELS) - {"interp_apply", "interp_repair", "median_of_rows"}:
        assert getattr(type(backend), kernel) is not getattr(Backend, kernel), kernel


# --------------------------------------------------------------------------
# kernels against the reference, bit for bit
# --------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [-1, 0, 1, (1, 2), None])
def test_ptp(backend, axis):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 5, 31))
    x[2, 3, 4] = np.nan
    got = backend.ptp(x, axis=axis)
    want = REF.ptp(x, axis=axis)
    assert_bits(np.asarray(got), np.asarray(want))


@pytest.mark.parametrize("n_times", [1, 2, 7, 8, 9, 16, 17, 641])
def test_ptp_special_values(backend, n_times):
    """Rows of every length around vector-lane widths, with a NaN, an
    infinity, both infinities, signed zeros or only infinities."""
    rng = np.random.default_rng(n_times)
    x = rng.standard_normal((40, n_times))
    specials = ([np.nan], [np.inf], [-np.inf, np.inf], [-0.0, 0.0], [-np.inf])
    for row in range(0, 30, 3):
        for value in specials[row % len(specials)]:
            x[row, rng.integers(n_times)] = value
    x[-1] = np.inf
    x[-2] = -0.0
    x[-3] = 1.0  # ties only
    with np.errstate(invalid="ignore"):
        want = REF.ptp(x, axis=-1)
        got = backend.ptp(x, axis=-1)
    assert_bits(got, want)


@pytest.mark.parametrize("shape", [(1, 50), (50, 1), (1, 1), (3, 0, 5), (0, 4)])
def test_ptp_small_shapes(backend, shape):
    """One row, one column, and empty inputs (NumPy's behaviour)."""
    x = np.random.default_rng(2).standard_normal(shape)
    if x.size:
        assert_bits(backend.ptp(x, axis=-1), REF.ptp(x, axis=-1))
        assert_bits(backend.ptp(x, axis=0), REF.ptp(x, axis=0))
    else:
        for axis in (0, -1):
            try:
                want = REF.ptp(x, axis=axis)
            except ValueError:  # a zero-size reduction
                with pytest.raises(ValueError):
                    backend.ptp(x, axis=axis)
            else:
                assert_bits(backend.ptp(x, axis=axis), want)


def test_ptp_non_contiguous_and_other_dtypes(backend):
    """Strided views give the same bits; integer input keeps NumPy's dtype."""
    x = np.random.default_rng(3).standard_normal((6, 9, 40))
    view = x[::2, :, ::3]
    assert_bits(backend.ptp(view, axis=-1), REF.ptp(view, axis=-1))
    ints = np.arange(24).reshape(4, 6)
    assert_array_equal(backend.ptp(ints, axis=1), np.ptp(ints, axis=1), strict=True)


@pytest.mark.parametrize(
    "dtype", [np.float64, np.float32, np.int16, np.complex128, np.bool_]
)
def test_take_rows(backend, dtype):
    """x[rows] with x's dtype, any order and repeats, in a new array."""
    x = (np.random.default_rng(5).standard_normal((40, 3, 7)) * 100).astype(dtype)
    before = x.copy()
    rows = np.array([39, 0, 5, 5, 17, 2])
    got = backend.take_rows(x, rows)
    assert_array_equal(got, x[rows], strict=True)
    assert got.flags.c_contiguous and not np.shares_memory(got, x)
    assert_array_equal(x, before)  # the source is not modified
    assert_array_equal(backend.take_rows(x, rows[:0]), x[:0], strict=True)
    assert_array_equal(backend.take_rows(x, [-1]), x[[-1]], strict=True)  # NumPy's -1


def test_take_rows_views_and_errors(backend):
    """Strided views and object arrays go through NumPy; bad rows raise as NumPy."""
    x = np.random.default_rng(6).standard_normal((10, 8))
    assert_array_equal(backend.take_rows(x[:, ::2], [3, 1]), x[[3, 1], ::2], strict=True)
    objects = np.array([[1, "a"], [2, "b"]], dtype=object)
    assert_array_equal(backend.take_rows(objects, [1]), objects[[1]])
    with pytest.raises(IndexError, match="out of range"):
        backend.take_rows(x, [10])
    # the core's own checks
    with pytest.raises(ValueError, match="C-contiguous"):
        autoreject_cpp._core.take_rows(x[:, ::2], np.array([0]))
    with pytest.raises(TypeError, match="must hold numbers"):
        autoreject_cpp._core.take_rows(objects, np.array([0]))
    with pytest.raises(ValueError, match=r"rows\[0\] = 10 is outside \[0, 10\)"):
        autoreject_cpp._core.take_rows(x, np.array([10]))
    with pytest.raises(ValueError, match="0-D"):
        autoreject_cpp._core.take_rows(np.array(1.0), np.array([0]))


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 50, 51])
@pytest.mark.parametrize("axis", [0, -1])
def test_median(backend, n, axis):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 9, 8)) if axis == 0 else rng.standard_normal((4, 9, n))
    x.flat[::13] = np.round(x.flat[::13])  # ties
    assert_bits(backend.median(x, axis=axis), REF.median(x, axis=axis))
    x.flat[5] = np.nan
    assert_bits(backend.median(x, axis=axis), REF.median(x, axis=axis))
    x.flat[7] = np.inf
    x.flat[11] = -np.inf
    x.flat[17] = -0.0
    assert_bits(backend.median(x, axis=axis), REF.median(x, axis=axis))


@pytest.mark.parametrize("shape", [(1, 20), (20, 1), (1, 1), (2, 1), (5,)])
def test_median_small_shapes(backend, shape):
    """One row, one column, a single value, a 1-D input."""
    x = np.random.default_rng(4).standard_normal(shape)
    assert_bits(np.asarray(backend.median(x, axis=0)), np.asarray(REF.median(x, axis=0)))


def test_median_sign_of_zero(backend):
    """np.median never returns -0.0 (its mean starts from +0.0); neither do
    the backends, though the middle values are -0.0."""
    x = np.array([[-0.0, -0.0, -0.0, 1.0], [-0.0, -0.0, 2.0, -0.0], [-0.0, 3.0, 5.0, 7.0]])
    for rows in (x[:1], x[:2], x):
        assert_bits(backend.median(rows, axis=0), np.median(rows, axis=0))
        assert not np.signbit(backend.median(rows, axis=0)).any()
    assert_bits(backend.median_of_rows(x, [0, 1]), np.median(x[[0, 1]], axis=0))


def test_median_ties_and_infinities(backend):
    """All-equal columns, half -inf half +inf (NaN mean), signed zeros."""
    n = 10
    x = np.random.default_rng(5).standard_normal((n, 6))
    x[:, 0] = 3.0
    x[:, 1] = np.r_[np.full(n // 2, -np.inf), np.full(n - n // 2, np.inf)]
    x[:, 2] = np.r_[np.full(n // 2, -0.0), np.full(n - n // 2, 0.0)]
    x[:, 3] = -0.0
    x[:, 4] = np.inf
    with np.errstate(invalid="ignore"):
        want = REF.median(x, axis=0)
        got = backend.median(x, axis=0)
    assert_bits(got, want)


@pytest.mark.parametrize("n_rows", [1, 2, 7, 93, 150])
def test_median_of_rows(backend, n_rows):
    """The median of selected rows, as NumPy's of the gathered rows (NaN,
    repeated and negative row indices included)."""
    rng = np.random.default_rng(n_rows)
    x = rng.standard_normal((200, 3, 70))
    rows = rng.permutation(200)[:n_rows]
    assert_bits(backend.median_of_rows(x, rows), REF.median_of_rows(x, rows))
    x[rows[0], 1, 5] = np.nan
    assert_bits(backend.median_of_rows(x, rows), REF.median_of_rows(x, rows))
    odd = np.r_[rows, rows[:1], -1]
    assert_bits(backend.median_of_rows(x, odd), REF.median_of_rows(x, odd))


def test_median_of_rows_out_of_range(backend):
    x = np.ones((5, 3))
    with pytest.raises(IndexError):
        backend.median_of_rows(x, np.array([0, 5]))
    with pytest.raises(IndexError):
        backend.median_of_rows(x, np.array([-6]))


@pytest.mark.parametrize("n", [92, 93, 129, 200])
def test_median_many_columns(backend, n):
    """Fold-median sized inputs with infinities."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 40, 75))
    x[3, 1, 2] = np.inf
    x[:, 5, 7] = np.r_[np.full(n // 2, -np.inf), np.full(n - n // 2, np.inf)]
    with np.errstate(invalid="ignore"):
        assert_bits(backend.median(x, axis=0), REF.median(x, axis=0))


@pytest.mark.parametrize("shape", [(40,), (40, 1), (40, 17), (40, 4, 17)])
@pytest.mark.parametrize("kind", ["single", "first", "every", "some"])
def test_prefix_sums(backend, shape, kind):
    rng = np.random.default_rng(4)
    data, order, cuts = make_prefix(rng, shape, 30, kind)
    assert_bits(backend.prefix_sums(data, order, cuts), REF.prefix_sums(data, order, cuts))


@pytest.mark.parametrize("n_selected", [1, 129, 300])
def test_prefix_sums_long(backend, n_selected):
    """Long segments, NaN and infinities, repeated and negative rows."""
    rng = np.random.default_rng(14)
    data = rng.standard_normal((n_selected + 10, 2, 300))
    data[0, 0, 0] = np.nan
    data[1, 1, 1] = np.inf
    order = rng.permutation(n_selected + 10)[:n_selected]
    cuts = np.unique(np.clip([1, 2, 9, n_selected - 7, n_selected], 1, n_selected))
    assert_bits(backend.prefix_sums(data, order, cuts), REF.prefix_sums(data, order, cuts))
    order = np.r_[order, order[:3], -1]
    cuts = np.r_[cuts, len(order)]
    assert_bits(backend.prefix_sums(data, order, cuts), REF.prefix_sums(data, order, cuts))


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


@settings(max_examples=40, deadline=None)
@given(
    n_rows=st.integers(1, 300),
    n_cols=st.integers(1, 40),
    n_cuts=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_prefix_sums_property(n_rows, n_cols, n_cuts, seed):
    """Every available backend gives the reference's bits."""
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((n_rows, n_cols)) * 10.0 ** rng.integers(-8, 8)
    order = rng.permutation(n_rows)[: rng.integers(1, n_rows + 1)]
    n_cuts = min(n_cuts, len(order))
    cuts = np.sort(rng.choice(np.arange(1, len(order) + 1), n_cuts, replace=False))
    want = REF.prefix_sums(data, order, cuts)
    for name in available_backends():
        assert_bits(get_backend(name).prefix_sums(data, order, cuts), want)


@pytest.mark.parametrize("n_rows, n_times", [(60, 33), (1, 10), (12, 1), (200, 129)])
def test_kept_means(backend, n_rows, n_times):
    """Epoch-order means bit for bit, NaN where a bound keeps nothing."""
    rng = np.random.default_rng(n_rows + n_times)
    data, train_idx, keys, bounds = make_folds(rng, n_rows, n_times)
    data[train_idx[0, 0], 0] = np.nan  # NaN propagates to the means keeping it
    got = backend.kept_means(data, train_idx, keys, bounds)
    want = REF.kept_means(data, train_idx, keys, bounds)
    assert_bits(got, want)
    assert np.isnan(got[0, 0]).all()
    for c in range(len(bounds)):  # and it is np.mean of the kept rows
        kept = train_idx[1][keys[1] <= bounds[c, 1]]
        if len(kept):
            assert_bits(got[c, 1], np.mean(data[kept], axis=0))


def test_kept_means_padded_folds(backend):
    """Folds of unequal size padded with infinite keys (never kept)."""
    from autoreject_cpp._folds import padded_folds

    rng = np.random.default_rng(11)
    data = rng.standard_normal((23, 17))
    trains = [np.arange(0, 18), np.arange(5, 23), np.r_[0:3, 8:23]]
    train_idx, keys = padded_folds(trains, np.ptp(data, axis=1))
    bounds = np.sort(rng.choice(keys[np.isfinite(keys)], (5, 3)), axis=0)
    assert_bits(
        backend.kept_means(data, train_idx, keys, bounds),
        REF.kept_means(data, train_idx, keys, bounds),
    )


def _losses_expression(data, train_idx, keys, bounds, medians):
    """The threshold search's loss, as NumPy computes it from the means."""
    means = REF.kept_means(data, train_idx, keys, bounds)
    with np.errstate(invalid="ignore"):
        return -np.mean(-np.sqrt(np.mean((medians[None] - means) ** 2, axis=-1)), axis=-1)


@pytest.mark.parametrize("n_times", [1, 7, 8, 9, 16, 33, 128, 129, 641])
def test_threshold_losses(backend, n_times):
    """The loss of each bound, bit for bit (NumPy's pairwise sums over
    time: lengths around its 8-wide unrolling and 128-long blocks)."""
    rng = np.random.default_rng(n_times)
    data, train_idx, keys, bounds = make_folds(rng, 50, n_times)
    medians = rng.standard_normal((train_idx.shape[0], n_times))
    got = backend.threshold_losses(data, train_idx, keys, bounds, medians)
    want = _losses_expression(data, train_idx, keys, bounds, medians)
    assert got.shape == (len(bounds),)
    assert_bits(got, want)
    assert_bits(got, REF.threshold_losses(data, train_idx, keys, bounds, medians))
    assert np.isnan(got[0])  # a fold kept nothing
    scores = backend.threshold_scores(data, train_idx, keys, bounds, medians)
    means = REF.kept_means(data, train_idx, keys, bounds)
    with np.errstate(invalid="ignore"):
        want_scores = -np.sqrt(np.mean((medians[None] - means) ** 2, axis=-1))
    assert scores.shape == (len(bounds), train_idx.shape[0])
    assert_bits(scores, want_scores)
    assert np.isnan(scores[0]).any()


def test_threshold_losses_special_values(backend):
    rng = np.random.default_rng(21)
    data, train_idx, keys, bounds = make_folds(rng, 40, 25)
    medians = rng.standard_normal((train_idx.shape[0], 25))
    medians[1, 3] = np.inf
    data[train_idx[2, 0], 4] = np.nan
    with np.errstate(invalid="ignore", over="ignore"):
        want = _losses_expression(data, train_idx, keys, bounds, medians)
    assert_bits(backend.threshold_losses(data, train_idx, keys, bounds, medians), want)


@pytest.mark.parametrize("n_cols", [1, 2, 7, 8, 9, 16, 17, 127, 128, 129, 300, 1031])
@pytest.mark.parametrize("n", [0, 1, 5])
def test_rmse_rows(backend, n, n_cols):
    """``rmse_to`` (the CV loss of the consensus search) equals NumPy's
    expression bit for bit, on every backend."""
    from autoreject_cpp._folds import rmse_to

    rng = np.random.default_rng(n * 1000 + n_cols)
    median = rng.standard_normal(n_cols)
    means = rng.standard_normal((n, n_cols)) * 10.0 ** rng.integers(-6, 6)
    if n:
        means[0, 0] = np.nan
    got = rmse_to(median, means, backend)
    assert_bits(got, rmse_rows(median, means))
    assert_bits(got, rmse_to(median, means))  # AUTOREJECT_BACKEND / 'auto'
    assert_bits(got, np.sqrt(np.mean((median[None] - means) ** 2, axis=-1)))
    # the fold medians are (n_channels, n_times): flattened the same way
    if n_cols % 3 == 0:
        median3 = median.reshape(3, n_cols // 3)
        means3 = means.reshape(n, 3, n_cols // 3)
        diff = (median3[None] - means3).reshape(n, n_cols)
        assert_bits(rmse_to(median3, means3, backend), np.sqrt(np.mean(diff**2, axis=-1)))


@pytest.mark.parametrize("n_resample", [1, 6, 7])
def test_ransac_correlations(backend, n_resample):
    rng = np.random.default_rng(6 + n_resample)
    data, mappings = make_ransac(rng, n_resample=n_resample)
    mappings[:12, :] = rng.random((12, 12)) / 12  # one dense resample
    want = ransac_loop(data, mappings, n_resample)
    got = backend.ransac_correlations(data, mappings, n_resample)
    assert got.shape == want.shape and got.dtype == np.float64
    assert_allclose(got, want, rtol=RANSAC_RTOL, atol=0)
    assert_allclose(got, REF.ransac_correlations(data, mappings, n_resample), rtol=RANSAC_RTOL)


def test_ransac_correlations_nan(backend):
    rng = np.random.default_rng(7)
    data, mappings = make_ransac(rng, n_resample=6)
    data[1, 2, 5] = np.nan
    with np.errstate(invalid="ignore"):
        want = ransac_loop(data, mappings, 6)
    got = backend.ransac_correlations(data, mappings, 6)
    assert_array_equal(np.isnan(got), np.isnan(want))
    assert_allclose(got, want, rtol=RANSAC_RTOL, atol=0)


def test_ransac_correlations_many_epochs(backend):
    """More epochs than threads (and than a chunk of the reference)."""
    rng = np.random.default_rng(8)
    data, mappings = make_ransac(rng, n_epochs=37, n_channels=9, n_times=31, n_resample=8)
    want = ransac_loop(data, mappings, 8)
    assert_allclose(backend.ransac_correlations(data, mappings, 8), want, rtol=RANSAC_RTOL)


def test_ransac_bad_mappings(backend):
    data, mappings = make_ransac(np.random.default_rng(9))
    with pytest.raises(ValueError, match="n_resample"):
        backend.ransac_correlations(data, mappings[:-1], 7)


def test_interp_apply(backend):
    rng = np.random.default_rng(5)
    matrix = rng.standard_normal((6, 9))
    data = rng.standard_normal((4, 9, 23))
    assert_bits(backend.interp_apply(matrix, data), REF.interp_apply(matrix, data))


@pytest.mark.parametrize("chunk_bytes", [1, 6000, 2**20])
@pytest.mark.parametrize("n_goods", [0, 1, 9])
def test_interp_repair(backend, n_goods, chunk_bytes, monkeypatch):
    """In place, the repaired rows are ``matrix @ goods`` of each listed epoch,
    and every other value keeps its bits, whatever the chunk size (one
    epoch, two and a remainder, all)."""
    monkeypatch.setattr(_base, "REPAIR_CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(50 + n_goods)
    data = rng.standard_normal((6, 20, 37))
    channels = rng.permutation(20)
    goods, bads = channels[:n_goods], np.sort(channels[n_goods : n_goods + 3])
    matrix = rng.standard_normal((len(bads), n_goods))
    epochs = np.array([4, 0, 2])
    original = data.copy()
    backend.interp_repair(data, epochs, goods, bads, matrix)
    want = original.copy()
    REF.interp_repair(want, epochs, goods, bads, matrix)
    repaired = np.zeros(data.shape, bool)
    repaired[np.ix_(epochs, bads)] = True
    assert_array_equal(data[~repaired], original[~repaired], strict=True)
    assert_bits(data, want)


def test_threads_do_not_change_results():
    """1, 2 and the default number of OpenMP threads give the same bits."""
    if "openmp" not in available_backends():
        pytest.skip("no OpenMP backend")
    rng = np.random.default_rng(30)
    x = rng.standard_normal((150, 4, 101))
    data, train_idx, keys, bounds = make_folds(rng, 90, 101)
    medians = rng.standard_normal((train_idx.shape[0], 101))
    results = []
    for n_jobs in (1, 2, None, -1):
        be = get_backend("openmp", n_jobs=n_jobs)
        results.append(
            (
                be.ptp(x, axis=-1),
                be.median(x, axis=0),
                be.prefix_sums(x, np.arange(150), np.array([3, 77, 150])),
                be.threshold_losses(data, train_idx, keys, bounds, medians),
            )
        )
    for other in results[1:]:
        for got, want in zip(other, results[0]):
            assert_bits(got, want)


# --------------------------------------------------------------------------
# selection: names, precedence, errors
# --------------------------------------------------------------------------
def test_backends_table():
    """``autoreject_cpp.backends()`` is the core's table."""
    from autoreject_cpp import _core

    table = autoreject_cpp.backends()
    assert table == [dict(row) for row in _core.backends()]
    assert [row["name"] for row in table] == ["scalar", "openmp", "cuda"]
    for row in table:
        assert set(row) == {"name", "compiled", "available", "reason"}
        assert isinstance(row["compiled"], bool) and isinstance(row["available"], bool)
        assert isinstance(row["reason"], str)
        if row["available"]:
            assert row["compiled"]
        else:
            assert row["reason"], f"{row['name']} is unavailable without a reason"
    scalar = table[0]
    assert scalar["compiled"] and scalar["available"] and scalar["reason"] == ""
    assert available_backends() == [row["name"] for row in table if row["available"]]
    assert autoreject_cpp.backends is backends  # the subpackage, callable
    assert backends() == table and backends.backends_table() == table


def test_detect_hardware():
    info = detect_hardware()
    assert info["cpu_count"] >= 1
    assert info["max_threads"] >= 1
    assert info["backends"] == autoreject_cpp.backends()
    assert isinstance(info["core_version"], str)
    assert not {"numba", "torch", "jax"} & set(info)


def test_names_and_cache():
    assert get_backend("scalar").name == "scalar"
    assert get_backend("scalar") is get_backend("scalar")  # cached
    be = get_backend("scalar")
    assert get_backend(be) is be
    auto = get_backend("auto")
    cuda = [row for row in autoreject_cpp.backends() if row["name"] == "cuda"][0]
    # cuda where it runs (a GPU, or the emulated one of a test build), else a CPU backend
    assert (auto.name == "cuda") == cuda["available"]
    assert auto.name in ("scalar", "openmp", "cuda")
    assert get_backend() is auto


@pytest.mark.parametrize(
    "n_jobs, threads",
    [(None, 0), (1, 1), (2, 2), (-1, None)],
)
def test_n_jobs_sets_threads(n_jobs, threads):
    be = get_backend("scalar", n_jobs=n_jobs)
    if threads is None:  # -1: every core
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert be.n_threads == threads
    assert get_backend("scalar", n_jobs=n_jobs) is be
    if n_jobs not in (None, 1):
        assert be is not get_backend("scalar")  # cached per (name, threads)


def test_estimator_backend():
    from autoreject_cpp.backends import estimator_backend

    assert estimator_backend("scalar", 1) is get_backend("scalar")
    assert estimator_backend("scalar", None) is get_backend("scalar")
    assert estimator_backend("scalar", 2).n_threads == 2


def test_thread_limit_of_batch_jobs():
    """Inside ``limit_threads`` (a batch job), the kernels use that many threads."""
    from autoreject_cpp._parallel import limit_threads

    with limit_threads(1):
        assert get_backend("scalar").n_threads == 1
        assert get_backend("scalar", n_jobs=2).n_threads == 2
    assert get_backend("scalar").n_threads == 0


@pytest.mark.parametrize("n_jobs, error", [(0, ValueError), (1.5, TypeError), (True, TypeError)])
def test_bad_n_jobs(n_jobs, error):
    with pytest.raises(error, match="n_jobs"):
        get_backend("scalar", n_jobs=n_jobs)


def test_use_backend(monkeypatch):
    monkeypatch.setenv(backends.ENV_VAR, "bogus")
    with use_backend("scalar") as be:
        assert be.name == "scalar"
        assert get_backend() is be  # the context beats the environment
        with use_backend(be):
            assert get_backend() is be
        if "openmp" in available_backends():
            assert get_backend("openmp").name == "openmp"  # the argument beats the context
    with pytest.raises(ValueError, match="bogus"):
        get_backend()  # restored
    with pytest.raises(RuntimeError, match="boom"):
        with use_backend("scalar"):
            raise RuntimeError("boom")
    monkeypatch.delenv(backends.ENV_VAR)
    assert get_backend() is get_backend("auto")  # restored after an error


def test_env_var_in_process(monkeypatch):
    """The core reads the environment variable at each resolution."""
    monkeypatch.setenv(backends.ENV_VAR, "scalar")
    assert get_backend().name == "scalar"
    monkeypatch.setenv(backends.ENV_VAR, "bogus")
    with pytest.raises(ValueError, match="AUTOREJECT_BACKEND"):
        get_backend()
    assert get_backend("scalar").name == "scalar"  # the argument wins


@pytest.mark.parametrize("name", ["cupy", "numpy", "numba", "torch:cuda"])
def test_unknown_names(name):
    with pytest.raises(ValueError, match="scalar"):
        get_backend(name)
    with pytest.raises(ValueError, match="scalar"):
        with use_backend(name):
            pass


def test_unavailable_cuda():
    """'cuda' without a CUDA build or device: an error naming what is available."""
    if "cuda" in available_backends():
        pytest.skip("CUDA is available here")
    reason = [row["reason"] for row in autoreject_cpp.backends() if row["name"] == "cuda"][0]
    with pytest.raises(ValueError, match="cuda") as err:
        get_backend("cuda")
    message = str(err.value)
    assert "'scalar'" in message and reason in message


def test_bad_types():
    with pytest.raises(TypeError, match="backend must be"):
        get_backend(3)
    with pytest.raises(TypeError):
        with use_backend(None):
            pass


# --------------------------------------------------------------------------
# in a fresh process: the environment variable, the import
# --------------------------------------------------------------------------
def run_python(code, **env):
    """Run ``code`` in a fresh interpreter with ``env`` added; its result."""
    full = {k: v for k, v in os.environ.items() if k != backends.ENV_VAR}
    full["PYTHONPATH"] = PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", "")
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120
    )


@pytest.mark.parametrize("name", ["scalar", "openmp", "cuda", "auto"])
def test_env_var_valid(name):
    if name != "auto" and name not in available_backends():
        pytest.skip(f"{name} not available")
    out = run_python(
        "import autoreject_cpp as ar; print(ar.get_backend().name, ar.get_backend('auto').name)",
        AUTOREJECT_BACKEND=name,
    )
    assert out.returncode == 0, out.stderr
    got, auto = out.stdout.split()
    assert got == (auto if name == "auto" else name)
    assert auto in ("scalar", "openmp", "cuda")
    assert (auto == "cuda") == ("cuda" in available_backends())


@pytest.mark.parametrize("name", ["bogus", "cuda"])
def test_env_var_unknown_or_unavailable(name):
    """An unknown name, or 'cuda' without a CUDA build: ValueError naming
    the variable and the available backends, no fallback."""
    if name == "cuda" and "cuda" in available_backends():
        pytest.skip("CUDA is available here")
    code = (
        "import autoreject_cpp\n"
        "try:\n"
        "    autoreject_cpp.get_backend()\n"
        "except ValueError as err:\n"
        "    print('ValueError:', err)\n"
        "else:\n"
        "    print('no error')\n"
    )
    out = run_python(code, AUTOREJECT_BACKEND=name)
    assert out.returncode == 0, out.stderr
    text = out.stdout.strip()
    assert text.startswith("ValueError:"), text
    assert name in text and "AUTOREJECT_BACKEND" in text
    for available in available_backends():
        assert f"'{available}'" in text


def test_argument_wins_over_env_var():
    """``backend=`` of an estimator beats AUTOREJECT_BACKEND, even an
    unusable one."""
    code = (
        "import numpy as np, mne, autoreject_cpp\n"
        "from autoreject_cpp.datasets import make_synthetic_epochs\n"
        "epochs = make_synthetic_epochs(n_epochs=12, n_channels=16, seed=0)\n"
        "r = autoreject_cpp.Ransac(backend='scalar', n_resample=5, verbose=False)\n"
        "print(r.fit(epochs).backend_.name)\n"
        "print(autoreject_cpp.get_backend('scalar').name)\n"
        "try:\n"
        "    autoreject_cpp.Ransac(n_resample=5, verbose=False).fit(epochs)\n"
        "except ValueError as err:\n"
        "    print('ValueError')\n"
    )
    out = run_python(code, AUTOREJECT_BACKEND="bogus")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["scalar", "scalar", "ValueError"]


@pytest.mark.parametrize("module", ["autoreject_cpp", "autoreject_cpp.backends"])
def test_import_is_light(module):
    """Importing the package (or its backends, with the compiled core) loads
    no optional or plotting library and starts no thread: the core detects
    the backends on first use. NumPy is imported first, as its BLAS may
    start a pool of its own."""
    code = (
        "import os, sys, threading\n"
        "def tasks():\n"
        "    try:\n"
        "        return len(os.listdir('/proc/self/task'))\n"
        "    except OSError:\n"
        "        return -1\n"
        + ("import numpy\n" if module != "autoreject_cpp" else "")
        + "before = tasks()\n"
        f"import {module}\n"
        + ("import autoreject_cpp._core\n" if module != "autoreject_cpp" else "")
        + "after = tasks()\n"
        "heavy = [m for m in ('numba', 'torch', 'jax', 'jaxlib', 'llvmlite', 'matplotlib', "
        "'dask', 'distributed') if m in sys.modules]\n"
        "print(','.join(heavy) or '-', threading.active_count(), before, after)\n"
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    heavy, active, before, after = out.stdout.split()
    assert heavy == "-", out.stdout
    assert active == "1"
    assert before == after, f"import started {int(after) - int(before)} thread(s)"
