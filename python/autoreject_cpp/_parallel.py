"""Thread control for autoreject_cpp's hot paths.

autoreject_cpp runs many small matrix products (interpolation, the search's
surrogate). Multi-threaded BLAS helps little on them and, on a busy machine,
its spinning threads can make them many times slower. The public entry
points therefore run with BLAS limited to one thread and parallelise at a
coarser grain (channels, epochs) through ``n_jobs``. The limit is restored on
exit, so the user's own code keeps its BLAS settings.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os


_CONTROLLER = None


def _controller():
    """A threadpoolctl controller, created on first use.

    Building one scans the loaded shared libraries (about a millisecond);
    it is rebuilt only when new libraries have been loaded since.
    """
    import sys

    from threadpoolctl import ThreadpoolController

    global _CONTROLLER
    n_modules = len(sys.modules)
    if _CONTROLLER is None or _CONTROLLER[0] != n_modules:
        _CONTROLLER = (n_modules, ThreadpoolController())
    return _CONTROLLER[1]


@contextlib.contextmanager
def single_threaded_blas():
    """Limit BLAS/OpenMP pools to one thread inside the block."""
    with _controller().limit(limits=1, user_api="blas"):
        yield


def blas_single_thread(func):
    """Decorator form of :func:`single_threaded_blas`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with single_threaded_blas():
            return func(*args, **kwargs)

    return wrapper


#: set by :func:`limit_threads` (e.g. inside a batch job)
_THREAD_LIMIT = contextvars.ContextVar("autoreject_cpp_thread_limit", default=None)


def n_cores():
    """CPU cores this process may run on, at most the :func:`limit_threads` limit."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        cores = os.cpu_count() or 1
    limit = _THREAD_LIMIT.get()
    return cores if limit is None else max(1, min(cores, limit))


@contextlib.contextmanager
def limit_threads(n_threads):
    """Let :func:`thread_map` use at most ``n_threads`` threads in the block."""
    token = _THREAD_LIMIT.set(int(n_threads))
    try:
        yield
    finally:
        _THREAD_LIMIT.reset(token)


def thread_map(func, items):
    """``[func(x) for x in items]``, on one thread per core.

    For independent calls that spend their time in LAPACK (which releases
    the GIL), such as pseudo-inverses of many MEG mapping matrices. Each
    call computes exactly what it would alone, so results do not depend on
    the number of cores. It uses every core (within a :func:`limit_threads`
    limit) whatever ``n_jobs``.
    """
    items = list(items)
    workers = min(n_cores(), len(items))
    if workers < 2:
        return [func(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(func, items))
