"""Find bad channels with RANSAC and interpolate them.

Each EEG channel is predicted from random subsets of the other channels
(spherical splines); a channel that correlates poorly with its prediction in
too many epochs is bad. The data: run 4 of subject 1 of the PhysioNet EEG
Motor Movement/Imagery recordings (64 EEG channels), cut into 4-s epochs
every 2 s with :func:`autoreject_cpp.datasets.load_eegmmidb_epochs`.

Usage: ``python examples/find_bad_channels.py [OUTPUT_DIR]``; with
OUTPUT_DIR the epochs are saved there with the bad channels in
``info['bads']``. Without the shared data folder the script says so and
exits.
"""

import sys
from pathlib import Path

import numpy as np

import autoreject_cpp
from autoreject_cpp.datasets import load_eegmmidb_epochs, sample_data_dir


def main(out_dir=None):
    if sample_data_dir() is None:
        print("The shared data folder (EEGMMIDB recordings) was not found; set "
              "AUTOREJECT_DATA to run this example. Nothing to do.")
        return 0
    epochs = load_eegmmidb_epochs(runs=(4,))
    print(f"Loaded {len(epochs)} epochs x {len(epochs.ch_names)} EEG channels.")

    ransac = autoreject_cpp.Ransac(verbose=False)  # autoreject's defaults
    ransac.fit(epochs)
    median_corr = np.median(ransac.corr_, axis=0)
    names = [epochs.ch_names[p] for p in ransac.picks_]
    print(f"RANSAC bad channels: {', '.join(ransac.bad_chs_) or 'none'}")
    for idx in np.argsort(median_corr)[:5]:
        share = np.mean(ransac.corr_[:, idx] < ransac.min_corr)
        print(f"  {names[idx]:>4}: median correlation with its prediction "
              f"{median_corr[idx]:.2f}, below {ransac.min_corr} in {share:.0%} of epochs")

    # interpolate them (a new Epochs object; the input is unchanged) ...
    epochs_fixed = ransac.transform(epochs)
    print(f"Interpolated {len(ransac.bad_chs_)} channel(s); "
          f"info['bads'] after repair: {epochs_fixed.info['bads']}")

    # ... or just mark them bad for the steps that follow
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        marked = epochs.copy()
        marked.info["bads"] = list(ransac.bad_chs_)
        fname = out / "S001R04-bads-epo.fif"
        marked.save(fname, overwrite=True, verbose=False)
        print(f"Wrote {fname} with the bad channels in info['bads'].")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
