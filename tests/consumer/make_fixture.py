"""Write the inputs of the ctest run of examples/cpp/clean_epochs (tests/consumer/run.cmake).

Run from the repository root with the package importable::

    PYTHONPATH=python python tests/consumer/make_fixture.py

Writes ``tests/consumer/fixture/epochs.npy`` (float32) and
``tests/consumer/fixture/channels.csv`` through ``autoreject-cpp export``'s
writer. The recording is 30 epochs of 16 simulated EEG channels (64 samples
at 160 Hz, :func:`autoreject_cpp.datasets.make_synthetic_epochs` without its
own artifacts) plus one EOG channel without a position, with two planted
problems whose answers run.cmake checks:

* epochs 4, 13 and 25 carry a slow bump of 40 to 80 times the background on
  every EEG channel: no channel can be repaired from the others, so AutoReject
  must drop exactly these epochs;
* channel ``NOISY_CHANNEL`` gets independent white noise of 8 times the
  background in every epoch: RANSAC must find it and nothing else.
"""

# License: BSD-3-Clause

from pathlib import Path

import mne
import numpy as np

from autoreject_cpp.cli import export_epochs
from autoreject_cpp.datasets import make_synthetic_epochs

#: epochs with the planted whole-head artifact
BAD_EPOCHS = (4, 13, 25)
#: the planted noisy channel (index into the EEG channels)
NOISY_CHANNEL = 9
OUT = Path(__file__).resolve().parent / "fixture"


def make_fixture():
    """Simulate the recording and plant the artifacts.

    Returns
    -------
    epochs : mne.EpochsArray
        30 epochs x 17 channels (16 EEG, 1 EOG) x 64 samples.
    """
    sfreq = 160.0
    eeg = make_synthetic_epochs(
        kind="eeg", n_epochs=30, n_channels=16, sfreq=sfreq, tmin=0.0, tmax=63 / sfreq,
        seed=7, artifacts=False,
    )  # fmt: skip
    data = eeg.get_data()
    n_epochs, n_channels, n_times = data.shape
    rng = np.random.default_rng(2024)
    std = np.median(data.std(axis=(0, 2)))
    bump = np.sin(np.pi * np.arange(n_times) / (n_times - 1)) ** 2
    for epoch in BAD_EPOCHS:
        gains = rng.uniform(40.0, 80.0, n_channels) * std
        data[epoch] += gains[:, None] * bump[None, :]
    data[:, NOISY_CHANNEL] += 8.0 * std * rng.standard_normal((n_epochs, n_times))
    eog = 4.0 * std * rng.standard_normal((n_epochs, 1, n_times))
    eog[list(BAD_EPOCHS), 0] += 60.0 * std * bump
    eeg = mne.EpochsArray(
        data.astype(np.float32).astype(np.float64), eeg.info, events=eeg.events,
        tmin=eeg.tmin, verbose="error",
    )  # fmt: skip
    eog_epochs = mne.EpochsArray(
        eog.astype(np.float32).astype(np.float64),
        mne.create_info(["EOG"], sfreq, "eog"), events=eeg.events, tmin=eeg.tmin,
        verbose="error",
    )  # fmt: skip
    return eeg.add_channels([eog_epochs], force_update_info=True)


if __name__ == "__main__":
    epochs = make_fixture()
    paths = export_epochs(epochs, OUT, dtype="float32", overwrite=True)
    print(f"noisy channel: {epochs.ch_names[NOISY_CHANNEL]}; bad epochs: {BAD_EPOCHS}")
    for path in paths.values():
        print(f"wrote {path} ({path.stat().st_size} bytes)")
