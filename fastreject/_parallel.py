"""Thread control for fastreject's hot paths.

fastreject runs many small matrix products (interpolation, the search's
surrogate). Multi-threaded BLAS helps little on them and, on a busy machine,
its spinning threads can make them many times slower. The public entry
points therefore run with BLAS limited to one thread and parallelise at a
coarser grain (channels, epochs) through ``n_jobs``. The limit is restored on
exit, so the user's own code keeps its BLAS settings.
"""

from __future__ import annotations

import contextlib
import functools


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
