"""Reference float64 kernels in NumPy (see :mod:`autoreject_cpp.backends._base`).

The other backends are tested against these kernels. ``ptp``, ``median`` and
``interp_apply`` perform exactly the floating-point operations of autoreject
0.5.1. ``prefix_sums`` (from which every mean over kept epochs is computed)
sums each segment between consecutive cuts row by row in ``order``, then takes
a running total of the segments; the resulting means equal autoreject's
epoch-order ``np.mean`` to about 1e-15 relative, and decisions are identical.
``ransac_correlations`` computes the same quantities faster (sparse
products, one sort per chunk of epochs) and agrees with autoreject's
epoch-by-epoch loop to about 1e-15 relative: the products are summed in a
different order, while the medians are exact order statistics.
"""

from __future__ import annotations

import numpy as np

from ._base import Backend
from ._common import (
    HOST_RANSAC_CHUNK_ELEMENTS,
    check_prefix_args,
    ransac_chunk,
    ransac_subsets,
)

#: good-channel bytes gathered at once by :meth:`NumpyBackend.interp_repair`
#: (a few epochs: they stay in the per-core cache between the gather and the
#: product; 2-3 EEGMMIDB epochs measured fastest, 8 or more slower)
REPAIR_CHUNK_BYTES = 2**20


class NumpyBackend(Backend):
    """NumPy reference backend (always available)."""

    name = "numpy"

    def ptp(self, x, axis=-1):
        return np.ptp(x, axis=axis)

    def median(self, x, axis=0):
        x = np.asarray(x)
        n = x.shape[axis] if x.ndim else 0
        if n == 0 or x.dtype.kind != "f":
            return np.median(x, axis=axis)
        # np.median partitions along ``axis`` in place of a copy and also
        # moves NaNs to the end; partitioning a contiguous copy along the last
        # axis at the two middle ranks gives the same order statistics, and
        # their mean is computed as numpy does ((a + b) / 2, or a / 1).
        work = np.ascontiguousarray(np.moveaxis(x, axis, -1))
        lo, hi = (n - 1) // 2, n // 2
        work.partition((lo, hi) if hi != lo else lo, axis=-1)
        if lo == hi:
            out = work[..., lo].copy()
        else:
            out = (work[..., lo] + work[..., hi]) / 2
        has_nan = np.isnan(x).any(axis=axis)
        if np.any(has_nan):
            out = np.where(has_nan, np.nan, out)
        return out[()] if out.ndim == 0 else out

    def prefix_sums(self, data, order, cuts):
        cuts = np.asarray(cuts, dtype=np.intp)
        order = np.asarray(order)
        data = np.asarray(data)
        check_prefix_args(data.shape[0], order, cuts)
        selected = data[order[: cuts[-1]]]
        if len(cuts) == cuts[-1]:  # every prefix: a plain running total
            # row-by-row in place: same sums as np.cumsum(axis=0), but
            # np.cumsum walks axis 0 slowly (about 3x slower here)
            rows = selected.reshape(len(selected), -1)
            for i in range(1, len(rows)):
                np.add(rows[i], rows[i - 1], out=rows[i])
            return selected
        # segment sums between consecutive cuts, then a running total
        segments = np.add.reduceat(selected, np.r_[0, cuts[:-1]], axis=0)
        return np.cumsum(segments, axis=0)

    def kept_means(self, data, train_idx, train_keys, bounds):
        data = np.asarray(data)
        train_idx = np.asarray(train_idx)
        out = np.empty((len(bounds), len(train_idx), data.shape[-1]))
        for f, (rows, keys) in enumerate(zip(train_idx, np.asarray(train_keys))):
            for c in range(len(bounds)):
                kept = rows[keys <= bounds[c, f]]
                out[c, f] = np.mean(data[kept], axis=0) if len(kept) else np.nan
        return out

    def interp_apply(self, matrix, data):
        return np.matmul(matrix, data)

    def interp_repair(self, data, epochs, goods, bads, matrix):
        """:meth:`Backend.interp_repair` a few epochs (about
        :data:`REPAIR_CHUNK_BYTES` of good channels) at a time.

        ``np.matmul`` multiplies each epoch on its own, so the values are
        those of one call on all epochs; the gathered good channels stay in
        cache instead of a fresh array as large as the data, whose new pages
        the kernel would have to zero (measured on EEGMMIDB, 196 epochs x 63
        channels: 7.6 ms instead of 22.7 ms).
        """
        epochs = np.asarray(epochs)
        goods, bads = np.asarray(goods), np.asarray(bads)
        per_epoch = max(1, len(goods) * data.shape[-1] * data.itemsize)
        step = max(1, REPAIR_CHUNK_BYTES // per_epoch)
        for start in range(0, len(epochs), step):
            super().interp_repair(data, epochs[start : start + step], goods, bads, matrix)

    def ransac_correlations(self, data, mappings, n_resample):
        data = np.asarray(data, dtype=np.float64)
        n_epochs, n_channels, n_times = data.shape
        subsets = ransac_subsets(mappings, n_resample)
        n_workers = max(1, min(_cpu_count(), n_epochs))
        chunk = ransac_chunk(
            n_channels, n_times, n_resample * n_workers, HOST_RANSAC_CHUNK_ELEMENTS
        )
        n_workers = max(1, min(n_workers, -(-n_epochs // chunk)))
        corr = np.empty((n_epochs, n_channels))
        starts = list(range(0, n_epochs, chunk))

        def work(worker):
            buf = np.empty((chunk * n_times, n_channels, n_resample))
            tmp = np.empty((chunk * n_times, n_channels))
            for start in starts[worker::n_workers]:
                stop = min(start + chunk, n_epochs)
                corr[start:stop] = _ransac_chunk(data[start:stop], subsets, buf, tmp)

        # small BLAS products thrash when BLAS threads compete; one BLAS
        # thread per worker, one worker per core (NumPy releases the GIL)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            if n_workers == 1:
                work(0)
            else:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(n_workers) as pool:
                    list(pool.map(work, range(n_workers)))
        return corr


def _cpu_count():
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _ransac_chunk(data, subsets, buf, tmp):
    """RANSAC correlations of a few epochs, using preallocated buffers."""
    cols, counts, weights = subsets
    n_resample = len(counts)
    n_epochs, n_channels, n_times = data.shape
    n = n_epochs * n_times
    lo, hi = (n_resample - 1) // 2, n_resample // 2
    # x_t[(e, t), k] = data[e, k, t]
    x_t = np.ascontiguousarray(data.transpose(0, 2, 1)).reshape(n, n_channels)
    pred = buf[:n]
    for r in range(n_resample):
        k = counts[r]
        np.matmul(x_t[:, cols[r, :k]], weights[r, :, :k].T, out=tmp[:n])
        pred[:, :, r] = tmp[:n]
    pred.sort(axis=-1)  # exact order statistics; NaN sorts last
    if lo == hi:
        med = pred[:, :, lo].copy()
    else:
        med = pred[:, :, lo] + pred[:, :, hi]
        med /= 2
    med[np.isnan(pred[:, :, -1])] = np.nan  # as np.median
    med = med.reshape(n_epochs, n_times, n_channels)
    x_t = x_t.reshape(n_epochs, n_times, n_channels)
    num = np.sum(x_t * med, axis=1)
    den = np.sqrt(np.sum(x_t**2, axis=1)) * np.sqrt(np.sum(med**2, axis=1))
    return num / den
