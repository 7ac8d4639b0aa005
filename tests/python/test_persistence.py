"""Tests for autoreject_cpp.persistence: HDF5 files shared with autoreject 0.5.1."""

import copy
import os
import warnings
from types import SimpleNamespace

import mne
import numpy as np
import pytest
from numpy.testing import assert_array_equal

from autoreject_cpp import persistence
from autoreject_cpp.persistence import (
    FITTED_FIELDS,
    INIT_FIELDS,
    LOCAL_FITTED_FIELDS,
    LOCAL_INIT_FIELDS,
    read_auto_reject,
    read_autoreject_state,
    save_autoreject,
    state_from_autoreject,
)

CH_NAMES = [
    "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "FC1", "FC2", "T7", "C3", "Cz",
    "C4", "T8", "CP1", "CP2", "P7", "P3", "Pz", "P4", "P8", "O1", "Oz", "O2",
]  # fmt: skip


def _make_epochs(seed=42, n_epochs=40):
    """Small EEG epochs on the standard_1020 montage with sparse artifacts."""
    rng = np.random.default_rng(seed)
    info = mne.create_info(CH_NAMES, 100.0, "eeg")
    data = rng.standard_normal((n_epochs, len(CH_NAMES), 50)) * 10e-6
    data[rng.random((n_epochs, len(CH_NAMES))) < 0.05] *= 20
    epochs = mne.EpochsArray(data, info, verbose="error")
    with warnings.catch_warnings():
        # MNE 1.13 renames the montage (same positions) to 'colin27_1020'
        warnings.simplefilter("ignore", FutureWarning)
        montage = mne.channels.make_standard_montage("standard_1020")
    epochs.set_montage(montage)
    return epochs


@pytest.fixture(scope="module")
def epochs():
    return _make_epochs()


@pytest.fixture(scope="module")
def upstream(epochs, tmp_path_factory):
    """An autoreject 0.5.1 model fitted on ``epochs``, its file and its output."""
    autoreject = pytest.importorskip("autoreject")
    ar = autoreject.AutoReject(
        n_interpolate=[1, 2], consensus=[0.2, 0.5], cv=3, random_state=42, verbose=False
    )
    ar.fit(epochs)
    fname = tmp_path_factory.mktemp("upstream") / "upstream-ar.h5"
    ar.save(fname)
    clean, log = ar.transform(epochs, return_log=True)
    return SimpleNamespace(ar=ar, fname=fname, clean=clean, log=log)


def _autoreject_cpp_autoreject_class():
    """autoreject_cpp.AutoReject, or skip while it is not available."""
    module = pytest.importorskip("autoreject_cpp.local_reject_cv")
    if not hasattr(module, "AutoReject"):
        pytest.skip("autoreject_cpp.local_reject_cv.AutoReject is not available yet")
    pytest.importorskip("autoreject_cpp.local_reject")
    return module.AutoReject


def _assert_same(a, b, where="state"):
    """Deep equality for the nested values of a state (NaN-aware arrays)."""
    if isinstance(a, dict):
        assert isinstance(b, dict), where
        assert set(a) == set(b), f"{where}: {sorted(a)} != {sorted(b)}"
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), where
        for ii, (sub_a, sub_b) in enumerate(zip(a, b)):
            _assert_same(sub_a, sub_b, f"{where}[{ii}]")
    elif isinstance(a, (list, np.ndarray)):
        assert_array_equal(np.asarray(a), np.asarray(b), err_msg=where)
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _assert_same_epochs(a, b):
    """Same epochs kept and same data: 1e-9 relative, with an absolute floor of
    1e-12 of the peak amplitude (interpolated values can cross zero, where a
    purely relative check would demand bit-identical rounding, which even
    BLAS thread counts change)."""
    assert_array_equal(a.selection, b.selection)
    data_a, data_b = a.get_data(), b.get_data()
    np.testing.assert_allclose(data_b, data_a, rtol=1e-9, atol=1e-10 * np.abs(data_a).max())
    assert a.ch_names == b.ch_names


# ---------------------------------------------------------------------------
# files written by autoreject 0.5.1, read by autoreject_cpp


@pytest.mark.oracle
def test_read_state_of_autoreject_file(upstream):
    state = read_autoreject_state(upstream.fname)
    expected = upstream.ar.__getstate__()
    expected["verbose"] = False
    assert state["verbose"] is False
    assert state["local_reject_"]["eeg"]["verbose"] is False
    _assert_same(expected, state)


@pytest.mark.oracle
def test_read_auto_reject_of_autoreject_file(upstream):
    AutoReject = _autoreject_cpp_autoreject_class()
    from autoreject_cpp.local_reject import LocalAutoReject

    ar = read_auto_reject(upstream.fname)
    theirs = upstream.ar
    assert isinstance(ar, AutoReject)
    for name in INIT_FIELDS:
        _assert_same(getattr(theirs, name), getattr(ar, name), name)
    assert ar.verbose is False
    assert ar.backend is None
    for name in FITTED_FIELDS:
        _assert_same(getattr(theirs, name), getattr(ar, name), name)
    assert set(ar.local_reject_) == set(theirs.local_reject_) == {"eeg"}
    local, their_local = ar.local_reject_["eeg"], theirs.local_reject_["eeg"]
    assert isinstance(local, LocalAutoReject)
    for name in LOCAL_INIT_FIELDS + LOCAL_FITTED_FIELDS:
        _assert_same(getattr(their_local, name), getattr(local, name), f"local.{name}")
    assert_array_equal(local.picks_, their_local.picks_)


@pytest.mark.oracle
def test_autoreject_cpp_transform_of_autoreject_model(upstream, epochs):
    """autoreject_cpp's transform of a model saved by autoreject equals autoreject's."""
    _autoreject_cpp_autoreject_class()
    ar = read_auto_reject(upstream.fname)
    clean, log = ar.transform(epochs, return_log=True)
    _assert_same_epochs(upstream.clean, clean)
    assert_array_equal(upstream.log.labels, log.labels)
    assert_array_equal(upstream.log.bad_epochs, log.bad_epochs)


# ---------------------------------------------------------------------------
# files written by autoreject_cpp, read by autoreject 0.5.1


@pytest.mark.oracle
def test_autoreject_reads_autoreject_cpp_file(upstream, epochs, tmp_path):
    autoreject = pytest.importorskip("autoreject")
    _autoreject_cpp_autoreject_class()
    ar = read_auto_reject(upstream.fname)
    ar.backend = "scalar"
    fname = tmp_path / "autoreject_cpp-ar.h5"
    ar.save(fname)
    # extra autoreject_cpp fields are in the file ...
    state = read_autoreject_state(fname)
    assert state["backend"] == "scalar"
    assert_array_equal(state["local_reject_"]["eeg"]["picks_"], ar.local_reject_["eeg"].picks_)
    # ... and autoreject ignores them
    theirs = autoreject.read_auto_reject(fname)
    assert not hasattr(theirs, "backend")
    expected = upstream.ar.__getstate__()
    loaded = theirs.__getstate__()
    expected["verbose"] = loaded["verbose"] = bool(loaded["verbose"])
    for local in (expected["local_reject_"]["eeg"], loaded["local_reject_"]["eeg"]):
        local["verbose"] = bool(local["verbose"])
    _assert_same(expected, loaded)
    _assert_same_epochs(upstream.clean, theirs.transform(epochs))


@pytest.mark.oracle
def test_save_autoreject_accepts_autoreject_model(upstream, epochs, tmp_path):
    """The writer only reads attributes, so it also stores autoreject's models."""
    autoreject = pytest.importorskip("autoreject")
    ar = copy.deepcopy(upstream.ar)
    ar.backend = "scalar"  # unknown to autoreject: must be ignored on load
    ar.local_reject_["eeg"].picks_ = ar.picks_
    fname = tmp_path / "ar.h5"
    save_autoreject(ar, fname)
    state = read_autoreject_state(fname)
    assert state["backend"] == "scalar"
    theirs = autoreject.read_auto_reject(fname)
    _assert_same_epochs(upstream.clean, theirs.transform(epochs))


@pytest.mark.oracle
def test_model_fitted_by_autoreject_cpp(upstream, epochs, tmp_path):
    """A model fitted by autoreject_cpp saves, and autoreject's transform of it agrees."""
    autoreject = pytest.importorskip("autoreject")
    AutoReject = _autoreject_cpp_autoreject_class()
    ar = AutoReject(
        n_interpolate=[1, 2], consensus=[0.2, 0.5], cv=3, random_state=42, verbose=False
    ).fit(epochs)
    fname = tmp_path / "fitted.h5"
    ar.save(fname)
    ours = ar.transform(epochs)
    _assert_same_epochs(ours, autoreject.read_auto_reject(fname).transform(epochs))
    _assert_same_epochs(ours, read_auto_reject(fname).transform(epochs))
    _assert_same(state_from_autoreject(ar), read_autoreject_state(fname))


@pytest.mark.oracle
def test_autoreject_cpp_round_trip(upstream, tmp_path):
    _autoreject_cpp_autoreject_class()
    ar = read_auto_reject(upstream.fname)
    ar.set_params(backend="scalar", verbose=True)
    fname = tmp_path / "ar.h5"
    save_autoreject(ar, fname)
    loaded = read_auto_reject(fname)
    assert loaded.get_params()["backend"] == "scalar"
    assert loaded.verbose is True
    _assert_same(state_from_autoreject(ar), state_from_autoreject(loaded))


def test_unfitted_round_trip(tmp_path):
    AutoReject = _autoreject_cpp_autoreject_class()
    ar = AutoReject(cv=4, random_state=3, verbose=False, backend="scalar")
    state = state_from_autoreject(ar)
    assert "local_reject_" not in state
    assert not set(FITTED_FIELDS) & set(state)
    save_autoreject(ar, tmp_path / "ar.h5")
    loaded = read_auto_reject(tmp_path / "ar.h5")
    assert loaded.get_params() == ar.get_params()
    assert not hasattr(loaded, "local_reject_")


@pytest.mark.oracle
def test_unfitted_autoreject_file(tmp_path):
    autoreject = pytest.importorskip("autoreject")
    autoreject.AutoReject(cv=4).save(tmp_path / "ar.h5")
    state = read_autoreject_state(tmp_path / "ar.h5")
    assert set(state) == set(INIT_FIELDS)
    assert_array_equal(state["consensus"], np.linspace(0, 1, 11))
    assert state["cv"] == 4 and state["verbose"] is True


# ---------------------------------------------------------------------------
# state dicts without the estimator classes


def _fake_fitted(ch_names=("A", "B"), **overrides):
    """A fitted-looking model with the attributes the writer reads."""
    threshes = dict(zip(ch_names, (1e-4, 2e-4)))
    local = SimpleNamespace(
        consensus=0.1,
        n_interpolate=0,
        picks=[0, 1],
        verbose=False,
        dots=None,
        threshes_=threshes,
        n_interpolate_={"mag": 1},
        consensus_={"mag": 0.5},
    )
    ar = SimpleNamespace(
        consensus=[0.5],
        n_interpolate=[1],
        picks=None,
        verbose=True,
        n_jobs=1,
        cv=2,
        random_state=None,
        thresh_method="random_search",
        backend=None,
        threshes_=dict(threshes),
        n_interpolate_={"mag": 1},
        consensus_={"mag": 0.5},
        dots=(np.eye(2), np.ones((2, 2))),
        picks_=np.array([0, 1]),
        loss_={"mag": np.zeros((1, 1, 2))},
        local_reject_={"mag": local},
    )
    for key, value in overrides.items():
        setattr(ar, key, value)
    return ar


def test_state_fields_by_name():
    ar = _fake_fitted()
    state = state_from_autoreject(ar)
    for name in INIT_FIELDS + FITTED_FIELDS:
        assert state[name] is getattr(ar, name)
    assert state["backend"] is None
    assert set(state["local_reject_"]["mag"]) == set(LOCAL_INIT_FIELDS + LOCAL_FITTED_FIELDS)


def test_state_rejects_non_model():
    with pytest.raises(TypeError, match="lacks the attribute"):
        state_from_autoreject(object())


def test_slash_names_and_tuples(tmp_path):
    """MEG dots (a tuple of arrays) and '/' in channel names survive a round trip."""
    ar = _fake_fitted(ch_names=("A/B", "C"))
    with pytest.warns(RuntimeWarning, match="FWDSLASH"):
        save_autoreject(ar, tmp_path / "ar.h5")
    state = read_autoreject_state(tmp_path / "ar.h5")
    _assert_same(state_from_autoreject(ar), state)
    assert isinstance(state["dots"], tuple)


def test_unstorable_parameter(tmp_path):
    from sklearn.model_selection import KFold

    with pytest.raises(TypeError, match=r"ar\['cv'\] = KFold.*int for cv"):
        save_autoreject(_fake_fitted(cv=KFold(3)), tmp_path / "ar.h5")
    gen = np.random.default_rng(0)
    with pytest.raises(TypeError, match="random_state"):
        save_autoreject(_fake_fitted(random_state=gen), tmp_path / "ar.h5")
    assert os.listdir(tmp_path) == []


def test_overwrite_and_atomic_write(tmp_path, monkeypatch):
    fname = tmp_path / "ar.h5"
    save_autoreject(_fake_fitted(cv=2), fname)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_autoreject(_fake_fitted(cv=5), fname)
    save_autoreject(_fake_fitted(cv=5), fname, overwrite=True)
    assert read_autoreject_state(fname)["cv"] == 5

    import h5io

    def _fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(h5io, "write_hdf5", _fail)
    with pytest.raises(RuntimeError, match="disk full"):
        save_autoreject(_fake_fitted(cv=7), fname, overwrite=True)
    assert read_autoreject_state(fname)["cv"] == 5
    assert os.listdir(tmp_path) == ["ar.h5"]


def test_read_errors(tmp_path):
    import h5io

    with pytest.raises(FileNotFoundError, match="No AutoReject model found"):
        read_auto_reject(tmp_path / "missing.h5")
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"\x00" * 64)
    with pytest.raises(OSError, match="not a valid HDF5 file"):
        read_autoreject_state(garbage)
    other = tmp_path / "other.h5"
    h5io.write_hdf5(other, {"a": 1}, title="something_else")
    with pytest.raises(ValueError, match="holds no AutoReject model"):
        read_autoreject_state(other)
    not_dict = tmp_path / "not_dict.h5"
    h5io.write_hdf5(not_dict, [1, 2], title="autoreject")
    with pytest.raises(ValueError, match="expected a dict"):
        read_autoreject_state(not_dict)
    unrelated = tmp_path / "unrelated.h5"
    h5io.write_hdf5(unrelated, {"foo": 1}, title="autoreject")
    with pytest.raises(ValueError, match="none of the expected fields"):
        read_autoreject_state(unrelated)
    incomplete = tmp_path / "incomplete.h5"
    state = state_from_autoreject(_fake_fitted(threshes_={"C": 1.0}))
    del state["local_reject_"]["mag"]["threshes_"]
    h5io.write_hdf5(incomplete, state, title="autoreject")
    with pytest.raises(ValueError, match=r"local_reject_\['mag'\] lacks the field\(s\) threshes_"):
        read_autoreject_state(incomplete)


def test_autoreject_from_state_ignores_unknown_fields():
    _autoreject_cpp_autoreject_class()
    state = {name: value for name, value in state_from_autoreject(_fake_fitted()).items()}
    state["local_reject_"] = {
        "mag": {**vars(_fake_fitted().local_reject_["mag"]), "future_field": 1}
    }
    state["future_field"] = 1
    ar = persistence.autoreject_from_state(state)
    assert not hasattr(ar, "future_field")
    assert_array_equal(ar.local_reject_["mag"].picks_, [0, 1])
