"""The kernel interface every compute backend implements.

The numpy backend (:mod:`autoreject_cpp.backends._numpy`) is the reference. Its
``ptp``, ``median`` and ``interp_apply`` perform autoreject 0.5.1's own
operations; means over epochs are computed from sorted prefix sums
(:meth:`Backend.prefix_sums`), so they equal autoreject's epoch-order means to
about 1e-15 relative, and every decision is identical. Other backends must
match the numpy backend to 1e-9 relative in float64 and produce identical
decisions.

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
    "prefix_sums",
    "kept_means",
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

    # -- device memory (used by the device backends' kernels) --------------
    def _free_memory(self):
        """Free device memory in bytes, or None when unknown (host memory)."""
        return None

    def _release(self):
        """Release cached device memory before a retry (no-op by default)."""

    def _chunked(self, kernel, func, n, item_elements, **kwargs):
        """:func:`~autoreject_cpp.backends._common.run_in_chunks` with this
        backend's memory budget, retry hook and messages.

        ``item_elements`` is the number of elements of the backend's dtype
        one item needs on the device.
        """
        from ._common import memory_budget, run_in_chunks

        return run_in_chunks(
            func,
            n,
            item_elements * np.dtype(self.dtype).itemsize,
            budget=memory_budget(self._free_memory),
            label=f"{self.name}:{self.device} {kernel}",
            on_oom=self._release,
            **kwargs,
        )

    def _chunked_ransac(self, part, n_epochs, n_channels, n_times, n_resample):
        """:meth:`_chunked` for ``ransac_correlations``, split by epochs.

        An epoch needs its predictions and gathered inputs per resample plus
        a few arrays of its size; chunks also stay within
        :func:`~autoreject_cpp.backends._common.ransac_chunk`.
        """
        from ._common import ransac_chunk

        per_epoch = (2 * n_resample + 4) * n_channels * n_times
        return self._chunked(
            "ransac_correlations",
            part,
            n_epochs,
            per_epoch,
            unit="epochs",
            max_chunk=ransac_chunk(n_channels, n_times, n_resample),
        )

    def __repr__(self):
        return f"<autoreject_cpp backend {self.name!r} device={self.device!r} dtype={self.dtype!r}>"

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

    def median_of_rows(self, x, rows):
        """``median(x[rows], axis=0)``; backends may avoid gathering the rows.

        Parameters
        ----------
        x : array, shape (n_rows, ...)
        rows : array of int
            The rows the median is taken over.
        """
        return self.median(np.asarray(x)[np.asarray(rows)], axis=0)

    def prefix_sums(self, data, order, cuts):
        """Cumulative sums of ``data`` rows taken in ``order``, at ``cuts``.

        ``out[i]`` is the sum of ``data[order[:cuts[i]]]``. This is how every
        "mean of the kept epochs" of autoreject_cpp is computed: rows are ordered
        so that each candidate (threshold, consensus) keeps a prefix, and one
        pass gives the sums of all candidates. Results equal autoreject's
        epoch-order sums up to rounding (about 1e-15 relative).

        Parameters
        ----------
        data : array, shape (n_rows, ...)
        order : array of int, shape (n_selected,)
            Rows in summation order.
        cuts : array of int, shape (n_cuts,)
            Strictly increasing prefix lengths, each in ``[1, n_selected]``.

        Returns
        -------
        sums : array, shape (n_cuts, ...)
        """
        raise NotImplementedError

    def kept_means(self, data, train_idx, train_keys, bounds):
        """Exact means of the training rows whose key is within a bound.

        For fold ``f`` and bound ``c`` the kept rows are
        ``train_idx[f][train_keys[f] <= bounds[c, f]]``, in that order, and the
        mean is their sequential sum in that order divided by their count,
        exactly the floating-point operations of ``np.mean(x, axis=0)``.
        The threshold search needs this bit-exactness: autoreject's Gaussian
        process proposes candidates from a nearly singular kernel, and a
        1-ulp change of one loss can change its next proposal.

        Backends without a bit-identical kernel of their own run the NumPy
        one on the host.

        Parameters
        ----------
        data : array, shape (n_rows, n_times)
        train_idx : array of int, shape (n_folds, n_train)
        train_keys : array, shape (n_folds, n_train)
        bounds : array, shape (n_bounds, n_folds)
            Upper bounds (inclusive) on the keys.

        Returns
        -------
        means : array, shape (n_bounds, n_folds, n_times)
            NaN where a bound keeps no row.
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

    def interp_repair(self, data, epochs, goods, bads, matrix):
        """In place, ``data[e, bads] = matrix @ data[e, goods]`` for each epoch
        ``e`` of ``epochs``, by :meth:`interp_apply`.

        The default gathers the good channels of every listed epoch at once
        (one transfer for device backends); the host backends gather a few
        epochs at a time instead (the same products, see
        :meth:`NumpyBackend.interp_repair`).

        Parameters
        ----------
        data : array, shape (n_epochs, n_channels, n_times)
            Modified in place (a private copy of the user's data).
        epochs : array of int
            The epochs to repair.
        goods, bads : array of int
            Channels interpolated from and to (disjoint).
        matrix : array, shape (len(bads), len(goods))
        """
        rows = np.asarray(epochs)[:, None]
        bads = np.asarray(bads)
        data[rows, bads] = self.interp_apply(matrix, data[rows, np.asarray(goods)])

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
