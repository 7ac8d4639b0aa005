"""Compute backends: the kernels of the compiled C++ core.

The core (``autoreject_cpp._core``) holds the one registry of backends:

=========  =====================================================
name       what runs the kernels
=========  =====================================================
scalar     one thread, plain loops (always available)
openmp     every core (OpenMP); compiled in by default
cuda       an NVIDIA GPU; only in builds with CUDA, with a device
auto       ``'openmp'`` when compiled in and more than one thread
           is available, else ``'scalar'``
=========  =====================================================

Every backend gives the same float64 results, bit for bit where NumPy's
operations are reproduced (see :mod:`autoreject_cpp.backends._base`).

Selection order: an explicit ``prefer`` argument (an estimator's
``backend=``), then the innermost :func:`use_backend` context, then the
``AUTOREJECT_BACKEND`` environment variable, then ``'auto'``. The core
resolves the name; an unknown or unavailable one raises :class:`ValueError`
listing what is available and why, never a silent fallback.

This module can be called: ``autoreject_cpp.backends()`` returns the table
of :func:`backends_table`.
"""

# License: BSD-3-Clause

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import types
from numbers import Integral

from ._base import KERNELS, Backend

#: the environment variable the core reads when no backend is named
ENV_VAR = "AUTOREJECT_BACKEND"

_context = contextvars.ContextVar("autoreject_cpp_backend", default=None)
_instances = {}


def _cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _threads(n_jobs):
    """The core's ``n_threads`` for ``n_jobs`` (see :func:`get_backend`)."""
    if n_jobs is None:
        from .._parallel import _THREAD_LIMIT

        limit = _THREAD_LIMIT.get()
        return 0 if limit is None else max(1, int(limit))
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral):
        raise TypeError(f"n_jobs must be an int or None; got {type(n_jobs).__name__}.")
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise ValueError("n_jobs must be a positive int, -1 (all cores) or None; got 0.")
    if n_jobs < 0:  # joblib's convention: -1 all cores, -2 all but one, ...
        return max(1, _cpu_count() + 1 + n_jobs)
    return n_jobs


def get_backend(prefer=None, *, n_jobs=None):
    """Return a backend of the compiled core.

    Parameters
    ----------
    prefer : str | Backend | None
        ``'auto'``, ``'scalar'``, ``'openmp'`` or ``'cuda'``. A
        :class:`Backend` is returned as is. None uses the innermost
        :func:`use_backend` context, else the ``AUTOREJECT_BACKEND``
        environment variable, else ``'auto'``. Defaults to None.
    n_jobs : int | None
        Threads of the OpenMP kernels: a positive count, or -1 for every
        core (-2 all but one, ...). None (default) leaves it to OpenMP
        (``OMP_NUM_THREADS``, else every core), or to the limit of an
        enclosing batch job. Ignored by ``'scalar'``.

    Returns
    -------
    backend : Backend
        Instances are cached per (name, threads).

    Raises
    ------
    ValueError
        For an unknown or unavailable backend (the message lists the
        available ones and why the others are not), or ``n_jobs=0``.
    TypeError
        For a ``prefer`` that is neither a str, a Backend nor None.

    See Also
    --------
    use_backend, backends_table
    """
    if isinstance(prefer, Backend):
        return prefer
    if prefer is None:
        prefer = _context.get()
        if isinstance(prefer, Backend):
            return prefer
    if prefer is not None and not isinstance(prefer, str):
        raise TypeError(
            f"backend must be a str, a Backend instance or None; got {type(prefer).__name__}."
        )
    from .. import _core

    name = _core.resolve_backend(prefer)  # None: AUTOREJECT_BACKEND, then 'auto'
    key = (name, _threads(n_jobs))
    if key not in _instances:
        from ._core import CoreBackend

        _instances[key] = CoreBackend(*key)
    return _instances[key]


def estimator_backend(backend, n_jobs=1):
    """The backend of an estimator or function with ``backend`` and ``n_jobs``.

    ``n_jobs`` of 1 or None (the defaults) leaves the kernels' threads to
    OpenMP, as BLAS runs on every core inside autoreject with ``n_jobs=1``;
    any other value is also the kernels' thread count (-1: every core), so
    that nothing uses more than ``n_jobs`` threads.

    Parameters
    ----------
    backend : str | Backend | None
        As for :func:`get_backend`.
    n_jobs : int | None
        The estimator's ``n_jobs``.

    Returns
    -------
    backend : Backend
    """
    return get_backend(backend, n_jobs=None if n_jobs in (None, 1) else n_jobs)


@contextlib.contextmanager
def use_backend(prefer):
    """Context manager: make ``prefer`` the default of :func:`get_backend`.

    Inside the ``with`` block, ``get_backend(None)`` (and so every estimator
    whose ``backend`` is None) uses ``prefer`` instead of the environment
    variable. Contexts nest; the previous default is restored on exit, also
    when an exception is raised. The setting is per thread (and per asyncio
    task).

    Parameters
    ----------
    prefer : str | Backend
        As for :func:`get_backend`; checked on entry.

    Yields
    ------
    backend : Backend
        The backend now in effect.

    Examples
    --------
    >>> from autoreject_cpp.backends import get_backend, use_backend
    >>> with use_backend("scalar"):
    ...     get_backend().name
    'scalar'
    """
    if prefer is None:
        raise TypeError("use_backend needs a backend name or a Backend instance; got None.")
    backend = get_backend(prefer)  # fail early on bad names
    token = _context.set(prefer)
    try:
        yield backend
    finally:
        _context.reset(token)


def backends_table():
    """Every backend the core knows, whether compiled in and usable, and why not.

    Returns
    -------
    table : list of dict
        One dict per backend with ``name`` (str), ``compiled`` (bool),
        ``available`` (bool) and ``reason`` (str, empty when available).
    """
    from .. import _core

    return [dict(entry) for entry in _core.backends()]


def available_backends():
    """Names of the backends that can run here.

    Returns
    -------
    names : list of str
    """
    return [entry["name"] for entry in backends_table() if entry["available"]]


def detect_hardware():
    """Describe the compute resources autoreject_cpp can use.

    Returns
    -------
    info : dict
        ``cpu_count`` (usable cores), ``max_threads`` (threads of the OpenMP
        kernels by default), ``core_version`` (of the compiled core) and
        ``backends`` (:func:`backends_table`).
    """
    from .. import _core

    return dict(
        cpu_count=_cpu_count(),
        max_threads=int(_core.max_threads()),
        core_version=str(_core.__version__),
        backends=backends_table(),
    )


class _CallableModule(types.ModuleType):
    """This module, callable: ``autoreject_cpp.backends()`` is
    :func:`backends_table` (a function of that name in the package would be
    replaced by this subpackage as soon as it is imported)."""

    def __call__(self):
        return backends_table()


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "ENV_VAR",
    "KERNELS",
    "Backend",
    "available_backends",
    "backends_table",
    "detect_hardware",
    "get_backend",
    "use_backend",
]
