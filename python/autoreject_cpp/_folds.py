"""Means of the training epochs a rule keeps, for many rules and folds at once.

Every cross-validated loss of autoreject has the same shape: in each fold,
keep the training epochs whose *key* (a peak-to-peak amplitude, a bad-sensor
count, ...) is below a bound, average them, and compare the mean with the
median of the test epochs. autoreject recomputes each mean from scratch for
every bound and fold.

Here the epochs are sorted by key once: the epochs a bound keeps are then a
prefix, so cumulative sums give every bound's sum in one pass. A fold's
training sum is the sum over all epochs minus the sum over its test epochs,
so only two passes over the data serve every fold. The result equals
autoreject's epoch-order means up to rounding (about 1e-15 relative), and
identical kept sets always give identical sums.
"""

from __future__ import annotations

import numpy as np


def _sum_dtype(data):
    """float32 for float32 data (the float32 kernels), else float64."""
    return np.float32 if np.asarray(data).dtype == np.float32 else np.float64


class _SortedPrefix:
    """Cumulative sums of rows sorted by key, at selected prefix lengths."""

    def __init__(self, data, rows, key, backend, bounds=None, side="right"):
        order = np.argsort(key[rows], kind="stable")
        self.rows = np.asarray(rows)[order]
        self.keys = key[self.rows]
        self.side = side
        n = len(self.rows)
        if bounds is None:
            cuts = np.arange(1, n + 1)
        else:
            cuts = np.unique(np.searchsorted(self.keys, bounds, side=side))
            cuts = cuts[cuts > 0]
        self.cuts = np.r_[0, cuts]
        # float32 data (dtype='float32') keep float32 sums
        sums = np.zeros((len(self.cuts),) + data.shape[1:], dtype=_sum_dtype(data))
        if len(cuts):
            sums[1:] = backend.prefix_sums(data, self.rows, cuts)
        self.sums = sums

    def counts(self, bounds):
        return np.searchsorted(self.keys, bounds, side=self.side)

    def sums_at(self, counts):
        # ``counts`` are always among the stored cuts
        return self.sums[np.searchsorted(self.cuts, counts)]


class FoldMeans:
    """Per-fold means of the training rows with ``key`` below bounds.

    Parameters
    ----------
    data : array, shape (n_rows, ...)
        The rows to average.
    key : array, shape (n_rows,)
        Sort key of each row.
    splits : list of (train, test)
        Cross-validation folds; train and test partition the rows used.
    backend : Backend
        Computes the prefix sums.
    bounds : array | None
        When known in advance, the bounds that will be asked for (only the
        needed prefixes are summed); None keeps every prefix.
    side : 'right' | 'left'
        ``'right'`` keeps rows with ``key <= bound``, ``'left'`` rows with
        ``key < bound``.
    """

    def __init__(self, data, key, splits, backend, bounds=None, side="right"):
        key = np.asarray(key)
        used = np.unique(np.concatenate([np.r_[train, test] for train, test in splits]))
        self.all = _SortedPrefix(data, used, key, backend, bounds, side)
        self.tests = [_SortedPrefix(data, test, key, backend, bounds, side) for _, test in splits]
        self.n_folds = len(splits)

    def means(self, fold, bounds):
        """Means of fold ``fold``'s kept training rows for each bound.

        Returns
        -------
        counts : array of int, shape (n_bounds,)
            Number of kept training rows (means are NaN where 0).
        means : array, shape (n_bounds, ...)
        """
        bounds = np.asarray(bounds, float)
        test = self.tests[fold]
        k_all, k_test = self.all.counts(bounds), test.counts(bounds)
        counts = k_all - k_test
        sums = self.all.sums_at(k_all) - test.sums_at(k_test)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / counts.reshape((-1,) + (1,) * (sums.ndim - 1))
        return counts, means


def padded_folds(trains, keys):
    """Training indices and keys of all folds as rectangular arrays.

    Folds may differ in size (``KFold`` on a count not divisible by the number
    of folds); shorter ones are padded with row 0 and an infinite key, which
    no bound keeps.

    Returns
    -------
    train_idx : array of int, shape (n_folds, max_train)
    train_keys : array, shape (n_folds, max_train)
    """
    width = max(len(t) for t in trains)
    train_idx = np.zeros((len(trains), width), dtype=np.int64)
    train_keys = np.full((len(trains), width), np.inf)
    for f, train in enumerate(trains):
        train_idx[f, : len(train)] = train
        train_keys[f, : len(train)] = keys[train]
    return train_idx, train_keys


def rmse_to(median, means, backend=None):
    """Root-mean-square difference of each mean with ``median``.

    Parameters
    ----------
    median : array, shape (...)
    means : array, shape (n, ...)
    backend : CoreBackend | None
        Where the rows are computed (see
        :func:`autoreject_cpp.backends._core.rmse_rows`).

    Returns
    -------
    rmse : array, shape (n,)
    """
    from .backends._core import rmse_rows

    n_cols = int(np.prod(median.shape))
    if len(means) == 0:
        return np.empty(0)
    # the same elementwise differences, flattened: NumPy's reductions, bit for bit
    return rmse_rows(
        np.reshape(median, n_cols), np.reshape(means, (len(means), n_cols)), backend
    )
