"""Property tests of the reliability invariants (issue #6), on every backend.

* the user's Epochs (data, info, events, drop log) are never modified;
* the same ``random_state`` gives identical results whatever ``n_jobs`` and
  whichever installed backend;
* ``transform`` is exactly "apply the reject log": bad epochs dropped, the
  label-2 cells interpolated from the good channels of their epoch, every
  other cell bit-identical to the input;
* save -> read reproduces every fitted attribute and the same transform.

Expected values come from the definitions (the reject log, MNE's spherical
spline matrix), never from stored autoreject_cpp output.
"""

# License: BSD-3-Clause

import copy
import os
import tempfile
import warnings

import mne
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from autoreject_cpp import AutoReject, Ransac, RejectLog, compute_thresholds, get_rejection_threshold
from autoreject_cpp.local_reject import LocalAutoReject
from autoreject_cpp.persistence import FITTED_FIELDS, INIT_FIELDS, read_auto_reject

from _data import core_backends, eeg_epochs

BACKENDS = core_backends()
#: the core's backends give the scalar backend's results bit for bit (the
#: kernels are NumPy's operations, see test_backends; RANSAC's sums too)
BIT_EXACT = set(BACKENDS)
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@st.composite
def cases(draw):
    """Small random EEG epochs: shape from a few sizes, data from the seed."""
    return dict(
        n_epochs=draw(st.sampled_from([12, 16])),
        n_channels=draw(st.sampled_from([8, 10])),
        n_times=50,
        seed=draw(st.integers(0, 2**16)),
    )


def _epochs(case, bads=0):
    epochs = eeg_epochs(**case)
    epochs.info["bads"] = list(epochs.ch_names[:bads])
    return epochs


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


# ---------------------------------------------------------------------------
# the user's epochs are never modified


def _snapshot(epochs):
    return dict(
        data=epochs.get_data(copy=True),
        dtype=epochs.get_data(copy=False).dtype,
        info=epochs.info.copy(),
        events=epochs.events.copy(),
        selection=epochs.selection.copy(),
        drop_log=copy.deepcopy(epochs.drop_log),
        preload=epochs.preload,
    )


def _assert_unchanged(epochs, before, what):
    assert_array_equal(epochs.get_data(copy=False), before["data"], strict=True, err_msg=what)
    assert epochs.get_data(copy=False).dtype == before["dtype"], what
    assert mne.utils.object_diff(before["info"], epochs.info) == "", what
    assert_array_equal(epochs.events, before["events"], err_msg=what)
    assert_array_equal(epochs.selection, before["selection"], err_msg=what)
    assert epochs.drop_log == before["drop_log"], what
    assert epochs.preload == before["preload"], what


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=6, **SETTINGS)
@given(case=cases(), n_bads=st.sampled_from([0, 1]))
def test_inputs_never_modified(backend, case, n_bads):
    epochs = _epochs(case, bads=n_bads)
    before = _snapshot(epochs)
    kw = dict(random_state=0, verbose=False, backend=backend)
    calls = {}
    ar = AutoReject(cv=3, n_interpolate=[1, 3], thresh_method="random_search", **kw)
    calls["AutoReject.fit"] = lambda: ar.fit(epochs)
    calls["AutoReject.get_reject_log"] = lambda: ar.get_reject_log(epochs)
    calls["AutoReject.transform"] = lambda: ar.transform(epochs, return_log=True)

    def edited_log():
        log = ar.get_reject_log(epochs)
        log.labels[~np.isnan(log.labels)] = 0
        log.labels[0, ar.picks_[:2]] = 2  # two channels of the first epoch repaired
        return ar.transform(epochs, reject_log=log)

    calls["AutoReject.transform(reject_log)"] = edited_log
    calls["AutoReject.fit_transform"] = lambda: AutoReject(
        cv=3, n_interpolate=[1], thresh_method="random_search", **kw
    ).fit_transform(epochs)
    local = LocalAutoReject(n_interpolate=1, consensus=0.5, thresh_method="random_search",
                            verbose=False, backend=backend)  # fmt: skip
    calls["LocalAutoReject.fit"] = lambda: local.fit(epochs)
    calls["LocalAutoReject.transform"] = lambda: _transform_if_possible(local, epochs)
    calls["compute_thresholds"] = lambda: compute_thresholds(epochs, method="random_search", **kw)
    calls["get_rejection_threshold"] = lambda: get_rejection_threshold(epochs, cv=3, **kw)
    ransac = Ransac(n_resample=10, **kw)
    calls["Ransac.fit"] = lambda: ransac.fit(epochs)
    calls["Ransac.transform"] = lambda: ransac.transform(epochs)
    for name, call in calls.items():
        _quiet(call)
        _assert_unchanged(epochs, before, name)


def _transform_if_possible(local, epochs):
    try:
        return local.transform(epochs)
    except ValueError as err:  # every epoch bad: documented error
        assert "Every epoch is bad" in str(err)


# ---------------------------------------------------------------------------
# determinism


def _seed(kind, value):
    """A fresh random_state of the given kind (a RandomState is consumed)."""
    return value if kind == "int" else np.random.RandomState(value)


def _assert_same_model(got, ref, exact, what):
    assert got.threshes_ == ref.threshes_, what
    assert got.consensus_ == ref.consensus_, what
    assert got.n_interpolate_ == ref.n_interpolate_, what
    assert_array_equal(got.picks_, ref.picks_, err_msg=what)
    for ch_type in ref.loss_:
        if exact:
            assert_array_equal(got.loss_[ch_type], ref.loss_[ch_type], err_msg=what)
        else:
            assert_allclose(got.loss_[ch_type], ref.loss_[ch_type], rtol=1e-9, err_msg=what)


def _assert_same_output(got, ref, exact, what):
    (clean, log), (ref_clean, ref_log) = got, ref
    assert_array_equal(log.labels, ref_log.labels, err_msg=what)
    assert_array_equal(log.bad_epochs, ref_log.bad_epochs, err_msg=what)
    if exact:
        assert_array_equal(clean.get_data(), ref_clean.get_data(), err_msg=what)
    else:
        scale = np.abs(ref_clean.get_data()).max()
        assert_allclose(clean.get_data(), ref_clean.get_data(), rtol=0, atol=1e-10 * scale, err_msg=what)


@pytest.mark.parametrize(
    "method, n_examples", [("random_search", 8), ("exact", 4), ("bayesian_optimization", 2)]
)
def test_same_seed_same_result(method, n_examples):
    """n_jobs in {1, 2, -1} and every installed backend give the same model."""

    @settings(max_examples=n_examples, **SETTINGS)
    @given(case=cases(), seed=st.integers(0, 1000), kind=st.sampled_from(["int", "RandomState"]))
    def check(case, seed, kind):
        epochs = _epochs(case)

        def fit(backend, n_jobs):
            ar = AutoReject(cv=3, n_interpolate=[1, 3], thresh_method=method, n_jobs=n_jobs,
                            random_state=_seed(kind, seed), verbose=False, backend=backend)  # fmt: skip
            ar.fit(epochs)
            return ar, ar.transform(epochs, return_log=True)

        ref, ref_out = fit("scalar", 1)
        runs = [(b, n_jobs) for b in BACKENDS for n_jobs in (1, 2, -1) if (b, n_jobs) != ("scalar", 1)]
        for backend, n_jobs in runs:
            what = f"{method}, {kind}, backend={backend}, n_jobs={n_jobs}"
            ar, out = fit(backend, n_jobs)
            exact = backend in BIT_EXACT
            _assert_same_model(ar, ref, exact, what)
            _assert_same_output(out, ref_out, exact, what)

    check()


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=6, **SETTINGS)
@given(case=cases(), seed=st.integers(0, 1000), kind=st.sampled_from(["int", "RandomState"]))
def test_ransac_same_seed_same_result(backend, case, seed, kind):
    epochs = _epochs(case)

    def fit(backend, n_jobs):
        return Ransac(n_resample=12, n_jobs=n_jobs, random_state=_seed(kind, seed),
                      verbose=False, backend=backend).fit(epochs)  # fmt: skip

    ref = fit("scalar", 1)
    for n_jobs in (1, 2, -1):
        got = fit(backend, n_jobs)
        assert got.bad_chs_ == ref.bad_chs_, (backend, n_jobs)
        assert got.ch_subsets_ == ref.ch_subsets_
        assert_array_equal(got.corr_, ref.corr_)


# ---------------------------------------------------------------------------
# transform == apply the reject log


def _expected_clean(epochs, log):
    """Definition: drop bad epochs; in each kept epoch, replace the label-2
    channels by MNE's spherical-spline interpolation from the other picked
    channels of that epoch (positions as stored, as in autoreject 0.5.1)."""
    from mne.channels.interpolation import _make_interpolation_matrix

    data = epochs.get_data(copy=True)
    labels = np.asarray(log.labels)
    picks = np.flatnonzero(~np.isnan(labels).all(axis=0))
    pos = np.array([epochs.info["chs"][p]["loc"][:3] for p in range(len(epochs.ch_names))])
    for e in range(len(data)):
        bad = picks[labels[e, picks] == 2]
        good = picks[labels[e, picks] != 2]
        if len(bad) and len(good):
            matrix = _make_interpolation_matrix(pos[good], pos[bad])
            data[e, bad] = matrix @ data[e, good]
    return data[~np.asarray(log.bad_epochs, bool)]


def _check_transform_is_log(epochs, clean, log, backend):
    kept = np.flatnonzero(~np.asarray(log.bad_epochs, bool))
    dropped = np.flatnonzero(log.bad_epochs)
    assert len(clean) == len(kept)
    assert_array_equal(clean.selection, epochs.selection[kept])
    assert all(clean.drop_log[epochs.selection[d]] == ("AUTOREJECT",) for d in dropped)
    assert clean.ch_names == epochs.ch_names
    got = clean.get_data(copy=False)
    original = epochs.get_data(copy=False)[kept]
    repaired = np.asarray(log.labels)[kept] == 2
    # untouched cells: bit-identical to the input
    assert_array_equal(got[~repaired], original[~repaired], strict=True)
    # repaired cells: the interpolation of the definition
    want = _expected_clean(epochs, log)
    scale = np.abs(original).max()
    assert_allclose(got[repaired], want[repaired], rtol=0, atol=1e-9 * scale)
    if repaired.any():  # the repair really happened
        assert not np.array_equal(got[repaired], original[repaired])


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=6, **SETTINGS)
@given(case=cases())
def test_transform_applies_its_reject_log(backend, case):
    epochs = _epochs(case)
    ar = AutoReject(cv=3, n_interpolate=[1, 3], consensus=[0.3, 0.6], thresh_method="random_search",
                    random_state=0, verbose=False, backend=backend).fit(epochs)  # fmt: skip
    clean, log = _quiet(ar.transform, epochs, return_log=True)
    _check_transform_is_log(epochs, clean, log, backend)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=8, **SETTINGS)
@given(case=cases(), log_seed=st.integers(0, 2**16))
def test_transform_applies_an_edited_reject_log(backend, case, log_seed):
    """Any reject log (labels 0/1/2 on the picks) is applied as given."""
    epochs = _epochs(case)
    ar = AutoReject(cv=3, n_interpolate=[1], consensus=[0.5], thresh_method="random_search",
                    random_state=0, verbose=False, backend=backend).fit(epochs)  # fmt: skip
    rng = np.random.default_rng(log_seed)
    n_epochs, n_channels = len(epochs), len(epochs.ch_names)
    labels = rng.choice([0.0, 1.0, 2.0], size=(n_epochs, n_channels), p=[0.6, 0.2, 0.2])
    labels[:, 0] = 0.0  # at least one good channel per epoch
    log = RejectLog(rng.random(n_epochs) < 0.3, labels, list(epochs.ch_names))
    clean = ar.transform(epochs, reject_log=log)
    _check_transform_is_log(epochs, clean, log, backend)


# ---------------------------------------------------------------------------
# save -> read


def _assert_same_value(got, want, where):
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), where  # h5io sorts keys
        for key in want:
            _assert_same_value(got[key], want[key], f"{where}[{key!r}]")
    elif isinstance(want, (list, tuple)) and not isinstance(want, str):
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            _assert_same_value(g, w, f"{where}[{i}]")
    elif isinstance(want, np.ndarray) or isinstance(got, np.ndarray):
        assert_array_equal(np.asarray(got), np.asarray(want), err_msg=where)
    else:
        assert got == want and type(got) is type(want) or float(got) == float(want), where


@settings(max_examples=6, **SETTINGS)
@given(
    case=cases(),
    method=st.sampled_from(["random_search", "exact"]),
    consensus=st.sampled_from([None, [0.2, 0.5]]),
    cv=st.sampled_from([2, 3]),
    n_bads=st.sampled_from([0, 1]),
)
def test_save_read_round_trip(case, method, consensus, cv, n_bads):
    epochs = _epochs(case, bads=n_bads)
    ar = _quiet(AutoReject(cv=cv, consensus=consensus, n_interpolate=[1, 2], thresh_method=method,
                           random_state=0, verbose=False).fit, epochs)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        fname = os.path.join(tmp, "model.h5")
        ar.save(fname)
        back = read_auto_reject(fname)
    assert type(back) is AutoReject
    for name in INIT_FIELDS + FITTED_FIELDS:
        _assert_same_value(getattr(back, name), getattr(ar, name), name)
    assert set(back.local_reject_) == set(ar.local_reject_)
    for ch_type, local in ar.local_reject_.items():
        for name in ("threshes_", "consensus_", "n_interpolate_", "picks_"):
            _assert_same_value(getattr(back.local_reject_[ch_type], name), getattr(local, name),
                               f"local_reject_[{ch_type!r}].{name}")  # fmt: skip
    clean, log = _quiet(ar.transform, epochs, return_log=True)
    clean_back, log_back = _quiet(back.transform, epochs, return_log=True)
    assert_array_equal(log_back.labels, log.labels)
    assert_array_equal(clean_back.get_data(), clean.get_data(), strict=True)
