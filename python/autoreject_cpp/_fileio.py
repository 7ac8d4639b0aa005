"""Reading and writing files safely: one place for the path checks and the
atomic writes used by models, reject logs, reports and the CLI.

Writes go to a temporary file in the destination folder, which is then moved
onto the destination with :func:`os.replace` (atomic on POSIX and Windows):
an interrupted run never leaves a truncated file, and readers see the old
file or the complete new one.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def resolve_output(fname, overwrite):
    """Return the absolute output path after the usual overwrite checks."""
    if not isinstance(fname, (str, os.PathLike)):
        raise TypeError(f"fname must be a str or path-like object; got {type(fname).__name__}.")
    path = Path(os.path.realpath(os.path.expanduser(os.fspath(fname))))
    if path.is_dir():
        raise IsADirectoryError(f"Cannot save to {path}: it is a directory. Pass a file name.")
    if not isinstance(overwrite, bool):
        raise TypeError(f"overwrite must be a bool; got {type(overwrite).__name__}.")
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path} already exists. Pass overwrite=True to replace it."
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"Cannot save to {path}: the directory {path.parent} does not exist. "
            "Create it first, e.g. with os.makedirs."
        )
    return path


def new_file_mode(path):
    """Permissions the final file should get (those of the replaced file, or the umask)."""
    if path.exists():
        return stat.S_IMODE(path.stat().st_mode)
    # reading the umask means setting it; the window is two syscalls long
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; move it onto ``path`` on success.

    The temporary name ends like ``path`` (MNE picks formats and checks naming
    conventions from the ending). The file is flushed to disk and given the
    permissions the destination would have; on any error it is removed.

    Parameters
    ----------
    path : path-like
        The destination.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = new_file_mode(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=f"-{path.name}")
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fid:
            os.fsync(fid.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_input_file(fname, what):
    """Return the path of an existing file to read, or raise a clear error."""
    if not isinstance(fname, (str, os.PathLike)):
        raise TypeError(f"fname must be a str or path-like object; got {type(fname).__name__}.")
    path = Path(os.path.expanduser(os.fspath(fname)))
    if not path.exists():
        raise FileNotFoundError(f"No {what} found: {path} does not exist.")
    if path.is_dir():
        raise IsADirectoryError(f"Cannot read a {what} from {path}: it is a directory.")
    return path


# ---------------------------------------------------------------------------
# state <-> estimator
