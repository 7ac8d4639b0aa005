"""Reference float64 kernels in NumPy (see :mod:`fastreject.backends._base`)."""

from __future__ import annotations

import numpy as np

from ._base import Backend


class NumpyBackend(Backend):
    """NumPy reference backend (always available)."""

    name = "numpy"

    def ptp(self, x, axis=-1):
        return np.ptp(x, axis=axis)

    def median(self, x, axis=0):
        return np.median(x, axis=axis)

    def fold_threshold_means(self, data, train_idx, train_deltas, threshes):
        threshes = np.asarray(threshes, float)
        out = np.empty((len(threshes), len(train_idx), data.shape[-1]))
        for f, (train, deltas) in enumerate(zip(train_idx, train_deltas)):
            floor = deltas.min()
            for c, thresh in enumerate(threshes):
                keep = deltas <= max(thresh, floor)
                out[c, f] = np.mean(data[train[keep]], axis=0)
        return out

    def subset_means(self, data, row_masks):
        out = np.empty((len(row_masks),) + data.shape[1:])
        for s, mask in enumerate(row_masks):
            out[s] = np.mean(data[mask], axis=0)
        return out

    def interp_apply(self, matrix, data):
        return np.matmul(matrix, data)

    def ransac_correlations(self, data, mappings, n_resample):
        n_epochs, n_channels, n_times = data.shape
        corr = np.empty((n_epochs, n_channels))
        for e in range(n_epochs):
            x = data[e]
            pred = x.T.dot(mappings.T)
            pred = pred.reshape((n_times, n_channels, n_resample), order="F")
            pred = np.median(pred, axis=-1)
            num = np.sum(x.T * pred, axis=0)
            den = np.sqrt(np.sum(x.T ** 2, axis=0)) * np.sqrt(np.sum(pred ** 2, axis=0))
            corr[e] = num / den
        return corr
