"""Inputs of ``autoreject-cpp batch``: finding them, naming their outputs, reading them.

Two kinds of input:

* **epochs files** (``-epo.fif``, EEGLAB ``.set``), given as paths, glob
  patterns or folders (searched recursively). Outputs mirror the input tree
  below the inputs' common folder: ``a/sub-01-epo.fif`` gives
  ``OUT/a/sub-01-clean-epo.fif``, ``-log.npz``, ``-ar.h5``, ``-report.html``
  and the manifest ``-autoreject_cpp.json``.
* **a BIDS dataset** (through mne-bids): each matching raw recording is read
  with :func:`mne_bids.read_raw_bids` and epoched (:class:`EpochOptions`).
  ``OUT`` is the derivatives dataset: ``OUT/sub-01/eeg/sub-01_task-x_desc-clean_epo.fif``
  and so on.
"""

# License: BSD-3-Clause

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

#: endings of the epochs files taken from folders and patterns
EPOCHS_ENDINGS = ("-epo.fif", "_epo.fif", "-epo.fif.gz", "_epo.fif.gz", ".set")
#: raw formats looked for in a BIDS dataset
BIDS_EXTENSIONS = (".fif", ".edf", ".bdf", ".vhdr", ".set", ".con", ".sqd", ".ds")
#: files read along with a data file (hashed with it)
_COMPANIONS = {".set": (".fdt",), ".vhdr": (".vmrk", ".eeg")}


def _need(module, what):
    """Import an optional dependency or say which pip install fixes it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        from .cli import EXIT_USAGE, CLIError

        raise CLIError(
            f"{what} needs {module.split('.')[0]}, which is not installed: "
            'pip install "autoreject-cpp[batch]"',
            EXIT_USAGE,
        ) from err


@dataclass(frozen=True)
class EpochOptions:
    """How raw recordings of a BIDS dataset are cut into epochs.

    Parameters
    ----------
    epoch_duration : float | None
        If given, fixed-length epochs of this many seconds
        (:func:`mne.make_fixed_length_epochs`); else epochs around events.
    event_id : tuple of str | None
        Annotation descriptions to epoch around (default: all, except
        ``BAD_``/``EDGE`` ones, as :func:`mne.events_from_annotations`).
    tmin, tmax : float
        Epoch limits around each event, in seconds.
    montage : str | None
        Standard montage to set (``mne.channels.make_standard_montage``) for
        recordings without electrode positions.
    """

    epoch_duration: float | None = None
    event_id: tuple | None = None
    tmin: float = -0.2
    tmax: float = 0.5
    montage: str | None = None

    def fingerprint(self):
        """JSON-able form, for the content hash."""
        return {
            "epoch_duration": self.epoch_duration,
            "event_id": list(self.event_id) if self.event_id else None,
            "tmin": self.tmin,
            "tmax": self.tmax,
            "montage": self.montage,
        }


@dataclass(frozen=True)
class Subject:
    """One unit of work: an input and the paths of its outputs.

    Parameters
    ----------
    key : str
        Name shown in the summary (path below the common folder, or the BIDS
        basename).
    input : str
        The data file.
    outputs : dict
        ``'epochs'``, ``'log'``, ``'model'``, ``'report'``, ``'manifest'``
        mapped to absolute paths.
    sources : tuple of str
        Every file whose bytes define the input (hashed).
    bids : dict | None
        ``root`` and entities of the :class:`mne_bids.BIDSPath`; None for an
        epochs file.
    """

    key: str
    input: str
    outputs: dict
    sources: tuple
    bids: dict | None = field(default=None)


def _strip_ending(name):
    lower = name.lower()
    for ending in (*EPOCHS_ENDINGS, ".fif.gz", ".fif"):
        if lower.endswith(ending):
            return name[: -len(ending)]
    return Path(name).stem


def _companions(path):
    path = Path(path)
    found = [str(path)]
    for ext in _COMPANIONS.get(path.suffix.lower(), ()):
        other = path.with_suffix(ext)
        if other.is_file():
            found.append(str(other))
    return found


def find_epochs_files(patterns):
    """Expand paths, glob patterns and folders into epochs files (sorted, unique).

    Raises a ``CLIError`` (exit code 3) for a path or pattern that matches
    nothing.
    """
    from .cli import EXIT_INPUT, CLIError

    found = []
    for pattern in patterns:
        pattern = os.path.expanduser(os.fspath(pattern))
        if glob.has_magic(pattern):
            matches = sorted(glob.glob(pattern, recursive=True))
        else:
            matches = [pattern] if os.path.exists(pattern) else []
        if not matches:
            raise CLIError(f"no input matches {pattern}", EXIT_INPUT)
        for match in matches:
            path = Path(match)
            if path.is_dir():
                inner = sorted(
                    p for p in path.rglob("*")
                    if p.is_file() and p.name.lower().endswith(EPOCHS_ENDINGS)
                )  # fmt: skip
                if not inner:
                    raise CLIError(
                        f"no epochs file (-epo.fif, _epo.fif, .set) in {path}", EXIT_INPUT
                    )
                found.extend(inner)
            else:
                found.append(path)
    return list(dict.fromkeys(p.absolute() for p in found))


def file_subjects(patterns, out, report=True):
    """One :class:`Subject` per epochs file, outputs mirroring the input tree."""
    from .cli import EXIT_USAGE, CLIError

    out = Path(out).absolute()
    files = [  # never take earlier outputs for inputs (e.g. --out inside the data)
        p for p in find_epochs_files(patterns)
        if not (_inside(p, out) and p.name.endswith(("-clean-epo.fif", "_desc-clean_epo.fif")))
    ]  # fmt: skip
    if not files:
        raise CLIError("no input given: name epochs files or pass --bids-root", EXIT_USAGE)
    root = Path(os.path.commonpath([p.parent for p in files]))
    subjects, seen = [], {}
    for path in files:
        rel = path.relative_to(root)
        stem = _strip_ending(rel.name)
        key = str(rel.parent / stem) if str(rel.parent) != "." else stem
        if key in seen:
            raise CLIError(
                f"{path} and {seen[key]} would write the same outputs ({key}); rename one",
                EXIT_USAGE,
            )
        seen[key] = path
        folder = out / rel.parent
        outputs = {
            "epochs": folder / f"{stem}-clean-epo.fif",
            "log": folder / f"{stem}-log.npz",
            "model": folder / f"{stem}-ar.h5",
            "report": folder / f"{stem}-report.html" if report else None,
            "manifest": folder / f"{stem}-autoreject_cpp.json",
        }
        subjects.append(
            Subject(key, str(path), _as_str(outputs), tuple(_companions(path)), None)
        )
    return subjects


def _as_str(outputs):
    return {k: (None if v is None else str(v)) for k, v in outputs.items()}


def bids_subjects(
    root, out, *, task=None, datatype=None, subjects=None, sessions=None, runs=None,
    acquisitions=None, report=True,
):  # fmt: skip
    """One :class:`Subject` per raw recording of a BIDS dataset that matches."""
    from .cli import EXIT_INPUT, EXIT_USAGE, CLIError

    mne_bids = _need("mne_bids", "--bids-root")
    root = Path(os.path.expanduser(os.fspath(root))).absolute()
    if not root.is_dir():
        raise CLIError(f"--bids-root {root} is not a folder", EXIT_INPUT)
    datatypes = datatype or ["eeg", "meg"]
    paths = mne_bids.find_matching_paths(
        root,
        subjects=subjects,
        sessions=sessions,
        tasks=task,
        runs=runs,
        acquisitions=acquisitions,
        datatypes=datatypes,
        suffixes=datatypes,
        extensions=list(BIDS_EXTENSIONS),
        ignore_json=True,
    )
    out = Path(out).absolute()
    paths = [
        p for p in paths
        if p.split in (None, "01")  # split files are read from the first
        and not _inside(Path(p.fpath), root / "derivatives")
        and not _inside(Path(p.fpath), out)
    ]  # fmt: skip
    if not paths:
        raise CLIError(
            f"no recording in {root} matches task={task}, datatype={datatypes}, "
            f"subjects={subjects}, sessions={sessions}, runs={runs}",
            EXIT_INPUT,
        )
    found = []
    for bp in sorted(paths, key=lambda p: str(p.fpath)):
        fpath = Path(bp.fpath)
        base = bp.copy().update(suffix=None, extension=None, split=None).basename
        folder = out / fpath.parent.relative_to(root)
        outputs = {
            "epochs": folder / f"{base}_desc-clean_epo.fif",
            "log": folder / f"{base}_desc-autoreject_cpp_log.npz",
            "model": folder / f"{base}_desc-autoreject_cpp_model.h5",
            "report": folder / f"{base}_desc-autoreject_cpp_report.html" if report else None,
            "manifest": folder / f"{base}_desc-autoreject_cpp_manifest.json",
        }
        entities = {k: v for k, v in bp.entities.items() if v is not None}
        bids = {"root": str(root), "datatype": bp.datatype, "suffix": bp.suffix,
                "extension": bp.extension, **entities}  # fmt: skip
        found.append(
            Subject(base, str(fpath), _as_str(outputs), tuple(_bids_sources(fpath, entities)), bids)
        )
    if len({s.key for s in found}) != len(found):
        raise CLIError("two recordings share a BIDS basename; filter with --datatype", EXIT_USAGE)
    return found


def _inside(path, folder):
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _bids_sources(fpath, entities):
    """The data file, its companions and the sidecars read_raw_bids uses."""
    sources = _companions(fpath) if fpath.is_file() else []
    if fpath.is_dir():  # CTF .ds
        sources = sorted(str(p) for p in fpath.rglob("*") if p.is_file())
    prefix = "_".join(
        f"{key}-{entities[name]}"
        for name, key in (("subject", "sub"), ("session", "ses"), ("task", "task"),
                          ("acquisition", "acq"), ("run", "run"))
        if name in entities
    )  # fmt: skip
    subject_prefix = f"sub-{entities['subject']}_"
    for path in sorted(fpath.parent.iterdir()):
        name = path.name
        if str(path) in sources or not path.is_file():
            continue
        if name.startswith(prefix + "_") or (
            name.startswith(subject_prefix)
            and name.endswith(("_electrodes.tsv", "_coordsystem.json"))
        ):
            sources.append(str(path))
    return sources


def read_subject(subject, eog=(), epoch_options=None):
    """Read a subject's epochs (an epochs file, or a BIDS recording epoched)."""
    from .cli import _read_epochs

    if subject.bids is None:
        return _read_epochs(subject.input, eog)
    return _epoch_bids(subject, eog, epoch_options or EpochOptions())


def _epoch_bids(subject, eog, opts):
    import mne

    from .cli import EXIT_INPUT, EXIT_USAGE, CLIError, _one_line

    mne_bids = _need("mne_bids", "--bids-root")
    info = dict(subject.bids)
    root = info.pop("root")
    bp = mne_bids.BIDSPath(root=root, **info)
    try:
        raw = mne_bids.read_raw_bids(bp, verbose="error")
        raw.load_data(verbose="error")
    except Exception as err:
        raise CLIError(f"cannot read {subject.input}: {_one_line(err)}", EXIT_INPUT) from err
    if eog:
        missing = [ch for ch in eog if ch not in raw.ch_names]
        if missing:
            raise CLIError(
                f"--eog: channel(s) {', '.join(missing)} not in {bp.basename}", EXIT_USAGE
            )
        raw.set_channel_types({ch: "eog" for ch in eog}, verbose="error")
    if opts.montage:
        raw.set_montage(opts.montage, match_case=False, on_missing="warn", verbose="error")
    if opts.epoch_duration:
        return mne.make_fixed_length_epochs(
            raw, duration=opts.epoch_duration, preload=True, verbose="error"
        )
    event_id = None
    if opts.event_id:
        present = set(raw.annotations.description)
        missing = [name for name in opts.event_id if name not in present]
        if missing:
            raise CLIError(
                f"--event-id: {', '.join(missing)} not among the annotations of "
                f"{bp.basename} ({', '.join(sorted(present)) or 'none'})",
                EXIT_USAGE,
            )
        event_id = {name: i + 1 for i, name in enumerate(opts.event_id)}
    events, event_id = mne.events_from_annotations(raw, event_id=event_id, verbose="error")
    if not len(events):
        raise CLIError(
            f"{bp.basename} has no events to epoch around; give --epoch-duration for "
            "fixed-length epochs",
            EXIT_USAGE,
        )
    return mne.Epochs(
        raw, events, event_id, tmin=opts.tmin, tmax=opts.tmax, baseline=None,
        preload=True, verbose="error",
    )  # fmt: skip


def write_dataset_description(out, bids_root):
    """``dataset_description.json`` of the derivatives dataset (atomic)."""
    import json

    from ._fileio import atomic_path
    from ._version import __version__

    source = Path(bids_root) / "dataset_description.json"
    name = "autoreject_cpp"
    if source.is_file():
        try:
            name = f"{json.loads(source.read_text()).get('Name', 'dataset')} (autoreject_cpp)"
        except ValueError:
            pass
    description = {
        "Name": name,
        "BIDSVersion": "1.9.0",
        "DatasetType": "derivative",
        "GeneratedBy": [
            {
                "Name": "autoreject_cpp",
                "Version": __version__,
                "Description": "AutoReject (autoreject 0.5.1 results) per recording",
            }
        ],
        "SourceDatasets": [{"URL": Path(bids_root).absolute().as_uri()}],
    }
    path = Path(out) / "dataset_description.json"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(description, indent=2) + "\n")
