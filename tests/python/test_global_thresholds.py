"""Global reject dict and validation curve identical to autoreject 0.5.1."""

import numpy as np
import pytest

import autoreject_cpp
from _data import eeg_epochs, eegmmidb_epochs, meg_epochs, needs_shared


@pytest.mark.oracle
@pytest.mark.parametrize("decim", [1, 2])
def test_rejection_threshold_matches_oracle_synthetic(decim):
    autoreject = pytest.importorskip("autoreject")
    epochs = eeg_epochs()
    ref = autoreject.get_rejection_threshold(epochs, decim=decim, random_state=42, verbose=False)
    ours = autoreject_cpp.get_rejection_threshold(epochs, decim=decim, random_state=42, verbose=False)
    assert ref == ours


@pytest.mark.oracle
@needs_shared()
def test_rejection_threshold_matches_oracle_meg_and_real_eeg():
    autoreject = pytest.importorskip("autoreject")
    for epochs, ch_types in ((meg_epochs(types=("mag", "grad", "eeg")), None),
                             (eegmmidb_epochs(), "eeg")):
        ref = autoreject.get_rejection_threshold(epochs, ch_types=ch_types, cv=3, verbose=False)
        ours = autoreject_cpp.get_rejection_threshold(epochs, ch_types=ch_types, cv=3, verbose=False)
        assert ref == ours and len(ours) >= 1


@pytest.mark.oracle
def test_validation_curve_matches_oracle():
    autoreject = pytest.importorskip("autoreject")
    epochs = eeg_epochs(n_channels=16)
    ref = autoreject.validation_curve(epochs, return_param_range=True)
    ours = autoreject_cpp.validation_curve(epochs, return_param_range=True)
    for a, b in zip(ref, ours):
        np.testing.assert_allclose(b, a, rtol=1e-9)
        np.testing.assert_array_equal(np.isinf(a), np.isinf(b))


def test_reject_dict_is_usable_by_mne_and_input_untouched():
    epochs = eeg_epochs(n_channels=12, n_epochs=40)
    before = epochs.get_data().copy()
    reject = autoreject_cpp.get_rejection_threshold(epochs, random_state=0, verbose=False)
    assert set(reject) == {"eeg"}
    maxima = np.ptp(before, axis=-1).max(axis=1)
    assert reject["eeg"] in maxima  # one of the epochs' own maxima
    dropped = epochs.copy().drop_bad(reject=reject, verbose=False)
    assert len(dropped) == np.sum(maxima <= reject["eeg"])
    np.testing.assert_array_equal(epochs.get_data(), before)


def test_rejection_threshold_bad_inputs():
    epochs = eeg_epochs(n_channels=8, n_epochs=20)
    with pytest.raises(TypeError, match="ch_types"):
        autoreject_cpp.get_rejection_threshold(epochs, ch_types=3)
    with pytest.raises(ValueError, match="decim"):
        autoreject_cpp.get_rejection_threshold(epochs, decim=0)
    with pytest.raises(TypeError, match="mne.Epochs"):
        autoreject_cpp.get_rejection_threshold(epochs.get_data())
    assert autoreject_cpp.get_rejection_threshold(epochs, ch_types="mag", verbose=False) == {}
