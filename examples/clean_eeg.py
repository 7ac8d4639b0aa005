"""Clean real EEG with AutoReject: the EEG Motor Movement/Imagery dataset.

Loads runs 3 and 4 of subject 1 of the PhysioNet EEGMMIDB recordings (64 EEG
channels, 160 Hz) from the shared data folder with
:func:`autoreject_cpp.datasets.load_eegmmidb_epochs`, one 4-s epoch per task or
rest annotation, then learns per-channel thresholds, chooses consensus and
n_interpolate by cross-validation, repairs bad sensors and drops the epochs
that cannot be repaired. The frontal channels catch the subject's blinks.

Usage: ``python examples/clean_eeg.py [OUTPUT_DIR]``; with OUTPUT_DIR the
cleaned epochs, the reject log and an HTML report are written there.
The data folder is found as ``<repo>/../shared/data`` or through the
``AUTOREJECT_DATA`` environment variable; without it the script says so and
exits.
"""

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import autoreject_cpp  # noqa: E402
from autoreject_cpp.datasets import load_eegmmidb_epochs, sample_data_dir  # noqa: E402


def main(out_dir=None):
    if sample_data_dir() is None:
        print("The shared data folder (EEGMMIDB recordings) was not found; set "
              "AUTOREJECT_DATA to run this example. Nothing to do.")
        return 0
    epochs = load_eegmmidb_epochs(runs=(3, 4), chunk_duration=None)
    print(f"Loaded {len(epochs)} epochs x {len(epochs.ch_names)} EEG channels "
          f"({epochs.tmax - epochs.tmin:.0f} s each).")

    start = time.perf_counter()
    ar = autoreject_cpp.AutoReject(random_state=42, n_jobs=2, verbose=False)
    epochs_clean, reject_log = ar.fit_transform(epochs, return_log=True)
    runtime = time.perf_counter() - start

    labels = reject_log.labels
    n_interp = int(np.sum(labels == 2))
    worst = np.argsort(np.nansum(labels >= 1, axis=0))[::-1][:5]
    print(f"Fitted in {runtime:.1f} s: consensus={ar.consensus_['eeg']:.2f}, "
          f"n_interpolate={ar.n_interpolate_['eeg']}.")
    print(f"Kept {len(epochs_clean)} of {len(epochs)} epochs; repaired {n_interp} "
          "channel segments.")
    print("Channels most often bad: " + ", ".join(
        f"{epochs.ch_names[i]} ({int(np.nansum(labels[:, i] >= 1))} epochs)" for i in worst))
    thresholds = np.array(list(ar.threshes_.values())) * 1e6
    print(f"Thresholds: median {np.median(thresholds):.0f} µV "
          f"(range {thresholds.min():.0f}-{thresholds.max():.0f} µV).")

    if out_dir is not None:
        from autoreject_cpp.report import make_report

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        epochs_clean.save(out / "S001-clean-epo.fif", overwrite=True, verbose=False)
        reject_log.save(out / "S001-reject-log.npz", overwrite=True)
        make_report(epochs, ar, reject_log, epochs_clean, runtime=runtime,
                    fname=out / "S001-report.html")
        print(f"Wrote the cleaned epochs, the reject log and the report to {out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
