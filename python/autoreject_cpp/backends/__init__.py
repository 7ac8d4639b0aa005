"""Compute backends: one interface, several implementations.

A backend is a named set of the kernels listed in :data:`KERNELS` (see
:mod:`autoreject_cpp.backends._base` for their exact semantics). The NumPy
backend is the float64 reference; the others are tested against it.

=========  ==========================  ===================================
name       needs                       devices
=========  ==========================  ===================================
numpy      (always available)          cpu
numba      ``autoreject-cpp[parallel]``    cpu (parallel, JIT-compiled)
torch      ``autoreject-cpp[gpu]``         cpu, cuda, mps (float32 only)
jax        ``autoreject-cpp[gpu-cuda]``    cpu, gpu
=========  ==========================  ===================================

Selection order: an explicit ``prefer`` argument (an estimator's
``backend=``), then the innermost :func:`use_backend` context, then the
``AUTOREJECT_BACKEND`` (or ``AUTOREJECT_BACKEND``) environment variable,
then ``'auto'``. Backend modules, and the libraries they need, are imported
only when first selected, so ``import autoreject_cpp`` imports none of numba,
torch or jax.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import importlib.util
import os

from ._base import KERNELS, Backend

_ENV_VARS = ("AUTOREJECT_BACKEND", "AUTOREJECT_BACKEND")

#: work size (number of data elements, e.g. ``n_epochs * n_channels *
#: n_times``) from which ``'auto'`` moves to a GPU when one is present:
#: below it, host-device transfers and kernel launches cost more than they
#: save against the parallel CPU kernels (240 x 64 x 641 is about 1e7).
#: The estimators call ``get_backend`` without a size hint, so ``'auto'``
#: stays on the CPU there, as measured on an H100 beside a 16-core Xeon
#: (``benchmarks/results/gpu_h100.md``): on EEGMMIDB a fit took 1.8 s with
#: numba, 5.8 s with ``'jax:gpu'`` and 6.6 s with ``'torch:cuda'`` (the
#: threshold search is a sequence of small steps), while ``Ransac.fit`` took
#: 0.24 s, 0.14 s and 0.29 s. Ask for a GPU explicitly where it pays off.
GPU_CROSSOVER = 20_000_000

#: name -> (module, class, import name of the library, pip extra)
_REGISTRY = {
    "numpy": ("._numpy", "NumpyBackend", None, None),
    "numba": ("._numba", "NumbaBackend", "numba", "parallel"),
    "torch": ("._torch", "TorchBackend", "torch", "gpu"),
    "jax": ("._jax", "JaxBackend", "jax", "gpu-cuda"),
}
_DEVICES = {
    "numpy": ("cpu",),
    "numba": ("cpu",),
    "torch": ("cpu", "cuda", "mps"),
    "jax": ("cpu", "gpu"),
}
_PRECISIONS = ("float64", "float32")
#: every accepted spelling, for error messages
VALID_NAMES = ("auto",) + tuple(_REGISTRY) + tuple(
    f"{name}:{dev}" for name, devs in _DEVICES.items() if len(devs) > 1 for dev in devs
)

_context = contextvars.ContextVar("autoreject_cpp_backend", default=None)
_instances = {}


def get_backend(prefer=None, *, size_hint=None, precision="float64"):
    """Return a backend instance.

    Parameters
    ----------
    prefer : str | Backend | None
        A backend name (``'numpy'``, ``'numba'``, ``'torch'``, ``'jax'``),
        optionally with a device (``'torch:cuda'``, ``'torch:cuda:1'``,
        ``'torch:mps'``, ``'torch:cpu'``, ``'jax:cpu'``, ``'jax:gpu'``), or
        ``'auto'``. A :class:`Backend` is returned as is. ``None`` uses the
        innermost :func:`use_backend` context, else the
        ``AUTOREJECT_BACKEND`` then ``AUTOREJECT_BACKEND`` environment
        variable, else ``'auto'``. Defaults to None.
    size_hint : int | None
        Number of data elements of the work about to run; only ``'auto'``
        uses it (see Notes). Defaults to None (small).
    precision : str
        ``'float64'`` (default, reproduces autoreject) or ``'float32'``
        (needed on Apple MPS, which has no float64). A :func:`use_backend`
        context supplies its own precision when ``prefer`` is None.

    Returns
    -------
    backend : Backend
        Instances are cached per (name, device, precision).

    Raises
    ------
    ValueError
        For an unknown name, device or precision, or float64 on MPS.
    ImportError
        When the library a backend needs is not installed; the message gives
        the pip extra.
    RuntimeError
        When the requested device (CUDA, MPS, JAX GPU) is not available.

    Notes
    -----
    ``'auto'`` picks the numba backend when numba is installed, else numpy
    (both in float64, whatever ``precision``). Only when
    ``size_hint >= GPU_CROSSOVER`` (:data:`GPU_CROSSOVER` elements) does it
    look for a GPU: torch with CUDA first, then JAX with a GPU (torch on MPS
    only with ``precision='float32'``). That check imports torch or jax, so
    it happens only for big work.
    """
    if isinstance(prefer, Backend):
        return prefer
    source = "prefer"
    if prefer is None:
        ctx = _context.get()
        if ctx is not None:
            prefer, precision, source = ctx[0], ctx[1], "use_backend"
            if isinstance(prefer, Backend):
                return prefer
        else:
            for var in _ENV_VARS:
                if os.environ.get(var, "").strip():
                    prefer, source = os.environ[var], var
                    break
            else:
                prefer = "auto"
    if not isinstance(prefer, str):
        raise TypeError(
            f"backend must be a str, a Backend instance or None; got {type(prefer).__name__}."
        )
    if precision not in _PRECISIONS:
        raise ValueError(
            f"precision must be one of {_PRECISIONS}; got {precision!r}."
        )
    name, _, device = prefer.strip().lower().partition(":")
    if name == "auto" and not device:
        name, device, precision = _auto(size_hint, precision)
    if name not in _REGISTRY:
        where = "" if source == "prefer" else f" (from {source})"
        raise ValueError(
            f"Unknown backend {prefer!r}{where}; valid names are "
            f"{', '.join(repr(n) for n in VALID_NAMES)}."
        )
    device = device or "cpu"
    platform = device.split(":")[0]
    if platform not in _DEVICES[name]:
        raise ValueError(
            f"Backend {name!r} has no device {device!r}; choose one of "
            f"{', '.join(repr(f'{name}:{d}') for d in _DEVICES[name])}."
        )
    if name != "torch" and device != platform:
        raise ValueError(f"Backend {name!r} takes no device index; got {device!r}.")
    if platform == "mps" and precision != "float32":
        raise ValueError(
            "Apple MPS has no float64, which exact autoreject results need. "
            "Pass precision='float32' to accept about 1e-6 relative error "
            "(decisions near thresholds may differ), or use 'torch:cpu' or "
            "'numba'."
        )
    key = (name, device, precision)
    if key not in _instances:
        _instances[key] = _load(name, device, precision)
    return _instances[key]


def _load(name, device, precision):
    """Import a backend module and build its instance."""
    module, cls, library, extra = _REGISTRY[name]
    if library is not None and importlib.util.find_spec(library) is None:
        raise ImportError(
            f"The {name!r} backend needs {library}, which is not installed. "
            f"Install it with: pip install autoreject-cpp[{extra}] (or pick another "
            f"backend, e.g. 'numpy')."
        )
    klass = getattr(importlib.import_module(module, __name__), cls)
    if name == "torch":
        _check_torch_device(device)
        return klass(device=device, precision=precision)
    if name == "jax":
        return klass(device=device, precision=precision)
    if precision != "float64":
        raise ValueError(
            f"Backend {name!r} computes in float64 only; got precision={precision!r}."
        )
    return klass()


def _check_torch_device(device):
    import torch

    platform = device.split(":")[0]
    if platform == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "backend 'torch:cuda' asked for, but torch finds no CUDA device "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}). "
            "Install a CUDA build of torch or use 'torch:cpu' or 'numba'."
        )
    if platform == "mps" and not (
        getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    ):
        raise RuntimeError(
            "backend 'torch:mps' asked for, but torch finds no Apple MPS device. "
            "Use 'torch:cpu' or 'numba'."
        )


def _auto(size_hint, precision):
    """Resolve ``'auto'`` to a (name, device) pair (see :func:`get_backend`)."""
    if size_hint is not None and size_hint >= GPU_CROSSOVER:
        gpu = _find_gpu(precision)
        if gpu is not None:
            return gpu + (precision,)
    # on the CPU float64 is no slower to get right, so float32 is not used
    if importlib.util.find_spec("numba") is not None:
        return "numba", "cpu", "float64"
    return "numpy", "cpu", "float64"


def _find_gpu(precision):
    if importlib.util.find_spec("torch") is not None:
        import torch

        if torch.cuda.is_available():
            return "torch", "cuda"
        mps = getattr(torch.backends, "mps", None)
        if precision == "float32" and mps is not None and mps.is_available():
            return "torch", "mps"
    if importlib.util.find_spec("jax") is not None:
        import jax

        try:
            if jax.devices("gpu"):
                return "jax", "gpu"
        except RuntimeError:
            pass
    return None


@contextlib.contextmanager
def use_backend(prefer, *, precision="float64"):
    """Context manager: make ``prefer`` the default of :func:`get_backend`.

    Inside the ``with`` block, ``get_backend(None)`` (and so every estimator
    whose ``backend`` is None) uses ``prefer`` instead of the environment
    variables. Contexts nest; the previous default is restored on exit,
    also when an exception is raised. The setting is per thread (and per
    asyncio task).

    Parameters
    ----------
    prefer : str | Backend
        As for :func:`get_backend`; checked (and loaded) on entry.
    precision : str
        ``'float64'`` (default) or ``'float32'``.

    Yields
    ------
    backend : Backend
        The backend now in effect (``'auto'`` resolved without a size hint).

    Examples
    --------
    >>> from autoreject_cpp.backends import get_backend, use_backend
    >>> with use_backend("numpy"):
    ...     get_backend().name
    'numpy'
    """
    backend = get_backend(prefer, precision=precision)  # fail early on bad names
    token = _context.set((prefer if isinstance(prefer, str) else backend, precision))
    try:
        yield backend
    finally:
        _context.reset(token)


def available_backends():
    """Names of the backends whose library is installed (nothing is imported).

    Returns
    -------
    names : list of str
    """
    return [
        name
        for name, (_, _, library, _) in _REGISTRY.items()
        if library is None or importlib.util.find_spec(library) is not None
    ]


def detect_hardware():
    """Describe the compute resources autoreject_cpp can use.

    Imports numba, torch and jax (when installed) to query them, so it takes
    a moment; ``import autoreject_cpp`` itself imports none of them.

    Returns
    -------
    info : dict
        ``cpu_count`` (usable cores), and for each of ``'numba'``,
        ``'torch'``, ``'jax'`` a dict with ``available`` and ``version``; torch
        adds ``cuda_devices`` (names) and ``mps`` (bool), jax adds
        ``devices`` (strings).
    """
    try:
        cpu_count = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpu_count = os.cpu_count() or 1
    info = {"cpu_count": cpu_count}
    for lib in ("numba", "torch", "jax"):
        entry = {"available": False, "version": None}
        if lib == "torch":
            entry.update(cuda_devices=[], mps=False)
        if lib == "jax":
            entry["devices"] = []
        if importlib.util.find_spec(lib) is not None:
            try:
                mod = importlib.import_module(lib)
            except Exception as err:  # broken install: report, don't fail
                entry["error"] = f"{type(err).__name__}: {err}"
            else:
                entry.update(available=True, version=getattr(mod, "__version__", None))
                if lib == "torch":
                    if mod.cuda.is_available():
                        entry["cuda_devices"] = [
                            mod.cuda.get_device_name(i) for i in range(mod.cuda.device_count())
                        ]
                    mps = getattr(mod.backends, "mps", None)
                    entry["mps"] = bool(mps is not None and mps.is_available())
                if lib == "jax":
                    entry["devices"] = [str(d) for d in mod.devices()]
        info[lib] = entry
    return info


__all__ = [
    "Backend",
    "GPU_CROSSOVER",
    "KERNELS",
    "VALID_NAMES",
    "available_backends",
    "detect_hardware",
    "get_backend",
    "use_backend",
]
