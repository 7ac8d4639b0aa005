"""The kernel interface of a compute backend.

The one implementation, :class:`~autoreject_cpp.backends._core.CoreBackend`,
runs the kernels of the compiled C++ core (``autoreject_cpp._core``) on one
of its backends (``'scalar'``, ``'openmp'``, ``'cuda'``). ``ptp``,
``median``, ``prefix_sums``, ``kept_means`` and ``threshold_losses`` give
NumPy's (and so autoreject 0.5.1's) float64 results bit for bit on every
backend; ``ransac_correlations`` agrees with autoreject's loop to about 1e-15
relative (the products are summed in another order); ``interp_apply`` is
NumPy's ``matmul``.

Arrays passed in and returned are NumPy arrays, computed in float64, or in
float32 when the data are float32 (``dtype='float32'``, the estimators'
speed option: the kernels then return float32, and the interpolation
products run in float32 when asked for with ``dtype``).
"""

from __future__ import annotations

import contextlib

import numpy as np

#: good-channel bytes gathered at once by :meth:`Backend.interp_repair` (a
#: few epochs: they stay in the per-core cache between the gather and the
#: product; 2-3 EEGMMIDB epochs measured fastest, 8 or more slower)
REPAIR_CHUNK_BYTES = 2**20

#: the kernels every backend provides (checked by the tests)
KERNELS = (
    "ptp",
    "median",
    "median_of_rows",
    "prefix_sums",
    "kept_means",
    "threshold_losses",
    "threshold_scores",
    "interp_apply",
    "interp_repair",
    "ransac_correlations",
)


class Backend:
    """Base class: a named set of kernels.

    Subclasses set ``name`` and implement every method listed in
    :data:`KERNELS`.
    """

    name = "base"
    #: OpenMP threads of the kernels (0: the OpenMP default)
    n_threads = 0

    def __repr__(self):
        return f"<autoreject_cpp backend {self.name!r} n_threads={self.n_threads}>"

    def resident(self, *arrays):
        """Context manager keeping ``arrays`` where the kernels run, for the
        calls made inside it.

        A backend on a separate device (``'cuda'``) copies each kernel's
        inputs there on every call; inside this block, an input that lies in
        one of ``arrays`` is read from a copy made once. The arrays must not
        be modified inside the block. Results do not depend on it; on the
        processor's backends it does nothing.

        Parameters
        ----------
        *arrays : array
            Arrays the calls inside the block will pass (C-contiguous float64
            or float32 arrays are kept; others would be converted per call
            anyway, and are left alone).

        Returns
        -------
        context : context manager
        """
        return contextlib.nullcontext()

    def ptp(self, x, axis=-1):
        """Peak-to-peak amplitude ``max - min`` along ``axis``."""
        raise NotImplementedError

    def take_rows(self, x, rows):
        """``x[rows]`` along the first axis, as a new C-ordered array.

        Parameters
        ----------
        x : array, shape (n, ...)
        rows : array of int, shape (k,)
            Indices in ``[0, n)``.

        Returns
        -------
        out : array, shape (k, ...)
            Of ``x``'s dtype; never shares memory with ``x``.
        """
        return np.ascontiguousarray(np.asarray(x)[np.asarray(rows, dtype=np.intp)])

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

    def threshold_losses(self, data, train_idx, train_keys, bounds, medians):
        """The threshold search's cross-validated loss of each bound.

        With ``means = kept_means(data, train_idx, train_keys, bounds)``,
        the loss of bound ``c`` is
        ``-mean_f(-sqrt(mean_t((medians[f] - means[c, f]) ** 2)))``, the
        quantity autoreject minimises, with NumPy's floating-point
        operations (its pairwise sums included), bit for bit.

        Parameters
        ----------
        data : array, shape (n_rows, n_times)
        train_idx : array of int, shape (n_folds, n_train)
        train_keys : array, shape (n_folds, n_train)
        bounds : array, shape (n_bounds, n_folds)
            Upper bounds (inclusive) on the keys.
        medians : array, shape (n_folds, n_times)
            The median of each fold's test rows.

        Returns
        -------
        losses : array, shape (n_bounds,)
            NaN where a bound keeps no row in some fold.
        """
        raise NotImplementedError

    def threshold_scores(self, data, train_idx, train_keys, bounds, medians):
        """Each fold's score of each bound, without returning the means.

        ``-sqrt(mean_t((medians[f] - means[c, f]) ** 2))`` with ``means`` as
        in :meth:`threshold_losses`, NumPy's operations bit for bit (the
        fold mean of these, negated, is :meth:`threshold_losses`).

        Parameters
        ----------
        data : array, shape (n_rows, n_times)
        train_idx : array of int, shape (n_folds, n_train)
        train_keys : array, shape (n_folds, n_train)
        bounds : array, shape (n_bounds, n_folds)
            Upper bounds (inclusive) on the keys.
        medians : array, shape (n_folds, n_times)
            The reference each fold's mean is compared with.

        Returns
        -------
        scores : array, shape (n_bounds, n_folds)
            NaN where a bound keeps no row of that fold.
        """
        raise NotImplementedError

    def interp_apply(self, matrix, data):
        """Batched ``matrix @ data[e]`` for every epoch ``e``.

        NumPy's ``matmul`` (BLAS), as autoreject: in the precision NumPy
        promotes the operands to (a float64 matrix gives float64 products).

        Parameters
        ----------
        matrix : array, shape (n_to, n_from)
        data : array, shape (n_epochs, n_from, n_times)

        Returns
        -------
        out : array, shape (n_epochs, n_to, n_times)
        """
        return np.matmul(matrix, data)

    def interp_repair(self, data, epochs, goods, bads, matrix, dtype=None):
        """In place, ``data[e, bads] = matrix @ data[e, goods]`` for each epoch
        ``e`` of ``epochs``, by :meth:`interp_apply`.

        The good channels are gathered a few epochs (about
        :data:`REPAIR_CHUNK_BYTES`) at a time. ``np.matmul`` multiplies each
        epoch on its own, so the values are those of one call on all epochs;
        the gathered good channels stay in cache instead of a fresh array as
        large as the data, whose new pages the kernel would have to zero
        (measured on EEGMMIDB, 196 epochs x 63 channels: 7.6 ms instead of
        22.7 ms).

        Parameters
        ----------
        data : array, shape (n_epochs, n_channels, n_times)
            Modified in place (a private copy of the user's data).
        epochs : array of int
            The epochs to repair.
        goods, bads : array of int
            Channels interpolated from and to (disjoint).
        matrix : array, shape (len(bads), len(goods))
        dtype : dtype | None
            Precision of the products: None (default) as NumPy promotes the
            operands (a float64 matrix on float32 data gives float64 products,
            as autoreject computes them); ``np.float32`` (the estimators'
            ``dtype='float32'``) computes them in float32 (matrix and gathered
            channels cast), also for float64 ``data``.
        """
        if dtype is not None and np.dtype(dtype) == np.float32:
            matrix = np.asarray(matrix, dtype=np.float32)
        epochs = np.asarray(epochs)
        goods, bads = np.asarray(goods), np.asarray(bads)
        per_epoch = max(1, len(goods) * data.shape[-1] * data.itemsize)
        step = max(1, REPAIR_CHUNK_BYTES // per_epoch)
        for start in range(0, len(epochs), step):
            rows = epochs[start : start + step, None]
            gathered = data[rows, goods]
            if gathered.dtype != matrix.dtype and matrix.dtype == np.float32:
                gathered = gathered.astype(np.float32)
            data[rows, bads] = self.interp_apply(matrix, gathered)

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
