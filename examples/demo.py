"""Clean simulated EEG with known artifacts and check what was found.

Runs the whole fastreject pipeline on a recording simulated by
:func:`fastreject.datasets.make_synthetic_epochs` (no download): per-channel
thresholds, consensus and n_interpolate chosen by cross-validation, repair and
rejection, then RANSAC for bad channels. It reports how well the injected
blinks, electrode pops and muscle bursts were found and writes the reject-log
figure next to the outputs.

Usage: ``python examples/demo.py [OUTPUT_DIR]`` (default: ``fastreject-demo``).
"""

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import fastreject  # noqa: E402
from fastreject.datasets import make_synthetic_epochs  # noqa: E402


def main(out_dir="fastreject-demo"):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    epochs, truth = make_synthetic_epochs(kind="eeg", n_epochs=120, seed=42, return_truth=True)
    print(f"Simulated {len(epochs)} epochs x {len(epochs.ch_names)} EEG channels "
          f"with {len(truth['blinks'])} blinks, {len(truth['pops'])} pops and "
          f"{len(truth['muscle'])} muscle bursts.")

    start = time.perf_counter()
    ar = fastreject.AutoReject(random_state=42, verbose=False)
    clean, log = ar.fit_transform(epochs, return_log=True)
    elapsed = time.perf_counter() - start
    print(f"AutoReject fitted in {elapsed:.1f} s: consensus={ar.consensus_['eeg']:.1f}, "
          f"n_interpolate={ar.n_interpolate_['eeg']}; kept {len(clean)} of {len(epochs)} epochs, "
          f"repaired {int(np.sum(log.labels == 2))} channel segments.")

    # artifact cells (epoch, channel): found when marked bad/repaired or dropped
    mask = truth["artifact_mask"].copy()
    for name in truth["flat_channels"] + truth["noisy_channels"]:
        mask[:, epochs.ch_names.index(name)] = False  # channel-wide: RANSAC's job
    found = (log.labels >= 1) | log.bad_epochs[:, None]
    recall = found[mask].mean()
    true_bad = mask.any(axis=1)
    dropped = log.bad_epochs
    precision = (dropped & true_bad).sum() / max(dropped.sum(), 1)
    print(f"Artifacts found: {recall:.0%} of the {int(mask.sum())} artifact channel-epochs; "
          f"{precision:.0%} of the {int(dropped.sum())} dropped epochs contain an injected artifact.")

    ransac = fastreject.Ransac(verbose=False, random_state=42).fit(epochs)
    expected = set(truth["noisy_channels"])
    print(f"RANSAC bad channels: {ransac.bad_chs_} (simulated noisy: {sorted(expected)}, "
          f"flat: {truth['flat_channels']}).")

    fig = log.plot(show=False)
    fig.savefig(out / "reject_log.png", dpi=80)
    log.save(out / "reject_log.npz", overwrite=True)
    ar.save(out / "autoreject.h5", overwrite=True)
    print(f"Wrote {out / 'reject_log.png'}, {out / 'reject_log.npz'} and {out / 'autoreject.h5'}.")
    return recall


if __name__ == "__main__":
    main(*sys.argv[1:])
