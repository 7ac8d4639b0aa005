"""How far dtype='float32' drifts from float64, and how much faster it is.

For each data set (EEGMMIDB subject 1, the EEGLAB sample, simulated EEG and
MEG) and each estimator (AutoReject with random_state=42 and
thresh_method 'bayesian_optimization' and 'exact', Ransac,
get_rejection_threshold), both precisions are run and compared:

* thresholds: the share that differ from float64 at all, and by more than
  1e-6 relative;
* labels (AutoReject's reject-log matrix), bad epochs (AutoReject), bad
  channels (Ransac): the share that differ;
* time: the median of 3 runs of fit (+ transform for AutoReject) in each
  precision, and their ratio.

Data sets that are absent are skipped (the shared folder ``../shared/data``
from the repository root, or ``AUTOREJECT_DATA``). Writes
``bench/results/float32_drift.json``.

Usage: ``python bench/float32_drift.py [--data DIR] [--out FILE] [--repeat N]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data"


def _datasets(data_dir):
    """(name, epochs) of every data set available, EEG ones first."""
    import mne

    from autoreject_cpp.datasets import load_eegmmidb_epochs, make_synthetic_epochs

    out = []
    if (data_dir / "eegmmidb").is_dir():
        out.append(("eegmmidb", load_eegmmidb_epochs(data_dir)))
    else:
        print(f"skipped eegmmidb: {data_dir / 'eegmmidb'} absent")
    sample = data_dir / "eeglab_sample" / "eeglab_data_epochs_ica.set"
    if sample.is_file():
        epochs = mne.read_epochs_eeglab(sample, verbose="error")
        epochs.set_channel_types(
            {ch: "eog" for ch in ("EOG1", "EOG2") if ch in epochs.ch_names}, verbose="error"
        )
        out.append(("eeglab_sample", epochs))
    else:
        print(f"skipped eeglab_sample: {sample} absent")
    out.append(("synthetic_eeg", make_synthetic_epochs("eeg")))
    out.append(("synthetic_meg", make_synthetic_epochs("meg")))
    return out


def _timed(func, repeat):
    """(result of the last run, median seconds of ``repeat`` runs)."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def _threshold_drift(t64, t32):
    keys = sorted(t64)
    a = np.array([t64[k] for k in keys], dtype=float)
    b = np.array([t32[k] for k in keys], dtype=float)
    rel = np.abs(b - a) / np.abs(a)
    return dict(
        n_thresholds=len(keys),
        share_differ=float(np.mean(a != b)),
        share_rel_diff_gt_1e6=float(np.mean(rel > 1e-6)),
        max_rel_diff=float(rel.max()) if len(rel) else 0.0,
    )


def _speed(t64, t32):
    return dict(seconds_float64=t64, seconds_float32=t32, speedup=t64 / t32)


def _autoreject(epochs, method, repeat):
    from autoreject_cpp import AutoReject

    def run(dtype):
        ar = AutoReject(random_state=42, thresh_method=method, verbose=False, dtype=dtype)
        clean, log = ar.fit(epochs).transform(epochs, return_log=True)
        return ar, log

    (ar64, log64), s64 = _timed(lambda: run("float64"), repeat)
    (ar32, log32), s32 = _timed(lambda: run("float32"), repeat)
    lab64, lab32 = np.asarray(log64.labels), np.asarray(log32.labels)
    same = (lab64 == lab32) | (np.isnan(lab64) & np.isnan(lab32))
    picked = ~np.isnan(lab64).all(axis=0)
    bad64, bad32 = np.asarray(log64.bad_epochs, bool), np.asarray(log32.bad_epochs, bool)
    return dict(
        thresholds=_threshold_drift(ar64.threshes_, ar32.threshes_),
        share_labels_differ=float(1 - same[:, picked].mean()),
        share_bad_epochs_differ=float(np.mean(bad64 != bad32)),
        n_bad_epochs=dict(float64=int(bad64.sum()), float32=int(bad32.sum())),
        consensus=dict(
            float64={k: float(v) for k, v in ar64.consensus_.items()},
            float32={k: float(v) for k, v in ar32.consensus_.items()},
        ),
        n_interpolate=dict(
            float64={k: int(v) for k, v in ar64.n_interpolate_.items()},
            float32={k: int(v) for k, v in ar32.n_interpolate_.items()},
        ),
        **_speed(s64, s32),
    )


def _ransac(epochs, repeat):
    from autoreject_cpp import Ransac

    picks = "eeg" if "eeg" in epochs else "mag"
    r64, s64 = _timed(lambda: Ransac(verbose=False, picks=picks).fit(epochs), repeat)
    r32, s32 = _timed(
        lambda: Ransac(verbose=False, picks=picks, dtype="float32").fit(epochs), repeat
    )
    names = [epochs.ch_names[p] for p in r64.picks_]
    b64 = np.isin(names, r64.bad_chs_)
    b32 = np.isin(names, r32.bad_chs_)
    return dict(
        picks=picks,
        bad_channels=dict(float64=list(r64.bad_chs_), float32=list(r32.bad_chs_)),
        share_bad_channels_differ=float(np.mean(b64 != b32)),
        max_abs_corr_diff=float(np.abs(r64.corr_ - r32.corr_).max()),
        **_speed(s64, s32),
    )


def _global(epochs, repeat):
    from autoreject_cpp import get_rejection_threshold

    def run(dtype):
        return get_rejection_threshold(epochs, random_state=42, verbose=False, dtype=dtype)

    g64, s64 = _timed(lambda: run("float64"), repeat)
    g32, s32 = _timed(lambda: run("float32"), repeat)
    return dict(
        reject=dict(float64=g64, float32=g32),
        thresholds=_threshold_drift(g64, g32),
        **_speed(s64, s32),
    )


def main(argv=None):
    import mne

    import autoreject_cpp

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "float32_drift.json")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    data_dir = args.data or Path(os.environ.get("AUTOREJECT_DATA", DEFAULT_DATA))
    mne.set_log_level("error")
    results = {}
    for name, epochs in _datasets(data_dir):
        print(f"{name}: {len(epochs)} epochs x {len(epochs.ch_names)} channels", flush=True)
        entry = dict(n_epochs=len(epochs), n_channels=len(epochs.ch_names))
        for method in ("bayesian_optimization", "exact"):
            entry[f"autoreject_{method}"] = _autoreject(epochs, method, args.repeat)
            print(f"  autoreject {method}: {entry[f'autoreject_{method}']}", flush=True)
        entry["ransac"] = _ransac(epochs, args.repeat)
        print(f"  ransac: {entry['ransac']}", flush=True)
        entry["get_rejection_threshold"] = _global(epochs, args.repeat)
        print(f"  get_rejection_threshold: {entry['get_rejection_threshold']}", flush=True)
        results[name] = entry
    out = dict(
        description=(
            "dtype='float32' against float64: shares of thresholds, labels, bad epochs "
            "and RANSAC bad channels that differ, and median-of-3 timings"
        ),
        machine=dict(
            processor=platform.processor() or platform.machine(),
            cpu_count=len(os.sched_getaffinity(0)),
            backend=autoreject_cpp.backends.get_backend().name,
            simd=autoreject_cpp._core.resolve_simd(),
        ),
        version=autoreject_cpp.__version__,
        repeat=args.repeat,
        results=results,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, default=float) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
