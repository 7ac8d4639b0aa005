"""dtype='float32', the speed option: float32 kernels on every CPU backend,
estimators whose decisions stay close to float64's, float64 unchanged."""

import json

import numpy as np
import pytest

import autoreject_cpp
from autoreject_cpp import _core
from autoreject_cpp.backends import available_backends, get_backend
from autoreject_cpp.cli import EXIT_OK, EXIT_USAGE, main
from autoreject_cpp.datasets import make_synthetic_epochs

CPU_BACKENDS = [name for name in ("scalar", "openmp") if name in available_backends()]
#: with a GPU, cuda too (tools/gpu-check.sh runs this file there)
ALL_BACKENDS = CPU_BACKENDS + [name for name in ("cuda",) if name in available_backends()]


def _kernel_inputs(seed=3):
    """EEG-like data (volts) exactly representable in float32, and the
    index / key / bound arrays of the fold kernels."""
    rng = np.random.RandomState(seed)
    data = (rng.randn(70, 257) * 1e-5).astype(np.float32)
    train_idx = np.array([rng.permutation(70)[:50] for _ in range(4)], dtype=np.int64)
    deltas = np.ptp(data.astype(np.float64), axis=1)
    train_keys = deltas[train_idx].astype(np.float32)
    # bounds at observed keys: the kept sets are the same in both precisions
    bounds = np.sort(train_keys, axis=1)[:, [5, 20, 35, 49]].T.copy()
    medians = np.median(data.astype(np.float64)[:20], axis=0)
    medians = np.repeat(medians[None].astype(np.float32), 4, axis=0)
    return data, train_idx, train_keys, bounds, medians


def _ransac_inputs(seed=4):
    rng = np.random.RandomState(seed)
    data = (rng.randn(5, 12, 301) * 1e-5).astype(np.float32)
    cols = np.array([rng.choice(12, 4, replace=False) for _ in range(7)], dtype=np.int64)
    cols.sort(axis=1)
    counts = np.full(7, 4, dtype=np.int64)
    weights = rng.uniform(0, 0.5, size=(7, 12, 4)).astype(np.float32)
    return data, cols, counts, weights


def _all_kernels(backend, n_threads, dtype):
    """Every bulk kernel of the core on the inputs above, cast to ``dtype``."""
    data, train_idx, keys, bounds, medians = (
        a.astype(dtype) if a.dtype.kind == "f" else a for a in _kernel_inputs()
    )
    r_data, cols, counts, weights = (
        a.astype(dtype) if a.dtype.kind == "f" else a for a in _ransac_inputs()
    )
    kw = dict(backend=backend, n_threads=n_threads)
    order = np.random.RandomState(5).permutation(70).astype(np.int64)
    return dict(
        ptp=_core.ptp(data, **kw),
        median_rows=_core.median_rows(data, np.arange(0, 70, 3, dtype=np.int64), **kw),
        kept_means=_core.kept_means(data, train_idx, keys, bounds, **kw),
        threshold_losses=_core.threshold_losses(data, train_idx, keys, bounds, medians, **kw),
        threshold_scores=_core.threshold_scores(data, train_idx, keys, bounds, medians, **kw),
        prefix_sums=_core.prefix_sums(data, order, np.array([1, 9, 40, 70]), **kw),
        ransac_correlations=_core.ransac_correlations(r_data, cols, counts, weights, **kw),
    )


# relative tolerance (of the largest value) of float32 against float64 on the
# same float32-representable inputs: one rounding for ptp and the median,
# sums of up to 70 rows for the others
TOLERANCE = dict(
    ptp=1e-7,
    median_rows=1e-7,
    kept_means=2e-5,
    threshold_losses=1e-4,
    threshold_scores=1e-4,
    prefix_sums=2e-5,
    ransac_correlations=1e-4,
)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_core_kernels_float32_close_to_float64(backend):
    got32 = _all_kernels(backend, 2, np.float32)
    got64 = _all_kernels(backend, 2, np.float64)
    for name, tol in TOLERANCE.items():
        a, b = got32[name], got64[name]
        assert a.dtype == np.float32, name
        assert b.dtype == np.float64, name
        assert a.shape == b.shape, name
        scale = np.nanmax(np.abs(b))
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
        assert np.nanmax(np.abs(a - b)) <= tol * scale, name
        # float32 rounding is visible: the results are not float64's
    assert not np.array_equal(got32["kept_means"], got64["kept_means"])


def test_core_kernels_float32_bit_equal_across_backends_and_threads():
    ref = _all_kernels("scalar", 0, np.float32)
    for backend in CPU_BACKENDS:
        for n_threads in (1, 3):
            got = _all_kernels(backend, n_threads, np.float32)
            for name in ref:
                assert got[name].tobytes() == ref[name].tobytes(), (backend, n_threads, name)
    if "cuda" in ALL_BACKENDS:  # the same values (a GPU writes its own NaN payloads)
        got = _all_kernels("cuda", 0, np.float32)
        for name in ref:
            np.testing.assert_array_equal(got[name], ref[name], err_msg=name)


def test_core_float32_values_by_hand():
    x = np.array([[1.5, -2.25, 4.0], [0.1, 0.2, 0.3]], dtype=np.float32)
    out = _core.ptp(x, backend="scalar")
    assert out.dtype == np.float32
    # max - min rounded to float32
    np.testing.assert_array_equal(out, [np.float32(6.25), np.float32(0.3) - np.float32(0.1)])
    # other dtypes are converted to float64 as before
    assert _core.ptp(x.astype(np.float64), backend="scalar").dtype == np.float64
    assert _core.ptp(np.array([[1, 5, 2]]), backend="scalar").tolist() == [4.0]
    # a non-contiguous float32 array still runs in float32
    strided = _core.ptp(x[:, ::2], backend="scalar")  # columns 0 and 2
    assert strided.dtype == np.float32
    np.testing.assert_array_equal(strided, [np.float32(2.5), np.float32(0.3) - np.float32(0.1)])
    med = _core.median_rows(x, np.array([0, 1]), backend="scalar")
    assert med.dtype == np.float32
    np.testing.assert_array_equal(med, (x[0] + x[1]) / np.float32(2))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_backend_passes_float32_through(backend):
    be = get_backend(backend)
    data = _kernel_inputs()[0].reshape(70, 1, 257)
    assert be.ptp(data, axis=-1).dtype == np.float32
    assert be.median(data, axis=0).dtype == np.float32
    assert be.ptp(data.astype(np.float64), axis=-1).dtype == np.float64
    sums = be.prefix_sums(data, np.arange(70), np.array([3, 70]))
    assert sums.dtype == np.float32
    np.testing.assert_allclose(sums[1], data.astype(np.float64).sum(axis=0), rtol=0, atol=1e-9)


@pytest.fixture(scope="module")
def eeg():
    return make_synthetic_epochs("eeg", n_epochs=60)


def _fit_ar(epochs, **kw):
    ar = autoreject_cpp.AutoReject(random_state=42, cv=4, verbose=False, **kw)
    clean, log = ar.fit(epochs).transform(epochs, return_log=True)
    return ar, clean, log


@pytest.fixture(scope="module")
def ar_pair(eeg):
    return _fit_ar(eeg), _fit_ar(eeg, dtype="float32")


def test_autoreject_float32_close_to_float64(ar_pair, eeg):
    (ar64, clean64, log64), (ar32, clean32, log32) = ar_pair
    assert ar32.dtype == "float32"  # stored as given
    same = (log32.labels == log64.labels) | (np.isnan(log32.labels) & np.isnan(log64.labels))
    assert same.mean() >= 0.95
    assert (np.asarray(log32.bad_epochs) == np.asarray(log64.bad_epochs)).mean() >= 0.95
    rel = [abs(ar32.threshes_[ch] / ar64.threshes_[ch] - 1) for ch in ar64.threshes_]
    assert np.median(rel) < 1e-2
    # MNE's float64 epochs out, the input untouched
    assert clean32.get_data().dtype == np.float64
    assert eeg.get_data(copy=False).dtype == np.float64
    if len(clean32) == len(clean64):
        np.testing.assert_allclose(clean32.get_data(), clean64.get_data(), rtol=0, atol=1e-9)


def test_autoreject_float64_unchanged(ar_pair, eeg):
    (ar64, clean64, log64), _ = ar_pair
    ar, clean, log = _fit_ar(eeg, dtype="float64")
    assert ar.threshes_ == ar64.threshes_
    np.testing.assert_array_equal(log.labels, log64.labels)
    assert clean.get_data().tobytes() == clean64.get_data().tobytes()


def test_ransac_float32(eeg):
    r64 = autoreject_cpp.Ransac(verbose=False).fit(eeg)
    r32 = autoreject_cpp.Ransac(verbose=False, dtype="float32").fit(eeg)
    assert r32.bad_chs_ == r64.bad_chs_
    np.testing.assert_allclose(r32.corr_, r64.corr_, rtol=0, atol=1e-5)
    assert not np.array_equal(r32.corr_, r64.corr_)


def test_thresholds_float32(eeg):
    t64 = autoreject_cpp.compute_thresholds(eeg, random_state=42, verbose=False, method="exact")
    t32 = autoreject_cpp.compute_thresholds(
        eeg, random_state=42, verbose=False, method="exact", dtype="float32"
    )
    assert t32.keys() == t64.keys()
    rel = np.array([abs(t32[ch] / t64[ch] - 1) for ch in t64])
    assert np.mean(rel < 1e-5) >= 0.9
    g64 = autoreject_cpp.get_rejection_threshold(eeg, random_state=42, verbose=False)
    g32 = autoreject_cpp.get_rejection_threshold(
        eeg, random_state=42, verbose=False, dtype="float32"
    )
    assert abs(g32["eeg"] / g64["eeg"] - 1) < 1e-6


@pytest.mark.parametrize("bad", ["float16", "double32", None, 32, "int32"])
def test_invalid_dtype(eeg, bad):
    for call in (
        lambda: autoreject_cpp.AutoReject(dtype=bad, verbose=False).fit(eeg),
        lambda: autoreject_cpp.Ransac(dtype=bad, verbose=False).fit(eeg),
        lambda: autoreject_cpp.compute_thresholds(eeg, dtype=bad, verbose=False),
        lambda: autoreject_cpp.get_rejection_threshold(eeg, dtype=bad, verbose=False),
    ):
        with pytest.raises(ValueError, match="'float64'.*'float32'"):
            call()


def test_dtype_saved_and_loaded(ar_pair, tmp_path):
    _, (ar32, _, _) = ar_pair
    fname = tmp_path / "model.h5"
    ar32.save(fname)
    loaded = autoreject_cpp.read_auto_reject(fname)
    assert loaded.dtype == "float32"
    assert loaded.threshes_ == ar32.threshes_


def test_cli_dtype(eeg, tmp_path, capsys):
    fif = tmp_path / "synthetic-epo.fif"
    eeg.save(fif, verbose="error")
    assert main(["-q", "thresholds", str(fif), "--random-state", "42", "--dtype", "float32"]) == 0
    reject = json.loads(capsys.readouterr().out)
    epochs = autoreject_cpp.datasets.make_synthetic_epochs("eeg", n_epochs=60)
    assert reject == autoreject_cpp.get_rejection_threshold(
        epochs, random_state=42, verbose=False, dtype="float32"
    )
    assert main(["-q", "ransac", str(fif), "--dtype", "float32"]) == EXIT_OK
    assert capsys.readouterr().out.split() == (
        autoreject_cpp.Ransac(verbose=False, dtype="float32").fit(epochs).bad_chs_
    )
    out = tmp_path / "clean-epo.fif"
    code = main(
        ["-q", "clean", str(fif), "-o", str(out), "--random-state", "42", "--cv", "4",
         "--dtype", "float32", "--model", str(tmp_path / "m.h5")]
    )  # fmt: skip
    assert code == EXIT_OK
    assert autoreject_cpp.read_auto_reject(tmp_path / "m.h5").dtype == "float32"
    capsys.readouterr()
    assert main(["thresholds", str(fif), "--dtype", "float16"]) == EXIT_USAGE
    assert "invalid choice" in capsys.readouterr().err
