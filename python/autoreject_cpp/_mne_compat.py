"""Every private MNE-Python function autoreject_cpp relies on, in one place.

MNE does not promise stability for underscore names. Keeping each one here
means an MNE upgrade touches this file only. Each entry says what it is for
and since when the current location exists; when MNE exposes a public
equivalent the shim can go.

The MEG interpolation helpers are used *as MNE implements them* on purpose:
the repaired data of autoreject 0.5.1 are produced by these functions, and
calling the same numerical code is what keeps autoreject_cpp's repairs identical.
The EEG spline matrices are computed by
:class:`autoreject_cpp.interpolation._EEGSpline` with MNE's very operations (the
tests compare them bit for bit with ``_make_interpolation_matrix``).
"""

from __future__ import annotations

import numpy as np


def picks_to_idx(info, picks, exclude="bads"):
    """Resolve any MNE ``picks`` spelling to channel indices.

    ``mne._fiff.pick._picks_to_idx`` (location since MNE 1.6). Note that
    ``exclude`` only applies to string picks such as ``'data'``; explicit
    indices or names are kept even if they are in ``info['bads']``.
    """
    from mne._fiff.pick import _picks_to_idx

    return _picks_to_idx(info, picks, exclude=exclude)


def read_coil_defs():
    """MEG coil definitions, ``mne.forward._make_forward._read_coil_defs``."""
    from mne.forward._make_forward import _read_coil_defs

    return _read_coil_defs(verbose="error")


def _meg_coils(info, templates):
    from mne.forward._make_forward import _create_meg_coils

    return _create_meg_coils(info["chs"], "normal", info["dev_head_t"], templates)


def _origin(info):
    from mne.bem import _check_origin

    # autoreject (and MNE's fast MEG mapping) expand around (0, 0, 0.04) m
    return _check_origin((0.0, 0.0, 0.04), info)


def compute_meg_dots(info, mode="fast", templates=None):
    """All-to-all MEG lead-field dot products for the channels in ``info``.

    Uses ``mne.forward._lead_dots._do_self_dots_subset`` (the row worker of
    ``_do_self_dots``) / ``_do_cross_dots`` and
    ``mne.forward._field_interpolation._setup_dots`` (MNE >= 0.14). These are
    the expensive part of MEG field mapping; they depend only on the sensor
    geometry, so autoreject_cpp computes them once per fit and then slices them for
    every bad-channel set. Rows are computed in blocks on a thread per core;
    the numbers are those of MNE's serial computation.

    Returns
    -------
    self_dots : array, shape (n_channels, n_channels)
    cross_dots : array, shape (n_channels, n_channels)
    """
    from mne.forward._field_interpolation import _setup_dots
    from mne.forward._lead_dots import _do_cross_dots, _do_self_dots_subset

    from ._parallel import n_cores, thread_map

    if templates is None:
        templates = read_coil_defs()
    coils = _meg_coils(info, templates)
    origin = _origin(info)
    int_rad, _, lut_fun, n_fact = _setup_dots(mode, info, coils, "meg")
    n = len(coils)
    # the inputs ``_do_self_dots`` hands to its row workers: integration
    # points relative to the origin, as unit vectors and lengths
    rel = [coil["rmag"] - origin[np.newaxis, :] for coil in coils]
    rlens = [np.sqrt(np.sum(r * r, axis=1)) for r in rel]
    rmags = [r / length[:, np.newaxis] for r, length in zip(rel, rlens)]
    cosmags = [coil["cosmag"] for coil in coils]
    ws = [coil["w"] for coil in coils]
    # Self dots: row i holds coil i against coils 0..i (and its mirror), so
    # the rows are split into blocks of equal pair counts. Cross dots: one
    # coil against all per row, split evenly. Each block is the same numbers
    # MNE computes serially; every block runs in one pool of a thread per core.
    n_blocks = n_cores()
    pairs_done = np.cumsum(np.arange(1, n + 1))
    self_cuts = np.searchsorted(pairs_done, pairs_done[-1] * np.arange(1, n_blocks) / n_blocks)
    self_blocks = [b for b in np.split(np.arange(n), self_cuts) if len(b)]
    cross_blocks = [b for b in np.array_split(np.arange(n), n_blocks) if len(b)]

    def work(task):
        kind, rows = task
        if kind == "self":
            return _do_self_dots_subset(
                int_rad, rmags, rlens, cosmags, ws, False, lut_fun, n_fact, "meg", rows
            )
        return _do_cross_dots(
            int_rad, False, [coils[i] for i in rows], coils, origin, "meg", lut_fun, n_fact
        )

    tasks = [("self", b) for b in self_blocks] + [("cross", b) for b in cross_blocks]
    results = thread_map(work, tasks)
    # each self-dot entry (i, j) is written by the block holding max(i, j);
    # taking it from there (rather than summing the blocks) keeps its sign
    owner = np.empty(n, int)
    for k, b in enumerate(self_blocks):
        owner[b] = k
    owner = owner[np.maximum.outer(np.arange(n), np.arange(n))]
    self_dots = np.empty((n, n))
    for k in range(len(self_blocks)):
        mine = owner == k
        self_dots[mine] = results[k][mine]
    cross_dots = np.concatenate(results[len(self_blocks):], axis=0).T
    return self_dots, cross_dots


class MegMapping:
    """MEG field-mapping matrices between subsets of one set of channels.

    Everything that depends only on the channel set (the ad hoc noise
    variances, the projectors' definitions, the sphere origin) is prepared
    once; each :meth:`matrix` then slices the precomputed lead-field dots
    and runs ``mne.forward._field_interpolation._compute_mapping_matrix``,
    the computation MNE (and autoreject) use, on the same numbers it would
    get from a picked ``Info``.

    Parameters
    ----------
    info : mne.Info
        MEG channels only.
    dots : tuple of array
        ``(self_dots, cross_dots)`` of :func:`compute_meg_dots` for them.
    mode : str
        ``'fast'`` or ``'accurate'`` (as used for ``dots``).
    """

    def __init__(self, info, dots, mode="fast"):
        from mne.forward._field_interpolation import _setup_dots

        self.ch_names = list(info["ch_names"])
        self.projs = list(info.get("projs", []))
        # the coils are not used by the noise and radius set-up
        self.int_rad, noise, _, _ = _setup_dots(mode, info, None, "meg")
        if not noise["diag"]:  # pragma: no cover - MNE's ad hoc noise is diagonal
            raise RuntimeError("Expected a diagonal ad hoc noise covariance.")
        # one variance per channel, set by its type: a subset's are a slice
        self.variances = np.asarray(noise["data"], float)
        self.origin = _origin(info)
        self.dots = dots

    def matrix(self, pick_from, pick_to):
        """Mapping from channels ``pick_from`` to ``pick_to`` (indices).

        Returns
        -------
        mapping : array, shape (len(pick_to), len(pick_from))
        """
        import mne
        from mne.forward._field_interpolation import _compute_mapping_matrix

        pick_from = np.asarray(pick_from, int)
        pick_to = np.asarray(pick_to, int)
        fmd = dict(
            kind="meg",
            ch_names=[self.ch_names[i] for i in pick_from],
            origin=self.origin,
            noise=dict(diag=True, data=self.variances[pick_from]),
            self_dots=self.dots[0][np.ix_(pick_from, pick_from)],
            surface_dots=self.dots[1][np.ix_(pick_to, pick_from)],
            int_rad=self.int_rad,
            miss=1e-4,  # MEG smoothing criterion used by MNE and autoreject
        )
        if not self.projs:
            return self._matrix_unprojected(fmd)
        with mne.utils.use_log_level("error"):
            # only the projectors of the info are read for MEG mappings
            return _compute_mapping_matrix(fmd, {"projs": self.projs})

    @staticmethod
    def _matrix_unprojected(fmd):
        """``_compute_mapping_matrix`` without projectors, bit for bit.

        With no SSP projector MNE's projection operator is the identity and
        its whitener a diagonal matrix, both applied as dense products. A
        product with the identity returns the other factor exactly, and one
        with a diagonal matrix multiplies each element by one diagonal entry
        (every other term is an exact zero), so broadcasting the same
        multiplications in the same order gives the same numbers for a
        fraction of the work.

        MNE decomposes the whitened dots twice: eigenvalues alone to choose
        the truncation rank, then a full ``svd(hermitian=True)`` inside
        ``_reg_pinv``, whose inverse uses that rank. Here the full
        decomposition is done once and the rank is read from its singular
        values; the two eigenvalue routines agree to far better than
        :data:`_RANK_MARGIN` in explained variance, so where no cumulative
        fraction lies within that margin of the criterion the rank is the
        one MNE finds. Otherwise MNE's eigenvalue-only decomposition decides.
        The inverse is then formed from the same factors with the same
        operations as ``_reg_pinv``, so the matrix is MNE's bit for bit.
        """
        w = 1.0 / np.sqrt(np.asarray(fmd["noise"]["data"], float).ravel())
        # whitener.T @ (dots @ whitener), element by element
        whitened = w[:, None] * (fmd["self_dots"] * w[None, :])
        U, s, Vh = np.linalg.svd(whitened, hermitian=True)
        rank = _truncation_rank(s, fmd["miss"], _RANK_MARGIN)
        if rank is None:  # too close to call: MNE's own eigenvalues decide
            s_ref = np.linalg.svd(whitened, compute_uv=False, hermitian=True)
            rank = _truncation_rank(s_ref, fmd["miss"])
        keep = (np.arange(len(s)) < rank) & (s > 0)
        s_inv = np.zeros(len(s))
        s_inv[keep] = 1.0 / s[keep]
        inv = np.matmul(U * s_inv[np.newaxis, :], Vh)
        # whitener.T @ (inv @ whitener), then the cross dots
        return np.dot(fmd["surface_dots"], w[:, None] * (inv * w[None, :]))


#: distance in explained-variance fraction from MNE's truncation criterion
#: below which a rank read from ``svd(hermitian=True)``'s singular values is
#: not trusted to equal the one from its eigenvalue-only twin (their values
#: differ by about ``n * eps`` of the total, 1e-13 for 306 channels)
_RANK_MARGIN = 1e-9


def _truncation_rank(s, miss, margin=0.0):
    """Smallest rank whose singular values ``s`` (decreasing) explain at
    least ``1 - miss`` of their sum (MNE's MEG smoothing criterion).

    With ``margin > 0``, returns None when some cumulative fraction lies
    within ``margin`` of ``1 - miss`` (a rank that rounding could change).
    """
    explained = np.cumsum(s)
    explained /= explained[-1]
    target = 1.0 - miss
    rank = int(np.where(explained >= target)[0][0]) + 1
    if margin and np.any(np.abs(explained - target) < margin):
        return None
    return rank


def get_channel_positions(info, picks):
    """3D sensor positions (first three ``loc`` entries) of ``picks``."""
    return np.array([info["chs"][p]["loc"][:3] for p in picks], float)


def epochs_data(epochs):
    """The writable data array of preloaded ``epochs`` (``epochs._data``).

    Only ever called on autoreject_cpp's own copies, never on the user's object.
    MNE has no public setter for epoch data (as of 1.13).
    """
    return epochs._data


def select_epochs(epochs, keep, reason, backend):
    """A copy of ``epochs`` holding only the epochs at indices ``keep``.

    Equivalent to ``epochs.copy().drop(others, reason=reason)`` but copies
    the data of the kept epochs only, once: the deep copy is told to reuse
    the already-selected array, and MNE's selection then updates events,
    ``selection``, ``drop_log`` and metadata without touching the data
    (``select_data=False``). The user's object is not modified.

    Parameters
    ----------
    epochs : mne.Epochs
        Preloaded epochs.
    keep : array of int
        Indices of the epochs to keep, increasing.
    reason : str
        Entry written in ``drop_log`` for the other epochs.
    backend : Backend
        Copies the kept epochs (:meth:`Backend.take_rows`, on its threads).

    Returns
    -------
    selected : mne.Epochs
        A new object whose data array is its own (writable, C-contiguous).
    """
    from copy import deepcopy

    keep = np.asarray(keep, dtype=np.intp)
    data = backend.take_rows(epochs._data, keep)  # a fresh array
    selected = deepcopy(epochs, {id(epochs._data): data})
    selected._getitem(keep, reason, copy=False, drop_event_id=False, select_data=False)
    if np.shares_memory(selected._data, epochs._data):  # pragma: no cover
        selected._data = selected._data.copy()  # never alias the user's data
    return selected
