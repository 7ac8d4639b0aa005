"""Host-side (NumPy) preparation shared by the backends.

Everything here runs on small index arrays, never on the bulk data, so every
backend can share it and they all agree on which rows enter which mean.
"""

from __future__ import annotations

import numpy as np

#: upper bound on the size (in float64 elements) of one RANSAC prediction
#: buffer, ``(chunk * n_times, n_channels, n_resample)``; 2**23 is 64 MiB
RANSAC_CHUNK_ELEMENTS = 2**23


def fold_tasks(train_idx, train_deltas, threshes):
    """Distinct kept-row sets of :meth:`Backend.fold_threshold_means`.

    For a fold, the kept sets ``deltas <= max(t, deltas.min())`` of all the
    thresholds are nested, so two thresholds keep the same rows exactly when
    they keep the same number of rows; each distinct set is averaged once.

    Parameters
    ----------
    train_idx : list of array of int, length n_folds
        Training indices of each fold, in split order.
    train_deltas : list of array of float, length n_folds
        Peak-to-peak of the training epochs of each fold.
    threshes : array, shape (n_thresh,)
        Candidate thresholds.

    Returns
    -------
    rows : list of array of int
        The kept epochs (indices into the data, in train order) of each
        distinct set.
    slot : array of int, shape (n_thresh, n_folds)
        Index into ``rows`` of each (threshold, fold) pair; ``-1`` where no
        epoch is kept (the mean is then NaN, as ``np.mean`` of nothing).
    """
    threshes = np.asarray(threshes, float)
    rows = []
    slot = np.full((len(threshes), len(train_idx)), -1, dtype=np.intp)
    for f, (train, deltas) in enumerate(zip(train_idx, train_deltas)):
        train = np.asarray(train)
        deltas = np.asarray(deltas)
        floor = deltas.min()
        seen = {}
        for c, thresh in enumerate(threshes):
            keep = deltas <= max(thresh, floor)
            n_keep = int(np.count_nonzero(keep))
            if n_keep == 0:
                continue
            if n_keep not in seen:
                seen[n_keep] = len(rows)
                rows.append(train[keep])
            slot[c, f] = seen[n_keep]
    return rows, slot


def padded_rows(rows):
    """Stack index arrays of unequal length into a padded matrix.

    Parameters
    ----------
    rows : list of array of int
        Row indices of each set (each non-empty).

    Returns
    -------
    table : array of int64, shape (n_sets, max_len)
        Row indices, padded with 0.
    lengths : array of int64, shape (n_sets,)
    """
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    table = np.zeros((len(rows), max(lengths.max(initial=0), 1)), dtype=np.int64)
    for k, r in enumerate(rows):
        table[k, : len(r)] = r
    return table, lengths


def scatter_fold_means(unique_means, slot, n_times):
    """Place the means of the distinct sets at their (threshold, fold) slots.

    Parameters
    ----------
    unique_means : array, shape (n_sets, n_times)
    slot : array of int, shape (n_thresh, n_folds)
        From :func:`fold_tasks`.
    n_times : int

    Returns
    -------
    means : array, shape (n_thresh, n_folds, n_times)
    """
    out = np.empty(slot.shape + (n_times,))
    if len(unique_means):
        out[...] = unique_means[np.maximum(slot, 0)]
    out[slot < 0] = np.nan
    return out


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
