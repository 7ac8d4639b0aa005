"""Host-side (NumPy) preparation shared by the backends.

Everything here runs on small index or weight arrays, never on the bulk data,
so every backend can share it; :func:`run_in_chunks` drives the device
kernels of the torch and JAX backends in pieces that fit the device memory
(:func:`memory_budget`).
"""

from __future__ import annotations

import math
import os
import re

import numpy as np

from .._logging import logger, warn

#: environment variable: the device memory (bytes, or with a unit: ``512MB``,
#: ``2GiB``) one kernel call of the torch and JAX backends may use; ``none``
#: disables the proactive limit. Read at every call.
MEMORY_ENV = "AUTOREJECT_DEVICE_MEMORY"

#: without :data:`MEMORY_ENV`, the fraction of a GPU's free memory one kernel
#: call may use (CPU devices have no proactive limit)
DEVICE_MEMORY_FRACTION = 0.5

_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6,
    "g": 10**9, "gb": 10**9, "t": 10**12, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}  # fmt: skip
_NO_LIMIT = ("none", "unlimited", "off")

#: upper bound on the size (in float64 elements) of one RANSAC prediction
#: buffer, ``(chunk * n_times, n_channels, n_resample)``; 2**23 is 64 MiB
RANSAC_CHUNK_ELEMENTS = 2**23
#: the same bound for all host workers together (32 MiB): at 2**23 the numpy
#: backend's Ransac.fit on EEGMMIDB peaked at 70 MiB, above autoreject's
#: 51 MiB; at 2**22 it peaks at 36 MiB, just as fast
HOST_RANSAC_CHUNK_ELEMENTS = 2**22


def exact_host_backend():
    """The fastest installed CPU backend whose sums are NumPy's bit for bit.

    numba when it is installed (and imports), else numpy. Device backends
    run the computations that must reproduce autoreject's epoch-order sums
    (the threshold search's kept-epoch means) on the host, with this one.
    """
    from . import available_backends, get_backend

    if "numba" in available_backends():
        try:
            return get_backend("numba")
        except ImportError:  # pragma: no cover - numba present but broken
            pass
    return get_backend("numpy")


def check_prefix_args(n_rows, order, cuts):
    """Validate the arguments of :meth:`Backend.prefix_sums`.

    Compiled kernels do not bounds-check, so what would read outside the data
    is refused here.

    Parameters
    ----------
    n_rows : int
        Number of rows of the data.
    order : array of int, shape (n_selected,)
    cuts : array of int, shape (n_cuts,)

    Raises
    ------
    ValueError
        For empty or non 1-D ``order`` or ``cuts``, or cuts that are not
        strictly increasing in ``[1, n_selected]``.
    IndexError
        For rows of ``order[:cuts[-1]]`` outside ``[-n_rows, n_rows)``.
    """
    if order.ndim != 1 or cuts.ndim != 1 or len(cuts) == 0:
        raise ValueError("order and cuts must be non-empty 1-D arrays of int.")
    if cuts[0] < 1 or cuts[-1] > len(order) or np.any(np.diff(cuts) <= 0):
        raise ValueError(
            f"cuts must be strictly increasing in [1, len(order) = {len(order)}]."
        )
    used = order[: cuts[-1]]
    if used.min() < -n_rows or used.max() >= n_rows:
        raise IndexError(f"order has indices out of range for {n_rows} rows.")


def prefix_weights(n_rows, order, cuts):
    """0/1 weights that turn :meth:`Backend.prefix_sums` into one product.

    Parameters
    ----------
    n_rows : int
    order : array of int, shape (n_selected,)
    cuts : array of int, shape (n_cuts,)
        As for :meth:`Backend.prefix_sums` (checked by
        :func:`check_prefix_args` first).

    Returns
    -------
    weights : array of float64, shape (n_cuts, n_rows)
        ``weights[i, r]`` counts the occurrences of row ``r`` in
        ``order[:cuts[i]]``, so ``weights @ data`` gives the prefix sums.
    """
    n = int(cuts[-1])
    rows = np.asarray(order[:n], dtype=np.intp) % max(n_rows, 1)
    segment = np.repeat(np.arange(len(cuts)), np.diff(cuts, prepend=0))
    counts = np.zeros((len(cuts), n_rows))
    np.add.at(counts, (segment, rows), 1.0)
    return np.cumsum(counts, axis=0)


def use_product(n_rows, n_selected, n_cuts, ratio):
    """Whether the product of :func:`prefix_weights` beats a running sum.

    The product costs ``n_cuts * n_rows`` multiply-adds per column, the
    running sum about ``n_selected`` slower (gathered, scanned) additions;
    ``ratio`` is how much faster a multiply-add of the product is.
    """
    return n_cuts * n_rows <= ratio * n_selected


def ransac_subsets(mappings, n_resample):
    """Non-zero columns of each resample's interpolation matrix.

    Parameters
    ----------
    mappings : array, shape (n_resample * n_channels, n_channels)
        Stacked per-resample interpolation matrices (resample-major).
    n_resample : int

    Returns
    -------
    cols : array of int64, shape (n_resample, k_max)
        Channels with a non-zero weight in each resample (ascending), padded
        with 0.
    counts : array of int64, shape (n_resample,)
        Number of such channels per resample.
    weights : array of float64, shape (n_resample, n_channels, k_max)
        ``mappings`` restricted to those columns, padded with 0.
    """
    mappings = np.asarray(mappings, dtype=np.float64)
    n_channels = mappings.shape[1]
    if mappings.shape[0] != n_resample * n_channels:
        raise ValueError(
            f"mappings must have n_resample * n_channels = {n_resample} * "
            f"{n_channels} = {n_resample * n_channels} rows; got "
            f"{mappings.shape[0]}."
        )
    blocks = mappings.reshape(n_resample, n_channels, n_channels)
    nonzero = np.any(blocks != 0, axis=1)  # (n_resample, n_channels)
    counts = nonzero.sum(axis=1).astype(np.int64)
    k_max = max(int(counts.max(initial=0)), 1)
    cols = np.zeros((n_resample, k_max), dtype=np.int64)
    weights = np.zeros((n_resample, n_channels, k_max))
    for r in range(n_resample):
        nz = np.flatnonzero(nonzero[r])
        cols[r, : len(nz)] = nz
        weights[r, :, : len(nz)] = blocks[r][:, nz]
    return cols, counts, weights


def ransac_chunk(n_channels, n_times, n_resample, elements=None):
    """Number of epochs per RANSAC chunk so one buffer stays within
    ``elements`` float64 values (:data:`RANSAC_CHUNK_ELEMENTS` by default)."""
    per_epoch = n_channels * n_times * n_resample
    budget = RANSAC_CHUNK_ELEMENTS if elements is None else elements
    return max(1, budget // max(per_epoch, 1))


def oddeven_merge_network(n):
    """Batcher's odd-even merge sorting network for ``n`` inputs.

    The network for the next power of two with comparators touching wires
    ``>= n`` dropped (those wires act as ``+inf``), which sorts ``n`` inputs.

    Parameters
    ----------
    n : int

    Returns
    -------
    pairs : list of tuple of int
        Comparators ``(i, j)``, ``i < j``, in order: after each, wire ``i``
        holds the smaller value.
    """
    pairs = []
    size = 1
    while size < n:
        size *= 2
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    a, b = i + j, i + j + k
                    if a // (2 * p) == b // (2 * p) and b < n:
                        pairs.append((a, b))
            k //= 2
        p *= 2
    return pairs


def median_network(n):
    """Comparators needed to place the median order statistics of ``n`` values.

    Parameters
    ----------
    n : int

    Returns
    -------
    pairs : array of int64, shape (n_comparators, 2)
        The sorting network of :func:`oddeven_merge_network`, pruned to the
        comparators that influence wires ``(n - 1) // 2`` and ``n // 2``.
    lo, hi : int
        The wires holding the lower and upper middle values (equal when
        ``n`` is odd); the median is ``(v[lo] + v[hi]) / 2`` when even.
    """
    lo, hi = (n - 1) // 2, n // 2
    needed = {lo, hi}
    kept = []
    for a, b in reversed(oddeven_merge_network(n)):
        if a in needed or b in needed:
            kept.append((a, b))
            needed.update((a, b))
    pairs = np.array(kept[::-1], dtype=np.int64).reshape(-1, 2)
    return pairs, lo, hi


# --------------------------------------------------------------------------
# device memory: budget, chunking, recovery from out-of-memory errors
# --------------------------------------------------------------------------
def parse_bytes(text, name=MEMORY_ENV):
    """Parse a memory size: bytes, or a number with a unit.

    Parameters
    ----------
    text : str
        E.g. ``'1000000'``, ``'64KB'``, ``'512 MB'``, ``'1.5GiB'``. ``K``,
        ``KB``, ``M``, ``MB``, ``G``, ``GB``, ``T``, ``TB`` are powers of 1000,
        ``KiB``, ``MiB``, ``GiB``, ``TiB`` powers of 1024 (case-insensitive).
    name : str
        What is parsed, for the error message.

    Returns
    -------
    n_bytes : int
        At least 1.

    Raises
    ------
    ValueError
        For anything else, or a size below one byte.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", str(text).lower())
    if match is None or match.group(2) not in _UNITS:
        raise ValueError(
            f"{name} must be a number of bytes, optionally with a unit (e.g. "
            f"'512MB', '2GB', '1.5GiB'), or 'none' for no limit; got {text!r}."
        )
    n_bytes = int(float(match.group(1)) * _UNITS[match.group(2)])
    if n_bytes < 1:
        raise ValueError(f"{name} must be at least one byte; got {text!r}.")
    return n_bytes


def format_bytes(n_bytes):
    """``n_bytes`` for people: ``'2.1 GB'``, ``'64.0 kB'``, ``'512 B'``."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{int(n_bytes)} B"


def memory_budget(free_memory=None):
    """Bytes of device memory one kernel call may use, or None for no limit.

    Parameters
    ----------
    free_memory : callable | None
        Returns the free memory of the backend's device in bytes, or None
        where there is no such figure (CPU devices use host RAM, which is not
        limited proactively). Called only when :data:`MEMORY_ENV` is unset;
        errors it raises count as None.

    Returns
    -------
    budget : int | None
        :data:`MEMORY_ENV` when set (read now, at each call), else
        :data:`DEVICE_MEMORY_FRACTION` of ``free_memory()``, else None.

    Raises
    ------
    ValueError
        When :data:`MEMORY_ENV` cannot be parsed (see :func:`parse_bytes`).
    """
    text = os.environ.get(MEMORY_ENV, "").strip()
    if text:
        if text.lower() in _NO_LIMIT:
            return None
        return parse_bytes(text)
    if free_memory is None:
        return None
    try:
        free = free_memory()
    except Exception:  # a failing query must not fail the computation
        return None
    if free is None:
        return None
    return max(1, int(free * DEVICE_MEMORY_FRACTION))


def is_out_of_memory(err):
    """Whether ``err`` says that the device (or host) ran out of memory.

    Recognizes :class:`MemoryError`, ``torch.cuda.OutOfMemoryError`` and
    errors whose message contains ``out of memory`` (torch on CUDA or MPS),
    ``can't allocate memory`` (torch on the CPU) or ``RESOURCE_EXHAUSTED``
    (JAX/XLA).
    """
    if isinstance(err, MemoryError) or type(err).__name__ == "OutOfMemoryError":
        return True
    if not isinstance(err, RuntimeError):
        return False
    message = str(err)
    return (
        "RESOURCE_EXHAUSTED" in message
        or "out of memory" in message.lower()
        or "can't allocate memory" in message
    )


def take(x, axis, start, stop):
    """``x[start:stop]`` along ``axis`` (``x`` itself when that is all of it).

    Works for NumPy, torch and JAX arrays.
    """
    if start == 0 and stop == x.shape[axis]:
        return x
    return x[(slice(None),) * axis + (slice(start, stop),)]


def _units(unit, count):
    """``'epochs'`` -> ``'epoch'`` for a count of one."""
    return unit[:-1] if count == 1 and unit.endswith("s") else unit


def run_in_chunks(
    func,
    n,
    item_bytes,
    *,
    budget,
    label,
    unit="items",
    axis=0,
    combine=None,
    max_chunk=None,
    on_oom=None,
):
    """Run ``func`` over ``range(n)`` in chunks that fit a memory budget.

    ``func(start, stop, size)`` computes the outputs of items
    ``start:stop`` (``size`` is the current nominal chunk length, which only
    the last chunk may fall short of); the outputs of the chunks must not
    depend on each other. When all ``n`` items fit ``budget``, ``func`` runs
    once on all of them. Otherwise it runs on chunks of
    ``budget // item_bytes`` items and this is logged once at INFO.

    When ``func`` runs out of memory anyway (see :func:`is_out_of_memory`),
    the chunk is halved and retried, down to one item; the completed chunks
    are kept. A recovery is reported with a warning; running out of memory
    on a single item raises :class:`MemoryError`.

    Parameters
    ----------
    func : callable
        ``func(start, stop, size) -> ndarray``.
    n : int
        Number of items along the split axis.
    item_bytes : int
        Estimated device memory needed per item (input, temporaries and
        output).
    budget : int | None
        Bytes available (see :func:`memory_budget`); None for no proactive
        limit.
    label : str
        Backend, device and kernel, for the messages (``'torch:cuda:0 ptp'``).
    unit : str
        What an item is, plural (``'epochs'``, ``'columns'``).
    axis : int
        Axis along which the outputs of the chunks are concatenated.
        Defaults to 0.
    combine : callable | None
        ``combine(list_of_outputs) -> ndarray`` instead of concatenating;
        called also when there is one chunk.
    max_chunk : int | None
        An upper bound on the chunk length from elsewhere (e.g.
        :func:`ransac_chunk`); chunking to it is not logged.
    on_oom : callable | None
        Called after an out-of-memory error, before the retry (e.g. to
        release a device cache).

    Returns
    -------
    out : ndarray
    """
    n = int(n)
    limit = n if max_chunk is None else max(1, min(n, int(max_chunk)))
    size = limit
    if budget is not None:
        fit = max(1, int(budget // max(int(item_bytes), 1)))
        if fit < limit:
            size = fit
            logger.info(
                f"{label}: the working set ({format_bytes(n * item_bytes)}) "
                f"exceeds the device memory budget ({format_bytes(budget)}); "
                f"processing in {math.ceil(n / size)} chunks of {size} "
                f"{_units(unit, size)}"
            )
    size = max(size, 1)
    parts, start, failure = [], 0, None
    while True:
        stop = min(start + size, n)
        oom = None
        try:
            part = func(start, stop, size)
        except Exception as err:
            if not is_out_of_memory(err):
                raise
            oom = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            if stop - start <= 1:
                raise MemoryError(
                    f"{label}: out of memory even for a single one of the {n} "
                    f"{unit} (about {format_bytes(item_bytes)} each; {oom}). "
                    f"Free device memory, set {MEMORY_ENV} lower, or use a CPU "
                    "backend ('numba' or 'numpy')."
                ) from err
        if oom is not None:  # outside the except block: its frames are freed
            failure = failure or oom
            size = max(1, (stop - start) // 2)
            if on_oom is not None:
                on_oom()
            continue
        parts.append(part)
        start = stop
        if start >= n:
            break
    if failure is not None:
        warn(
            f"{label}: ran out of memory ({failure}); recovered by processing "
            f"in chunks of {size} {_units(unit, size)}. Set {MEMORY_ENV} (now "
            f"{os.environ.get(MEMORY_ENV) or 'unset'}) to a smaller size to "
            "avoid the failed attempt."
        )
    if combine is not None:
        return combine(parts)
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts, axis=axis)


def reduction_split(shape, axis):
    """Where to split a reduction over ``axis`` of an array of ``shape``.

    Parameters
    ----------
    shape : tuple of int
    axis : int | tuple of int | None
        The reduced axes (None: all).

    Returns
    -------
    split : int
        The first axis that is not reduced, else 0.
    out_axis : int | None
        Where that axis lands in the output (None when every axis is
        reduced: the chunks' outputs must then be combined, not
        concatenated).
    """
    ndim = len(shape)
    if axis is None:
        reduced = set(range(ndim))
    else:
        reduced = {a % ndim for a in ((axis,) if np.isscalar(axis) else axis)}
    kept = [a for a in range(ndim) if a not in reduced]
    if not kept:
        return 0, None
    split = kept[0]
    return split, split - sum(a < split for a in reduced)


def combine_extremes(parts):
    """``max - min`` of a whole array from its chunks' ``[max, min]`` pairs.

    Exact: the same two extremes, the same subtraction (NaN propagates).
    """
    return np.asarray(np.max([p[0] for p in parts]) - np.min([p[1] for p in parts]))
