"""Numba kernels: the parallel CPU speed path.

Imported only when the ``'numba'`` backend is selected, so ``import
fastreject`` never pays for ``import numba``. Functions are compiled with
``cache=True`` (the compiled code is reused across processes) and without
``fastmath``, so floating-point operations keep IEEE semantics and order,
and ask LLVM for 512-bit vectors where the CPU has them
(:func:`_wide_vectors`).

Agreement with the NumPy reference (float64):

- ``ptp``, ``median``, ``prefix_sums`` and ``interp_apply``: bit-identical
  (``median`` along the first axis runs a median selection network on
  column blocks: exact order statistics, mean of the two middle ones as
  NumPy computes it).
  ``prefix_sums`` performs the reference's operations in its order (each
  segment between consecutive cuts summed as ``np.add.reduceat`` does: its
  first row plus NumPy's pairwise sum of the others; then a running total of
  the segments); parallelism is across column blocks, never inside one sum.
- ``ransac_correlations``: the medians are exact order statistics (a sorting
  network), the sparse products and the correlation sums run in another
  order than BLAS, so the result matches to about 1e-15 relative.

Inputs that are not float64, that contain NaN or infinity
(``ransac_correlations``), or that are one-dimensional (``prefix_sums``) are
handed to the NumPy reference.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

from ._base import Backend
from ._common import check_prefix_args, median_network, ransac_subsets
from ._numpy import NumpyBackend

#: the LLVM function attribute set by :func:`_wide_vectors`
_WIDE_VECTORS_ATTRIBUTE = '"prefer-vector-width"="512"'


@intrinsic
def _wide_vectors(typingctx):
    """Let LLVM vectorise the calling compiled function with 512-bit registers.

    On Intel CPUs with AVX-512, LLVM's cost model prefers 256-bit vectors
    unless a function says otherwise (``clang -mprefer-vector-width=512``
    does it with this attribute); AMD's and the other targets already use
    their widest registers. The kernels here have no reassociated floating
    point sums (no ``fastmath``), so the vector width changes their speed,
    never a bit of their results. Called inside a ``prange`` body it marks
    the parallel loop's function. When llvmlite does not accept the
    attribute, compilation goes on without it.
    """

    def codegen(context, builder, signature, args):
        try:
            # llvmlite only validates LLVM's keyword attributes in ``add``
            set.add(builder.function.attributes, _WIDE_VECTORS_ATTRIBUTE)
        except Exception:  # pragma: no cover - another llvmlite layout
            pass
        return context.get_dummy_value()

    return types.void(), codegen


@functools.lru_cache(maxsize=16)
def _median_plan(n):
    return median_network(n)


#: columns per block of :func:`_prefix_sums_blocked`, at most (a block of
#: the running sums stays in cache while the rows stream through)
_PREFIX_BLOCK = 256
#: columns per block, at least (smaller blocks cost more than they share)
_PREFIX_MIN_BLOCK = 64


@njit(cache=True, inline="always")
def _lower(v, m):  # pragma: no cover - compiled
    """The smaller of ``v`` and ``m``, ``m`` when ``v`` is NaN (a select that
    LLVM vectorises, unlike a branch)."""
    return v if v < m else m


@njit(cache=True, inline="always")
def _higher(v, m):  # pragma: no cover - compiled
    return v if v > m else m


@njit(parallel=True, cache=True)
def _ptp_rows(x):  # pragma: no cover - compiled
    """``max - min`` of each row; NaN for rows holding a NaN.

    The extremes of a row are exact whatever the order of the comparisons,
    so each row runs in eight interleaved lanes (the lanes are whole SSA
    values, which LLVM packs into one vector register; a minimum over one
    running value is a chain it cannot vectorise without fast-math). NaNs
    never win a comparison and are flagged separately.
    """
    n_rows, n = x.shape
    out = np.empty(n_rows)
    for i in prange(n_rows):
        _wide_vectors()
        row = x[i]
        lo0 = lo1 = lo2 = lo3 = lo4 = lo5 = lo6 = lo7 = row[0]
        hi0 = hi1 = hi2 = hi3 = hi4 = hi5 = hi6 = hi7 = row[0]
        nan = row[0] != row[0]
        m = n - n % 8
        for t in range(0, m, 8):
            v0, v1, v2, v3 = row[t], row[t + 1], row[t + 2], row[t + 3]
            v4, v5, v6, v7 = row[t + 4], row[t + 5], row[t + 6], row[t + 7]
            lo0, lo1 = _lower(v0, lo0), _lower(v1, lo1)
            lo2, lo3 = _lower(v2, lo2), _lower(v3, lo3)
            lo4, lo5 = _lower(v4, lo4), _lower(v5, lo5)
            lo6, lo7 = _lower(v6, lo6), _lower(v7, lo7)
            hi0, hi1 = _higher(v0, hi0), _higher(v1, hi1)
            hi2, hi3 = _higher(v2, hi2), _higher(v3, hi3)
            hi4, hi5 = _higher(v4, hi4), _higher(v5, hi5)
            hi6, hi7 = _higher(v6, hi6), _higher(v7, hi7)
            nan |= (((v0 != v0) | (v1 != v1)) | ((v2 != v2) | (v3 != v3))) | (
                ((v4 != v4) | (v5 != v5)) | ((v6 != v6) | (v7 != v7))
            )
        for t in range(m, n):
            v = row[t]
            lo0, hi0 = _lower(v, lo0), _higher(v, hi0)
            nan |= v != v
        lo = _lower(_lower(lo1, lo0), _lower(lo3, lo2))
        lo = _lower(lo, _lower(_lower(lo5, lo4), _lower(lo7, lo6)))
        hi = _higher(_higher(hi1, hi0), _higher(hi3, hi2))
        hi = _higher(hi, _higher(_higher(hi5, hi4), _higher(hi7, hi6)))
        out[i] = np.nan if nan else hi - lo
    return out


@njit(cache=True)
def _pairwise_rows(data, order, lo, n, c0, res, r):  # pragma: no cover - compiled
    """``res = sum(data[order[lo:lo + n], c0:c0 + len(res)], axis=0)``.

    NumPy's pairwise summation (``pairwise_sum`` of its add loops) column by
    column, vectorised along the columns: below 8 terms a plain sum, up to
    128 eight interleaved accumulators, above that two halves (the first a
    multiple of 8 long). ``r`` is scratch of shape (8, len(res)).
    """
    _wide_vectors()
    w = res.shape[0]
    if n < 8:
        for c in range(w):
            res[c] = -0.0
        for i in range(lo, lo + n):
            src = data[order[i]]
            for c in range(w):
                res[c] += src[c0 + c]
    elif n <= 128:
        for k in range(8):
            src = data[order[lo + k]]
            for c in range(w):
                r[k, c] = src[c0 + c]
        i = 8
        m = n - n % 8
        while i < m:
            for k in range(8):
                src = data[order[lo + i + k]]
                for c in range(w):
                    r[k, c] += src[c0 + c]
            i += 8
        for c in range(w):
            res[c] = ((r[0, c] + r[1, c]) + (r[2, c] + r[3, c])) + (
                (r[4, c] + r[5, c]) + (r[6, c] + r[7, c])
            )
        while i < n:
            src = data[order[lo + i]]
            for c in range(w):
                res[c] += src[c0 + c]
            i += 1
    else:
        n2 = n // 2
        n2 -= n2 % 8
        _pairwise_rows(data, order, lo, n2, c0, res, r)
        tmp = np.empty(w)
        _pairwise_rows(data, order, lo + n2, n - n2, c0, tmp, r)
        for c in range(w):
            res[c] += tmp[c]


@njit(parallel=True, cache=True)
def _prefix_sums_blocked(data, order, cuts, block):  # pragma: no cover - compiled
    n_cols = data.shape[1]
    n_cuts = cuts.shape[0]
    out = np.empty((n_cuts, n_cols))
    n_blocks = (n_cols + block - 1) // block
    for b in prange(n_blocks):
        _wide_vectors()
        c0 = b * block
        w = min(n_cols, c0 + block) - c0
        scratch = np.empty((8, w))
        rest = np.empty(w)
        start = 0
        for i in range(n_cuts):
            # segment sum as np.add.reduceat: its first row, plus the
            # pairwise sum of the others
            acc = out[i, c0 : c0 + w]
            first = data[order[start]]
            n = cuts[i] - start
            if n > 1:
                _pairwise_rows(data, order, start + 1, n - 1, c0, rest, scratch)
                for c in range(w):
                    acc[c] = first[c0 + c] + rest[c]
            else:
                for c in range(w):
                    acc[c] = first[c0 + c]
            # running total of the segments, as np.cumsum
            if i > 0:
                prev = out[i - 1, c0 : c0 + w]
                for c in range(w):
                    acc[c] = prev[c] + acc[c]
            start = cuts[i]
    return out


#: time samples per block of :func:`_ransac_corr`: the predictions of every
#: resample for one block (50 x 96 doubles) stay in the level-1 cache while
#: the median network runs over them
_RANSAC_BLOCK = 96


@njit(cache=True, inline="always")
def _run_network(rows, pairs, width):  # pragma: no cover - compiled
    """Apply the comparators ``pairs`` to the first ``width`` columns of
    ``rows``: after each, row ``i`` holds the smaller value (branch-free,
    vectorised along the columns)."""
    for q in range(pairs.shape[0]):
        row_i = rows[pairs[q, 0]]
        row_j = rows[pairs[q, 1]]
        for t in range(width):
            a = row_i[t]
            v = row_j[t]
            row_i[t] = min(a, v)
            row_j[t] = max(a, v)


@njit(cache=True, inline="always")
def _sparse_block(row, x, cols, w, k, t0):  # pragma: no cover - compiled
    """``row = sum_kk w[kk] * x[cols[kk], t0:t0 + len(row)]``, left to right.

    Up to four terms per pass over ``row`` (the same operations in the same
    order as one term per pass, with fewer loads and stores of ``row``).
    ``x`` is padded so the block fits.
    """
    n = _RANSAC_BLOCK
    if k == 0:
        for t in range(n):
            row[t] = 0.0
        return
    # first pass: the first (up to) four terms, without reading ``row``
    s0 = x[cols[0]]
    w0 = w[0]
    if k >= 4:
        s1 = x[cols[1]]
        s2 = x[cols[2]]
        s3 = x[cols[3]]
        w1 = w[1]
        w2 = w[2]
        w3 = w[3]
        for t in range(n):
            row[t] = ((w0 * s0[t0 + t] + w1 * s1[t0 + t]) + w2 * s2[t0 + t]) + w3 * s3[t0 + t]
        kk = 4
    else:
        for t in range(n):
            row[t] = w0 * s0[t0 + t]
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
        for t in range(n):
            row[t] = (
                ((row[t] + w0 * s0[t0 + t]) + w1 * s1[t0 + t]) + w2 * s2[t0 + t]
            ) + w3 * s3[t0 + t]
        kk += 4
    while kk < k:
        s0 = x[cols[kk]]
        w0 = w[kk]
        for t in range(n):
            row[t] += w0 * s0[t0 + t]
        kk += 1


#: doubles per memory page, and the gap between the epoch and the
#: predictions in :func:`_ransac_corr`'s buffer (measured, any of 0-320 did)
_PAGE_DOUBLES = 512
_PRED_OFFSET = 64


@njit(parallel=True, cache=True)
def _ransac_corr(data, cols, counts, weights, pairs, lo, hi):  # pragma: no cover
    n_epochs, n_channels, n_times = data.shape
    n_resample = counts.shape[0]
    block = _RANSAC_BLOCK
    n_blocks = (n_times + block - 1) // block
    corr = np.empty((n_epochs, n_channels))
    n_x = n_channels * n_blocks * block
    for e in prange(n_epochs):
        _wide_vectors()
        # the epoch, zero-padded to whole blocks, and the predictions in one
        # page-aligned buffer. With two separate arrays the kernel ran up to
        # 1.4x slower in some processes than in others, depending on where
        # malloc put them (most likely stores to the predictions aliasing
        # loads of the epoch in the low address bits); with one buffer it
        # runs at the fast speed in every process.
        buf = np.zeros(n_x + _PAGE_DOUBLES + _PRED_OFFSET + n_resample * block)
        start = (-(buf.ctypes.data // 8)) % _PAGE_DOUBLES
        x = buf[start : start + n_x].reshape((n_channels, n_blocks * block))
        x[:, :n_times] = data[e]
        first = start + n_x + _PRED_OFFSET
        pred = buf[first : first + n_resample * block].reshape((n_resample, block))
        for c in range(n_channels):
            xc = x[c]
            num = 0.0
            sxx = 0.0
            spp = 0.0
            for b in range(n_blocks):
                t0 = b * block
                # sparse predictions of channel c by every resample
                for r in range(n_resample):
                    _sparse_block(pred[r], x, cols[r], weights[r, c], counts[r], t0)
                # exact median over resamples: a selection network run on
                # the whole block at once (branch-free, vectorised)
                _run_network(pred, pairs, block)
                med_lo = pred[lo]
                med_hi = pred[hi]
                for t in range(min(block, n_times - t0)):
                    if lo == hi:
                        m = med_lo[t]
                    else:
                        m = (med_lo[t] + med_hi[t]) / 2
                    v = xc[t0 + t]
                    num += v * m
                    sxx += v * v
                    spp += m * m
            corr[e, c] = num / (np.sqrt(sxx) * np.sqrt(spp))
    return corr


#: columns of the median kernels' read-in chunks: each row contributes a
#: contiguous stretch, which the hardware prefetcher follows
_MEDIAN_CHUNK = 512


def _make_median_rows(width):
    """A median kernel whose selection network runs on sub-blocks of
    ``width`` columns (a compile-time constant once :func:`_run_network` is
    inlined: the network's inner loop is then whole vector registers, with
    no scalar remainder whose narrow stores would stall the next
    comparator's wide loads)."""

    @njit(parallel=True, cache=True)
    def median_rows(x, rows, pairs, lo, hi):  # pragma: no cover - compiled
        """Median over the rows ``rows`` of ``x`` (n_rows, m); ``(out, ok)``
        with ``ok`` False when a NaN was met (the caller defers to NumPy's
        NaN rules).

        Each chunk of :data:`_MEDIAN_CHUNK` columns is read row by row into
        sub-block-major order, so that every ``n x width`` sub-block stays
        in the level-1 cache while the network runs on it.
        """
        n, m = rows.shape[0], x.shape[1]
        out = np.empty(m)
        n_sub = _MEDIAN_CHUNK // width
        n_chunks = (m + _MEDIAN_CHUNK - 1) // _MEDIAN_CHUNK
        nan_seen = np.zeros(n_chunks, dtype=np.bool_)
        for b in prange(n_chunks):
            _wide_vectors()
            c0 = b * _MEDIAN_CHUNK
            w = min(m, c0 + _MEDIAN_CHUNK) - c0
            used = (w + width - 1) // width
            # columns past ``w`` in the last sub-block hold garbage: the
            # comparators act column by column, so it never reaches the rest
            buf = np.empty((n_sub, n, width))
            for i in range(n):
                src = x[rows[i]]
                for c in range(w):
                    v = src[c0 + c]
                    buf[c // width, i, c % width] = v
                    if v != v:
                        nan_seen[b] = True
            for k in range(used):
                sub = buf[k]
                _run_network(sub, pairs, width)
                for c in range(min(width, w - k * width)):
                    t = c0 + k * width + c
                    out[t] = sub[lo, c] if lo == hi else (sub[lo, c] + sub[hi, c]) / 2
        return out, not nan_seen.any()

    return median_rows


#: sub-block widths measured fastest: 32 columns up to 128 rows, 64 beyond
#: (kernel alone: EEGMMIDB fold medians, 93 x 41,024, 8.6 -> 4.5 ms; 600 x
#: 61,506, 118 -> 103 ms, though ``median`` hands inputs of more than
#: _MEDIAN_NETWORK_MAX rows to NumPy)
_median_rows_32 = _make_median_rows(32)
_median_rows_64 = _make_median_rows(64)


#: rows at most for the median network (its size grows as n log^2 n)
_MEDIAN_NETWORK_MAX = 512


def _is_int(axis):
    return isinstance(axis, (int, np.integer))


def _is_f8(*arrays):
    return all(np.asarray(a).dtype == np.float64 for a in arrays)


@njit(cache=True)
def _running_rows(data, order, n):  # pragma: no cover - compiled
    """Running total of ``data[order[:n]]``, row after row (serial)."""
    _wide_vectors()
    n_cols = data.shape[1]
    out = np.empty((n, n_cols))
    first = order[0]
    for c in range(n_cols):
        out[0, c] = data[first, c]
    for i in range(1, n):
        row = order[i]
        for c in range(n_cols):
            out[i, c] = out[i - 1, c] + data[row, c]
    return out


#: bounds summed together in one task of ``_kept_means``: each training row
#: is read once for the group, and the group's accumulators stay in cache
_KEPT_GROUP = 4


@njit(parallel=True, cache=True)
def _kept_means(data, train_idx, train_keys, bounds):  # pragma: no cover
    n_bounds, n_folds = bounds.shape
    n_train = train_idx.shape[1]
    n_times = data.shape[1]
    n_groups = (n_bounds + _KEPT_GROUP - 1) // _KEPT_GROUP
    out = np.empty((n_bounds, n_folds, n_times))
    # fold-major tasks: one thread's consecutive tasks walk the same rows
    for task in prange(n_folds * n_groups):
        _wide_vectors()
        f = task // n_groups
        first = (task % n_groups) * _KEPT_GROUP
        stop = min(first + _KEPT_GROUP, n_bounds)
        counts = np.zeros(_KEPT_GROUP, np.int64)
        for j in range(n_train):
            key = train_keys[f, j]
            row = data[train_idx[f, j]]
            for c in range(first, stop):
                if key <= bounds[c, f]:
                    # row after row in training order: autoreject's sums
                    acc = out[c, f]
                    if counts[c - first] == 0:
                        for t in range(n_times):
                            acc[t] = row[t]
                    else:
                        for t in range(n_times):
                            acc[t] += row[t]
                    counts[c - first] += 1
        for c in range(first, stop):
            acc = out[c, f]
            count = counts[c - first]
            if count == 0:
                for t in range(n_times):
                    acc[t] = np.nan
            else:
                for t in range(n_times):
                    acc[t] /= count
    return out


#: below this many summed elements, ``prefix_sums`` of every prefix runs
#: serially (identical results; one channel's threshold folds are about 3e5
#: elements)
_PREFIX_PARALLEL_MIN = 2_000_000


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
        if (
            x.dtype != np.float64
            or x.ndim < 2
            or not _is_int(axis)
            or axis % x.ndim != 0
        ):
            return self._numpy.median(x, axis)
        return self._median_rows(x, None)

    def median_of_rows(self, x, rows):
        x, rows = np.asarray(x), np.asarray(rows)
        if (
            x.dtype != np.float64
            or x.ndim < 2
            or rows.ndim != 1
            or rows.dtype.kind not in "iu"
            or (len(rows) and (rows.min() < 0 or rows.max() >= len(x)))
        ):
            return super().median_of_rows(x, rows)
        return self._median_rows(x, rows)

    def _median_rows(self, x, rows):
        """Median over ``x[rows]`` (all rows when None), axis 0."""
        n = len(x) if rows is None else len(rows)
        if not 2 < n <= _MEDIAN_NETWORK_MAX or x[0].size < 64:
            # numpy's partition at the two middle ranks wins on small inputs
            return self._numpy.median(x if rows is None else x[rows], 0)
        flat = np.ascontiguousarray(x).reshape(x.shape[0], -1)
        rows = np.arange(n) if rows is None else np.ascontiguousarray(rows, dtype=np.int64)
        pairs, lo, hi = _median_plan(n)
        kernel = _median_rows_32 if n <= 128 else _median_rows_64
        out, ok = kernel(flat, rows, pairs, lo, hi)
        if not ok:
            return self._numpy.median(flat[rows], 0).reshape(x.shape[1:])
        return out.reshape(x.shape[1:])

    def kept_means(self, data, train_idx, train_keys, bounds):
        data = np.asarray(data)
        bounds = np.asarray(bounds, dtype=np.float64)
        train_keys = np.asarray(train_keys)
        # np.mean sums a single column pairwise, not row by row
        if data.dtype != np.float64 or data.ndim != 2 or data.shape[1] < 2:
            return self._numpy.kept_means(data, train_idx, train_keys, bounds)
        return _kept_means(
            np.ascontiguousarray(data),
            np.ascontiguousarray(train_idx, dtype=np.int64),
            np.ascontiguousarray(train_keys, dtype=np.float64),
            np.ascontiguousarray(bounds),
        )

    def prefix_sums(self, data, order, cuts):
        data = np.asarray(data)
        if (
            data.dtype == np.float64
            and data.ndim >= 2
            and data.size
            and len(cuts)
            and len(cuts) == cuts[-1]
            and len(order) * data[0].size < _PREFIX_PARALLEL_MIN
        ):
            # every prefix of a small input: one serial pass, same sums as
            # the numpy running total
            order = np.ascontiguousarray(order, dtype=np.int64)
            cuts = np.ascontiguousarray(cuts, dtype=np.int64)
            check_prefix_args(data.shape[0], order, cuts)
            flat = np.ascontiguousarray(data).reshape(data.shape[0], -1)
            out = _running_rows(flat, order, len(cuts))
            return out.reshape((len(cuts),) + data.shape[1:])
        if data.dtype != np.float64 or data.ndim < 2 or data.size == 0:
            return self._numpy.prefix_sums(data, order, cuts)
        # segment sums: the compiled kernel gathers rows as it sums, which
        # beats NumPy's copy-then-reduceat at every size (measured from
        # 12 x 500 to 60 x 61,506 rows x columns: 5x to 10x)
        order = np.ascontiguousarray(order, dtype=np.int64)
        cuts = np.ascontiguousarray(cuts, dtype=np.int64)
        check_prefix_args(data.shape[0], order, cuts)
        flat = np.ascontiguousarray(data).reshape(data.shape[0], -1)
        n_cols = flat.shape[1]
        # a few blocks per thread, each between the two block bounds
        per = -(-n_cols // (4 * numba.get_num_threads()))
        block = min(_PREFIX_BLOCK, max(_PREFIX_MIN_BLOCK, per))
        out = _prefix_sums_blocked(flat, order, cuts, block)
        return out.reshape((len(cuts),) + data.shape[1:])

    def interp_apply(self, matrix, data):
        # BLAS is already the fastest (multi-threaded) batched product
        return np.matmul(matrix, data)

    def interp_repair(self, data, epochs, goods, bads, matrix):
        # the same BLAS products, gathered in cache-sized chunks
        self._numpy.interp_repair(data, epochs, goods, bads, matrix)

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
