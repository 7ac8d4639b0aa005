"""The C++ pipeline (``include/autoreject/pipeline.hpp``) against the Python module.

The C++ API reproduces ``autoreject_cpp.AutoReject(thresh_method='exact')``:
same folds and draws for an integer seed, same kernels. Values that go
through BLAS in Python (leave-one-out augmentation, repairs) are computed by
plain loops in C++, so thresholds taken from interpolated epochs, losses and
repaired samples agree to about 1e-12; the decisions (consensus,
n_interpolate, labels, bad epochs, RANSAC bad channels) must be identical.
"""

from __future__ import annotations

import mne
import numpy as np
import pytest

import autoreject_cpp
from autoreject_cpp import _core
from autoreject_cpp.datasets import load_eegmmidb_epochs, make_synthetic_epochs, sample_data_dir

DATA = sample_data_dir()
needs_data = pytest.mark.skipif(
    DATA is None, reason="shared data folder absent (<repo>/../shared/data or AUTOREJECT_DATA)"
)


def _inputs(epochs):
    """The binding's arguments for ``epochs``: data and channel descriptions."""
    info = epochs.info
    names = list(info["ch_names"])
    types = [mne.channel_type(info, i) for i in range(len(names))]
    pos = np.array([ch["loc"][:3] for ch in info["chs"]], dtype=float)
    bads = [name in info["bads"] for name in names]
    return epochs.get_data(copy=False), names, types, pos, bads


def _eegmmidb():
    return load_eegmmidb_epochs(DATA, runs=(3, 4), tmin=0, tmax=2, chunk_duration=None)


def _eeglab():
    fname = DATA / "eeglab_sample" / "eeglab_data_epochs_ica.set"
    epochs = mne.read_epochs_eeglab(fname, verbose="error")
    return epochs.load_data()  # 80 epochs, 30 EEG channels with positions + 2 EOG


def _synthetic():
    return make_synthetic_epochs(kind="eeg", n_epochs=60, n_channels=32, sfreq=160, seed=42)


RECORDINGS = {
    "synthetic": _synthetic,
    "eegmmidb": pytest.param(_eegmmidb, marks=needs_data),
    "eeglab": pytest.param(_eeglab, marks=needs_data),
}


@pytest.fixture(scope="module", params=list(RECORDINGS.values()), ids=list(RECORDINGS))
def epochs(request):
    return request.param()


def _same_labels(a, b):
    return np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(
        np.nan_to_num(a, nan=-1), np.nan_to_num(b, nan=-1)
    )


@pytest.mark.parametrize("method", ["exact", "random_search"])
def test_autoreject_equals_the_python_module(epochs, method):
    cv = 5
    py = autoreject_cpp.AutoReject(
        thresh_method=method, random_state=42, cv=cv, verbose=False
    ).fit(epochs)
    py_clean, py_log = py.transform(epochs, return_log=True)
    got = _core.pipeline_autoreject(
        *_inputs(epochs), cv=cv, thresh_method=method, random_state=42
    )
    names = epochs.ch_names
    want = np.array([py.threshes_.get(name, np.nan) for name in names])
    np.testing.assert_allclose(got["thresholds"], want, rtol=1e-10)
    assert got["consensus"] == {k: float(v) for k, v in py.consensus_.items()}
    assert got["n_interpolate"] == {k: int(v) for k, v in py.n_interpolate_.items()}
    for ch_type, loss in py.loss_.items():
        np.testing.assert_allclose(got["loss"][ch_type], loss, rtol=1e-10)
    assert _same_labels(got["labels"], py_log.labels)
    np.testing.assert_array_equal(got["bad_epochs"], py_log.bad_epochs)
    np.testing.assert_array_equal(got["kept"], np.flatnonzero(~py_log.bad_epochs))
    want_clean = py_clean.get_data(copy=False)
    peak = np.abs(want_clean).max()
    np.testing.assert_allclose(got["clean"], want_clean, rtol=0, atol=1e-10 * peak)


def test_ransac_equals_the_python_module(epochs):
    py = autoreject_cpp.Ransac(random_state=42, verbose=False).fit(epochs)
    got = _core.pipeline_ransac(*_inputs(epochs), random_state=42)
    assert got["bad_chs"] == list(py.bad_chs_)
    subsets = [[epochs.ch_names[c] for c in s] for s in got["subsets"]]
    assert subsets == [list(s) for s in py.ch_subsets_]
    np.testing.assert_allclose(got["corr"], py.corr_, rtol=0, atol=1e-10)


def test_random_search_thresholds_equal_the_python_module(epochs):
    py = autoreject_cpp.compute_thresholds(
        epochs, method="random_search", random_state=42, verbose=False
    )
    got = _core.pipeline_compute_thresholds(
        *_inputs(epochs), method="random_search", random_state=42
    )
    picks = mne.pick_types(epochs.info, eeg=True, exclude="bads")
    # the candidates are draws of one stream: the same floats, chosen alike
    np.testing.assert_allclose(got, [py[epochs.ch_names[p]] for p in picks], rtol=1e-10)


def test_global_threshold_is_the_best_candidate(epochs):
    """The C++ search evaluates every epoch's maximum; its answer minimises
    the cross-validated loss the Python module computes."""
    from sklearn.model_selection import KFold

    from autoreject_cpp.backends import get_backend
    from autoreject_cpp.global_thresholds import _EpochFolds

    got = _core.pipeline_get_rejection_threshold(*_inputs(epochs), cv=5)
    present = [t for t in ("eeg", "eog") if t in epochs]
    assert sorted(got) == sorted(present)
    for ch_type in present:
        X = epochs.get_data(picks=mne.pick_types(epochs.info, meg=False, **{ch_type: True}))
        folds = _EpochFolds(X, list(KFold(5).split(X)), get_backend("scalar"))
        candidates = np.unique(folds.maxima)
        objective = -np.mean(folds.scores(candidates), axis=-1)
        # the C++ sums run in key order, the module's in epoch order: the losses
        # agree to rounding, so the choice is the minimum up to a near-tie
        assert got[ch_type] in candidates
        chosen = objective[np.flatnonzero(candidates == got[ch_type])[0]]
        assert chosen <= objective.min() * (1 + 1e-12)


def test_float32_input_runs_in_double(epochs):
    data, *rest = _inputs(epochs)
    as32 = data.astype(np.float32)
    from32 = _core.pipeline_autoreject(as32, *rest, cv=5, random_state=0)
    from64 = _core.pipeline_autoreject(as32.astype(np.float64), *rest, cv=5, random_state=0)
    np.testing.assert_array_equal(from32["thresholds"], from64["thresholds"])
    np.testing.assert_array_equal(from32["bad_epochs"], from64["bad_epochs"])
    assert from32["clean"].dtype == np.float32
    np.testing.assert_array_equal(from32["clean"], from64["clean"].astype(np.float32))


def test_errors_are_value_errors():
    epochs = _synthetic()
    data, names, types, pos, bads = _inputs(epochs)
    with pytest.raises(ValueError, match="thresh_method"):
        _core.pipeline_autoreject(data, names, types, pos, bads, thresh_method="bayesian")
    bad = data.copy()
    bad[3, 5, 7] = np.nan
    with pytest.raises(ValueError, match=f"NaN.*'{names[5]}'"):
        _core.pipeline_autoreject(bad, names, types, pos, bads)
    with pytest.raises(ValueError, match="one ChannelInfo per channel|one entry per name"):
        _core.pipeline_autoreject(data, names[:-1], types[:-1], pos[:-1], bads[:-1])
    assert not np.isnan(data).any()  # the caller's array is untouched
