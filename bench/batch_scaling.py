"""Wall time of ``run_batch`` on N simulated subjects with 1 and 2 workers.

Eight subjects (150 epochs x 64 EEG channels, 160 Hz, 1.2 s) are saved as
``-epo.fif`` and cleaned with ``autoreject_cpp.batch.run_batch`` (``cv=5``,
``random_state=0``, no HTML report, ``force=True`` so every run cleans
everything) by: one local process (``n_jobs=1``), two local processes
(joblib loky, ``n_jobs=2``) and, when dask is installed, a two-worker dask
``LocalCluster`` (``scheduler='local'``), each with one thread per job (the
default); one process with two threads per job is also timed. Each
configuration runs ``REPEATS`` times, interleaved with the others; all wall
times are kept, with the 1-minute load average before each run. The first
loky run includes starting the workers (later runs reuse them); every dask run starts a new cluster. The outputs
of every configuration are checked to be identical. Writes
``bench/results/batch_scaling.json``.

Run: ``python bench/batch_scaling.py`` (takes about two minutes on two
cores). With ``PYTHONPATH=python`` from the repository root to time a
checkout.
"""

import datetime
import importlib.util
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import mne
import numpy as np

import autoreject_cpp
from autoreject_cpp.batch import run_batch
from autoreject_cpp.datasets import make_synthetic_epochs

OUT = Path(__file__).parent / "results" / "batch_scaling.json"
N_SUBJECTS = 8
REPEATS = 3
OPTIONS = dict(cv=5, random_state=0, report=False, force=True)


def _versions():
    import importlib.metadata as md

    names = ("autoreject-cpp", "mne", "numpy", "scipy", "joblib", "dask", "distributed")
    found = {}
    for name in names:
        try:
            found[name] = autoreject_cpp.__version__ if name == "autoreject-cpp" else md.version(name)
        except md.PackageNotFoundError:
            found[name] = None
    found["python"] = platform.python_version()
    return found


def _configs():
    yield "loky, 1 worker", dict(n_jobs=1)
    yield "loky, 2 workers", dict(n_jobs=2)
    yield "loky, 1 worker, 2 threads", dict(n_jobs=1, threads_per_worker=2)
    if importlib.util.find_spec("distributed") is None:
        return
    yield "dask LocalCluster, 2 workers", dict(n_jobs=2, scheduler="local")


def _fingerprint(out):
    """Data of every cleaned file, to check that all configurations agree."""
    return [
        mne.read_epochs(p, verbose="error").get_data().tobytes()
        for p in sorted(Path(out).rglob("*-clean-epo.fif"))
    ]


def main():
    mne.set_log_level("error")
    hardware = autoreject_cpp.detect_hardware()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "study"
        for i in range(N_SUBJECTS):
            folder = data / f"sub-{i + 1:02d}"
            folder.mkdir(parents=True)
            make_synthetic_epochs(n_epochs=150, n_channels=64, seed=i).save(
                folder / f"sub-{i + 1:02d}-epo.fif", verbose="error"
            )
        configs = dict(_configs())
        times = {name: [] for name in configs}
        load = {name: [] for name in configs}
        runtimes, threads, reference = {}, {}, None
        # interleaved (one run of each configuration per round), so that the
        # load of other users of the machine falls on all of them alike
        for repeat in range(REPEATS):
            for name, config in configs.items():
                out = Path(tmp) / f"out-{repeat}-{len(times[name])}-{name.replace(' ', '_')}"
                load[name].append(os.getloadavg()[0])
                start = time.perf_counter()
                rows = run_batch([data], out, **config, **OPTIONS)
                times[name].append(time.perf_counter() - start)
                assert all(r["status"] == "done" for r in rows), rows
                got = _fingerprint(out)
                reference = reference or got
                assert got == reference, f"{name}: outputs differ from the first configuration"
                runtimes[name] = float(np.mean([r["runtime_s"] for r in rows]))
                threads[name] = json.loads((out / "summary.json").read_text())["threads_per_worker"]
                print(f"round {repeat}, {name}: {times[name][-1]:.1f} s", flush=True)
        results = {
            name: dict(
                config=configs[name],
                seconds=times[name],
                best_s=min(times[name]),
                median_s=statistics.median(times[name]),
                mean_subject_runtime_s_last_run=runtimes[name],
                threads_per_worker=threads[name],
                load_average_1min_before=load[name],
            )
            for name in configs
        }
    one = results["loky, 1 worker"]["median_s"]
    for row in results.values():
        row["speedup_vs_1_worker_median"] = one / row["median_s"]
    report = dict(
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        subjects=N_SUBJECTS,
        data="make_synthetic_epochs(n_epochs=150, n_channels=64), 160 Hz, 193 samples",
        options={k: v for k, v in OPTIONS.items()},
        repeats=REPEATS,
        hardware=dict(
            cpu_count=hardware.get("cpu_count"),
            processor=platform.processor() or platform.machine(),
            platform=platform.platform(),
            note="shared machine: other sessions use the same two cores; see the load averages",
        ),
        versions=_versions(),
        results=results,
        ratio_2_vs_1_workers_median=results["loky, 2 workers"]["median_s"] / one,
        ratio_2_vs_1_workers_best=results["loky, 2 workers"]["best_s"]
        / results["loky, 1 worker"]["best_s"],
    )
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"2 workers / 1 worker wall time (median): {report['ratio_2_vs_1_workers_median']:.2f}; "
          f"wrote {OUT}")


if __name__ == "__main__":
    main()
