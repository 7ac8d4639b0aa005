"""Tests of autoreject_cpp.datasets: shapes, determinism and artifact ground truth."""

# License: BSD-3-Clause

import time

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from autoreject_cpp import datasets
from autoreject_cpp.datasets import (
    load_eegmmidb_epochs,
    make_synthetic_epochs,
    sample_data_dir,
)


@pytest.fixture(scope="module")
def eeg():
    return make_synthetic_epochs(n_epochs=60, n_channels=32, return_truth=True)


@pytest.fixture(scope="module")
def eeg_clean():
    return make_synthetic_epochs(n_epochs=60, n_channels=32, artifacts=False)


def _ptp(epochs):
    return np.ptp(epochs.get_data(), axis=-1)  # (n_epochs, n_channels)


def test_eeg_shape_and_info(eeg):
    epochs, truth = eeg
    assert epochs.get_data().shape == (60, 32, 193)
    assert epochs.preload
    assert epochs.info["sfreq"] == 160.0
    assert set(epochs.get_channel_types()) == {"eeg"}
    assert {"Fp1", "Fp2", "T7", "T8", "Cz", "O1"} <= set(epochs.ch_names)
    pos = np.array([ch["loc"][:3] for ch in epochs.info["chs"]])
    assert np.all(np.isfinite(pos)) and np.all(np.linalg.norm(pos, axis=1) > 0.05)
    assert truth["artifact_mask"].shape == (60, 32)


def test_float32_exact(eeg):
    data = eeg[0].get_data()
    assert_array_equal(data.astype(np.float32).astype(np.float64), data)


@pytest.mark.parametrize("n_channels", [4, 19, 64, 100])
def test_eeg_channel_counts(n_channels):
    epochs = make_synthetic_epochs(n_epochs=3, n_channels=n_channels)
    assert len(epochs.ch_names) == n_channels
    assert len(set(epochs.ch_names)) == n_channels


def test_deterministic(eeg):
    epochs, truth = make_synthetic_epochs(n_epochs=60, n_channels=32, return_truth=True)
    assert_array_equal(epochs.get_data(), eeg[0].get_data())
    assert truth["blinks"] == eeg[1]["blinks"]
    assert truth["pops"] == eeg[1]["pops"]
    assert truth["muscle"] == eeg[1]["muscle"]
    other = make_synthetic_epochs(n_epochs=60, n_channels=32, seed=7)
    assert not np.array_equal(other.get_data(), eeg[0].get_data())


def test_fast_enough():
    start = time.perf_counter()
    make_synthetic_epochs(n_epochs=60, n_channels=32)
    assert time.perf_counter() - start < 2.0


def test_realistic_amplitude(eeg_clean):
    std = eeg_clean.get_data().std(axis=(0, 2))
    assert 2e-6 < np.median(std) < 50e-6  # tens of microvolts at most


def test_spatially_smooth(eeg_clean):
    """Neighbouring electrodes correlate more than distant ones."""
    data = eeg_clean.get_data().transpose(1, 0, 2).reshape(32, -1)
    corr = np.corrcoef(data)
    pos = np.array([ch["loc"][:3] for ch in eeg_clean.info["chs"]])
    dist = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    iu = np.triu_indices(32, 1)
    near = np.abs(corr[iu][dist[iu] < 0.05]).mean()
    far = np.abs(corr[iu][dist[iu] > 0.12]).mean()
    assert near > far + 0.2


def _ptp_score(epochs, truth):
    """Peak-to-peak relative to each channel's median, flat/noisy excluded."""
    ptp = _ptp(epochs)
    score = ptp / np.median(ptp, axis=0)
    keep = [
        i
        for i, ch in enumerate(epochs.ch_names)
        if ch not in truth["flat_channels"] + truth["noisy_channels"]
    ]
    return score[:, keep], [epochs.ch_names[i] for i in keep]


def test_blinks_in_truth(eeg, eeg_clean):
    epochs, truth = eeg
    assert len(truth["blinks"]) >= 5
    ptp = _ptp(epochs)
    ptp_clean = _ptp(eeg_clean)
    names = epochs.ch_names
    data = epochs.get_data()
    clean = eeg_clean.get_data()
    oz = names.index("Oz")
    for blink in truth["blinks"]:
        frontal = [ch for ch in ("Fp1", "Fp2") if ch in blink["channels"]]
        assert frontal
        assert "Oz" not in blink["channels"]
        onset, stop = blink["onset"], blink["onset"] + blink["duration"]
        for ch in frontal:
            idx = names.index(ch)
            assert ptp[blink["epoch"], idx] > 1.5 * np.median(ptp_clean[:, idx])
            # largest where the eyes are, much smaller at the back
            added = data[blink["epoch"]] - clean[blink["epoch"]]
            assert np.ptp(added[idx, onset:stop]) > 5 * np.ptp(added[oz, onset:stop])


def test_pops_in_truth(eeg):
    epochs, truth = eeg
    assert len(truth["pops"]) >= 2
    ptp = _ptp(epochs)
    data = epochs.get_data()
    for pop in truth["pops"]:
        idx = epochs.ch_names.index(pop["channel"])
        # the popping channel stands out in its epoch and against itself
        assert ptp[pop["epoch"], idx] > 4 * np.median(ptp[pop["epoch"]])
        assert ptp[pop["epoch"], idx] > 3 * np.median(ptp[:, idx])
        # a step at the recorded sample
        before = data[pop["epoch"], idx, pop["onset"] - 3 : pop["onset"]].mean()
        after = data[pop["epoch"], idx, pop["onset"] : pop["onset"] + 3].mean()
        assert abs(after - before) > 0.5 * ptp[pop["epoch"], idx]


def _high_freq_power(x, sfreq, fmin=20.0):
    spec = np.abs(np.fft.rfft(x, axis=-1)) ** 2
    return spec[..., np.fft.rfftfreq(x.shape[-1], 1 / sfreq) >= fmin].sum()


def test_muscle_in_truth(eeg, eeg_clean):
    epochs, truth = eeg
    assert len(truth["muscle"]) >= 2
    sfreq = epochs.info["sfreq"]
    for burst in truth["muscle"]:
        assert {"T7", "T8"} & set(burst["channels"])
        chans = [
            epochs.ch_names.index(ch)
            for ch in burst["channels"]
            if ch not in truth["noisy_channels"]
        ]
        sl = slice(burst["onset"], burst["onset"] + burst["duration"])
        with_burst = epochs.get_data()[burst["epoch"], chans, sl]
        without = eeg_clean.get_data()[burst["epoch"], chans, sl]
        # high-frequency power rises sharply on the affected channels
        assert _high_freq_power(with_burst, sfreq) > 4 * _high_freq_power(without, sfreq)


def test_flat_and_noisy_channels(eeg, eeg_clean):
    epochs, truth = eeg
    std = epochs.get_data().std(axis=(0, 2))
    ref = np.median(eeg_clean.get_data().std(axis=(0, 2)))
    (flat,) = truth["flat_channels"]
    (noisy,) = truth["noisy_channels"]
    assert flat != noisy
    assert std[epochs.ch_names.index(flat)] < 0.01 * ref
    assert std[epochs.ch_names.index(noisy)] > 3 * ref
    assert not truth["artifact_mask"][:, epochs.ch_names.index(flat)].any()


def test_truth_mask_and_bad_epochs(eeg):
    epochs, truth = eeg
    mask = truth["artifact_mask"]
    events = truth["blinks"] + truth["pops"] + truth["muscle"]
    epochs_hit = sorted({event["epoch"] for event in events})
    assert_array_equal(truth["bad_epochs"], epochs_hit)
    assert_array_equal(np.flatnonzero(mask.any(axis=1)), epochs_hit)
    for pop in truth["pops"]:
        assert mask[pop["epoch"], epochs.ch_names.index(pop["channel"])]
    # artifact epochs stand out against artifact-free ones
    score, _ = _ptp_score(epochs, truth)
    worst = score.max(axis=1)
    clean = np.setdiff1d(np.arange(len(epochs)), epochs_hit)
    assert np.median(worst[epochs_hit]) > 1.5 * np.median(worst[clean])
    assert worst[clean].max() < np.sort(worst[epochs_hit])[-3]


def test_no_artifacts():
    epochs, truth = make_synthetic_epochs(n_epochs=5, artifacts=False, return_truth=True)
    assert truth["blinks"] == truth["pops"] == truth["muscle"] == []
    assert truth["flat_channels"] == truth["noisy_channels"] == []
    assert not truth["artifact_mask"].any()
    assert len(epochs) == 5


def test_epoch_timing():
    epochs = make_synthetic_epochs(n_epochs=2, sfreq=100.0, tmin=-0.5, tmax=1.5)
    assert epochs.get_data().shape[-1] == 201
    assert np.isclose(epochs.tmin, -0.5) and np.isclose(epochs.tmax, 1.5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(kind="ecog"), "kind must be one of"),
        (dict(n_channels=2), "n_channels must be between"),
        (dict(n_epochs=0), "n_epochs"),
        (dict(tmin=1.0, tmax=0.0), "tmax"),
    ],
)
def test_invalid_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_synthetic_epochs(**kwargs)


def test_invalid_meg_channel_count(meg_file):
    with pytest.raises(ValueError, match="multiple of 3"):
        make_synthetic_epochs(kind="meg", n_channels=10)


@pytest.mark.parametrize(
    "kind, n_channels, types",
    [("mag", None, {"mag"}), ("grad", 20, {"grad"}), ("meg", 30, {"mag", "grad"})],
)
def test_meg_kinds(kind, n_channels, types, meg_file):
    epochs, truth = make_synthetic_epochs(
        kind=kind, n_channels=n_channels, n_epochs=20, return_truth=True
    )
    expected = {"mag": 102, "grad": 204, "meg": 306}[kind] if n_channels is None else n_channels
    assert len(epochs.ch_names) == expected
    assert set(epochs.get_channel_types()) == types
    assert epochs.info["dev_head_t"] is not None
    # realistic magnitudes: femtotesla for mags, ~pT/m for grads
    data = epochs.get_data()
    ch_types = np.array(epochs.get_channel_types())
    if "mag" in types:
        assert 1e-14 < np.median(data[:, ch_types == "mag"].std(axis=(0, 2))) < 2e-12
    if "grad" in types:
        assert 1e-13 < np.median(data[:, ch_types == "grad"].std(axis=(0, 2))) < 1e-10
    if kind == "meg":  # whole triplets: 2 grads + 1 mag per location
        assert (ch_types == "grad").sum() == 2 * (ch_types == "mag").sum()
    ptp = np.ptp(data, axis=-1)
    for pop in truth["pops"]:
        idx = epochs.ch_names.index(pop["channel"])
        assert ptp[pop["epoch"], idx] > 3 * np.median(ptp[:, idx])


def test_meg_deterministic(meg_file):
    a = make_synthetic_epochs(kind="meg", n_channels=30, n_epochs=5)
    b = make_synthetic_epochs(kind="meg", n_channels=30, n_epochs=5)
    assert_array_equal(a.get_data(), b.get_data())


def test_meg_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        make_synthetic_epochs(kind="mag", fname=tmp_path / "nope.fif")


def test_meg_without_data_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "sample_data_dir", lambda: None)
    with pytest.raises(FileNotFoundError, match=datasets.DATA_ENV):
        make_synthetic_epochs(kind="mag")


def test_sample_data_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv(datasets.DATA_ENV, str(tmp_path))
    assert sample_data_dir() == tmp_path


def test_sample_data_dir_default(monkeypatch, data_dir):
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    assert sample_data_dir() is not None
    assert (sample_data_dir() / "eegmmidb").is_dir()


def test_eegmmidb_default_shape(data_dir):
    epochs = load_eegmmidb_epochs(data_dir)
    assert epochs.get_data().shape == (232, 64, 641)
    assert epochs.info["sfreq"] == 160.0
    assert set(epochs.event_id) == {"T0", "T1", "T2"}
    assert "Fp1" in epochs.ch_names and "Cz" in epochs.ch_names  # standardized
    pos = np.array([ch["loc"][:3] for ch in epochs.info["chs"]])
    assert np.all(np.isfinite(pos)) and np.all(np.linalg.norm(pos, axis=1) > 0.05)


def test_eegmmidb_one_epoch_per_annotation(data_dir):
    epochs = load_eegmmidb_epochs(
        data_dir / "eegmmidb", runs=(4,), tmin=-0.5, tmax=4.0, chunk_duration=None
    )
    assert len(epochs) == 29  # as documented for R04 in the data README
    assert epochs.get_data().shape[1:] == (64, 721)


def test_eegmmidb_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="S001R03"):
        load_eegmmidb_epochs(tmp_path)
