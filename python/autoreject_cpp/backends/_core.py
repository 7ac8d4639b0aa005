"""The kernels of the compiled C++ core (``autoreject_cpp._core``).

:class:`CoreBackend` adapts NumPy-style calls (any shape, an ``axis``) to the
core's 2-D, C-ordered kernels and back: float64, or float32 when the data
are float32 (``dtype='float32'``, the estimators' speed option: the other
float arguments then go to the core in float32 too). Importing this module
imports the extension module, which starts no thread and touches no GPU:
the core detects what the machine offers on first use.
"""

# License: BSD-3-Clause

from __future__ import annotations

import numpy as np

from .. import _core
from ._base import Backend
from ._common import check_prefix_args, ransac_subsets

#: the backends of the core
CORE_BACKENDS = ("scalar", "openmp", "cuda")


#: the precisions of the core's kernels
_KERNEL_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def _kernel_dtype(x):
    """The precision the core runs ``x``'s kernels in: float32 for float32
    data, float64 for anything else (converted)."""
    return np.float32 if np.asarray(x).dtype == np.float32 else np.float64


def _float64_rows(x, n_rows, dtype=np.float64):
    """``x`` as a C-ordered array of ``n_rows`` rows in ``dtype`` (float64
    unless told; a view when it already is one)."""
    return np.ascontiguousarray(x, dtype=dtype).reshape(n_rows, -1)


def _rows_index(rows, n_rows):
    """Row indices as int64 in ``[0, n_rows)``, NumPy's negative indices
    resolved; out-of-range ones raise :class:`IndexError` as NumPy does."""
    rows = np.asarray(rows)
    if rows.dtype.kind not in "iu":
        raise IndexError(f"row indices must be integers; got dtype {rows.dtype}.")
    rows = rows.astype(np.int64, copy=False).reshape(-1)
    if rows.size and (rows.min() < -n_rows or rows.max() >= n_rows):
        raise IndexError(f"row indices out of range for {n_rows} rows.")
    return np.where(rows < 0, rows + n_rows, rows)


class CoreBackend(Backend):
    """One backend of the compiled core.

    Parameters
    ----------
    name : str
        ``'scalar'``, ``'openmp'`` or ``'cuda'`` (already resolved and
        available: see :func:`autoreject_cpp.backends.get_backend`).
    n_threads : int
        OpenMP threads of the kernels; 0 (default) uses the OpenMP default
        (``OMP_NUM_THREADS``, else every core). Ignored by ``'scalar'``.
    """

    def __init__(self, name, n_threads=0):
        if name not in CORE_BACKENDS:
            raise ValueError(
                f"name must be one of {', '.join(map(repr, CORE_BACKENDS))}; got {name!r}."
            )
        self.name = name
        self.n_threads = int(n_threads)

    @property
    def _kw(self):
        return dict(backend=self.name, n_threads=self.n_threads)

    def resident(self, *arrays):
        """Context manager keeping ``arrays`` on the GPU (``'cuda'`` only);
        see :meth:`Backend.resident`."""
        if self.name != "cuda":
            return super().resident(*arrays)
        keep = _core.DeviceResidency(**self._kw)
        for array in arrays:
            keep.add(np.asarray(array))
        return keep

    def ptp(self, x, axis=-1):
        x = np.asarray(x)
        if x.dtype not in _KERNEL_DTYPES or x.ndim == 0 or x.size == 0:
            return np.ptp(x, axis=axis)  # NumPy's semantics for the odd cases
        if axis is None:
            axes = tuple(range(x.ndim))
        else:
            axes = tuple(sorted({a % x.ndim for a in np.atleast_1d(axis)}))
        kept = [a for a in range(x.ndim) if a not in axes]
        shape = tuple(x.shape[a] for a in kept)
        work = np.transpose(x, kept + list(axes))
        out = _core.ptp(_float64_rows(work, int(np.prod(shape)), x.dtype), **self._kw)
        out = out.reshape(shape)
        return out[()] if out.ndim == 0 else out

    def take_rows(self, x, rows):
        x = np.asarray(x)
        if x.ndim == 0 or not x.flags.c_contiguous or x.dtype.kind not in "biufc":
            return super().take_rows(x, rows)
        return _core.take_rows(x, _rows_index(rows, len(x)), **self._kw)

    def median(self, x, axis=0):
        x = np.asarray(x)
        if x.ndim == 0 or x.dtype not in _KERNEL_DTYPES:
            return np.median(x, axis=axis)
        work = np.moveaxis(x, axis, 0)
        if work.shape[0] == 0 or work[0].size == 0:
            return np.median(x, axis=axis)
        rows = np.arange(work.shape[0], dtype=np.int64)
        out = _core.median_rows(_float64_rows(work, len(work), x.dtype), rows, **self._kw)
        out = out.reshape(work.shape[1:])
        return out[()] if out.ndim == 0 else out

    def median_of_rows(self, x, rows):
        x = np.asarray(x)
        rows = _rows_index(rows, len(x))
        if x.dtype not in _KERNEL_DTYPES or len(rows) == 0 or x[0].size == 0:
            return np.median(x[rows], axis=0)
        out = _core.median_rows(_float64_rows(x, len(x), x.dtype), rows, **self._kw)
        out = out.reshape(x.shape[1:])
        return out[()] if out.ndim == 0 else out

    def prefix_sums(self, data, order, cuts):
        data = np.asarray(data)
        order = np.asarray(order)
        cuts = np.asarray(cuts)
        check_prefix_args(data.shape[0], order, cuts)
        order = _rows_index(order[: cuts[-1]], data.shape[0])
        out = _core.prefix_sums(
            _float64_rows(data, data.shape[0], _kernel_dtype(data)),
            order,
            cuts.astype(np.int64, copy=False),
            **self._kw,
        )
        return out.reshape((len(cuts),) + data.shape[1:])

    def kept_means(self, data, train_idx, train_keys, bounds):
        data = np.asarray(data)
        dtype = _kernel_dtype(data)
        return _core.kept_means(
            _float64_rows(data, data.shape[0], dtype),
            np.asarray(train_idx, dtype=np.int64),
            np.asarray(train_keys, dtype=dtype),
            np.asarray(bounds, dtype=dtype),
            **self._kw,
        )

    def threshold_losses(self, data, train_idx, train_keys, bounds, medians):
        return self._fold_kernel(_core.threshold_losses, data, train_idx, train_keys, bounds, medians)

    def threshold_scores(self, data, train_idx, train_keys, bounds, medians):
        return self._fold_kernel(_core.threshold_scores, data, train_idx, train_keys, bounds, medians)

    def _fold_kernel(self, kernel, data, train_idx, train_keys, bounds, medians):
        """Call ``kernel`` (threshold_losses or threshold_scores) with the
        arrays as the core takes them."""
        data = np.asarray(data)
        medians = np.asarray(medians)
        dtype = _kernel_dtype(data)
        return kernel(
            _float64_rows(data, data.shape[0], dtype),
            np.asarray(train_idx, dtype=np.int64),
            np.asarray(train_keys, dtype=dtype),
            np.asarray(bounds, dtype=dtype),
            _float64_rows(medians, medians.shape[0], dtype),
            **self._kw,
        )

    def ransac_correlations(self, data, mappings, n_resample):
        cols, counts, weights = ransac_subsets(mappings, n_resample)
        dtype = _kernel_dtype(data)
        return _core.ransac_correlations(
            np.ascontiguousarray(data, dtype=dtype),
            cols,
            counts,
            np.ascontiguousarray(weights, dtype=dtype),
            **self._kw,
        )


def rmse_rows(median, means, backend=None):
    """``np.sqrt(np.mean((median - means) ** 2, axis=-1))``, bit for bit.

    Parameters
    ----------
    median : array, shape (n_cols,)
    means : array, shape (n, n_cols)
    backend : CoreBackend | None
        Where the rows are computed (``None``: the backend ``AUTOREJECT_BACKEND``
        or ``'auto'`` names). Every backend gives the same bits.

    Returns
    -------
    rmse : array, shape (n,)
    """
    kw = backend._kw if backend is not None else {}
    return _core.rmse_rows(
        np.ascontiguousarray(median, dtype=np.float64),
        np.ascontiguousarray(means, dtype=np.float64),
        **kw,
    )
