"""Numba kernels: the parallel CPU speed path.

Imported only when the ``'numba'`` backend is selected, so ``import
fastreject`` never pays for ``import numba``. Functions are compiled with
``cache=True`` (the compiled code is reused across processes) and without
``fastmath``, so floating-point operations keep IEEE semantics and order.

Agreement with the NumPy reference (float64):

- ``ptp``, ``median``, ``fold_threshold_means``, ``subset_means`` and
  ``interp_apply``: bit-identical. Means are sequential sums over the selected
  rows in row order followed by one division by the count, which is what
  ``np.mean(x, axis=0)`` does; parallelism is across thresholds, folds, sets
  or column blocks, never inside one sum.
- ``ransac_correlations``: the medians are exact order statistics (a sorting
  network), the sparse products and the correlation sums run in another
  order than BLAS, so the result matches to about 1e-15 relative.

Inputs that are not float64, that contain NaN or infinity
(``ransac_correlations``), or with a single value per row (where ``np.mean``
sums pairwise instead of row by row) are handed to the NumPy reference.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._base import Backend
from ._common import (
    fold_tasks,
    median_network,
    padded_rows,
    ransac_subsets,
    scatter_fold_means,
)
from ._numpy import NumpyBackend

#: columns per block in :func:`_subset_means_blocked` (a block of every row
#: stays in cache while each set's mean over it accumulates)
_SUBSET_BLOCK = 1024


@njit(parallel=True, cache=True)
def _ptp_rows(x):  # pragma: no cover - compiled
    n_rows, n = x.shape
    out = np.empty(n_rows)
    for i in prange(n_rows):
        lo = x[i, 0]
        hi = x[i, 0]
        has_nan = lo != lo
        for t in range(1, n):
            v = x[i, t]
            if v < lo:
                lo = v
            if v > hi:
                hi = v
            if v != v:
                has_nan = True
        out[i] = np.nan if has_nan else hi - lo
    return out


@njit(parallel=True, cache=True)
def _median_rows(x):  # pragma: no cover - compiled
    n_rows, n = x.shape
    out = np.empty(n_rows)
    lo, hi = (n - 1) // 2, n // 2
    for i in prange(n_rows):
        s = np.sort(x[i])  # NaN sorts last
        if s[n - 1] != s[n - 1]:
            out[i] = np.nan
        elif lo == hi:
            out[i] = s[lo]
        else:
            out[i] = (s[lo] + s[hi]) / 2
    return out


@njit(parallel=True, cache=True)
def _rows_means(data, rows, lengths):  # pragma: no cover - compiled
    n_sets = rows.shape[0]
    n_times = data.shape[1]
    out = np.empty((n_sets, n_times))
    for k in prange(n_sets):
        n = lengths[k]
        first = rows[k, 0]
        for t in range(n_times):
            out[k, t] = data[first, t]
        for j in range(1, n):
            row = rows[k, j]
            for t in range(n_times):
                out[k, t] += data[row, t]
        for t in range(n_times):
            out[k, t] /= n
    return out


@njit(parallel=True, cache=True)
def _subset_means_blocked(data, rows, lengths, block):  # pragma: no cover
    n_cols = data.shape[1]
    n_sets = rows.shape[0]
    out = np.empty((n_sets, n_cols))
    n_blocks = (n_cols + block - 1) // block
    for b in prange(n_blocks):
        c0 = b * block
        c1 = min(n_cols, c0 + block)
        for s in range(n_sets):
            acc = out[s, c0:c1]
            first = data[rows[s, 0], c0:c1]
            for c in range(c1 - c0):
                acc[c] = first[c]
            for j in range(1, lengths[s]):
                src = data[rows[s, j], c0:c1]
                for c in range(c1 - c0):
                    acc[c] += src[c]
            n = lengths[s]
            for c in range(c1 - c0):
                acc[c] /= n
    return out


@njit(cache=True, inline="always")
def _sparse_row(row, x, cols, w, k):  # pragma: no cover - compiled
    """``row = sum_kk w[kk] * x[cols[kk]]``, summed left to right.

    Four terms per pass over ``row`` (same operations and order as one term
    per pass, fewer loads and stores).
    """
    n_times = row.shape[0]
    if k == 0:
        row[:] = 0.0
        return
    s0 = x[cols[0]]
    w0 = w[0]
    for t in range(n_times):
        row[t] = w0 * s0[t]
    kk = 1
    while kk + 4 <= k:
        s0 = x[cols[kk]]
        s1 = x[cols[kk + 1]]
        s2 = x[cols[kk + 2]]
        s3 = x[cols[kk + 3]]
        w0 = w[kk]
        w1 = w[kk + 1]
        w2 = w[kk + 2]
        w3 = w[kk + 3]
        for t in range(n_times):
            row[t] = (((row[t] + w0 * s0[t]) + w1 * s1[t]) + w2 * s2[t]) + w3 * s3[t]
        kk += 4
    while kk < k:
        s0 = x[cols[kk]]
        w0 = w[kk]
        for t in range(n_times):
            row[t] += w0 * s0[t]
        kk += 1


@njit(parallel=True, cache=True)
def _ransac_corr(data, cols, counts, weights, pairs, lo, hi):  # pragma: no cover
    n_epochs, n_channels, n_times = data.shape
    n_resample = counts.shape[0]
    n_pairs = pairs.shape[0]
    corr = np.empty((n_epochs, n_channels))
    for e in prange(n_epochs):
        x = data[e]
        pred = np.empty((n_resample, n_times))
        for c in range(n_channels):
            # sparse predictions of channel c by every resample
            for r in range(n_resample):
                _sparse_row(pred[r], x, cols[r], weights[r, c], counts[r])
            # exact median over resamples: a sorting network run on all time
            # samples at once (branch-free, vectorised along time)
            for q in range(n_pairs):
                row_i = pred[pairs[q, 0]]
                row_j = pred[pairs[q, 1]]
                for t in range(n_times):
                    a = row_i[t]
                    b = row_j[t]
                    row_i[t] = min(a, b)
                    row_j[t] = max(a, b)
            med_lo = pred[lo]
            med_hi = pred[hi]
            xc = x[c]
            num = 0.0
            sxx = 0.0
            spp = 0.0
            for t in range(n_times):
                if lo == hi:
                    m = med_lo[t]
                else:
                    m = (med_lo[t] + med_hi[t]) / 2
                num += xc[t] * m
                sxx += xc[t] * xc[t]
                spp += m * m
            corr[e, c] = num / (np.sqrt(sxx) * np.sqrt(spp))
    return corr


def _is_int(axis):
    return isinstance(axis, (int, np.integer))


def _is_f8(*arrays):
    return all(np.asarray(a).dtype == np.float64 for a in arrays)


class NumbaBackend(Backend):
    """Parallel, JIT-compiled CPU kernels (requires numba).

    See the module docstring for which kernels are bit-identical to the
    NumPy reference.
    """

    name = "numba"

    def __init__(self):
        self._numpy = NumpyBackend()

    def ptp(self, x, axis=-1):
        x = np.asarray(x)
        if x.dtype != np.float64 or x.ndim == 0 or x.size == 0 or not _is_int(axis):
            return self._numpy.ptp(x, axis)
        axis = axis % x.ndim
        if axis != x.ndim - 1 or not x.flags.c_contiguous:
            return self._numpy.ptp(x, axis)
        return _ptp_rows(x.reshape(-1, x.shape[-1])).reshape(x.shape[:-1])

    def median(self, x, axis=0):
        x = np.asarray(x)
        if x.dtype != np.float64 or x.ndim == 0 or x.size == 0 or not _is_int(axis):
            return self._numpy.median(x, axis)
        moved = np.moveaxis(x, axis, -1)
        rows = np.ascontiguousarray(moved).reshape(-1, moved.shape[-1])
        return _median_rows(rows).reshape(moved.shape[:-1])

    def fold_threshold_means(self, data, train_idx, train_deltas, threshes):
        data = np.asarray(data)
        if data.dtype != np.float64 or data.shape[-1] < 2:
            # one time sample: np.mean sums pairwise, not row by row
            return self._numpy.fold_threshold_means(data, train_idx, train_deltas, threshes)
        rows, slot = fold_tasks(train_idx, train_deltas, threshes)
        n_times = data.shape[-1]
        if rows:
            table, lengths = padded_rows(rows)
            unique = _rows_means(np.ascontiguousarray(data), table, lengths)
        else:
            unique = np.empty((0, n_times))
        return scatter_fold_means(unique, slot, n_times)

    def subset_means(self, data, row_masks):
        data = np.asarray(data)
        masks = np.asarray(row_masks, dtype=bool)
        if data.dtype != np.float64 or data.size == 0 or data.size == data.shape[0]:
            # one value per row: np.mean sums pairwise, not row by row
            return self._numpy.subset_means(data, row_masks)
        if not masks.any(axis=1).all():  # np.mean of nothing: NaN and its warning
            return self._numpy.subset_means(data, row_masks)
        rows, lengths = padded_rows([np.flatnonzero(m) for m in masks])
        flat = np.ascontiguousarray(data).reshape(data.shape[0], -1)
        out = _subset_means_blocked(flat, rows, lengths, _SUBSET_BLOCK)
        return out.reshape((len(masks),) + data.shape[1:])

    def interp_apply(self, matrix, data):
        # BLAS is already the fastest (multi-threaded) batched product
        return np.matmul(matrix, data)

    def ransac_correlations(self, data, mappings, n_resample):
        data = np.asarray(data)
        mappings = np.asarray(mappings)
        if (
            not _is_f8(data, mappings)
            or data.size == 0
            or not (np.isfinite(data).all() and np.isfinite(mappings).all())
        ):
            return self._numpy.ransac_correlations(data, mappings, n_resample)
        cols, counts, weights = ransac_subsets(mappings, n_resample)
        pairs, lo, hi = median_network(n_resample)
        return _ransac_corr(np.ascontiguousarray(data), cols, counts, weights, pairs, lo, hi)
