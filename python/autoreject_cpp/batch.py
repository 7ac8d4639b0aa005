"""Batch cleaning of a whole study, on this machine or a dask cluster.

:func:`run_batch` (and ``autoreject-cpp batch``) runs the ``clean`` pipeline on
every input, one job per recording, through joblib's backends: local
processes (loky) by default, a :class:`distributed.Client` with
``scheduler=``. Each job:

1. hashes its input (file bytes, sidecars, options, autoreject_cpp version) and
   skips the recording when its manifest holds that hash and every output
   exists (``force=True`` redoes it);
2. otherwise reads (and for BIDS input epochs) the recording, cleans it with
   the same code as ``autoreject-cpp clean``, writes every output atomically and
   the manifest last;
3. returns one summary row; an exception becomes a ``'failed'`` row and the
   other recordings go on.

BLAS, OpenMP and the compiled core's threads are limited inside each job to
``threads_per_worker`` so that parallel jobs do not oversubscribe the
cores. The study summary is written as ``summary.csv``, ``summary.json`` and
``summary.html`` in the output folder.

.. versionadded:: 0.2
"""

# License: BSD-3-Clause

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import socket
import sys
import time
from pathlib import Path

from ._batch_inputs import (
    EpochOptions,
    _need,
    bids_subjects,
    file_subjects,
    read_subject,
    write_dataset_description,
)
from ._batch_summary import SUMMARY_COLUMNS, _counts, write_summary
from ._clean import CleanOptions, clean_epochs, file_sha256, result_row, write_outputs

__all__ = ["SUMMARY_COLUMNS", "run_batch"]

_OUTPUT_ROLES = ("epochs", "log", "model", "report")


# ---------------------------------------------------------------------------
# one job


@contextlib.contextmanager
def _thread_limits(threads):
    """Limit BLAS/OpenMP and autoreject_cpp's own threads (Python thread
    pools, the compiled core's kernels) to ``threads``."""
    from threadpoolctl import threadpool_limits

    from ._parallel import limit_threads

    # limit_threads also sets the core's threads: get_backend reads it
    with threadpool_limits(limits=threads), limit_threads(threads):
        yield


def _digest(subject, options, epoch_options):
    """sha256 of the input files, the options and the autoreject_cpp version."""
    from ._version import __version__

    parent = Path(subject.input).parent
    files = {
        os.path.relpath(source, parent): file_sha256(source) for source in subject.sources
    }
    state = {
        "autoreject_cpp": __version__,
        "files": files,
        "options": options.fingerprint(),
        "epoching": epoch_options.fingerprint() if subject.bids else None,
    }
    text = json.dumps(state, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _outputs(subject):
    return {role: subject.outputs[role] for role in _OUTPUT_ROLES if subject.outputs.get(role)}


def _previous_row(subject, digest):
    """The stored summary row when outputs are complete and up to date, else None."""
    manifest = Path(subject.outputs["manifest"])
    try:
        stored = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return None
    if stored.get("hash") != digest:
        return None
    if not all(Path(path).is_file() for path in _outputs(subject).values()):
        return None
    return stored.get("row")


def _write_manifest(subject, digest, row, options, epoch_options):
    from ._fileio import atomic_path
    from ._version import __version__

    manifest = {
        "hash": digest,
        "autoreject_cpp": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "input": subject.input,
        "sources": list(subject.sources),
        "options": options.fingerprint(),
        "epoching": epoch_options.fingerprint() if subject.bids else None,
        "row": row,
    }
    with atomic_path(subject.outputs["manifest"]) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")


def _empty_row(subject):
    row = dict.fromkeys(SUMMARY_COLUMNS)
    row.update(subject=subject.key, input=subject.input, thresholds=None, outputs=None)
    return row


def process_subject(
    subject, options, epoch_options, *, force=False, threads=1, log_level="WARNING"
):
    """Clean one recording (or skip it when up to date); never raises.

    Parameters
    ----------
    subject : Subject
        The input and its output paths.
    options : CleanOptions
        Cleaning options.
    epoch_options : EpochOptions
        How BIDS recordings are epoched.
    force : bool
        Redo the recording even when its outputs are up to date.
    threads : int
        BLAS and core threads inside the job.
    log_level : str
        MNE log level inside the job.

    Returns
    -------
    row : dict
        The summary row, ``status`` one of ``'done'``, ``'skipped'``, ``'failed'``.
    """
    from mne.utils import use_log_level

    from .cli import _one_line

    start = time.perf_counter()
    row = _empty_row(subject)
    try:
        with _thread_limits(threads), use_log_level(log_level):
            digest = _digest(subject, options, epoch_options)
            previous = None if force else _previous_row(subject, digest)
            if previous is not None:
                row.update(previous)
                row["status"] = "skipped"
            else:
                # the old manifest goes first: a run stopped half way is never
                # taken for a complete one
                Path(subject.outputs["manifest"]).unlink(missing_ok=True)
                epochs = read_subject(subject, options.eog, epoch_options)
                result = clean_epochs(epochs, options)
                outputs = _outputs(subject)
                write_outputs(
                    result, Path(outputs["epochs"]), Path(outputs["log"]),
                    Path(outputs["model"]),
                    Path(outputs["report"]) if "report" in outputs else None,
                    title=f"autoreject_cpp: {subject.key}", overwrite=True,
                )  # fmt: skip
                row.update(result_row(result), status="done", outputs=outputs, error=None)
                _write_manifest(subject, digest, row, options, epoch_options)
    except Exception as err:  # one failing recording must not stop the others
        from .cli import CLIError

        kind = "" if isinstance(err, CLIError) else f"{type(err).__name__}: "
        row.update(status="failed", error=f"{kind}{_one_line(err)}")
    row["wall_s"] = round(time.perf_counter() - start, 3)
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return row


# ---------------------------------------------------------------------------
# execution


@contextlib.contextmanager
def _dask_client(scheduler, n_jobs):
    """A distributed Client: to ``scheduler``, or on a new LocalCluster."""
    import logging

    distributed = _need("distributed", "--scheduler")
    if scheduler == "local":
        from joblib import cpu_count

        n_workers = cpu_count() if n_jobs < 0 else n_jobs
        with distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster, distributed.Client(cluster) as client:
            yield client
    else:
        with distributed.Client(scheduler, timeout="30s") as client:
            yield client


def _execute(subjects, job, n_jobs, scheduler, threads):
    """Yield the summary rows as jobs finish (any order)."""
    from joblib import Parallel, delayed, parallel_config

    tasks = (delayed(process_subject)(subject, **job) for subject in subjects)
    if scheduler is None:
        with parallel_config(backend="loky", inner_max_num_threads=threads):
            yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks)
    else:
        with _dask_client(scheduler, n_jobs), parallel_config(backend="dask"):
            yield from Parallel(n_jobs=-1, return_as="generator_unordered")(tasks)


def _progress(row, done, total):
    from mne.utils import logger

    from .cli import _one_line

    head = f"[{done}/{total}] {row['subject']}: {row['status']}"
    if row["status"] == "failed":
        logger.warning(f"{head}: {_one_line(row['error'])}")
    elif row.get("n_epochs") is not None:
        logger.info(
            f"{head} ({row['n_dropped']} of {row['n_epochs']} epochs dropped, "
            f"{row['n_segments_interpolated']} segments repaired, {row['wall_s']:.1f} s)"
        )
    else:
        logger.info(head)


# ---------------------------------------------------------------------------
# public entry point


def run_batch(
    inputs=(),
    out="autoreject_cpp-batch",
    *,
    bids_root=None,
    task=None,
    datatype=None,
    subjects=None,
    sessions=None,
    runs=None,
    epoch_duration=None,
    event_id=None,
    tmin=-0.2,
    tmax=0.5,
    montage=None,
    picks=None,
    method=None,
    random_state=None,
    cv=None,
    backend=None,
    from_model=None,
    ransac=False,
    eog=(),
    report=True,
    n_jobs=1,
    scheduler=None,
    threads_per_worker=None,
    force=False,
    log_level="WARNING",
):
    """Clean every recording of a study; the Python side of ``autoreject-cpp batch``.

    Parameters
    ----------
    inputs : sequence of path-like
        Epochs files (``-epo.fif``, EEGLAB ``.set``), glob patterns (``**``
        allowed) or folders searched recursively. Leave empty with
        ``bids_root``.
    out : path-like
        Output folder. For epochs files it mirrors the input tree below the
        inputs' common folder; for BIDS input it is the derivatives dataset
        (e.g. ``<bids_root>/derivatives/autoreject_cpp``).
    bids_root : path-like | None
        A BIDS dataset whose raw recordings are read with mne-bids and
        epoched (see ``epoch_duration``, ``event_id``, ``tmin``, ``tmax``).
    task, datatype, subjects, sessions, runs : str | list of str | None
        BIDS entity filters (:func:`mne_bids.find_matching_paths`);
        ``datatype`` None means ``['eeg', 'meg']``.
    epoch_duration : float | None
        BIDS input: fixed-length epochs of this duration (s). None (default):
        epochs from ``tmin`` to ``tmax`` around the annotations.
    event_id : list of str | None
        BIDS input: annotation descriptions to epoch around (default: all
        but ``BAD_``/``EDGE``).
    tmin, tmax : float
        BIDS input: epoch limits around events (default -0.2 and 0.5 s).
    montage : str | None
        BIDS input: standard montage to set when recordings lack positions.
    picks, method, random_state, cv, backend, from_model, ransac, eog
        As ``autoreject-cpp clean`` (``--picks``, ``--method``, ...).
    report : bool
        Write an HTML report per recording. Defaults to True.
    n_jobs : int
        Recordings cleaned in parallel (local processes; with
        ``scheduler='local'`` the number of dask workers); -1: all cores.
    scheduler : str | None
        None (default): local processes (joblib's loky). ``'local'``: start a
        :class:`distributed.LocalCluster` here. ``'tcp://host:port'``: the
        scheduler of an existing dask cluster (workers must see the files
        and have autoreject_cpp installed).
    threads_per_worker : int | None
        BLAS and core threads per job. None (default): 1, the fastest
        when the cores are busy with other recordings (parallelise with
        ``n_jobs`` instead; see ``benchmarks/batch_scaling.py``).
    force : bool
        Redo recordings whose outputs are up to date.
    log_level : str
        MNE log level inside the jobs. Defaults to ``'WARNING'``.

    Returns
    -------
    rows : list of dict
        One row per recording, in input order (``SUMMARY_COLUMNS`` plus
        ``thresholds`` and ``outputs``); ``status`` is ``'done'``,
        ``'skipped'`` or ``'failed'`` (with ``error``). Also written to
        ``out/summary.{csv,json,html}``.

    Raises
    ------
    autoreject_cpp.cli.CLIError
        When no input is found or the options conflict (``code`` gives the
        command's exit status). Errors of single recordings are not raised:
        they are in the rows.
    """
    from .cli import EXIT_USAGE, CLIError

    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    if inputs and bids_root is not None:
        raise CLIError("give epochs files or --bids-root, not both", EXIT_USAGE)
    options = CleanOptions(
        picks=tuple([picks] if isinstance(picks, str) else picks) if picks else None,
        method=method, random_state=random_state, cv=cv, n_jobs=1, backend=backend,
        from_model=None if from_model is None else str(from_model),
        ransac=bool(ransac), eog=tuple(eog or ()),
    )  # fmt: skip
    options.check()
    epoch_options = EpochOptions(
        epoch_duration=epoch_duration,
        event_id=tuple([event_id] if isinstance(event_id, str) else event_id)
        if event_id else None,
        tmin=tmin, tmax=tmax, montage=montage,
    )  # fmt: skip
    if n_jobs == 0:
        raise CLIError("n_jobs must be a non-zero integer (-1: all cores)", EXIT_USAGE)
    if scheduler is not None:
        _need("distributed", "--scheduler")
    out = Path(os.path.expanduser(os.fspath(out))).absolute()
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} exists and is not a folder", EXIT_USAGE)
    if bids_root is not None:
        found = bids_subjects(
            bids_root, out, task=task, datatype=datatype, subjects=subjects,
            sessions=sessions, runs=runs, report=report,
        )  # fmt: skip
    else:
        found = file_subjects(inputs, out, report=report)
    out.mkdir(parents=True, exist_ok=True)
    if bids_root is not None:
        write_dataset_description(out, bids_root)
    threads = threads_per_worker or 1
    job = {"options": options, "epoch_options": epoch_options, "force": force,
           "threads": threads, "log_level": log_level}  # fmt: skip
    start = time.perf_counter()
    rows, interrupted = _collect(found, job, n_jobs, scheduler, threads)
    meta = {
        "autoreject_cpp": _version(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "out": str(out),
        "bids_root": None if bids_root is None else str(bids_root),
        "scheduler": scheduler or f"loky ({n_jobs} process(es))",
        "n_jobs": n_jobs,
        "threads_per_worker": threads,
        "wall_s": round(time.perf_counter() - start, 3),
        "counts": _counts(rows),
        "options": options.fingerprint(),
        "epoching": epoch_options.fingerprint() if bids_root is not None else None,
    }
    write_summary(rows, out, meta)
    if interrupted:
        # the summary of what finished is on disk; now stop as asked
        raise KeyboardInterrupt
    return rows


def _collect(subjects, job, n_jobs, scheduler, threads):
    """Run the jobs; a crashed worker fails the recordings left, not the batch.

    Returns the rows in input order and whether the user interrupted the
    batch (Ctrl-C): the recordings not finished by then are marked failed
    with ``'not run: interrupted'``, so that the summary can still be written.
    """
    from .cli import _one_line

    by_key = {}
    message = None
    try:
        for row in _execute(subjects, job, n_jobs, scheduler, threads):
            by_key[row["subject"]] = row
            _progress(row, len(by_key), len(subjects))
    except KeyboardInterrupt:
        message = "interrupted"
    except Exception as err:  # e.g. a worker killed by the OS or a lost cluster
        message = f"{type(err).__name__}: {_one_line(err)}"
    if message is not None:
        for subject in subjects:
            if subject.key not in by_key:
                row = _empty_row(subject)
                row.update(status="failed", error=f"not run: {message}")
                by_key[subject.key] = row
    return [by_key[subject.key] for subject in subjects], message == "interrupted"


def _version():
    from ._version import __version__

    return __version__
