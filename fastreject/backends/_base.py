"""The kernel interface every compute backend implements.

The numpy backend (:mod:`fastreject.backends._numpy`) is the reference: its
float64 results reproduce autoreject 0.5.1 bit for bit, because it performs the
same floating-point operations in the same order (for example, means over
epochs are sequential sums in epoch order, exactly what ``np.mean(x, axis=0)``
does). Other backends must match it to 1e-9 relative in float64 and produce
identical decisions.

Arrays passed in and returned are NumPy arrays unless a method says otherwise;
backends move data to their device internally and may cache it. The only ways
in and out of a backend's own array type are :meth:`Backend.asarray` and
:meth:`Backend.to_numpy`; kernels accept either NumPy arrays or the backend's
own arrays and always return NumPy arrays.
"""

from __future__ import annotations

import numpy as np

#: the kernels every backend provides (checked by the registry and the tests)
KERNELS = (
    "ptp",
    "median",
    "fold_threshold_means",
    "subset_means",
    "interp_apply",
    "ransac_correlations",
)


class Backend:
    """Base class: a named set of kernels.

    Subclasses set ``name`` and implement every method listed in
    :data:`KERNELS`.
    """

    name = "base"
    device = "cpu"
    dtype = "float64"

    def __repr__(self):
        return f"<fastreject backend {self.name!r} device={self.device!r} dtype={self.dtype!r}>"

    def asarray(self, x):
        """Convert ``x`` to this backend's array type, on its device.

        Floating-point input is cast to :attr:`dtype`; integer and boolean
        input keeps its kind.

        Parameters
        ----------
        x : array-like
            NumPy array, nested sequence or an array of this backend.

        Returns
        -------
        arr : array
            An array of this backend (a NumPy array for CPU backends).
        """
        x = np.asarray(x)
        if x.dtype.kind in "fc":
            x = x.astype(self.dtype, copy=False)
        return x

    def to_numpy(self, x):
        """Return ``x`` (an array of this backend) as a NumPy array on the host.

        Parameters
        ----------
        x : array
            An array of this backend, or a NumPy array.

        Returns
        -------
        arr : ndarray
        """
        return np.asarray(x)

    def ptp(self, x, axis=-1):
        """Peak-to-peak amplitude ``max - min`` along ``axis``."""
        raise NotImplementedError

    def median(self, x, axis=0):
        """Median along ``axis`` (mean of the two middle values when even)."""
        raise NotImplementedError

    def fold_threshold_means(self, data, train_idx, train_deltas, threshes):
        """Means of the kept training epochs for many thresholds and folds.

        For fold ``f`` and threshold ``t`` the kept epochs are
        ``train_idx[f][train_deltas[f] <= max(t, train_deltas[f].min())]``
        (in that order) and the result is their mean over epochs, computed as
        a sequential sum in that order divided by the count.

        Parameters
        ----------
        data : array, shape (n_epochs, n_times)
            One channel's data.
        train_idx : list of array of int, length n_folds
            Training indices of each fold, in split order.
        train_deltas : list of array of float, length n_folds
            Peak-to-peak of ``data[train_idx[f]]``.
        threshes : array, shape (n_thresh,)
            Candidate thresholds.

        Returns
        -------
        means : array, shape (n_thresh, n_folds, n_times)
        """
        raise NotImplementedError

    def subset_means(self, data, row_masks):
        """Means over the rows selected by each mask, sequential in row order.

        Parameters
        ----------
        data : array, shape (n_rows, ...)
        row_masks : array of bool, shape (n_sets, n_rows)
            Each mask selects at least one row.

        Returns
        -------
        means : array, shape (n_sets, ...)
        """
        raise NotImplementedError

    def interp_apply(self, matrix, data):
        """Batched ``matrix @ data[e]`` for every epoch ``e``.

        Parameters
        ----------
        matrix : array, shape (n_to, n_from)
        data : array, shape (n_epochs, n_from, n_times)

        Returns
        -------
        out : array, shape (n_epochs, n_to, n_times)
        """
        raise NotImplementedError

    def ransac_correlations(self, data, mappings, n_resample):
        """RANSAC correlation of each channel with its median prediction.

        Parameters
        ----------
        data : array, shape (n_epochs, n_channels, n_times)
        mappings : array, shape (n_resample * n_channels, n_channels)
            Stacked per-resample interpolation matrices (resample-major).
        n_resample : int

        Returns
        -------
        corr : array, shape (n_epochs, n_channels)
            ``sum(x * p) / (||x|| * ||p||)`` over time, where ``p`` is the
            median over resamples of the predictions.
        """
        raise NotImplementedError
