"""The demo behind ``autoreject-cpp demo`` and ``examples/demo.py``.

Cleans a recording simulated by :func:`autoreject_cpp.datasets.make_synthetic_epochs`
(no download), finds bad channels with RANSAC, compares what was found with
the injected artifacts and writes an HTML report, the reject log and the
fitted model. Nothing is printed here: :func:`run_demo` returns the numbers
and :func:`summary_lines` turns them into text for the caller to show.
"""

# License: BSD-3-Clause

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

#: files written by :func:`run_demo`, by role
DEMO_FILES = {
    "report": "report.html",
    "reject_log": "reject_log.npz",
    "model": "autoreject.h5",
}

# colours of the ground-truth image: neither, found, missed, flagged only,
# channel-wide artifact (RANSAC's job)
_TRUTH_COLOURS = ("#f2f2f2", "#2ca02c", "#ff7f0e", "#6baed6", "#bdbdbd")
_TRUTH_NAMES = (
    "clean",
    "artifact found",
    "artifact missed",
    "flagged, no artifact",
    "flat/noisy channel",
)


def demo_outputs(out_dir):
    """Paths of the files :func:`run_demo` writes into ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        The output folder.

    Returns
    -------
    paths : dict
        Role (``'report'``, ``'reject_log'``, ``'model'``) -> path.
    """
    out = Path(out_dir)
    return {role: out / name for role, name in DEMO_FILES.items()}


def _score(epochs, truth, reject_log):
    """Recall of artifact cells, precision of dropped epochs, truth image."""
    mask = np.array(truth["artifact_mask"], dtype=bool)
    channel_wide = [
        epochs.ch_names.index(name) for name in truth["flat_channels"] + truth["noisy_channels"]
    ]
    mask[:, channel_wide] = False  # whole-channel problems are RANSAC's job
    labels = np.asarray(reject_log.labels)
    dropped = np.asarray(reject_log.bad_epochs, dtype=bool)
    found = (np.nan_to_num(labels, nan=0.0) >= 1) | dropped[:, None]
    recall = float(found[mask].mean()) if mask.any() else float("nan")
    true_bad = mask.any(axis=1)
    precision = float((dropped & true_bad).sum() / max(int(dropped.sum()), 1))
    image = np.zeros(mask.shape, dtype=int)
    image[mask & found] = 1
    image[mask & ~found] = 2
    image[~mask & found] = 3
    image[:, channel_wide] = 4
    return dict(
        recall=recall,
        precision=precision,
        n_artifact_cells=int(mask.sum()),
        n_dropped=int(dropped.sum()),
        n_dropped_with_artifact=int((dropped & true_bad).sum()),
        truth_image=image,
    )


def _truth_figure(image, ch_names, dropped):
    import matplotlib.pyplot as plt
    from matplotlib import colors, patches

    n_epochs, n_channels = image.shape
    fig, ax = plt.subplots(figsize=(12, min(12, max(4, 0.05 * n_epochs + 3))))
    ax.imshow(
        image,
        cmap=colors.ListedColormap(_TRUTH_COLOURS),
        vmin=-0.5,
        vmax=len(_TRUTH_COLOURS) - 0.5,
        aspect="auto",
        interpolation="nearest",
    )
    ax.grid(False)
    for idx in np.flatnonzero(dropped):
        ax.add_patch(
            patches.Rectangle(
                (-0.5, idx - 0.5), n_channels, 1, linewidth=1, edgecolor="k", facecolor="none"
            )
        )
    ax.set_xticks(range(n_channels), ch_names, rotation=90, fontsize=8)
    ax.set_xlabel("Channels")
    ax.set_ylabel("Epochs")
    handles = [patches.Patch(color=c, label=n) for c, n in zip(_TRUTH_COLOURS, _TRUTH_NAMES)]
    handles.append(patches.Patch(facecolor="none", edgecolor="k", label="dropped epoch"))
    ax.legend(
        handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=6, frameon=False
    )
    fig.tight_layout()
    return fig


def run_demo(out_dir="autoreject-cpp-demo", *, n_epochs=120, seed=42, overwrite=False, backend=None):
    """Run the whole pipeline on simulated EEG and score it against the truth.

    Parameters
    ----------
    out_dir : path-like
        Folder for the report, the reject log and the model; created if
        needed. Defaults to ``'autoreject-cpp-demo'``.
    n_epochs : int
        Number of simulated epochs (32 EEG channels each). Defaults to 120.
    seed : int
        Seed of the simulation and of the estimators. Defaults to 42.
    overwrite : bool
        Whether to replace files of an earlier run. Defaults to False.
    backend : str | None
        Compute backend passed to the estimators. Defaults to None.

    Returns
    -------
    result : dict
        ``n_epochs``, ``n_channels``, ``n_blinks``, ``n_pops``, ``n_muscle``,
        ``flat_channels``, ``noisy_channels``, ``runtime`` (s),
        ``consensus``, ``n_interpolate``, ``n_kept``, ``n_repaired``,
        ``recall`` (fraction of injected artifact cells marked bad,
        repaired or dropped), ``precision`` (fraction of dropped epochs that
        hold an injected artifact), ``n_artifact_cells``, ``n_dropped``,
        ``ransac_bads`` and ``files`` (role -> path written).

    Raises
    ------
    FileExistsError
        If an output file exists and ``overwrite`` is False (checked before
        any work is done).
    """
    import mne

    from .datasets import make_synthetic_epochs
    from .local_reject_cv import AutoReject
    from .ransac import Ransac
    from .reject_log import INTERPOLATED
    from .report import _add_sections, _html_table, _save_report

    files = demo_outputs(out_dir)
    existing = [str(path) for path in files.values() if path.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{', '.join(existing)} already exist(s); pass overwrite=True (CLI: "
            "--overwrite) or choose another output folder."
        )
    Path(out_dir).mkdir(parents=True, exist_ok=True)

    epochs, truth = make_synthetic_epochs(
        kind="eeg", n_epochs=n_epochs, seed=seed, return_truth=True
    )
    start = time.perf_counter()
    ar = AutoReject(random_state=seed, verbose=None, backend=backend)
    clean, log = ar.fit_transform(epochs, return_log=True)
    runtime = time.perf_counter() - start
    ransac = Ransac(random_state=seed, verbose=None, backend=backend).fit(epochs)
    scores = _score(epochs, truth, log)
    result = dict(
        n_epochs=len(epochs),
        n_channels=len(epochs.ch_names),
        n_blinks=len(truth["blinks"]),
        n_pops=len(truth["pops"]),
        n_muscle=len(truth["muscle"]),
        flat_channels=list(truth["flat_channels"]),
        noisy_channels=list(truth["noisy_channels"]),
        runtime=runtime,
        consensus=float(ar.consensus_["eeg"]),
        n_interpolate=int(ar.n_interpolate_["eeg"]),
        n_kept=len(clean),
        n_repaired=int(np.count_nonzero(np.asarray(log.labels) == INTERPOLATED)),
        ransac_bads=list(ransac.bad_chs_),
        files={role: str(path) for role, path in files.items()},
    )
    result.update({k: v for k, v in scores.items() if k != "truth_image"})

    report = mne.Report(
        title="autoreject_cpp demo: simulated EEG with known artifacts", verbose="error"
    )
    rows = [
        ("Simulated", f"{result['n_epochs']} epochs x {result['n_channels']} EEG channels"),
        (
            "Injected artifacts",
            f"{result['n_blinks']} blinks, {result['n_pops']} electrode pops, "
            f"{result['n_muscle']} muscle bursts; flat channel "
            f"{', '.join(result['flat_channels'])}, noisy channel "
            f"{', '.join(result['noisy_channels'])}",
        ),
        (
            "Recall",
            f"{result['recall']:.0%} of the {result['n_artifact_cells']} artifact "
            "channel-epochs marked bad, repaired or dropped",
        ),
        (
            "Precision",
            f"{result['precision']:.0%} of the {result['n_dropped']} dropped epochs "
            "hold an injected artifact",
        ),
        ("RANSAC bad channels", ", ".join(result["ransac_bads"]) or "none"),
    ]
    report.add_html(
        _html_table(rows), "Ground truth", tags=("autoreject_cpp", "ground-truth"), section="Demo"
    )
    import matplotlib.pyplot as plt

    fig = _truth_figure(scores["truth_image"], epochs.ch_names, log.bad_epochs)
    try:
        report.add_figure(
            fig,
            "Injected artifacts vs. what was found",
            caption=(
                "Each cell is one channel in one epoch: green where an injected "
                "artifact was marked bad, repaired or dropped, orange where it was "
                "missed, blue where a cell without artifact was flagged; grey "
                "columns are the flat and noisy channels, left to RANSAC."
            ),
            tags=("autoreject_cpp", "ground-truth"),
            section="Demo",
        )
    finally:
        plt.close(fig)
    _add_sections(report, epochs, ar, log, clean, ransac=ransac, runtime=runtime)

    log.save(files["reject_log"], overwrite=overwrite)
    ar.save(files["model"], overwrite=overwrite)
    _save_report(report, files["report"], overwrite=overwrite)
    mne.utils.logger.debug(f"Demo outputs written to {out_dir}")
    return result


def summary_lines(result):
    """Describe a :func:`run_demo` result in a few lines of text.

    Parameters
    ----------
    result : dict
        As returned by :func:`run_demo`.

    Returns
    -------
    lines : list of str
        Human-readable lines, without trailing newlines.
    """
    r = result
    return [
        f"Simulated {r['n_epochs']} epochs x {r['n_channels']} EEG channels with "
        f"{r['n_blinks']} blinks, {r['n_pops']} pops and {r['n_muscle']} muscle bursts.",
        f"AutoReject fitted in {r['runtime']:.1f} s: consensus={r['consensus']:.1f}, "
        f"n_interpolate={r['n_interpolate']}; kept {r['n_kept']} of {r['n_epochs']} "
        f"epochs, repaired {r['n_repaired']} channel segments.",
        f"Artifacts found: {r['recall']:.0%} of the {r['n_artifact_cells']} artifact "
        f"channel-epochs (recall); {r['precision']:.0%} of the {r['n_dropped']} dropped "
        "epochs contain an injected artifact (precision).",
        f"RANSAC bad channels: {', '.join(r['ransac_bads']) or 'none'} (simulated noisy: "
        f"{', '.join(r['noisy_channels'])}, flat: {', '.join(r['flat_channels'])}).",
        f"Report: {r['files']['report']}",
        f"Also wrote {r['files']['reject_log']} and {r['files']['model']}.",
    ]
