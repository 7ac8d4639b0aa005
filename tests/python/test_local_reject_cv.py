"""AutoReject: fit, reject log and transform identical to autoreject 0.5.1."""

import numpy as np
import pytest

import autoreject_cpp
from autoreject_cpp.backends import get_backend
from _data import core_backends, eeg_epochs, eegmmidb_epochs, meg_epochs, needs_shared


def _fit_both(epochs, **kw):
    autoreject = pytest.importorskip("autoreject")
    kw = dict(random_state=42, verbose=False, **kw)
    ref = autoreject.AutoReject(**kw).fit(epochs.copy())
    ours = autoreject_cpp.AutoReject(**kw).fit(epochs)
    return ref, ours


def _assert_same_model(ref, ours, epochs):
    assert ref.threshes_.keys() == ours.threshes_.keys()
    for name in ref.threshes_:
        assert ours.threshes_[name] == pytest.approx(ref.threshes_[name], rel=1e-9, abs=0)
    assert ref.consensus_ == ours.consensus_
    assert ref.n_interpolate_ == ours.n_interpolate_
    for ch_type, loss in ref.loss_.items():
        np.testing.assert_array_equal(np.isinf(loss), np.isinf(ours.loss_[ch_type]))
        np.testing.assert_allclose(ours.loss_[ch_type], loss, rtol=1e-9)
    np.testing.assert_array_equal(ref.picks_, ours.picks_)
    clean_ref, log_ref = ref.transform(epochs.copy(), return_log=True)
    clean, log = ours.transform(epochs, return_log=True)
    np.testing.assert_array_equal(log.labels, log_ref.labels)
    np.testing.assert_array_equal(log.bad_epochs, log_ref.bad_epochs)
    assert list(log.ch_names) == list(log_ref.ch_names)
    np.testing.assert_array_equal(clean.selection, clean_ref.selection)
    np.testing.assert_array_equal(clean.events, clean_ref.events)
    assert clean.drop_log == clean_ref.drop_log
    ref_data = clean_ref.get_data()
    # 1e-9 relative with a floor of 1e-10 of the peak: repaired values may
    # cross zero, and BLAS rounding (even its thread count) moves the last bits
    np.testing.assert_allclose(clean.get_data(), ref_data, rtol=1e-9, atol=1e-10 * np.abs(ref_data).max())
    return log


@pytest.mark.oracle
def test_autoreject_matches_oracle_synthetic_eeg():
    epochs = eeg_epochs()
    log = _assert_same_model(*_fit_both(epochs, cv=5), epochs)
    assert log.bad_epochs.any() and (log.labels == 2).any()  # the case is not trivial


@pytest.mark.oracle
def test_autoreject_matches_oracle_custom_grids_and_cv():
    from sklearn.model_selection import KFold

    epochs = eeg_epochs(n_channels=20, n_epochs=40)
    epochs.info["bads"] = [epochs.ch_names[5]]
    cv = KFold(4, shuffle=True, random_state=1)
    ref, ours = _fit_both(epochs, cv=cv, n_interpolate=[0, 2, 3], consensus=[0.1, 0.3, 0.9],
                          thresh_method="random_search")
    _assert_same_model(ref, ours, epochs)


@pytest.mark.oracle
@needs_shared()
def test_autoreject_matches_oracle_meg_mag_and_eeg():
    epochs = meg_epochs()
    ref, ours = _fit_both(epochs, cv=3, n_interpolate=[1, 4, 8])
    assert set(ours.consensus_) == {"mag", "eeg"}
    _assert_same_model(ref, ours, epochs)


@pytest.mark.oracle
@needs_shared()
def test_autoreject_matches_oracle_real_eeg():
    epochs = eegmmidb_epochs()
    _assert_same_model(*_fit_both(epochs), epochs)


def test_transform_equals_applying_the_log():
    epochs = eeg_epochs(n_channels=16, n_epochs=40)
    before = epochs.get_data().copy()
    ar = autoreject_cpp.AutoReject(cv=4, random_state=0, verbose=False).fit(epochs)
    clean, log = ar.transform(epochs, return_log=True)
    np.testing.assert_array_equal(epochs.get_data(), before)  # user data intact
    kept = np.flatnonzero(~log.bad_epochs)
    np.testing.assert_array_equal(clean.selection, epochs.selection[kept])
    data = clean.get_data()
    untouched = log.labels[kept] != 2
    np.testing.assert_array_equal(data[untouched], before[kept][untouched])
    repaired = log.labels[kept] == 2
    assert repaired.any()
    assert not np.array_equal(data[repaired], before[kept][repaired])


def test_edited_reject_log_is_applied():
    epochs = eeg_epochs(n_channels=16, n_epochs=40)
    ar = autoreject_cpp.AutoReject(cv=4, random_state=0, verbose=False).fit(epochs)
    log = ar.get_reject_log(epochs)
    log.bad_epochs[:] = False
    log.bad_epochs[0] = True
    clean = ar.transform(epochs, reject_log=log)
    assert len(clean) == len(epochs) - 1
    with pytest.raises(TypeError, match="RejectLog"):
        ar.transform(epochs, reject_log=log.labels)


def test_estimator_contract():
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    ar = autoreject_cpp.AutoReject(n_interpolate=None, consensus=None, cv=4, random_state=0, verbose=False)
    params = ar.get_params()
    assert not [k for k in vars(ar) if k.endswith("_")]
    with pytest.raises(NotFittedError):
        ar.transform(eeg_epochs(n_channels=8, n_epochs=20))
    epochs = eeg_epochs(n_channels=10, n_epochs=30)
    ar.fit(epochs)
    assert ar.get_params() == params  # fit never rewrites parameters
    assert ar.n_interpolate is None and ar.consensus is None
    again = clone(ar).fit(epochs)
    assert again.consensus_ == ar.consensus_ and again.threshes_ == ar.threshes_


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(consensus=[0.1, 1.5]), ValueError, "consensus"),
        (dict(consensus="a"), TypeError, "consensus"),
        (dict(n_interpolate=[1, 99]), ValueError, "n_interpolate"),
        (dict(n_interpolate=[1.5]), TypeError, "n_interpolate"),
        (dict(cv="ten"), TypeError, "cv must be"),
        (dict(cv=50), ValueError, "50-fold cross-validation"),
        (dict(thresh_method="grid"), ValueError, "thresh_method"),
    ],
)
def test_bad_parameters(kwargs, err, match):
    epochs = eeg_epochs(n_channels=8, n_epochs=20)
    with pytest.raises(err, match=match):
        autoreject_cpp.AutoReject(verbose=False, **kwargs).fit(epochs)


def test_bad_epochs_inputs():
    import mne

    epochs = eeg_epochs(n_channels=8, n_epochs=20)
    with pytest.raises(TypeError, match="mne.Epochs"):
        autoreject_cpp.AutoReject().fit(epochs.get_data())
    lazy = mne.Epochs(mne.io.RawArray(np.zeros((8, 1000)), epochs.info, verbose=False),
                      np.array([[100, 0, 1], [500, 0, 1]]), tmax=0.5, preload=False, verbose=False)
    with pytest.raises(ValueError, match="preload=True"):
        autoreject_cpp.AutoReject().fit(lazy)
    with pytest.raises(ValueError, match="at least 4"):
        autoreject_cpp.AutoReject(verbose=False).fit(epochs.copy().pick(epochs.ch_names[:3]))
    ar = autoreject_cpp.AutoReject(cv=3, random_state=0, verbose=False).fit(epochs)
    renamed = epochs.copy().rename_channels({epochs.ch_names[0]: "XX"})
    with pytest.raises(ValueError, match="differ from those at fit time"):
        ar.transform(renamed)


@pytest.mark.oracle
@pytest.mark.parametrize("ch_type", ["ecog", "seeg", "hbo"])
def test_autoreject_matches_oracle_other_channel_types(ch_type):
    """ECoG, sEEG and fNIRS: thresholds and rejection without interpolation
    (autoreject interpolates only EEG and MEG)."""
    epochs = eeg_epochs(n_channels=16, n_epochs=40)
    epochs.set_channel_types({name: ch_type for name in epochs.ch_names}, on_unit_change="ignore")
    ref, ours = _fit_both(epochs, cv=4)
    assert set(ours.consensus_) == {ch_type}
    _assert_same_model(ref, ours, epochs)


@pytest.mark.parametrize("backend", core_backends())
def test_select_epochs_equals_copy_and_drop(backend):
    """The one-copy selection used by transform gives what copy().drop() gives,
    with the copy made by each backend (the core's take_rows)."""
    from autoreject_cpp._mne_compat import select_epochs

    backend = get_backend(backend)
    epochs = eeg_epochs()
    before = epochs.get_data().copy()
    keep = np.array([1, 3, 4, 8])
    drop = np.setdiff1d(np.arange(len(epochs)), keep)
    ours = select_epochs(epochs, keep, "AUTOREJECT", backend)
    ref = epochs.copy().drop(drop, reason="AUTOREJECT", verbose=False)
    assert ours.drop_log == ref.drop_log
    np.testing.assert_array_equal(ours.events, ref.events)
    np.testing.assert_array_equal(ours.selection, ref.selection)
    np.testing.assert_array_equal(ours.get_data(), ref.get_data())
    # its own data: writing to it leaves the user's epochs alone
    ours._data[:] = 0.0
    np.testing.assert_array_equal(epochs.get_data(), before)
    assert epochs.drop_log == tuple(() for _ in range(len(epochs)))
    empty = select_epochs(epochs, [], "AUTOREJECT", backend)
    assert len(empty) == 0 and all(log == ("AUTOREJECT",) for log in empty.drop_log)


def test_fit_passes_over_the_data_for_peak_to_peaks_once(monkeypatch):
    """The boundary check's peak-to-peak pass also serves the nested checks
    (thresholds, CV) and the vote; no check re-reads the data."""
    from autoreject_cpp import _validation
    from autoreject_cpp.backends._core import CoreBackend

    epochs = eeg_epochs(n_channels=8, n_epochs=30)
    shape = epochs.get_data(copy=False).shape
    calls = []
    original_ptp = CoreBackend.ptp

    def counting_ptp(self, x, axis=-1):
        if np.shape(x) == shape:
            calls.append("ptp")
        return original_ptp(self, x, axis)

    monkeypatch.setattr(CoreBackend, "ptp", counting_ptp)
    monkeypatch.setattr(
        _validation, "channel_ranges", lambda *a: calls.append("ranges") or 1 / 0
    )
    ar = autoreject_cpp.AutoReject(cv=3, random_state=0, verbose=False, backend="scalar")
    ar.fit(epochs)
    assert calls == ["ptp"]
    assert _validation.known_peaks(epochs.get_data(copy=False)) is None  # released
