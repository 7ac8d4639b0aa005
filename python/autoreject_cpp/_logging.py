"""Logging and progress bars: a thin layer over MNE's logger.

autoreject_cpp logs through ``mne.utils.logger`` so that ``mne.set_log_level``
governs it too. Estimators store ``verbose`` like any parameter and enter
:func:`log_level` around their work; progress bars appear only when the
effective level is INFO or lower.
"""

from __future__ import annotations

import contextlib
import logging

from mne.utils import logger, warn  # noqa: F401  (re-exported for modules)

__all__ = ["log_level", "logger", "progress", "warn"]


def _level_from_verbose(verbose):
    """Translate an MNE-style ``verbose`` value into a logging level."""
    if verbose is None:
        return None
    if isinstance(verbose, bool):
        return logging.INFO if verbose else logging.WARNING
    if isinstance(verbose, str):
        level = logging.getLevelName(verbose.upper())
        if not isinstance(level, int):
            raise ValueError(
                f"verbose must be a bool, an int or one of 'DEBUG', 'INFO', "
                f"'WARNING', 'ERROR', 'CRITICAL'; got {verbose!r}."
            )
        return level
    if isinstance(verbose, int):
        return verbose
    raise TypeError(
        f"verbose must be a bool, an int, a str or None; got {type(verbose).__name__}."
    )


@contextlib.contextmanager
def log_level(verbose):
    """Temporarily set the autoreject_cpp/MNE log level from ``verbose``.

    ``None`` leaves the current level untouched (MNE's convention).
    """
    level = _level_from_verbose(verbose)
    if level is None:
        yield
        return
    old = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(old)


def progress(iterable, desc, max_value=None):
    """Wrap ``iterable`` in MNE's progress bar when logging at INFO or below."""
    if logger.getEffectiveLevel() > logging.INFO:
        return iterable
    from mne.utils import ProgressBar

    return ProgressBar(iterable, mesg=desc, max_value=max_value)
