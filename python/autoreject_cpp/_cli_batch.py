"""The ``autoreject-cpp batch`` sub-command: parser and entry point.

Kept apart from :mod:`autoreject_cpp.cli` so the common commands stay short; it
reuses the ``clean`` options and the CLI's helpers and exit codes. The work
itself is :func:`autoreject_cpp.batch.run_batch`.
"""

# License: BSD-3-Clause

from __future__ import annotations

import os
from pathlib import Path

from .cli import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    CLIError,
    _add_clean_options,
    _echo,
    _n_jobs,
    _positive_int,
)


def _cmd_batch(args):
    """Run ``autoreject-cpp batch`` with parsed ``args``; the exit status."""
    from ._batch_summary import _counts
    from .batch import run_batch

    if not args.inputs and args.bids_root is None:
        raise CLIError("give epochs files (INPUTS) or --bids-root", EXIT_USAGE)
    epoching = {
        "--epoch-duration": args.epoch_duration, "--event-id": args.event_id,
        "--tmin": args.tmin, "--tmax": args.tmax, "--montage": args.montage,
    }  # fmt: skip
    if args.bids_root is None:
        given = [name for name, value in epoching.items() if value is not None]
        if given:
            raise CLIError(
                f"{', '.join(given)} only apply to raw recordings (--bids-root); "
                "epochs files are used as they are",
                EXIT_USAGE,
            )
    rows = run_batch(
        args.inputs,
        args.out,
        bids_root=args.bids_root,
        task=args.task,
        datatype=args.datatype,
        subjects=args.subject,
        sessions=args.session,
        runs=args.run,
        epoch_duration=args.epoch_duration,
        event_id=args.event_id,
        tmin=-0.2 if args.tmin is None else args.tmin,
        tmax=0.5 if args.tmax is None else args.tmax,
        montage=args.montage,
        picks=args.picks,
        method=args.method,
        random_state=args.random_state,
        cv=args.cv,
        backend=args.backend,
        from_model=args.from_model,
        ransac=args.ransac,
        eog=args.eog,
        report=not args.no_report,
        n_jobs=args.n_jobs,
        scheduler=args.scheduler,
        threads_per_worker=args.threads_per_worker,
        force=args.force,
        log_level="DEBUG" if args.debug else "WARNING",
    )
    counts = _counts(rows)
    failed = [row for row in rows if row["status"] == "failed"]
    out = Path(os.path.expanduser(args.out)).absolute()
    _echo(
        f"{len(rows)} recording(s): {counts['done']} cleaned, {counts['skipped']} up to "
        f"date (skipped), {counts['failed']} failed.",
        *(f"FAILED {row['subject']}: {row['error']}" for row in failed),
        f"Wrote {out / 'summary.html'} (and summary.csv, summary.json)",
    )
    return EXIT_ERROR if failed else EXIT_OK


def add_batch_parser(sub):
    """Add the ``batch`` sub-command to the ``autoreject-cpp`` parser's ``sub``."""
    batch = sub.add_parser(
        "batch",
        help="clean every recording of a study (local processes or a dask cluster)",
        description="Run clean on many epochs files, or on the raw recordings of a BIDS "
        "dataset (epoched first), in parallel. Recordings whose outputs are up to date "
        "are skipped; one failing recording does not stop the others. Writes "
        "summary.csv, summary.json and summary.html to --out.",
        epilog="Exit status 1 when any recording failed (see the summary).",
    )
    batch.add_argument(
        "inputs", nargs="*", metavar="INPUT",
        help="epochs files (-epo.fif, .set), glob patterns ('data/**/*-epo.fif') or folders",
    )  # fmt: skip
    batch.add_argument(
        "-o", "--out", required=True, metavar="DIR",
        help="output folder (for BIDS input: the derivatives dataset, e.g. "
        "BIDS_ROOT/derivatives/autoreject_cpp)",
    )  # fmt: skip
    bids = batch.add_argument_group("BIDS input (needs mne-bids)")
    bids.add_argument("--bids-root", metavar="ROOT", help="a BIDS dataset")
    bids.add_argument("--task", nargs="+", metavar="TASK", help="tasks to take")
    bids.add_argument(
        "--datatype", nargs="+", metavar="TYPE", help="eeg, meg, ... (default: eeg and meg)"
    )
    bids.add_argument("--subject", nargs="+", metavar="SUB", help="subjects (without sub-)")
    bids.add_argument("--session", nargs="+", metavar="SES", help="sessions")
    bids.add_argument("--run", nargs="+", metavar="RUN", help="runs")
    bids.add_argument(
        "--epoch-duration", type=float, metavar="S",
        help="fixed-length epochs of S seconds instead of epochs around the annotations",
    )  # fmt: skip
    bids.add_argument(
        "--event-id", nargs="+", metavar="NAME",
        help="annotations to epoch around (default: all but BAD_/EDGE ones)",
    )  # fmt: skip
    bids.add_argument("--tmin", type=float, metavar="S", help="epoch start (default: -0.2)")
    bids.add_argument("--tmax", type=float, metavar="S", help="epoch end (default: 0.5)")
    bids.add_argument(
        "--montage", metavar="NAME", help="standard montage for recordings without positions"
    )
    cleaning = batch.add_argument_group("cleaning (as in clean)")
    _add_clean_options(cleaning)
    cleaning.add_argument(
        "--no-report", action="store_true", help="write no HTML report per recording"
    )
    run = batch.add_argument_group("execution")
    run.add_argument(
        "--n-jobs", type=_n_jobs, default=1, metavar="N",
        help="recordings cleaned in parallel (local processes, or LocalCluster workers "
        "with --scheduler local); -1: all cores (default: 1)",
    )  # fmt: skip
    run.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="run on dask: 'local' starts a LocalCluster here, tcp://host:port uses an "
        "existing cluster (needs dask[distributed])",
    )  # fmt: skip
    run.add_argument(
        "--threads-per-worker", type=_positive_int, metavar="N",
        help="BLAS and core (OpenMP) threads per recording (default: 1; parallelise with "
        "--n-jobs instead)",
    )  # fmt: skip
    run.add_argument(
        "--force", action="store_true", help="redo recordings whose outputs are up to date"
    )
    batch.set_defaults(func=_cmd_batch)
