"""Votes, interpolation labels and bad epochs of the fixed-parameter model."""

import numpy as np
import pytest

import autoreject_cpp
from autoreject_cpp.local_reject import (
    LocalAutoReject,
    bad_epochs_mask,
    interpolation_labels,
    vote_bad_epochs,
)
from _data import eeg_epochs


def test_vote_is_strictly_greater():
    deltas = np.array([[1.0, 2.0], [3.0, 2.0]])
    labels, counts = vote_bad_epochs(deltas, [1.0, 2.0], picks=[0, 2], n_channels=3)
    np.testing.assert_array_equal(labels[:, [0, 2]], [[0, 0], [1, 0]])
    assert np.isnan(labels[:, 1]).all()
    np.testing.assert_array_equal(counts, [0, 1])


def test_interpolation_labels_keep_worst_channels():
    labels = np.array([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    peaks = np.array([[5.0, 9.0, 7.0, 100.0], [1.0, 2.0, 3.0, 4.0]])
    out = interpolation_labels(labels, peaks, [0, 1, 2, 3], n_interpolate=2)
    np.testing.assert_array_equal(out, [[1, 2, 2, 0], [2, 0, 0, 0]])
    np.testing.assert_array_equal(labels[0], [1, 1, 1, 0])  # input untouched
    # labels carried over: 2s count twice in the bad count, as upstream
    again = interpolation_labels(out, peaks, [0, 1, 2, 3], n_interpolate=4)
    np.testing.assert_array_equal(again, [[2, 2, 2, 0], [2, 0, 0, 0]])


def test_bad_epochs_mask_uses_fraction_of_channels():
    counts = np.array([0, 3, 4, 7])
    np.testing.assert_array_equal(bad_epochs_mask(counts, 0.4, 10), [False, False, True, True])


@pytest.mark.oracle
def test_vote_and_reject_log_match_oracle():
    autoreject = pytest.importorskip("autoreject")
    epochs = eeg_epochs(n_channels=16, n_epochs=40)
    picks = np.arange(16)
    threshes = autoreject_cpp.compute_thresholds(epochs, random_state=1, verbose=False)
    ref = autoreject._AutoReject(n_interpolate=2, consensus=0.3, picks=picks, verbose=False)
    ours = LocalAutoReject(n_interpolate=2, consensus=0.3, picks=picks, verbose=False)
    for est in (ref, ours):
        est.threshes_ = threshes
        est.picks_ = picks
        est.consensus_ = {"eeg": 0.3}
        est.n_interpolate_ = {"eeg": 2}
    for a, b in zip(ref._vote_bad_epochs(epochs, picks), ours._vote_bad_epochs(epochs, picks)):
        np.testing.assert_array_equal(a, b)
    log_ref, log = ref.get_reject_log(epochs), ours.get_reject_log(epochs)
    np.testing.assert_array_equal(log.labels, log_ref.labels)
    np.testing.assert_array_equal(log.bad_epochs, log_ref.bad_epochs)


def test_local_autoreject_fit_transform():
    epochs = eeg_epochs(n_channels=16, n_epochs=40)
    est = LocalAutoReject(n_interpolate=2, consensus=0.5, verbose=False).fit(epochs)
    assert set(est.threshes_) == set(epochs.ch_names)
    clean, log = est.transform(epochs, return_log=True)
    assert len(clean) == np.sum(~log.bad_epochs)
    assert est.mean_.shape == epochs.get_data().shape[1:]
    assert autoreject_cpp._AutoReject is LocalAutoReject
    with pytest.raises(ValueError, match="consensus"):
        LocalAutoReject(consensus=2.0).fit(epochs)


@pytest.mark.oracle
@pytest.mark.parametrize("n_interpolate", [0, 1, 2, 5])
def test_interpolation_labels_match_oracle_with_ties(n_interpolate):
    """Row-wise ranking equals autoreject's epoch-by-epoch one, ties included
    (integer peak-to-peaks), with labels carried over (2s) and a non-picked
    channel labelled 1."""
    autoreject = pytest.importorskip("autoreject")
    import mne

    rng = np.random.default_rng(n_interpolate)
    n_epochs, n_channels = 60, 9
    picks = np.array([0, 1, 2, 3, 5, 6, 7, 8])
    labels = np.full((n_epochs, n_channels), np.nan)
    labels[:, picks] = rng.choice([0.0, 1.0, 2.0], size=(n_epochs, len(picks)), p=[0.5, 0.4, 0.1])
    labels[::7, 4] = 1.0  # not a pick
    data = rng.integers(0, 4, size=(n_epochs, n_channels, 2)).astype(float)
    data[..., 0] = 0.0  # peak-to-peak = the integer in the last sample: many ties
    info = mne.create_info(n_channels, 100.0, "eeg")
    epochs = mne.EpochsArray(data, info, verbose=False)
    ref = autoreject._AutoReject(picks=picks, verbose=False)._get_epochs_interpolation(
        epochs, labels, picks, n_interpolate, verbose=False
    )
    ours = interpolation_labels(labels, np.ptp(data, axis=-1), picks, n_interpolate)
    np.testing.assert_array_equal(ours, ref)
