"""How much does thresh_method='exact' differ from autoreject's Bayesian search?

For each dataset: per-channel thresholds of both methods (random_state=42),
the share of channels whose threshold differs, the median relative
difference, the CV loss of each threshold (lower is better), the time of
each, and the AutoReject decisions (consensus, n_interpolate, dropped
epochs) obtained with each. Writes ``bench/results/exact_vs_bayes.json``.

Run: ``python bench/exact_vs_bayes.py``
"""

import json
import time
from pathlib import Path

import mne
import numpy as np

import autoreject_cpp
from autoreject_cpp.datasets import load_eegmmidb_epochs, make_synthetic_epochs, sample_data_dir

OUT = Path(__file__).parent / "results" / "exact_vs_bayes.json"


def datasets():
    yield "synthetic_eeg (120 x 32)", make_synthetic_epochs(n_epochs=120, seed=42)
    if sample_data_dir() is not None:
        yield "eegmmidb (232 x 64)", load_eegmmidb_epochs()
        fname = Path(sample_data_dir()) / "eeglab_sample" / "eeglab_data_epochs_ica.set"
        ep = mne.read_epochs_eeglab(fname, verbose="error")
        ep.set_channel_types({"EOG1": "eog", "EOG2": "eog"}, on_unit_change="ignore")
        yield "eeglab (80 x 30)", ep


def main():
    mne.set_log_level("error")
    results = {}
    for name, epochs in datasets():
        row = {}
        for method in ("bayesian_optimization", "exact"):
            start = time.perf_counter()
            ar = autoreject_cpp.AutoReject(random_state=42, verbose=False, thresh_method=method).fit(epochs)
            row[method] = dict(
                seconds=time.perf_counter() - start,
                threshes=ar.threshes_,
                consensus={k: float(v) for k, v in ar.consensus_.items()},
                n_interpolate={k: int(v) for k, v in ar.n_interpolate_.items()},
                n_dropped=int(ar.get_reject_log(epochs).bad_epochs.sum()),
                mean_cv_loss={k: float(np.min(v.mean(axis=-1))) for k, v in ar.loss_.items()},
            )
        a = np.array([row["bayesian_optimization"]["threshes"][k] for k in row["exact"]["threshes"]])
        b = np.array(list(row["exact"]["threshes"].values()))
        row["share_channels_differing"] = float(np.mean(a != b))
        row["median_relative_difference"] = float(np.median(np.abs(a - b) / a))
        row["max_relative_difference"] = float(np.max(np.abs(a - b) / a))
        for method in ("bayesian_optimization", "exact"):
            del row[method]["threshes"]
        results[name] = row
        print(name, json.dumps(row, indent=1))
    OUT.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
