"""How sensitive is autoreject's Bayesian threshold search to the last bit?

autoreject_cpp computes every loss of the search with autoreject's exact
floating-point operations (epoch-order sums), which rules out faster
summation orders. This script measures why: it runs ``compute_thresholds``
(random_state=42, the default backend of the core) once as is, then with every
candidate loss moved by one unit in the last place, either all up, all
scaled by ``1 + eps``, or each up or down at random (three seeds), and
records which channels get another threshold. Writes
``bench/results/ulp_sensitivity.json``.

Run: ``python bench/ulp_sensitivity.py``
"""

import json
from pathlib import Path

import mne
import numpy as np

from autoreject_cpp import thresholds
from autoreject_cpp.backends import get_backend
from autoreject_cpp.datasets import load_eegmmidb_epochs, make_synthetic_epochs, sample_data_dir

OUT = Path(__file__).parent / "results" / "ulp_sensitivity.json"


def datasets():
    yield "synthetic_eeg (120 x 32)", make_synthetic_epochs(n_epochs=120, seed=42)
    if sample_data_dir() is not None:
        yield "eegmmidb (232 x 64)", load_eegmmidb_epochs()


def perturbations():
    yield "all up 1 ulp", lambda losses: np.nextafter(losses, np.inf)
    yield "all times (1 + eps)", lambda losses: losses * (1 + np.finfo(float).eps)
    for seed in range(3):
        rng = np.random.default_rng(seed)

        def random_ulp(losses, rng=rng):
            up = rng.random(np.shape(losses)) < 0.5
            return np.where(up, np.nextafter(losses, np.inf), np.nextafter(losses, -np.inf))

        yield f"each +-1 ulp at random (seed {seed})", random_ulp


def thresholds_with(epochs, backend, perturb=None):
    exact_losses = thresholds._FoldData.losses
    if perturb is not None:
        thresholds._FoldData.losses = lambda self, th: perturb(exact_losses(self, th))
    try:
        picks = mne.pick_types(epochs.info, eeg=True, meg=True)
        return thresholds.compute_thresholds(
            epochs, random_state=42, picks=picks, backend=backend, verbose=False
        )
    finally:
        thresholds._FoldData.losses = exact_losses


def main():
    mne.set_log_level("error")
    backend = get_backend().name
    results = {"backend": backend}
    for name, epochs in datasets():
        base = thresholds_with(epochs, backend)
        rows = {}
        for label, perturb in perturbations():
            moved = thresholds_with(epochs, backend, perturb)
            changed = {ch: [base[ch], moved[ch]] for ch in base if moved[ch] != base[ch]}
            rows[label] = {"n_channels": len(base), "changed": changed}
            print(f"{name}: {label}: {len(changed)} of {len(base)} thresholds changed {changed}")
        results[name] = rows
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
