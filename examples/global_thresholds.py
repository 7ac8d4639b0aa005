"""One peak-to-peak rejection threshold per channel type, then MNE's drop_bad.

:func:`autoreject_cpp.get_rejection_threshold` learns, by cross-validation, the
global threshold that best separates clean from contaminated epochs: a
``reject`` dict for MNE. Here it is estimated on four runs of subject 1 of the
PhysioNet EEG Motor Movement/Imagery recordings (64 EEG channels, 4-s epochs
every 2 s; Fp1/Fp2 catch blinks) and applied with :meth:`mne.Epochs.drop_bad`.

Usage: ``python examples/global_thresholds.py``. Without the shared data
folder the script says so and exits.
"""

import sys
from collections import Counter

import numpy as np

import autoreject_cpp
from autoreject_cpp.datasets import load_eegmmidb_epochs, sample_data_dir


def main():
    if sample_data_dir() is None:
        print("The shared data folder (EEGMMIDB recordings) was not found; set "
              "AUTOREJECT_DATA to run this example. Nothing to do.")
        return 0
    epochs = load_eegmmidb_epochs()  # 4-s epochs every 2 s
    print(f"Loaded {len(epochs)} epochs x {len(epochs.ch_names)} EEG channels.")

    reject = autoreject_cpp.get_rejection_threshold(epochs, random_state=42, verbose=False)
    print("reject = {" + ", ".join(f"'{k}': {v:.3g}" for k, v in reject.items()) + "}"
          + f"  (eeg: {reject['eeg'] * 1e6:.0f} µV peak-to-peak)")

    before = epochs.selection.copy()
    epochs.drop_bad(reject=reject, verbose=False)  # in place
    dropped = np.setdiff1d(before, epochs.selection)
    print(f"drop_bad kept {len(epochs)} of {len(before)} epochs; dropped {len(dropped)}.")
    counts = Counter(ch for idx in dropped for ch in epochs.drop_log[idx])
    if counts:
        print("Channels over threshold most often: "
              + ", ".join(f"{ch} ({n} epochs)" for ch, n in counts.most_common(5)))
    # the same dict also works when epoching: mne.Epochs(raw, events, reject=reject)
    return 0


if __name__ == "__main__":
    sys.exit(main())
