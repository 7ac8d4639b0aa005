"""Artifact-finding quality on simulated recordings with known artifacts.

For several seeds of :func:`autoreject_cpp.datasets.make_synthetic_epochs` (EEG,
120 epochs x 32 channels, blinks, pops, muscle bursts, a flat and a noisy
channel), this scores:

* autoreject 0.5.1 (when installed), autoreject_cpp with the same Bayesian search,
  and autoreject_cpp with ``thresh_method='exact'``: recall of the artifact
  channel-epochs (marked bad, repaired or dropped) and precision of the
  dropped epochs (share that hold an injected artifact);
* RANSAC (autoreject's and autoreject_cpp's): which simulated bad channels
  (flat, noisy) are found, which are missed, and false alarms.

Writes ``bench/results/quality.json``. Run: ``python bench/quality.py``.
"""

import json
from pathlib import Path

import mne
import numpy as np

import autoreject_cpp
from autoreject_cpp._demo import _score
from autoreject_cpp.datasets import make_synthetic_epochs

OUT = Path(__file__).parent / "results" / "quality.json"
SEEDS = (1, 2, 3, 4, 5)


def main():
    mne.set_log_level("error")
    try:
        import autoreject
    except ImportError:
        autoreject = None
    rows = {}
    for seed in SEEDS:
        epochs, truth = make_synthetic_epochs(n_epochs=120, seed=seed, return_truth=True)
        models = {
            "autoreject_cpp bayesian_optimization": autoreject_cpp.AutoReject(random_state=42, verbose=False),
            "autoreject_cpp exact": autoreject_cpp.AutoReject(
                random_state=42, verbose=False, thresh_method="exact"
            ),
        }
        if autoreject is not None:
            models["autoreject 0.5.1"] = autoreject.AutoReject(random_state=42, verbose=False)
        for name, model in models.items():
            log = model.fit(epochs.copy()).get_reject_log(epochs)
            score = _score(epochs, truth, log)
            score.pop("truth_image")
            rows.setdefault(name, []).append(score)
        simulated = set(truth["flat_channels"] + truth["noisy_channels"])
        ransacs = {"ransac autoreject_cpp": autoreject_cpp.Ransac(verbose=False)}
        if autoreject is not None:
            ransacs["ransac autoreject 0.5.1"] = autoreject.Ransac(verbose=False)
        for name, ransac in ransacs.items():
            bads = set(ransac.fit(epochs).bad_chs_)
            rows.setdefault(name, []).append(
                dict(found=sorted(bads & simulated), missed=sorted(simulated - bads),
                     false_alarms=sorted(bads - simulated))
            )
    summary = {}
    for name, scores in rows.items():
        if name.startswith("ransac"):
            summary[name] = dict(
                found=sum(len(s["found"]) for s in scores),
                missed=sum(len(s["missed"]) for s in scores),
                false_alarms=sum(len(s["false_alarms"]) for s in scores),
                per_seed=scores,
            )
            continue
        summary[name] = dict(
            recall_mean=float(np.mean([s["recall"] for s in scores])),
            precision_mean=float(np.mean([s["precision"] for s in scores])),
            dropped_mean=float(np.mean([s["n_dropped"] for s in scores])),
            per_seed=scores,
        )
    OUT.write_text(json.dumps(dict(seeds=SEEDS, results=summary), indent=2))
    for name, s in summary.items():
        print(name, {k: v for k, v in s.items() if k != "per_seed"})


if __name__ == "__main__":
    main()
