"""Store MNE's spherical-spline interpolation matrices for the C++ tests.

Writes ``references/spline_matrices.npz``, read by
``tests/cpp/test_interpolation.cpp``: the positions of MNE's ``biosemi64``
montage (64 EEG channels, head coordinates in metres, no recording needed)
and, for three channel sets, the indices and the matrix that
``mne.channels.interpolation._make_interpolation_matrix(pos[from], pos[to],
alpha=1e-5)`` returns:

``loo``
    channel 10 interpolated from the 63 others (a leave-one-out row);
``bads``
    10 channels drawn at random interpolated from the 54 others;
``ransac``
    all 64 channels interpolated from a random subset of 16 (RANSAC's use:
    the subset overlaps the targets).

The random draws use ``numpy.random.default_rng(1989)``, so the file only
changes with MNE's montage or its spline code. Run from the repository root::

    python references/make_spline_reference.py
"""

# License: BSD-3-Clause

from pathlib import Path

import numpy as np


def main():
    import mne
    from mne.channels.interpolation import _make_interpolation_matrix

    montage = mne.channels.make_standard_montage("biosemi64")
    pos = np.array(list(montage.get_positions()["ch_pos"].values()), dtype=np.float64)
    n = len(pos)
    rng = np.random.default_rng(1989)
    everyone = np.arange(n)
    bads = np.sort(rng.choice(n, 10, replace=False))
    subset = np.sort(rng.choice(n, 16, replace=False))
    cases = {
        "loo": (np.delete(everyone, 10), np.array([10])),
        "bads": (np.setdiff1d(everyone, bads), bads),
        "ransac": (subset, everyone),
    }
    out = {"pos": pos, "mne_version": np.array(mne.__version__)}
    for name, (frm, to) in cases.items():
        out[f"{name}_from"] = frm.astype(np.int64)
        out[f"{name}_to"] = to.astype(np.int64)
        out[f"{name}_matrix"] = _make_interpolation_matrix(pos[frm], pos[to], alpha=1e-5)
    path = Path(__file__).resolve().parent / "spline_matrices.npz"
    np.savez_compressed(path, **out)
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
