"""Host-side (NumPy) preparation of the core's kernel arguments.

Everything here runs on small index or weight arrays, never on the bulk
data.
"""

from __future__ import annotations

import numpy as np


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
