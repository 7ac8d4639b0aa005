"""Compute backends: one interface, several implementations.

Selection order: an explicit ``backend=`` argument, then the
``FASTREJECT_BACKEND`` (or ``AUTOREJECT_BACKEND``) environment variable, then
``'auto'``. Backend modules are imported only when first selected.
"""

from __future__ import annotations

import os

from ._base import KERNELS, Backend

_ENV_VARS = ("FASTREJECT_BACKEND", "AUTOREJECT_BACKEND")


def get_backend(prefer=None):
    """Return a backend instance.

    Parameters
    ----------
    prefer : str | Backend | None
        ``'auto'``, ``'numpy'`` (more to come). ``None`` reads the
        environment variables, then falls back to ``'auto'``.

    Returns
    -------
    backend : Backend
    """
    if isinstance(prefer, Backend):
        return prefer
    if prefer is None:
        prefer = next((os.environ[v] for v in _ENV_VARS if os.environ.get(v)), "auto")
    if prefer in ("auto", "numpy"):
        from ._numpy import NumpyBackend

        return NumpyBackend()
    raise ValueError(f"Unknown backend {prefer!r}; choose one of 'auto', 'numpy'.")


__all__ = ["Backend", "KERNELS", "get_backend"]
