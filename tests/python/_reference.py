"""NumPy reference kernels, for the tests only.

These are the kernels of the former pure-NumPy backend (``NumpyBackend`` of
fastreject, autoreject_cpp's predecessor), kept here as the reference the
compiled core is compared with: ``ptp``, ``median`` and ``interp_apply``
perform autoreject 0.5.1's own floating-point operations, ``kept_means`` its
epoch-order ``np.mean``, and ``prefix_sums`` NumPy's ``reduceat`` + ``cumsum``.
The core must reproduce each of them bit for bit, except
``ransac_correlations`` (products summed in another order: about 1e-15
relative).
"""

# License: BSD-3-Clause

from __future__ import annotations

import numpy as np

from autoreject_cpp.backends._common import check_prefix_args, ransac_subsets

#: float64 elements of one RANSAC prediction buffer (32 MiB)
RANSAC_CHUNK_ELEMENTS = 2**22


class NumpyReference:
    """The reference kernels (see :mod:`autoreject_cpp.backends._base`)."""

    name = "numpy"

    def ptp(self, x, axis=-1):
        return np.ptp(x, axis=axis)

    def median(self, x, axis=0):
        return np.median(x, axis=axis)

    def median_of_rows(self, x, rows):
        return np.median(np.asarray(x)[np.asarray(rows)], axis=0)

    def prefix_sums(self, data, order, cuts):
        cuts = np.asarray(cuts, dtype=np.intp)
        order = np.asarray(order)
        data = np.asarray(data)
        check_prefix_args(data.shape[0], order, cuts)
        selected = data[order[: cuts[-1]]]
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

    def threshold_losses(self, data, train_idx, train_keys, bounds, medians):
        scores = self.threshold_scores(data, train_idx, train_keys, bounds, medians)
        return -np.mean(scores, axis=-1)

    def threshold_scores(self, data, train_idx, train_keys, bounds, medians):
        means = self.kept_means(data, train_idx, train_keys, bounds)
        with np.errstate(invalid="ignore"):
            return -np.sqrt(np.mean((medians[None] - means) ** 2, axis=-1))

    def interp_apply(self, matrix, data):
        return np.matmul(matrix, data)

    def interp_repair(self, data, epochs, goods, bads, matrix):
        rows = np.asarray(epochs)[:, None]
        data[rows, np.asarray(bads)] = np.matmul(matrix, data[rows, np.asarray(goods)])

    def ransac_correlations(self, data, mappings, n_resample):
        data = np.asarray(data, dtype=np.float64)
        n_epochs, n_channels, n_times = data.shape
        subsets = ransac_subsets(mappings, n_resample)
        chunk = max(1, RANSAC_CHUNK_ELEMENTS // max(n_channels * n_times * n_resample, 1))
        corr = np.empty((n_epochs, n_channels))
        for start in range(0, n_epochs, chunk):
            stop = min(start + chunk, n_epochs)
            corr[start:stop] = ransac_chunk(data[start:stop], subsets)
        return corr


def rmse_rows(median, means):
    """``np.sqrt(np.mean((median - means) ** 2, axis=-1))``."""
    return np.sqrt(np.mean((median - means) ** 2, axis=-1))


def ransac_chunk(data, subsets):
    """RANSAC correlations of a few epochs from sparse per-resample products."""
    cols, counts, weights = subsets
    n_resample = len(counts)
    n_epochs, n_channels, n_times = data.shape
    n = n_epochs * n_times
    lo, hi = (n_resample - 1) // 2, n_resample // 2
    # x_t[(e, t), k] = data[e, k, t]
    x_t = np.ascontiguousarray(data.transpose(0, 2, 1)).reshape(n, n_channels)
    pred = np.empty((n, n_channels, n_resample))
    for r in range(n_resample):
        k = counts[r]
        pred[:, :, r] = x_t[:, cols[r, :k]] @ weights[r, :, :k].T
    pred.sort(axis=-1)  # exact order statistics; NaN sorts last
    if lo == hi:
        med = pred[:, :, lo].copy()
    else:
        med = (pred[:, :, lo] + pred[:, :, hi]) / 2
    med[np.isnan(pred[:, :, -1])] = np.nan  # as np.median
    med = med.reshape(n_epochs, n_times, n_channels)
    x_t = x_t.reshape(n_epochs, n_times, n_channels)
    num = np.sum(x_t * med, axis=1)
    den = np.sqrt(np.sum(x_t**2, axis=1)) * np.sqrt(np.sum(med**2, axis=1))
    return num / den


def ransac_loop(data, mappings, n_resample):
    """autoreject 0.5.1's epoch-by-epoch RANSAC correlations."""
    n_epochs, n_channels, n_times = data.shape
    corr = np.empty((n_epochs, n_channels))
    for e in range(n_epochs):
        x = data[e]
        pred = x.T.dot(mappings.T)
        pred = pred.reshape((n_times, n_channels, n_resample), order="F")
        pred = np.median(pred, axis=-1)
        num = np.sum(x.T * pred, axis=0)
        den = np.sqrt(np.sum(x.T**2, axis=0)) * np.sqrt(np.sum(pred**2, axis=0))
        corr[e] = num / den
    return corr
