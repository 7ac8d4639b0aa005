"""Benchmark fastreject against autoreject 0.5.1 on the same data.

Run ``python -m fastreject.bench`` (options: ``--data eegmmidb|synthetic``,
``--backend``, ``--repeat``, ``--json FILE``, ``--no-oracle``). Each workload
runs on the same epochs in the same process, autoreject first; the ratio is
autoreject's best time over fastreject's best time, and the decisions
(thresholds' chosen epochs, consensus, n_interpolate, bad epochs, RANSAC bad
channels, global thresholds) are checked to be identical.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import tracemalloc
from pathlib import Path


def _best_time(fn, repeat):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _peak_memory(fn):
    """Peak traced Python/NumPy allocation (bytes) while running ``fn``."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def load_data(kind="eegmmidb"):
    """Epochs used by the benchmark.

    Parameters
    ----------
    kind : str
        ``'eegmmidb'`` (232 x 64 x 641 real EEG, needs the shared data) or
        ``'synthetic'`` (120 x 32 simulated EEG).

    Returns
    -------
    epochs : mne.Epochs
    """
    from .datasets import load_eegmmidb_epochs, make_synthetic_epochs

    if kind == "eegmmidb":
        return load_eegmmidb_epochs()
    return make_synthetic_epochs(kind="eeg", n_epochs=120, seed=42)


def _versions():
    import mne
    import numpy
    import scipy
    import sklearn

    from . import __version__

    out = dict(
        fastreject=__version__,
        mne=mne.__version__,
        numpy=numpy.__version__,
        scipy=scipy.__version__,
        sklearn=sklearn.__version__,
        python=platform.python_version(),
    )
    try:
        import autoreject

        out["autoreject"] = autoreject.__version__
    except ImportError:
        pass
    return out


def _hardware():
    import os

    info = dict(machine=platform.machine(), processor=platform.processor(), cpus=os.cpu_count())
    try:
        with open("/proc/cpuinfo") as fid:
            for line in fid:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def run(data="eegmmidb", backend=None, repeat=3, oracle=True, n_jobs=1):
    """Time each workload for fastreject (and autoreject when installed).

    Parameters
    ----------
    data : str
        See :func:`load_data`.
    backend : str | None
        fastreject backend.
    repeat : int
        Repetitions; the best time is kept.
    oracle : bool
        Whether to run autoreject 0.5.1 too.
    n_jobs : int
        ``n_jobs`` for both libraries.

    Returns
    -------
    results : dict
        Per workload: times, ratio, peak memory, decisions identical.
    """
    import mne
    import numpy as np

    import fastreject

    mne.set_log_level("error")
    epochs = load_data(data)
    ar_mod = None
    if oracle:
        try:
            import autoreject as ar_mod
        except ImportError:
            ar_mod = None
    kw = dict(random_state=42, verbose=False, n_jobs=n_jobs)
    fits = {}

    def fr_fit():
        fits["fr"] = fastreject.AutoReject(backend=backend, **kw).fit(epochs)
        return fits["fr"]

    def ar_fit():
        fits["ar"] = ar_mod.AutoReject(**kw).fit(epochs.copy())
        return fits["ar"]

    workloads = {
        "AutoReject.fit": (fr_fit, ar_fit),
        "AutoReject.transform": (
            lambda: fits["fr"].transform(epochs, return_log=True),
            lambda: fits["ar"].transform(epochs.copy(), return_log=True),
        ),
        "Ransac.fit": (
            lambda: fastreject.Ransac(verbose=False, n_jobs=n_jobs, backend=backend).fit(epochs),
            lambda: ar_mod.Ransac(verbose=False, n_jobs=n_jobs).fit(epochs),
        ),
        "get_rejection_threshold": (
            lambda: fastreject.get_rejection_threshold(epochs, random_state=42, verbose=False, backend=backend),
            lambda: ar_mod.get_rejection_threshold(epochs, random_state=42, verbose=False),
        ),
    }
    results = dict(
        data=data,
        shape=list(epochs.get_data(copy=False).shape),
        data_bytes=int(epochs.get_data(copy=False).nbytes),
        backend=str(fastreject.get_backend(backend)),
        n_jobs=n_jobs,
        versions=_versions(),
        hardware=_hardware(),
        date=time.strftime("%Y-%m-%d"),
        workloads={},
    )
    for name, (fr_fn, ar_fn) in workloads.items():
        row = {}
        if ar_mod is not None:
            row["autoreject_s"], ar_out = _best_time(ar_fn, 1 if name.endswith("fit") else repeat)
        row["fastreject_s"], fr_out = _best_time(fr_fn, repeat)
        row["fastreject_peak_bytes"] = _peak_memory(fr_fn)
        if ar_mod is not None:
            row["ratio"] = row["autoreject_s"] / row["fastreject_s"]
            row["identical"] = _same(name, fr_out, ar_out, np)
        results["workloads"][name] = row
    return results


def _same(name, ours, ref, np):
    if name == "AutoReject.fit":
        return bool(
            ours.consensus_ == ref.consensus_
            and ours.n_interpolate_ == ref.n_interpolate_
            and all(np.isclose(ours.threshes_[k], v, rtol=1e-9, atol=0) for k, v in ref.threshes_.items())
        )
    if name == "AutoReject.transform":
        (clean, log), (clean_ref, log_ref) = ours, ref
        return bool(
            np.array_equal(log.labels, log_ref.labels, equal_nan=True)
            and np.array_equal(log.bad_epochs, log_ref.bad_epochs)
            and np.allclose(
                clean.get_data(), clean_ref.get_data(), rtol=1e-9,
                atol=1e-10 * np.abs(clean_ref.get_data()).max(),
            )
        )
    if name == "Ransac.fit":
        return bool(ours.bad_chs_ == ref.bad_chs_ and np.allclose(ours.corr_, ref.corr_, rtol=1e-9))
    return ours == ref


def format_table(results):
    """Render :func:`run`'s results as a text table."""
    lines = [
        f"data: {results['data']} {tuple(results['shape'])}, backend {results['backend']}, "
        f"n_jobs={results['n_jobs']}",
        f"{'workload':<26}{'autoreject':>12}{'fastreject':>12}{'ratio':>9}{'peak MB':>10}  identical",
    ]
    for name, row in results["workloads"].items():
        ar_s = f"{row['autoreject_s']:.3f}s" if "autoreject_s" in row else "-"
        ratio = f"{row['ratio']:.1f}x" if "ratio" in row else "-"
        lines.append(
            f"{name:<26}{ar_s:>12}{row['fastreject_s']:>11.3f}s{ratio:>9}"
            f"{row['fastreject_peak_bytes'] / 2**20:>10.1f}  {row.get('identical', '-')}"
        )
    return "\n".join(lines)


def main(argv=None):
    """Command-line entry point (``python -m fastreject.bench``)."""
    parser = argparse.ArgumentParser(prog="python -m fastreject.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=("eegmmidb", "synthetic"), default="eegmmidb")
    parser.add_argument("--backend", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--no-oracle", action="store_true", help="do not run autoreject")
    parser.add_argument("--json", help="write the results to this JSON file")
    args = parser.parse_args(argv)
    results = run(args.data, args.backend, args.repeat, not args.no_oracle, args.n_jobs)
    print(format_table(results))
    if args.json:
        from ._fileio import atomic_path

        with atomic_path(Path(args.json).absolute()) as tmp, open(tmp, "w") as fid:
            json.dump(results, fid, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
