"""Repairing bad sensors by interpolation, on arrays, with cached matrices.

autoreject repairs an epoch by marking its bad sensors in ``info['bads']`` and
interpolating them from the good ones: spherical splines for EEG, minimum-norm
field mapping for MEG. The matrix only depends on *which* sensors are bad, so
autoreject_cpp builds it once per bad-channel set (:class:`Interpolator` caches
them) and applies it to every epoch sharing that set in one batched product.

Reproduced behaviours of autoreject 0.5.1 that shape the repaired values:

* EEG positions are used as stored, projected on the unit sphere around the
  origin by MNE's spline code; unlike ``mne.Epochs.interpolate_bads`` there is
  no sphere fit and no centring.
* EEG and MEG picks are handled separately: EEG sensors are interpolated from
  the good EEG picks, MEG sensors from the good MEG picks (magnetometers and
  gradiometers together when both are picked, as at transform time).
* MEG mapping uses the "fast" lead-field dot products computed once for all
  MEG channels of the recording (``dots``) and sliced per bad set.
* Products are ``np.matmul(matrix, data[:, goods, :])`` on a contiguous copy,
  the same operation MNE performs (BLAS, through NumPy, on every backend),
  so repaired values match to the last bit.
"""

from __future__ import annotations

import numpy as np

from ._logging import warn
from ._mne_compat import (
    MegMapping,
    compute_meg_dots,
    get_channel_positions,
)
from ._parallel import thread_map


def _legendre_factors(stiffness=4, n_terms=50):
    """Spherical-spline series coefficients (Perrin et al., 1989; m=4, 50 terms,
    the values MNE uses)."""
    n = np.arange(1, n_terms + 1, dtype=float)
    return np.r_[0.0, (2 * n + 1) / (n**stiffness * (n + 1) ** stiffness * 4 * np.pi)]


#: cosines (and system entries) that :meth:`_EEGSpline.matrices` holds at
#: once, about: 2**21 doubles, 16 MB of each
_SPLINE_GROUP_ELEMENTS = 2**21


class _EEGSpline:
    """MNE's spherical-spline matrices for one EEG montage, many channel sets.

    MNE's ``_make_interpolation_matrix`` scales the positions onto the unit
    sphere around the origin, takes the cosines between sensors with two
    matrix products, evaluates the spline series (50 Legendre terms, the
    expensive part) on every cosine, adds the regularisation 1e-5 to the
    diagonal and pseudo-inverts the system bordered by a constant term.

    Here the series is evaluated once, on the cosines between all sensors.
    A matrix for a channel set recomputes only its cosines, with the very
    products MNE computes (same shapes and operands, so the same BLAS calls:
    their last bit depends on the routine and kernel picked); where a cosine
    equals the all-sensor one, the series value is reused, elsewhere it is
    evaluated again. The series is elementwise and the pseudo-inverse is
    SciPy's (:mod:`autoreject_cpp._lapack`), so every matrix equals MNE's bit
    for bit, whatever the BLAS.

    Parameters
    ----------
    pos : array, shape (n_channels, 3)
        Sensor positions as stored (no sphere fit, no centring).
    alpha : float
        Regularisation of the spline system (MNE's and autoreject's 1e-5).
    """

    def __init__(self, pos, alpha=1e-5):
        from numpy.polynomial.legendre import legval

        unit = np.array(pos, dtype=float)
        norms = np.linalg.norm(unit, axis=1)
        mask = norms > 0
        unit[mask] /= norms[mask, np.newaxis]  # as MNE's _normalize_vectors
        self.unit = unit
        self.alpha = alpha
        self._factors = _legendre_factors()
        self._legval = legval
        self.cosines = unit.dot(unit.T)
        self.kernel = legval(self.cosines, self._factors)

    def _series(self, blocks):
        """The series on each ``(cosines, rows, cols)`` of ``blocks`` (the
        cosines between ``rows`` and ``cols``): looked up where the cosine
        is the all-sensor one, else evaluated, in one call for all blocks."""
        values, others = [], []
        for cosines, rows, cols in blocks:
            index = np.ix_(rows, cols)
            values.append(self.kernel[index])
            others.append(cosines != self.cosines[index])
        pending = [cosines[other] for (cosines, _, _), other in zip(blocks, others)]
        if sum(len(p) for p in pending):
            series = self._legval(np.concatenate(pending), self._factors)
            start = 0
            for value, other, p in zip(values, others, pending):
                value[other] = series[start : start + len(p)]
                start += len(p)
        return values

    def matrices(self, pairs):
        """Interpolation matrices for many (from, to) channel sets.

        Parameters
        ----------
        pairs : list of (array of int, array of int)
            For each matrix, the channels interpolated from and those
            interpolated to (indices into ``pos``).

        Returns
        -------
        matrices : list of array, shape (len(to), len(from))
            ``_make_interpolation_matrix(pos[from], pos[to], alpha)``.
        """
        pairs = [
            (np.asarray(frm, dtype=np.intp), np.asarray(to, dtype=np.intp)) for frm, to in pairs
        ]
        # a group at a time, so that the cosines, systems and inverses held
        # at once stay bounded (a 256-channel leave-one-out needs 256
        # systems of 256 x 256)
        out, group, size = [], [], 0
        for frm, to in pairs:
            group.append((frm, to))
            size += len(frm) * (len(frm) + len(to) + 1)
            if size >= _SPLINE_GROUP_ELEMENTS:
                out += self._matrices(group)
                group, size = [], 0
        return out + (self._matrices(group) if group else [])

    def _matrices(self, pairs):
        """:meth:`matrices` for one group of pairs (index arrays)."""
        # scipy.linalg.pinv's numbers, with the SVD outside the GIL, so the
        # pseudo-inverses share the cores
        from ._lapack import pinv

        blocks = []
        for frm, to in pairs:
            # MNE's products: ``a.dot(a.T)`` on one array is NumPy's
            # symmetric product (syrk), not a general one (gemm)
            from_pos = self.unit[frm]
            blocks.append((from_pos.dot(from_pos.T), frm, frm))
            blocks.append((self.unit[to].dot(from_pos.T), to, frm))
        values = self._series(blocks)
        systems, sides = [], []
        for g_from, g_to_from in zip(values[::2], values[1::2]):
            n = len(g_from)
            system = np.ones((n + 1, n + 1))
            system[:n, :n] = g_from
            system[np.arange(n), np.arange(n)] += self.alpha
            system[n, n] = 0.0
            side = np.ones((len(g_to_from), n + 1))
            side[:, :n] = g_to_from
            systems.append(system)
            sides.append(side)
        inverses = thread_map(pinv, systems)  # serial for a single system
        return [side @ inverse[:, :-1] for side, inverse in zip(sides, inverses)]

    def matrix(self, goods, bads):
        """The matrix interpolating ``bads`` from ``goods``."""
        return self.matrices([(goods, bads)])[0]


def _meg_and_eeg_indices(info):
    import mne

    eeg = mne.pick_types(info, meg=False, eeg=True, exclude=[])
    meg = mne.pick_types(info, meg=True, eeg=False, exclude=[])
    return set(eeg.tolist()), meg


#: epochs of leave-one-out work held at once (bytes): small enough to stay
#: in the last-level cache while every channel is interpolated
_LOO_CHUNK_BYTES = 4 * 2**20


class Interpolator:
    """Interpolation matrices for one recording and one set of picks.

    Parameters
    ----------
    info : mne.Info
        Measurement info of the epochs.
    picks : array-like of int
        The channels interpolation draws from and writes to.
    dots : tuple of array | None
        ``(self_dots, cross_dots)`` for the channels ``dots_picks`` (all MEG
        channels of ``info``, bads included). ``None`` computes them lazily for
        the picked MEG channels with ``dots_mode``.
    dots_mode : str
        ``'fast'`` or ``'accurate'``; only used when ``dots`` is None.
    backend : Backend
        Where the batched products run.
    dtype : str | None
        Precision of the products: None or ``'float64'`` (default) as NumPy
        promotes the float64 matrices and the data (autoreject's products);
        ``'float32'`` computes them in float32 (``dtype='float32'`` of the
        estimators).
    """

    def __init__(self, info, picks, dots=None, dots_mode="accurate", backend=None, dtype=None):
        from .backends import get_backend

        self.info = info
        eeg_all, meg_all = _meg_and_eeg_indices(info)
        picks = [int(p) for p in picks]
        self.picks = picks
        self.eeg_picks = [p for p in picks if p in eeg_all]
        meg_set = set(meg_all.tolist())
        self.meg_picks = [p for p in picks if p in meg_set]
        self._meg_all = meg_all
        self._dots = dots
        self._dots_mode = dots_mode
        self._meg_info = None
        self._eeg_spline = None
        self._cache = {}
        self.backend = get_backend(backend)
        self.dtype = None if dtype is None else np.dtype(dtype)

    # -- matrices ---------------------------------------------------------
    def _split(self, kind_picks, bad_set):
        goods = [p for p in kind_picks if p not in bad_set]
        bads = [p for p in kind_picks if p in bad_set]
        return goods, bads

    def _eeg_pair(self, bads):
        """(from, to) positions in the EEG picks for the bad set ``bads``."""
        idx = {p: i for i, p in enumerate(self.eeg_picks)}
        goods, _ = self._split(self.eeg_picks, set(bads))
        return [idx[p] for p in goods], [idx[p] for p in bads]

    def _eeg_setup(self):
        if self._eeg_spline is None:
            self._eeg_spline = _EEGSpline(get_channel_positions(self.info, self.eeg_picks))

    def eeg_matrix(self, bads):
        """Spline matrix mapping the good EEG picks to ``bads`` (cached)."""
        key = ("eeg", bads)
        if key not in self._cache:
            self._eeg_setup()
            self._cache[key] = self._eeg_spline.matrix(*self._eeg_pair(bads))
        return self._cache[key]

    def _prefetch_eeg(self, bad_sets):
        """Compute the uncached EEG matrices of ``bad_sets`` at once (their
        SVDs share the cores, see :class:`_EEGSpline`)."""
        todo = [b for b in dict.fromkeys(bad_sets) if ("eeg", b) not in self._cache]
        if len(todo) < 2:
            return
        self._eeg_setup()
        matrices = self._eeg_spline.matrices([self._eeg_pair(b) for b in todo])
        for bads, matrix in zip(todo, matrices):
            self._cache[("eeg", bads)] = matrix

    def _meg_setup(self):
        import mne

        if self._meg_info is None:
            self._meg_info = mne.pick_info(self.info, self.meg_picks, copy=True)
            if self._dots is None:
                self._dots = compute_meg_dots(self._meg_info, mode=self._dots_mode)
                self._dots_index = np.arange(len(self.meg_picks))
            else:
                # ``dots`` cover every MEG channel of the recording; map the
                # picked channels to their rows (autoreject indexes the dots
                # with recording-wide channel indices, which coincides with
                # this when the MEG channels come first, as in FIF files).
                pos_in_all = {p: i for i, p in enumerate(self._meg_all.tolist())}
                self._dots_index = np.array([pos_in_all[p] for p in self.meg_picks])
            sel = np.ix_(self._dots_index, self._dots_index)
            self._meg_dots = (self._dots[0][sel], self._dots[1][sel])
            self._meg_mapping = MegMapping(self._meg_info, self._meg_dots)

    def _new_meg_matrix(self, bads):
        local = {p: i for i, p in enumerate(self.meg_picks)}
        goods, _ = self._split(self.meg_picks, set(bads))
        return self._meg_mapping.matrix([local[p] for p in goods], [local[p] for p in bads])

    def meg_matrix(self, bads):
        """Field-mapping matrix from the good MEG picks to ``bads`` (cached)."""
        key = ("meg", bads)
        if key not in self._cache:
            self._meg_setup()
            self._cache[key] = self._new_meg_matrix(bads)
        return self._cache[key]

    def _prefetch_meg(self, bad_sets):
        """Compute the uncached MEG matrices of ``bad_sets`` on every core.

        Each is a pseudo-inverse of a matrix as large as the MEG picks
        (milliseconds in LAPACK, which releases the GIL), so threads help.
        With SSP projectors MNE's code path sets the global log level, which
        threads must not race on, so those matrices stay serial (computed on
        demand).
        """
        self._meg_setup()
        todo = [b for b in dict.fromkeys(bad_sets) if ("meg", b) not in self._cache]
        if len(todo) < 2 or self._meg_mapping.projs:
            return
        for bads, matrix in zip(todo, thread_map(self._new_meg_matrix, todo)):
            self._cache[("meg", bads)] = matrix

    # -- application ------------------------------------------------------
    def _apply(self, data, epoch_idx, kind_picks, bads, matrix):
        goods, _ = self._split(kind_picks, set(bads))
        self.backend.interp_repair(data, epoch_idx, goods, list(bads), matrix, dtype=self.dtype)

    def repair(self, data, bad_sets):
        """Interpolate, in place, the bad channels of each epoch.

        Parameters
        ----------
        data : array, shape (n_epochs, n_channels, n_times)
            All channels of the epochs (a private copy: modified in place).
        bad_sets : list of sequence of int
            For each epoch, the channel indices to interpolate. Indices that
            are not picks are ignored, as in autoreject.
        """
        groups = {}
        for e, bads in enumerate(bad_sets):
            if len(bads):
                groups.setdefault(tuple(sorted(int(b) for b in bads)), []).append(e)
        kinds = (
            ("eeg", self.eeg_picks, self.eeg_matrix),
            ("meg", self.meg_picks, self.meg_matrix),
        )
        # the (kind, epochs, picks, bads, matrix getter) of every repair to make
        work = []
        skipped = 0
        for bads, epochs_idx in groups.items():
            idx = np.asarray(epochs_idx)
            for kind, kind_picks, get in kinds:
                picked = set(kind_picks)
                kind_bads = tuple(b for b in bads if b in picked)
                if not kind_bads:
                    continue
                if len(kind_bads) == len(kind_picks):
                    # nothing left to interpolate from (autoreject crashes)
                    skipped += len(idx)
                    continue
                work.append((kind, idx, kind_picks, kind_bads, get))
        eeg_sets = [kind_bads for kind, _, _, kind_bads, _ in work if kind == "eeg"]
        if eeg_sets:
            self._prefetch_eeg(eeg_sets)
        meg_sets = [kind_bads for kind, _, _, kind_bads, _ in work if kind == "meg"]
        if meg_sets:
            self._prefetch_meg(meg_sets)
        for _, idx, kind_picks, kind_bads, get in work:
            self._apply(data, idx, kind_picks, kind_bads, get(kind_bads))
        if skipped:
            warn(
                f"{skipped} epoch(s) had every channel of a kind marked for "
                "interpolation; they were left unrepaired. Use smaller "
                "n_interpolate values (at most the number of channels of "
                "each type minus one)."
            )
        return data

    def leave_one_out(self, data, out=None, picks_only=False):
        """Each pick interpolated from the other picks of its kind.

        This is autoreject's data augmentation for threshold learning. It is
        computed exactly as autoreject does, channel by channel: MNE's spline
        matrix (or field mapping) from the other picks, applied with one
        ``np.matmul`` of the same shapes. Cheaper formulations (one square
        matrix for all channels) change the last bit of some samples, and the
        threshold search downstream can turn a 1-ulp change into a different
        threshold.

        Parameters
        ----------
        data : array, shape (n_epochs, n_channels, n_times)
            All channels of the epochs (not modified).
        out : array, shape (n_epochs, n_channels, n_times) | None
            Where to write the result (e.g. the second half of the augmented
            epochs, sparing a copy); None allocates it. With ``picks_only``,
            its second axis holds the picks only (in their order at
            construction).
        picks_only : bool
            Whether the result holds only the picked channels.

        Returns
        -------
        out : array, shape (n_epochs, n_channels or n_picks, n_times)
            A copy of ``data`` (of its picks, with ``picks_only``) whose
            picked channels are replaced by their leave-one-out
            interpolation.
        """
        kinds = [
            (kind, kind_picks)
            for kind, kind_picks in (("eeg", self.eeg_picks), ("meg", self.meg_picks))
            if len(kind_picks) >= 2  # a lone channel has no neighbour
        ]
        # where each channel goes in ``out``
        channels = self.picks if picks_only else range(data.shape[1])
        column = {p: i for i, p in enumerate(channels)}
        if out is None:
            out = np.empty((len(data), len(column), data.shape[2]), dtype=data.dtype)
        # every channel the loop below does not overwrite keeps its data
        written = {p for _, kind_picks in kinds for p in kind_picks}
        kept = [p for p in channels if p not in written]
        if kept:
            out[:, [column[p] for p in kept]] = data[:, kept]
        for kind, kind_picks in kinds:
            n = len(kind_picks)
            if kind == "eeg":
                self._eeg_setup()
                every = np.arange(n)
                matrices = self._eeg_spline.matrices(
                    [(np.delete(every, i), [i]) for i in range(n)]
                )
            else:
                self._prefetch_meg([(p,) for p in kind_picks])
                matrices = [self.meg_matrix((p,)) for p in kind_picks]
            if self.dtype == np.float32:  # dtype='float32': float32 products
                matrices = [np.asarray(m, dtype=np.float32) for m in matrices]
            order = list(kind_picks[1:]) + [kind_picks[0]]
            # epochs in chunks that stay in cache while every channel of the
            # kind is interpolated (each epoch's product is its own BLAS call,
            # so chunking does not change a single bit)
            per_epoch = n * data.shape[-1] * data.itemsize
            step = max(1, _LOO_CHUNK_BYTES // max(per_epoch, 1))

            def one_chunk(start):
                sl = slice(start, start + step)
                # ``work`` holds the kind's channels with the left-out one
                # last, so its first n - 1 rows are the others, in order: a
                # view that np.matmul hands to BLAS exactly like autoreject's
                # gathered copy. Moving from channel i to i + 1 swaps two rows.
                work = data[sl][:, order, :]
                for i, p in enumerate(kind_picks):
                    # NumPy's product whatever the backend: these values feed
                    # the threshold search
                    out[sl, column[p]] = np.matmul(matrices[i], work[:, : n - 1, :])[:, 0]
                    if i < n - 1:
                        left_out = work[:, i].copy()
                        work[:, i] = work[:, n - 1]
                        work[:, n - 1] = left_out

            # chunks are independent (BLAS releases the GIL): one per core
            thread_map(one_chunk, range(0, len(data), step))
        return out
