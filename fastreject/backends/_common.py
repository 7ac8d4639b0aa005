"""Host-side (NumPy) preparation shared by the backends.

Everything here runs on small index or weight arrays, never on the bulk data,
so every backend can share it.
"""

from __future__ import annotations

import numpy as np

#: upper bound on the size (in float64 elements) of one RANSAC prediction
#: buffer, ``(chunk * n_times, n_channels, n_resample)``; 2**23 is 64 MiB
RANSAC_CHUNK_ELEMENTS = 2**23


def check_prefix_args(n_rows, order, cuts):
    """Validate the arguments of :meth:`Backend.prefix_sums`.

    Compiled kernels do not bounds-check, so what would read outside the data
    is refused here.

    Parameters
    ----------
    n_rows : int
        Number of rows of the data.
    order : array of int, shape (n_selected,)
    cuts : array of int, shape (n_cuts,)

    Raises
    ------
    ValueError
        For empty or non 1-D ``order`` or ``cuts``, or cuts that are not
        strictly increasing in ``[1, n_selected]``.
    IndexError
        For rows of ``order[:cuts[-1]]`` outside ``[-n_rows, n_rows)``.
    """
    if order.ndim != 1 or cuts.ndim != 1 or len(cuts) == 0:
        raise ValueError("order and cuts must be non-empty 1-D arrays of int.")
    if cuts[0] < 1 or cuts[-1] > len(order) or np.any(np.diff(cuts) <= 0):
        raise ValueError(
            f"cuts must be strictly increasing in [1, len(order) = {len(order)}]."
        )
    used = order[: cuts[-1]]
    if used.min() < -n_rows or used.max() >= n_rows:
        raise IndexError(f"order has indices out of range for {n_rows} rows.")


def prefix_weights(n_rows, order, cuts):
    """0/1 weights that turn :meth:`Backend.prefix_sums` into one product.

    Parameters
    ----------
    n_rows : int
    order : array of int, shape (n_selected,)
    cuts : array of int, shape (n_cuts,)
        As for :meth:`Backend.prefix_sums` (checked by
        :func:`check_prefix_args` first).

    Returns
    -------
    weights : array of float64, shape (n_cuts, n_rows)
        ``weights[i, r]`` counts the occurrences of row ``r`` in
        ``order[:cuts[i]]``, so ``weights @ data`` gives the prefix sums.
    """
    n = int(cuts[-1])
    rows = np.asarray(order[:n], dtype=np.intp) % max(n_rows, 1)
    segment = np.repeat(np.arange(len(cuts)), np.diff(cuts, prepend=0))
    counts = np.zeros((len(cuts), n_rows))
    np.add.at(counts, (segment, rows), 1.0)
    return np.cumsum(counts, axis=0)


def use_product(n_rows, n_selected, n_cuts, ratio):
    """Whether the product of :func:`prefix_weights` beats a running sum.

    The product costs ``n_cuts * n_rows`` multiply-adds per column, the
    running sum about ``n_selected`` slower (gathered, scanned) additions;
    ``ratio`` is how much faster a multiply-add of the product is.
    """
    return n_cuts * n_rows <= ratio * n_selected


def ransac_subsets(mappings, n_resample):
    """Non-zero columns of each resample's interpolation matrix.

    Parameters
    ----------
    mappings : array, shape (n_resample * n_channels, n_channels)
        Stacked per-resample interpolation matrices (resample-major).
    n_resample : int

    Returns
    -------
    cols : array of int64, shape (n_resample, k_max)
        Channels with a non-zero weight in each resample (ascending), padded
        with 0.
    counts : array of int64, shape (n_resample,)
        Number of such channels per resample.
    weights : array of float64, shape (n_resample, n_channels, k_max)
        ``mappings`` restricted to those columns, padded with 0.
    """
    mappings = np.asarray(mappings, dtype=np.float64)
    n_channels = mappings.shape[1]
    if mappings.shape[0] != n_resample * n_channels:
        raise ValueError(
            f"mappings must have n_resample * n_channels = {n_resample} * "
            f"{n_channels} = {n_resample * n_channels} rows; got "
            f"{mappings.shape[0]}."
        )
    blocks = mappings.reshape(n_resample, n_channels, n_channels)
    nonzero = np.any(blocks != 0, axis=1)  # (n_resample, n_channels)
    counts = nonzero.sum(axis=1).astype(np.int64)
    k_max = max(int(counts.max(initial=0)), 1)
    cols = np.zeros((n_resample, k_max), dtype=np.int64)
    weights = np.zeros((n_resample, n_channels, k_max))
    for r in range(n_resample):
        nz = np.flatnonzero(nonzero[r])
        cols[r, : len(nz)] = nz
        weights[r, :, : len(nz)] = blocks[r][:, nz]
    return cols, counts, weights


def ransac_chunk(n_channels, n_times, n_resample):
    """Number of epochs per RANSAC chunk so one buffer stays bounded."""
    per_epoch = n_channels * n_times * n_resample
    return max(1, RANSAC_CHUNK_ELEMENTS // max(per_epoch, 1))


def oddeven_merge_network(n):
    """Batcher's odd-even merge sorting network for ``n`` inputs.

    The network for the next power of two with comparators touching wires
    ``>= n`` dropped (those wires act as ``+inf``), which sorts ``n`` inputs.

    Parameters
    ----------
    n : int

    Returns
    -------
    pairs : list of tuple of int
        Comparators ``(i, j)``, ``i < j``, in order: after each, wire ``i``
        holds the smaller value.
    """
    pairs = []
    size = 1
    while size < n:
        size *= 2
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    a, b = i + j, i + j + k
                    if a // (2 * p) == b // (2 * p) and b < n:
                        pairs.append((a, b))
            k //= 2
        p *= 2
    return pairs


def median_network(n):
    """Comparators needed to place the median order statistics of ``n`` values.

    Parameters
    ----------
    n : int

    Returns
    -------
    pairs : array of int64, shape (n_comparators, 2)
        The sorting network of :func:`oddeven_merge_network`, pruned to the
        comparators that influence wires ``(n - 1) // 2`` and ``n // 2``.
    lo, hi : int
        The wires holding the lower and upper middle values (equal when
        ``n`` is odd); the median is ``(v[lo] + v[hi]) / 2`` when even.
    """
    lo, hi = (n - 1) // 2, n // 2
    needed = {lo, hi}
    kept = []
    for a, b in reversed(oddeven_merge_network(n)):
        if a in needed or b in needed:
            kept.append((a, b))
            needed.update((a, b))
    pairs = np.array(kept[::-1], dtype=np.int64).reshape(-1, 2)
    return pairs, lo, hi
