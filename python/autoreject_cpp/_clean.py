"""One cleaning run, shared by ``autoreject-cpp clean`` and ``autoreject-cpp batch``.

Both commands go through :func:`clean_epochs` (fit AutoReject, or apply a
saved model, optionally after RANSAC) and :func:`write_outputs` (cleaned
epochs, reject log, model and report, each written atomically), so a study
cleaned by ``batch`` gives, file for file, what ``clean`` gives per subject.
"""

# License: BSD-3-Clause

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


def file_sha256(path, chunk=1 << 20):
    """The sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fid:
        for block in iter(lambda: fid.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class CleanOptions:
    """What ``clean`` and ``batch`` do to each epochs object.

    Parameters
    ----------
    picks : tuple of str | None
        Channel types or names (``--picks``); None: data channels not bad.
    method : str | None
        ``thresh_method`` of AutoReject; None: ``'bayesian_optimization'``.
    random_state : int | None
        Seed of the threshold search (and of RANSAC when it runs).
    cv : int | None
        Cross-validation folds; None: 10.
    n_jobs : int
        Channels searched in parallel inside one fit.
    backend : str | None
        Compute backend; None: ``AUTOREJECT_BACKEND``, else auto.
    dtype : str | None
        ``'float64'`` or ``'float32'`` (``--dtype``); None: the estimators'
        default (float64) or, with ``from_model``, the model's.
    from_model : str | None
        Apply this saved model instead of fitting.
    ransac : bool
        Find bad channels with RANSAC first and interpolate them
        (:meth:`autoreject_cpp.Ransac.fit_transform`) before AutoReject.
    eog : tuple of str
        Channels to set to type EOG before cleaning.
    """

    picks: tuple | None = None
    method: str | None = None
    random_state: int | None = None
    cv: int | None = None
    n_jobs: int = 1
    backend: str | None = None
    dtype: str | None = None
    from_model: str | None = None
    ransac: bool = False
    eog: tuple = field(default_factory=tuple)

    @classmethod
    def from_args(cls, args, n_jobs=None):
        """The options of a parsed ``clean`` or ``batch`` command line.

        ``n_jobs`` (default: ``args.n_jobs``) is the channel-level parallelism.
        """
        return cls(
            picks=tuple(args.picks) if args.picks else None,
            method=args.method,
            random_state=args.random_state,
            cv=args.cv,
            n_jobs=args.n_jobs if n_jobs is None else n_jobs,
            backend=args.backend,
            dtype=getattr(args, "dtype", None),
            from_model=args.from_model,
            ransac=args.ransac,
            eog=tuple(args.eog or ()),
        )

    def check(self):
        """Refuse fitting options combined with ``from_model`` (usage error)."""
        from .cli import EXIT_USAGE, CLIError

        if not self.from_model:
            return
        fitting = {
            "--picks": self.picks,
            "--method": self.method,
            "--random-state": self.random_state,
            "--cv": self.cv,
            "--ransac": self.ransac or None,
        }
        given = [name for name, value in fitting.items() if value is not None]
        if given:
            raise CLIError(
                f"{', '.join(given)} cannot be combined with --from-model: the saved "
                "model's parameters are used; drop them or fit a new model",
                EXIT_USAGE,
            )

    def fingerprint(self):
        """The options that change results, as a JSON-able dict.

        ``n_jobs`` is left out (it changes speed, not results); a model file
        is represented by the sha256 of its bytes.
        """
        state = asdict(self)
        state.pop("n_jobs")
        state["picks"] = list(self.picks) if self.picks else None
        state["eog"] = list(self.eog)
        if self.from_model:
            state["from_model"] = file_sha256(Path(self.from_model).expanduser())
        return state


@dataclass
class CleanResult:
    """Everything one cleaning run produced."""

    epochs: object  # the epochs AutoReject saw (RANSAC's bad channels interpolated)
    clean: object
    ar: object
    log: object
    ransac: object | None
    runtime: float


def clean_epochs(epochs, options):
    """Clean ``epochs`` (not modified) with AutoReject, after RANSAC if asked.

    Parameters
    ----------
    epochs : mne.Epochs
        Loaded epochs.
    options : CleanOptions
        What to do.

    Returns
    -------
    result : CleanResult
        The model, the reject log, the cleaned epochs and the run time.
    """
    import autoreject_cpp

    from .cli import EXIT_INPUT, CLIError, _one_line, _picks

    start = time.perf_counter()
    ransac = None
    if options.from_model:
        model_file = Path(options.from_model).expanduser()
        if not model_file.is_file():
            raise CLIError(f"model file not found: {model_file}", EXIT_INPUT)
        try:
            ar = autoreject_cpp.read_auto_reject(model_file)
        except (OSError, ValueError) as err:
            raise CLIError(f"cannot read the model: {_one_line(err)}", EXIT_INPUT) from err
        ar.set_params(verbose=None)
        if options.backend is not None:
            ar.set_params(backend=options.backend)
        if options.dtype is not None:
            ar.set_params(dtype=options.dtype)
        clean, log = ar.transform(epochs, return_log=True)
    else:
        if options.ransac:
            ransac = autoreject_cpp.Ransac(
                picks=_picks(options.picks),
                n_jobs=options.n_jobs,
                backend=options.backend,
                verbose=None,
                **({} if options.dtype is None else {"dtype": options.dtype}),
                **({} if options.random_state is None else {"random_state": options.random_state}),
            )
            epochs = ransac.fit_transform(epochs)
        ar = autoreject_cpp.AutoReject(
            picks=_picks(options.picks),
            thresh_method=options.method or "bayesian_optimization",
            random_state=options.random_state,
            cv=10 if options.cv is None else options.cv,
            n_jobs=options.n_jobs,
            backend=options.backend,
            verbose=None,
            **({} if options.dtype is None else {"dtype": options.dtype}),
        )
        clean, log = ar.fit_transform(epochs, return_log=True)
    runtime = time.perf_counter() - start
    return CleanResult(epochs, clean, ar, log, ransac, runtime)


def write_outputs(result, output, log=None, model=None, report=None, *, title, overwrite):
    """Write the cleaned epochs and the requested extras, each atomically.

    Parameters
    ----------
    result : CleanResult
        The run.
    output : Path
        Cleaned epochs (``-epo.fif``).
    log, model, report : Path | None
        Reject log (``.npz``), model (``.h5``), report (``.html``); None skips.
    title : str
        Title of the report.
    overwrite : bool
        Replace existing files.

    Returns
    -------
    written : list of str
        The files written, in that order.
    """
    from ._fileio import atomic_path
    from .cli import _save_epochs

    _save_epochs(result.clean, output)
    written = [str(output)]
    if log:
        with atomic_path(log) as tmp:
            result.log.save(tmp, overwrite=True)
        written.append(str(log))
    if model:
        result.ar.save(model, overwrite=overwrite)
        written.append(str(model))
    if report:
        import mne

        from .report import _add_sections, _save_report

        rep = mne.Report(title=title, verbose="error")
        _add_sections(
            rep, result.epochs, result.ar, result.log, result.clean,
            ransac=result.ransac, runtime=result.runtime,
        )  # fmt: skip
        _save_report(rep, report, overwrite=overwrite)
        written.append(str(report))
    return written


def summary_line(result):
    """The one-line account ``clean`` prints."""
    from .reject_log import INTERPOLATED

    ar, log = result.ar, result.log
    n_bad = int(log.bad_epochs.sum())
    params = ", ".join(
        f"{t}: consensus={float(ar.consensus_[t]):.2f} n_interpolate={int(ar.n_interpolate_[t])}"
        for t in ar.consensus_
    )
    ransac = ""
    if result.ransac is not None:
        ransac = f"RANSAC marked {', '.join(result.ransac.bad_chs_) or 'no channel'} bad; "
    return (
        f"{ransac}Kept {len(result.clean)} of {len(result.epochs)} epochs ({n_bad} dropped), "
        f"repaired {int((log.labels == INTERPOLATED).sum())} channel segments in "
        f"{result.runtime:.1f} s ({params})."
    )


def result_row(result):
    """Per-subject numbers for the batch summary (JSON-able)."""
    from .reject_log import INTERPOLATED
    from .report import _backend_name

    ar, log = result.ar, result.log
    labels = np.asarray(log.labels)
    interpolated = (labels == INTERPOLATED).any(axis=0)
    types = dict(zip(result.epochs.ch_names, result.epochs.get_channel_types()))
    threshes = {ch: float(value) for ch, value in getattr(ar, "threshes_", {}).items()}
    by_type = {}
    for ch, value in threshes.items():
        by_type.setdefault(types.get(ch, "?"), []).append(value)
    return {
        "n_epochs": int(labels.shape[0]),
        "n_dropped": int(np.count_nonzero(log.bad_epochs)),
        "n_kept": len(result.clean),
        "n_segments_interpolated": int(np.count_nonzero(labels == INTERPOLATED)),
        "n_channels_interpolated": int(np.count_nonzero(interpolated)),
        "ransac_bad_channels": list(result.ransac.bad_chs_) if result.ransac else None,
        "consensus": {t: float(v) for t, v in ar.consensus_.items()},
        "n_interpolate": {t: int(v) for t, v in ar.n_interpolate_.items()},
        "threshold_median": {t: float(np.median(v)) for t, v in by_type.items()},
        "thresholds": threshes,
        "runtime_s": round(result.runtime, 3),
        "backend": _backend_name(ar, result.epochs),
    }
