"""autoreject_cpp: autoreject's answers, much faster.

Automated rejection and repair of bad epochs and sensors in M/EEG, giving the
same results as autoreject 0.5.1, with the numerical kernels in a compiled
C++ core (``autoreject_cpp._core``). Public names are attached lazily so that
``import autoreject_cpp`` stays cheap: it imports neither MNE nor
scikit-learn, and starts no thread.
"""

from ._version import __version__

_LAZY = {
    "AutoReject": "local_reject_cv",
    "LocalAutoReject": "local_reject",
    "_AutoReject": ("local_reject", "LocalAutoReject"),
    "compute_thresholds": "thresholds",
    "get_rejection_threshold": "global_thresholds",
    "validation_curve": "global_thresholds",
    "_GlobalAutoReject": "global_thresholds",
    "Ransac": "ransac",
    "RejectLog": "reject_log",
    "read_reject_log": "reject_log",
    "read_auto_reject": "persistence",
    "set_matplotlib_defaults": "viz",
    "backends": ("backends", None),
    "detect_hardware": "backends",
    "get_backend": "backends",
    "use_backend": "backends",
}

__all__ = sorted(k for k in _LAZY if not k.startswith("_")) + ["__version__"]


def __getattr__(name):
    import importlib

    try:
        target = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'autoreject_cpp' has no attribute {name!r}") from None
    module, attr = target if isinstance(target, tuple) else (target, name)
    value = importlib.import_module(f"{__name__}.{module}")
    if attr is not None:
        # ``backends`` is the subpackage itself, callable: ``backends()``
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
