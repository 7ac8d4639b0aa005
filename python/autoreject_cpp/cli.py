"""Command-line interface: ``autoreject-cpp`` (or ``python -m autoreject_cpp``).

A thin layer over the public API::

    autoreject-cpp clean sub-01-epo.fif -o sub-01-clean-epo.fif --report sub-01.html
    autoreject-cpp batch 'study/**/*-epo.fif' --out cleaned --n-jobs 2
    autoreject-cpp batch --bids-root ds --task motor --out ds/derivatives/autoreject_cpp
    autoreject-cpp ransac sub-01-epo.fif -o sub-01-bads-epo.fif
    autoreject-cpp thresholds sub-01-epo.fif > reject.json
    autoreject-cpp info
    autoreject-cpp demo --out autoreject-cpp-demo
    autoreject-cpp export sub-01-epo.fif --out sub-01-cpp
    autoreject-cpp import-clean sub-01-cpp/out --epochs sub-01-epo.fif -o sub-01-clean-epo.fif
    autoreject-cpp bench --data synthetic --scale small

Exit codes: 0 success, 1 processing error, 2 usage error (bad arguments,
output exists without ``--overwrite``), 3 input file missing or unreadable,
130 interrupted. Errors are one line on stderr; ``--debug`` adds the
traceback. Messages and progress bars go to stderr through MNE's logger
(``--quiet`` keeps warnings only), results to stdout.
"""

# License: BSD-3-Clause

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import traceback
from pathlib import Path

from ._fileio import atomic_path

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INPUT = 0, 1, 2, 3
EXIT_INTERRUPTED = 130
#: the values of ``--backend`` (the compiled core's backends, and auto)
BACKEND_CHOICES = ("auto", "scalar", "openmp", "cuda")

#: file endings of the epochs files the CLI reads
_EPOCHS_ENDINGS = (".fif", ".fif.gz")
_MNE_EPOCHS_ENDINGS = ("-epo.fif", "_epo.fif", "-epo.fif.gz", "_epo.fif.gz")
_EEGLAB_ENDINGS = (".set",)


class CLIError(Exception):
    """An error reported as one line with a given exit code.

    Parameters
    ----------
    message : str
        The message shown after ``autoreject-cpp: error:``.
    code : int
        The exit status. Defaults to 1 (processing error).
    """

    def __init__(self, message, code=EXIT_ERROR):
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------------
# input and output helpers


def _read_epochs(fname, eog=()):
    """Read an epochs file (FIF or EEGLAB); exit code 3 on failure."""
    import mne

    path = Path(os.path.expanduser(fname))
    if not path.exists():
        raise CLIError(f"input file not found: {path}", EXIT_INPUT)
    if path.is_dir():
        raise CLIError(f"input is a directory, not an epochs file: {path}", EXIT_INPUT)
    if not os.access(path, os.R_OK):
        raise CLIError(f"input file is not readable (permissions): {path}", EXIT_INPUT)
    name = path.name.lower()
    try:
        if name.endswith(_EEGLAB_ENDINGS):
            epochs = mne.read_epochs_eeglab(path, verbose="error")
        elif name.endswith(_EPOCHS_ENDINGS):
            epochs = mne.read_epochs(path, preload=True, verbose="error")
        else:
            raise CLIError(
                f"cannot read {path}: unknown file type. Give epochs saved by MNE "
                "(-epo.fif) or EEGLAB epochs (.set).",
                EXIT_INPUT,
            )
    except CLIError:
        raise
    except Exception as err:
        raise CLIError(
            f"cannot read epochs from {path}: {_one_line(err)} (is it an epochs file, "
            "not a continuous recording?)",
            EXIT_INPUT,
        ) from err
    if not epochs.preload:
        epochs.load_data()
    if eog:
        missing = [ch for ch in eog if ch not in epochs.ch_names]
        if missing:
            raise CLIError(
                f"--eog: channel(s) {', '.join(missing)} not in {path.name}; "
                f"available: {', '.join(epochs.ch_names[:10])}"
                + (" ..." if len(epochs.ch_names) > 10 else ""),
                EXIT_USAGE,
            )
        epochs.set_channel_types({ch: "eog" for ch in eog}, verbose="error")
    return epochs


def _check_output(fname, overwrite, endings=None, what="output"):
    """Resolve an output path; refuse to overwrite, check the file ending."""
    path = Path(os.path.expanduser(fname)).absolute()
    if endings and not path.name.lower().endswith(endings):
        raise CLIError(
            f"{what} {path.name!r} must end in {' or '.join(endings)}"
            + (" (e.g. sub-01-clean-epo.fif)" if ".fif" in endings else ""),
            EXIT_USAGE,
        )
    if path.is_dir():
        raise CLIError(f"{what} {path} is a directory; give a file name", EXIT_USAGE)
    if path.exists() and not overwrite:
        raise CLIError(
            f"{what} {path} already exists; pass --overwrite to replace it", EXIT_USAGE
        )
    return path


def _check_epochs_output(fname, overwrite):
    """Resolve an epochs output path; warn when MNE will not like its name."""
    from mne.utils import logger

    path = _check_output(fname, overwrite, _EPOCHS_ENDINGS, "OUTPUT")
    if not path.name.lower().endswith(_MNE_EPOCHS_ENDINGS):
        logger.warning(
            f"{path.name} does not end in -epo.fif, MNE's convention for epochs "
            "files; mne.read_epochs will warn when reading it."
        )
    return path


def _check_distinct(paths):
    seen = {}
    for label, path in paths:
        if path is None:
            continue
        if path in seen:
            raise CLIError(f"{label} and {seen[path]} name the same file: {path}", EXIT_USAGE)
        seen[path] = label


def _save_epochs(epochs, path):
    with atomic_path(path) as tmp:
        epochs.save(tmp, overwrite=True, verbose="error")


def _one_line(err):
    """The message of an exception on one line."""
    text = " ".join(str(err).split())
    return text or type(err).__name__


def _picks(values):
    """``--picks`` values as MNE picks: one str stays a str, else a list."""
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)


def _echo(*lines):
    for line in lines:
        print(line, flush=True)


# ---------------------------------------------------------------------------
# commands


def _cmd_clean(args):
    from ._clean import CleanOptions, clean_epochs, summary_line, write_outputs

    options = CleanOptions.from_args(args)
    options.check()
    output = _check_epochs_output(args.output, args.overwrite)
    log_path = (
        _check_output(args.log, args.overwrite, (".npz",), "--log") if args.log else None
    )
    model_path = (
        _check_output(args.model, args.overwrite, (".h5", ".hdf5"), "--model")
        if args.model
        else None
    )
    report_path = (
        _check_output(args.report, args.overwrite, (".html", ".h5", ".hdf5"), "--report")
        if args.report
        else None
    )
    input_path = Path(os.path.expanduser(args.input)).absolute()
    _check_distinct(
        [("INPUT", input_path), ("OUTPUT", output), ("--log", log_path),
         ("--model", model_path), ("--report", report_path)]
    )  # fmt: skip
    epochs = _read_epochs(args.input, options.eog)
    result = clean_epochs(epochs, options)
    written = write_outputs(
        result, output, log_path, model_path, report_path,
        title=f"autoreject_cpp: {input_path.name}", overwrite=args.overwrite,
    )  # fmt: skip
    _echo(summary_line(result), *(f"Wrote {name}" for name in written))
    return EXIT_OK


def _cmd_ransac(args):
    from mne.utils import logger

    import autoreject_cpp

    output = _check_epochs_output(args.output, args.overwrite) if args.output else None
    epochs = _read_epochs(args.input, args.eog)
    ransac = autoreject_cpp.Ransac(
        n_resample=args.n_resample,
        min_channels=args.min_channels,
        min_corr=args.min_corr,
        unbroken_time=args.unbroken_time,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        picks=_picks(args.picks),
        backend=args.backend,
        dtype=args.dtype,
        verbose=None,
    ).fit(epochs)
    _echo(*ransac.bad_chs_)
    if output is not None:
        marked = epochs.copy()
        marked.info["bads"] = list(dict.fromkeys(marked.info["bads"] + ransac.bad_chs_))
        _save_epochs(marked, output)
        logger.info(f"Wrote {output} with {len(ransac.bad_chs_)} channel(s) in info['bads'].")
    return EXIT_OK


def _cmd_thresholds(args):
    import autoreject_cpp

    epochs = _read_epochs(args.input, args.eog)
    reject = autoreject_cpp.get_rejection_threshold(
        epochs,
        decim=args.decim,
        random_state=args.random_state,
        ch_types=args.ch_types,
        cv=args.cv,
        backend=args.backend,
        dtype=args.dtype,
        verbose=None,
    )
    _echo(json.dumps({key: float(value) for key, value in reject.items()}, indent=2))
    return EXIT_OK


def _cmd_info(args):
    import platform

    import mne
    import numpy as np

    import autoreject_cpp

    hardware = autoreject_cpp.detect_hardware()
    try:
        default = autoreject_cpp.get_backend().name
    except ValueError as err:  # an unusable AUTOREJECT_BACKEND: say so, don't fail
        default = f"unusable ({_one_line(str(err))})"
    info = {
        "autoreject_cpp": autoreject_cpp.__version__,
        "core": hardware["core_version"],
        "python": platform.python_version(),
        "mne": mne.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu_count": hardware["cpu_count"],
        "max_threads": hardware["max_threads"],
        "backend_env": os.environ.get("AUTOREJECT_BACKEND"),
        "default_backend": default,
        "backends": hardware["backends"],
    }
    if args.json:
        _echo(json.dumps(info, indent=2))
        return EXIT_OK
    table = [("name", "compiled", "available", "reason")] + [
        (
            row["name"],
            "yes" if row["compiled"] else "no",
            "yes" if row["available"] else "no",
            row["reason"] or "-",
        )
        for row in info["backends"]
    ]
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    lines = [
        f"autoreject-cpp {info['autoreject_cpp']} (core {info['core']}, python "
        f"{info['python']}, mne {info['mne']}, numpy {info['numpy']})",
        f"platform: {info['platform']}",
        f"CPU cores usable: {info['cpu_count']}; OpenMP threads by default: "
        f"{info['max_threads']}",
        f"default backend: {info['default_backend']} (AUTOREJECT_BACKEND="
        f"{info['backend_env'] or 'unset'})",
        "backends:",
    ]
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths)]
        lines.append("  " + "  ".join(cells + [row[3]]))
    _echo(*lines)
    return EXIT_OK


def _cmd_demo(args):
    from ._demo import demo_outputs, run_demo, summary_lines

    out = Path(os.path.expanduser(args.out))
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} exists and is not a directory", EXIT_USAGE)
    for path in demo_outputs(out).values():
        _check_output(path, args.overwrite, what="demo output")
    result = run_demo(out, overwrite=args.overwrite, backend=args.backend)
    _echo(*summary_lines(result))
    return EXIT_OK


# ---------------------------------------------------------------------------
# export to / import from the C++ example program (examples/cpp/clean_epochs)

#: files of an export, by role
EXPORT_FILES = {"epochs": "epochs.npy", "channels": "channels.csv"}
#: the header of channels.csv
CHANNELS_CSV_HEADER = ("name", "type", "x", "y", "z", "bad")


def demo_epochs():
    """The recording ``autoreject-cpp demo`` cleans, without its artifacts' truth.

    Returns
    -------
    epochs : mne.EpochsArray
        The simulated EEG of :func:`autoreject_cpp._demo.run_demo` with its
        default ``n_epochs`` and ``seed``.
    """
    import inspect

    from ._demo import run_demo
    from .datasets import make_synthetic_epochs

    defaults = inspect.signature(run_demo).parameters
    return make_synthetic_epochs(
        kind="eeg", n_epochs=defaults["n_epochs"].default, seed=defaults["seed"].default
    )


def _position_fields(loc):
    """x, y, z of a channel's ``loc`` as CSV fields; empty when unknown."""
    import numpy as np

    pos = np.asarray(loc[:3], dtype=float)
    if not np.all(np.isfinite(pos)) or not np.any(pos):
        return ["", "", ""]  # MNE writes NaN (or zeros) where no montage was set
    return [repr(float(value)) for value in pos]


def export_epochs(epochs, out_dir, dtype="float64", overwrite=False):
    """Write epochs as the inputs of the C++ program ``clean_epochs``.

    Two files are written into ``out_dir``: ``epochs.npy``, the data as an
    array of shape (n_epochs, n_channels, n_times) in C order and SI units,
    and ``channels.csv``, one line per channel under the header
    ``name,type,x,y,z,bad``: the channel name, its MNE type
    (:func:`mne.channel_type`), the first three entries of its ``loc`` (the
    sensor position in metres, left empty when MNE holds NaN or zeros
    there) and 1 when the channel is in ``info['bads']``, else 0.

    Parameters
    ----------
    epochs : mne.Epochs
        Preloaded epochs; not modified.
    out_dir : path-like
        The output folder, created when missing.
    dtype : 'float64' | 'float32'
        The type of the samples in ``epochs.npy``. Defaults to ``'float64'``.
    overwrite : bool
        Whether to replace the files of an earlier export. Defaults to False.

    Returns
    -------
    paths : dict
        Role (``'epochs'``, ``'channels'``) -> path written.

    Raises
    ------
    FileExistsError
        If a file exists and ``overwrite`` is False (checked before writing).
    ValueError
        If ``dtype`` is neither float64 nor float32.
    """
    import csv

    import mne
    import numpy as np

    if str(dtype) not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32'; got {dtype!r}.")
    out = Path(out_dir)
    paths = {role: out / name for role, name in EXPORT_FILES.items()}
    existing = [str(path) for path in paths.values() if path.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{', '.join(existing)} already exist(s); pass --overwrite (overwrite=True) "
            "or choose another output folder."
        )
    info = epochs.info
    data = np.ascontiguousarray(epochs.get_data(), dtype=np.dtype(dtype))
    bads = set(info["bads"])
    rows = [
        [name, mne.channel_type(info, idx), *_position_fields(ch["loc"]),
         "1" if name in bads else "0"]
        for idx, (name, ch) in enumerate(zip(info["ch_names"], info["chs"]))
    ]  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(paths["epochs"]) as tmp:
        with open(tmp, "wb") as fid:
            np.save(fid, data, allow_pickle=False)
    with atomic_path(paths["channels"]) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fid:
            writer = csv.writer(fid, lineterminator="\n")
            writer.writerow(CHANNELS_CSV_HEADER)
            writer.writerows(rows)
    return paths


def import_clean(out_dir, epochs):
    """Read the cleaned epochs ``clean_epochs`` wrote back into MNE.

    Parameters
    ----------
    out_dir : path-like
        The ``--out`` folder of ``clean_epochs``: ``clean.npy`` and
        ``kept.npy`` are read.
    epochs : mne.Epochs
        The epochs that were exported and cleaned (same channels, same
        order); their info, events, ``tmin``, ``event_id`` and metadata
        are given to the kept epochs.

    Returns
    -------
    clean : mne.EpochsArray
        The kept, repaired epochs (float64 samples).

    Raises
    ------
    ValueError
        If the files do not match ``epochs`` (number of channels or samples,
        kept indices).
    FileNotFoundError
        If ``clean.npy`` or ``kept.npy`` is missing.
    """
    import mne
    import numpy as np

    out = Path(out_dir)
    arrays = {}
    for name in ("clean", "kept"):
        path = out / f"{name}.npy"
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found: is {out} the --out folder of clean_epochs?"
            )
        arrays[name] = np.load(path, allow_pickle=False)
    clean, kept = arrays["clean"], arrays["kept"]
    n_epochs, n_channels, n_times = epochs.get_data(copy=False).shape
    if clean.ndim != 3 or clean.shape[1:] != (n_channels, n_times):
        raise ValueError(
            f"clean.npy has shape {clean.shape}, but the epochs have {n_channels} channels "
            f"x {n_times} samples; pass the epochs that were exported (same --picks)."
        )
    if kept.ndim != 1 or kept.shape[0] != clean.shape[0]:
        raise ValueError(
            f"kept.npy has shape {kept.shape} for {clean.shape[0]} cleaned epochs; the "
            "files do not come from one clean_epochs run."
        )
    if kept.size and (kept.min() < 0 or kept.max() >= n_epochs or np.any(np.diff(kept) <= 0)):
        raise ValueError(
            f"kept.npy must hold increasing indices below {n_epochs} (the number of "
            "epochs); pass the epochs that were exported."
        )
    metadata = None
    if epochs.metadata is not None:
        metadata = epochs.metadata.iloc[kept].reset_index(drop=True)
    return mne.EpochsArray(
        clean.astype(np.float64), epochs.info.copy(), events=epochs.events[kept],
        tmin=epochs.tmin, event_id=epochs.event_id, metadata=metadata, verbose="error",
    )  # fmt: skip


def _export_source(args):
    """The epochs named by ``INPUT`` or ``--demo``, picked."""
    if bool(args.input) == bool(args.demo):
        raise CLIError("give either an epochs file (INPUT) or --demo", EXIT_USAGE)
    epochs = demo_epochs() if args.demo else _read_epochs(args.input, args.eog)
    if args.picks:
        try:
            epochs = epochs.copy().pick(_picks(args.picks), verbose="error")
        except ValueError as err:
            raise CLIError(f"--picks: {_one_line(err)}", EXIT_USAGE) from err
    return epochs


def _cmd_export(args):
    out = Path(os.path.expanduser(args.out))
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} exists and is not a directory", EXIT_USAGE)
    for name in EXPORT_FILES.values():
        _check_output(out / name, args.overwrite, what="export output")
    epochs = _export_source(args)
    paths = export_epochs(epochs, out, dtype=args.dtype, overwrite=args.overwrite)
    n_epochs, n_channels, n_times = epochs.get_data(copy=False).shape
    _echo(
        f"Exported {n_epochs} epochs x {n_channels} channels x {n_times} samples "
        f"({args.dtype}).",
        *(f"Wrote {path}" for path in paths.values()),
    )
    return EXIT_OK


def _cmd_import_clean(args):
    output = _check_epochs_output(args.output, args.overwrite)
    folder = Path(os.path.expanduser(args.folder))
    if not folder.is_dir():
        raise CLIError(f"DIR {folder} is not a directory", EXIT_INPUT)
    epochs = _export_source(args)
    try:
        clean = import_clean(folder, epochs)
    except FileNotFoundError as err:
        raise CLIError(_one_line(err), EXIT_INPUT) from err
    except ValueError as err:
        raise CLIError(_one_line(err), EXIT_USAGE) from err
    _save_epochs(clean, output)
    _echo(f"Kept {len(clean)} of {len(epochs)} epochs.", f"Wrote {output}")
    return EXIT_OK


# ---------------------------------------------------------------------------
# parser


def _cmd_bench(args):
    from .bench import run_from_args

    results = run_from_args(args)
    identical = [row.get("identical", True) for row in results["workloads"].values()]
    if not all(identical):
        raise CLIError("autoreject_cpp and autoreject gave different results (see the table)")
    return EXIT_OK


def _add_common(parser, picks=True):
    parser.add_argument("input", metavar="INPUT", help="epochs file (-epo.fif or EEGLAB .set)")
    _add_data_options(parser, picks=picks)


def _add_data_options(parser, picks=True):
    """``--picks``, ``--eog`` and ``--backend``."""
    if picks:
        parser.add_argument(
            "--picks",
            nargs="+",
            metavar="PICK",
            help="channels to use: channel types (eeg, mag, grad) or names; default: "
            "the data channels not marked bad",
        )
    parser.add_argument(
        "--eog",
        nargs="+",
        default=(),
        metavar="CH",
        help="channels to mark as EOG before processing (e.g. EOG1 EOG2 in EEGLAB files)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKEND_CHOICES,
        help="compute backend (default: AUTOREJECT_BACKEND, else auto)",
    )


def _add_dtype(parser, default="float64"):
    """``--dtype``: the estimators' precision."""
    parser.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        default=default,
        help="precision of the computations: float64 (default, autoreject's exact "
        "results) or float32 (faster; results may differ slightly)"
        + ("; with --from-model, default: the model's" if default is None else ""),
    )


def _add_clean_options(parser):
    """The cleaning options shared by ``clean`` and ``batch``."""
    _add_data_options(parser)
    parser.add_argument(
        "--method",
        choices=("bayesian_optimization", "random_search", "exact"),
        help="threshold search (default: bayesian_optimization)",
    )
    parser.add_argument(
        "--random-state", type=int, metavar="N", help="seed of the threshold search"
    )
    parser.add_argument(
        "--cv", type=_positive_int, metavar="N", help="cross-validation folds (default: 10)"
    )
    parser.add_argument(
        "--ransac", action="store_true",
        help="find bad channels with RANSAC and interpolate them before AutoReject",
    )  # fmt: skip
    parser.add_argument(
        "--from-model", metavar="MODEL.h5", help="apply this saved model instead of fitting"
    )


def _add_export_source(parser, flag=None):
    """INPUT (or ``flag``) or ``--demo``, ``--picks`` and ``--eog`` of export/import-clean."""
    what = "the epochs file (-epo.fif or EEGLAB .set)"
    if flag is None:
        parser.add_argument("input", metavar="INPUT", nargs="?", help=what)
    else:
        parser.add_argument(flag, dest="input", metavar="EPOCHS", help=what + " exported")
    parser.add_argument(
        "--demo", action="store_true",
        help="the simulated recording of 'autoreject-cpp demo' instead of a file",
    )  # fmt: skip
    parser.add_argument(
        "--picks", nargs="+", metavar="PICK",
        help="channels to keep: channel types (eeg, mag, grad) or names; default: all",
    )  # fmt: skip
    parser.add_argument(
        "--eog", nargs="+", default=(), metavar="CH",
        help="channels to mark as EOG after reading (e.g. EOG1 EOG2 in EEGLAB files)",
    )  # fmt: skip


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("expected a non-zero integer (-1: all cores)")
    return value


def build_parser():
    """Build the argument parser of the ``autoreject-cpp`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser, with one sub-parser per command (``clean``, ``batch``,
        ``ransac``, ``thresholds``, ``info``, ``demo``, ``export``,
        ``import-clean``, ``bench``).
    """
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="autoreject-cpp",
        description="Automated rejection and repair of bad epochs and sensors in "
        "M/EEG, with the results of autoreject 0.5.1.",
        epilog="Exit codes: 0 ok, 1 processing error, 2 usage error, 3 input file "
        "missing or unreadable.",
    )
    parser.add_argument("--version", action="version", version=f"autoreject-cpp {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument(
        "-q", "--quiet", action="store_true", help="show warnings and errors only"
    )
    verbosity.add_argument(
        "--debug", action="store_true", help="debug messages and full tracebacks on errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    clean = sub.add_parser(
        "clean",
        help="repair and reject bad epochs with AutoReject",
        description="Fit AutoReject (or apply a saved model) and write the cleaned epochs.",
    )
    clean.add_argument("input", metavar="INPUT", help="epochs file (-epo.fif or EEGLAB .set)")
    clean.add_argument(
        "-o", "--output", required=True, metavar="OUTPUT", help="cleaned epochs (-epo.fif)"
    )
    _add_clean_options(clean)
    clean.add_argument(
        "--n-jobs", type=_n_jobs, default=1, metavar="N",
        help="channels whose thresholds are searched in parallel (default: 1)",
    )  # fmt: skip
    clean.add_argument("--log", metavar="LOG.npz", help="write the reject log (.npz)")
    clean.add_argument("--model", metavar="MODEL.h5", help="write the fitted model (.h5)")
    clean.add_argument("--report", metavar="REPORT.html", help="write an HTML report")
    clean.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    _add_dtype(clean, default=None)
    clean.set_defaults(func=_cmd_clean)

    from ._cli_batch import add_batch_parser

    add_batch_parser(sub)

    ransac = sub.add_parser(
        "ransac",
        help="find bad channels with RANSAC",
        description="Print the bad channels found by RANSAC, one per line.",
    )
    _add_common(ransac)
    ransac.add_argument(
        "-o", "--output", metavar="OUTPUT",
        help="write the epochs with the bad channels added to info['bads'] (-epo.fif)",
    )  # fmt: skip
    ransac.add_argument("--n-resample", type=_positive_int, default=50, metavar="N")
    ransac.add_argument("--min-channels", type=float, default=0.25, metavar="FRACTION")
    ransac.add_argument("--min-corr", type=float, default=0.75, metavar="R")
    ransac.add_argument("--unbroken-time", type=float, default=0.4, metavar="FRACTION")
    ransac.add_argument("--random-state", type=int, default=435656, metavar="N")
    ransac.add_argument("--n-jobs", type=_n_jobs, default=1, metavar="N")
    ransac.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    _add_dtype(ransac)
    ransac.set_defaults(func=_cmd_ransac)

    thresholds = sub.add_parser(
        "thresholds",
        help="global rejection thresholds as JSON",
        description="Print get_rejection_threshold's reject dict as JSON (SI units).",
    )
    _add_common(thresholds, picks=False)
    thresholds.add_argument(
        "--ch-types", nargs="+", metavar="TYPE", help="channel types (default: all present)"
    )
    thresholds.add_argument("--decim", type=_positive_int, default=1, metavar="N")
    thresholds.add_argument("--cv", type=_positive_int, default=5, metavar="N")
    thresholds.add_argument("--random-state", type=int, metavar="N")
    _add_dtype(thresholds)
    thresholds.set_defaults(func=_cmd_thresholds)

    info = sub.add_parser(
        "info",
        help="version, backends and hardware",
        description="Show the version, the backends of the compiled core (compiled "
        "in, available, and why not) and the hardware found.",
    )
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(func=_cmd_info)

    demo = sub.add_parser(
        "demo",
        help="clean simulated EEG with known artifacts and write a report",
        description="Run the pipeline on simulated EEG with injected artifacts, write "
        "an HTML report and say how many artifacts were found.",
    )
    demo.add_argument(
        "--out", default="autoreject-cpp-demo", metavar="DIR",
        help="output folder (default: ./autoreject-cpp-demo)",
    )  # fmt: skip
    demo.add_argument(
        "--backend",
        choices=BACKEND_CHOICES,
        help="compute backend (default: AUTOREJECT_BACKEND, else auto)",
    )
    demo.add_argument("--overwrite", action="store_true", help="replace earlier demo files")
    demo.set_defaults(func=_cmd_demo)

    export = sub.add_parser(
        "export",
        help="write epochs as .npy + channels.csv for the C++ program clean_epochs",
        description="Write epochs.npy (n_epochs, n_channels, n_times; SI units) and "
        "channels.csv (name,type,x,y,z,bad) into DIR, the inputs of the C++ example "
        "examples/cpp/clean_epochs.",
    )
    _add_export_source(export)
    export.add_argument("--out", required=True, metavar="DIR", help="output folder")
    export.add_argument(
        "--dtype", choices=("float64", "float32"), default="float64",
        help="sample type of epochs.npy (default: float64)",
    )  # fmt: skip
    export.add_argument("--overwrite", action="store_true", help="replace earlier files")
    export.set_defaults(func=_cmd_export)

    import_clean_parser = sub.add_parser(
        "import-clean",
        help="read clean_epochs' output back into an -epo.fif",
        description="Read clean.npy and kept.npy written by the C++ program clean_epochs "
        "into epochs with the info, events and metadata of the exported epochs.",
    )
    import_clean_parser.add_argument(
        "folder", metavar="DIR", help="the --out folder of clean_epochs"
    )
    _add_export_source(import_clean_parser, "--epochs")
    import_clean_parser.add_argument(
        "-o", "--output", required=True, metavar="OUTPUT", help="cleaned epochs (-epo.fif)"
    )
    import_clean_parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing OUTPUT"
    )
    import_clean_parser.set_defaults(func=_cmd_import_clean)

    bench = sub.add_parser(
        "bench",
        help="time autoreject_cpp against autoreject 0.5.1",
        description="Benchmark autoreject_cpp and (when installed) autoreject 0.5.1 on the "
        "same data; print times, ratios, peak memory and whether the results match.",
    )
    from .bench import build_parser as _bench_parser

    _bench_parser(bench)
    bench.set_defaults(func=_cmd_bench)
    return parser


@contextlib.contextmanager
def _cli_logging(level):
    """Send MNE's (and autoreject_cpp's) log to stderr at ``level``; restore after."""
    from mne.utils import logger

    old_level, old_handlers = logger.level, list(logger.handlers)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for old in old_handlers:
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        with _warnings_to_stderr():
            yield
    finally:
        logger.removeHandler(handler)
        for old in old_handlers:
            logger.addHandler(old)
        logger.setLevel(old_level)


@contextlib.contextmanager
def _warnings_to_stderr():
    """Show Python warnings as one ``autoreject-cpp: warning:`` line each."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"autoreject-cpp: warning: {_one_line(message)}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def main(argv=None):
    """Run the ``autoreject-cpp`` command line.

    Parameters
    ----------
    argv : list of str | None
        The arguments, without the program name. None (default) reads
        ``sys.argv[1:]``.

    Returns
    -------
    code : int
        The exit status: 0 success, 1 processing error, 2 usage error, 3
        input file missing or unreadable, 130 interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    level = logging.WARNING if args.quiet else logging.DEBUG if args.debug else logging.INFO
    try:
        with _cli_logging(level):
            return args.func(args)
    except BaseException as err:  # reported as one line (plus traceback with --debug)
        if isinstance(err, SystemExit):
            raise
        code, message = _classify(err)
        if args.debug:
            traceback.print_exception(err, file=sys.stderr)
    print(f"autoreject-cpp: error: {message}", file=sys.stderr)
    return code


def _classify(err):
    """Exit code and one-line message for an exception."""
    if isinstance(err, CLIError):
        return err.code, str(err)
    if isinstance(err, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted"
    if isinstance(err, FileExistsError):
        return EXIT_USAGE, _one_line(err)
    return EXIT_ERROR, f"{type(err).__name__}: {_one_line(err)}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
