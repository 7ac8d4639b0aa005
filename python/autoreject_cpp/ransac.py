"""RANSAC detection and repair of bad sensors.

Each channel is predicted from many random subsets of the other channels
(spherical splines for EEG, field mapping for MEG); a channel whose data
correlate poorly with the median prediction in too many epochs is bad. The
method comes from the PREP pipeline (Bigdely-Shamlo et al., 2015) and this
module reproduces the results of ``autoreject.Ransac`` (autoreject 0.5.1).

The estimator is a thin shell around array-in/array-out helpers:

* :func:`_draw_subsets` draws the channel subsets (the only random step);
* :func:`_eeg_mappings` / :func:`_meg_mappings` build one interpolation
  matrix per subset, stacked as ``(n_resample * n_channels, n_channels)``;
* the backend kernel ``ransac_correlations`` pools the predictions;
* :func:`_find_bad_channels` turns correlations into decisions.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._docs import fill_doc
from ._logging import log_level, logger, progress
from ._parallel import blas_single_thread
from ._mne_compat import (
    MegMapping,
    compute_meg_dots,
    get_channel_positions,
)
from ._validation import (
    check_compute_dtype,
    check_epochs,
    check_epochs_type,
    compute_epochs,
    handle_picks,
    has_valid_locs,
    picked_ch_types,
    picked_data,
)
from .interpolation import _EEGSpline

#: channel types RANSAC can interpolate, and the family each one belongs to
_RANSAC_CH_TYPES = {"eeg": "eeg", "grad": "meg", "mag": "meg"}


@fill_doc
class Ransac(BaseEstimator):
    """Find and repair bad sensors with RANSAC.

    Every channel is predicted ``n_resample`` times from random subsets
    holding a fraction ``min_channels`` of the channels. A channel is bad
    when the correlation between its data and the median of its predictions
    stays below ``min_corr`` in more than a fraction ``unbroken_time`` of the
    epochs. The results (subsets, correlations, bad channels, repaired data)
    are those of ``autoreject.Ransac`` 0.5.1 for the same parameters.

    Parameters
    ----------
    n_resample : int
        Number of random channel subsets. Defaults to 50.
    min_channels : float
        Fraction of the picked channels in each subset; the subset size is
        ``round(min_channels * n_picked)``. Defaults to 0.25.
    min_corr : float
        Correlation below which a channel counts as badly predicted in an
        epoch. Defaults to 0.75.
    unbroken_time : float
        A channel is bad when it is badly predicted in strictly more than
        ``unbroken_time * n_epochs`` epochs. Defaults to 0.4.
    n_jobs : int | None
        Number of threads used to build the MEG interpolation matrices
        (the EEG ones, much cheaper, share every core); other than 1 or
        None, also the threads of the core's correlation kernel (-1: every
        core), which otherwise uses the OpenMP default (``OMP_NUM_THREADS``,
        else every core). The results do not depend on it. Defaults to 1.
    random_state : int | np.random.RandomState | np.random.Generator | None
        Seed or generator for drawing the channel subsets. Defaults to
        435656, autoreject's default.
    picks : str | list | slice | None
        Channels to use, in any form MNE accepts (type names, channel names,
        indices). ``None`` picks the MEG and EEG data channels. Channels in
        ``info['bads']`` are dropped when picking by type; channels given
        explicitly by name or index are kept (and predicted) but never used
        as predictors. All picked channels must be of one type: ``'eeg'``,
        ``'grad'`` or ``'mag'``. Defaults to None.
    verbose : bool | str | int | None
        Logging level (MNE convention); progress bars are shown at INFO or
        below. ``None`` keeps the current MNE level. Defaults to True.
    %(backend)s
    dtype : str
        ``'float64'`` (default) gives autoreject's correlations (to about
        1e-15) and bad channels. ``'float32'`` converts the data once to
        float32 and computes the predictions and correlations in single
        precision: faster, with correlations that differ by about 1e-6 and
        so, rarely, another bad channel. :meth:`transform` interpolates with
        MNE (float64) either way.

    Attributes
    ----------
    picks_ : array of int, shape (n_picked,)
        Indices of the channels used, in the fitted epochs.
    ch_type_ : str
        ``'eeg'`` or ``'meg'``.
    ch_subsets_ : list of list of str, length n_resample
        The channel subsets drawn, in drawing order.
    mappings_ : array, shape (n_resample * n_picked, n_picked)
        Interpolation matrices, one block of rows per subset; the columns of
        channels outside a subset are zero.
    corr_ : array, shape (n_epochs, n_picked)
        Correlation of each channel with its median prediction.
    bad_log_ : array, shape (n_epochs, n_picked)
        1.0 where ``corr_ < min_corr``, else 0.0.
    bad_log : array, shape (n_epochs, n_picked)
        Same array as ``bad_log_`` under autoreject's attribute name.
    bad_chs_ : list of str
        Names of the bad channels.
    backend_ : Backend
        The backend used for the correlations.

    See Also
    --------
    autoreject_cpp.backends.get_backend

    Notes
    -----
    Differences from autoreject 0.5.1 that do not change results: ``fit``
    leaves ``picks`` untouched (upstream replaces it with indices) and
    stores the learned state under names ending in ``_``; invalid input
    raises ``TypeError``/``ValueError`` with a message instead of an
    ``AssertionError``; messages are logged instead of printed.

    .. versionadded:: 0.1

    References
    ----------
    .. [1] Bigdely-Shamlo, N., Mullen, T., Kothe, C., Su, K.-M. and Robbins,
       K. A. (2015). The PREP pipeline: standardized preprocessing for
       large-scale EEG analysis. Frontiers in Neuroinformatics 9, 16.
    .. [2] Jas, M., Engemann, D. A., Bekhti, Y., Raimondo, F. and Gramfort,
       A. (2017). Autoreject: Automated artifact rejection for MEG and EEG
       data. NeuroImage 159, 417-429.
    """

    def __init__(
        self,
        n_resample=50,
        min_channels=0.25,
        min_corr=0.75,
        unbroken_time=0.4,
        n_jobs=1,
        random_state=435656,
        picks=None,
        verbose=True,
        backend=None,
        dtype="float64",
    ):
        self.n_resample = n_resample
        self.min_channels = min_channels
        self.min_corr = min_corr
        self.unbroken_time = unbroken_time
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.picks = picks
        self.verbose = verbose
        self.backend = backend
        self.dtype = dtype

    @blas_single_thread
    def fit(self, epochs):
        """Find the bad channels of ``epochs``.

        Parameters
        ----------
        epochs : mne.Epochs
            Preloaded epochs with channel positions. They are not modified.

        Returns
        -------
        self : Ransac
            The fitted estimator; the bad channels are in ``bad_chs_``.
        """
        from mne import pick_info

        from .backends import estimator_backend

        self._check_params()
        dtype = check_compute_dtype(self.dtype)
        backend = estimator_backend(self.backend, self.n_jobs)
        check_epochs_type(epochs)
        epochs = compute_epochs(epochs, dtype)  # float32: the data converted once
        picks = np.asarray(handle_picks(epochs.info, self.picks), dtype=int)
        _check_ransac_epochs(epochs, picks)
        ch_type = _RANSAC_CH_TYPES[picked_ch_types(epochs.info, picks)[0]]
        info = pick_info(epochs.info, picks)
        ch_names = list(info["ch_names"])
        good_names = [ch for ch in ch_names if ch not in epochs.info["bads"]]

        with log_level(self.verbose):
            subsets = _draw_subsets(
                self.random_state,
                ch_names,
                good_names,
                self.n_resample,
                self.min_channels,
            )
            # keep the drawing order: subset r is block r of the mappings
            subset_idx = [np.array([ch_names.index(ch) for ch in sub]) for sub in subsets]
            if ch_type == "eeg":
                pos = get_channel_positions(info, range(len(ch_names)))
                mappings = _eeg_mappings(pos, subset_idx)
            else:
                mappings = _meg_mappings(info, subset_idx, self.n_jobs)

            data = picked_data(epochs, picks)
            _check_finite(data, ch_names)
            logger.info(
                f"Computing RANSAC correlations of {len(ch_names)} channels "
                f"in {len(data)} epochs ({backend.name} backend)"
            )
            # The kernel reproduces two autoreject quirks: predictions are
            # pooled with np.median (mean of the two middle values when
            # n_resample is even), and the correlation sum(x * p) /
            # (||x|| * ||p||) is taken over time without removing the means.
            corr = np.asarray(
                backend.ransac_correlations(data, mappings, self.n_resample),
                dtype=float,
            )
            bad_log, bad_idx = _find_bad_channels(corr, self.min_corr, self.unbroken_time)
            bad_chs = [ch_names[i] for i in bad_idx]
            logger.info(
                f"RANSAC found {len(bad_chs)} bad channel(s)"
                + (f": {', '.join(bad_chs)}" if bad_chs else "")
            )

        self.picks_ = picks
        self.ch_type_ = ch_type
        self.ch_subsets_ = subsets
        self.mappings_ = mappings
        self.backend_ = backend
        self.corr_ = corr
        self.bad_log_ = bad_log
        self.bad_log = bad_log  # autoreject's name for the same array
        self.bad_chs_ = bad_chs
        return self

    def transform(self, epochs):
        """Interpolate the bad channels found by :meth:`fit`.

        Parameters
        ----------
        epochs : mne.Epochs
            Preloaded epochs holding the channels the estimator was fitted
            on. They are not modified.

        Returns
        -------
        epochs_clean : mne.Epochs
            A new Epochs object in which the channels of ``bad_chs_`` are
            interpolated (MNE's ``interpolate_bads`` with
            ``reset_bads=True``).
        """
        check_is_fitted(self, "bad_chs_")
        check_epochs_type(epochs)
        missing = [ch for ch in self.bad_chs_ if ch not in epochs.ch_names]
        if missing:
            raise ValueError(
                f"The epochs lack the bad channel(s) {', '.join(missing)} found "
                "by fit; transform epochs with the same channels as the "
                "fitted ones."
            )
        picks = handle_picks(epochs.info, self.picks)
        _check_ransac_epochs(epochs, picks, check_flat=False)
        with log_level(self.verbose):
            epochs = epochs.copy()
            # like autoreject, info['bads'] becomes exactly the RANSAC bads:
            # channels marked bad before are unmarked, not interpolated
            epochs.info["bads"] = list(self.bad_chs_)
            if self.bad_chs_:
                epochs.interpolate_bads(reset_bads=True)
            else:
                # same result as MNE's call on an empty list, without its
                # "No bad channels to interpolate" warning
                logger.info("Ransac found no bad channels; nothing to interpolate")
        return epochs

    def fit_transform(self, epochs):
        """Fit on ``epochs`` and return them with the bad channels repaired.

        Parameters
        ----------
        epochs : mne.Epochs
            Preloaded epochs with channel positions. They are not modified.

        Returns
        -------
        epochs_clean : mne.Epochs
            A new Epochs object with ``bad_chs_`` interpolated.
        """
        return self.fit(epochs).transform(epochs)

    def _check_params(self):
        _check_number("n_resample", self.n_resample, Integral, 1, None)
        _check_number("min_channels", self.min_channels, Real, 0, 1, low_open=True)
        _check_number("min_corr", self.min_corr, Real, None, None)
        _check_number("unbroken_time", self.unbroken_time, Real, 0, 1)
        if self.n_jobs is not None and not isinstance(self.n_jobs, Integral):
            raise TypeError(
                f"n_jobs must be an int or None; got {type(self.n_jobs).__name__}."
            )


def _check_number(name, value, kind, low, high, low_open=False):
    """Raise TypeError/ValueError unless ``low <= value <= high``."""
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = "an int" if kind is Integral else "a number"
        raise TypeError(f"{name} must be {expected}; got {value!r}.")
    too_low = low is not None and (value <= low if low_open else value < low)
    if too_low or (high is not None and value > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must lie in {bracket}{lo}, {hi}]; got {value!r}.")


def _check_ransac_epochs(epochs, picks, check_flat=True):
    """Check preload, a single RANSAC-able channel type and positions."""
    check_epochs(
        epochs, picks, single_type=True, check_loc=False, check_finite=False, check_flat=check_flat
    )
    ch_type = picked_ch_types(epochs.info, picks)[0]
    if ch_type not in _RANSAC_CH_TYPES:
        raise ValueError(
            f"Ransac works on EEG, gradiometer or magnetometer channels, but "
            f"the picked channels are of type {ch_type!r}; pass picks='eeg', "
            "'grad' or 'mag'."
        )
    if not has_valid_locs(epochs.info, picks):
        raise RuntimeError(
            "Ransac needs channel positions to interpolate, but the picked "
            "channels have none (or all-zero) positions. Set a montage first, "
            "e.g. epochs.set_montage('standard_1005')."
        )


def _check_finite(data, ch_names):
    """Raise if the picked data contain NaN or infinite values."""
    finite = np.isfinite(data).all(axis=(0, 2))
    if not finite.all():
        names = [ch_names[i] for i in np.flatnonzero(~finite)]
        raise ValueError(
            f"The data contain NaN or infinite values in channel(s) "
            f"{', '.join(names)}. Repair them or mark the channels as bad in "
            "info['bads'] before fitting Ransac."
        )


def _draw_subsets(random_state, ch_names, good_names, n_resample, min_channels):
    """Draw ``n_resample`` random subsets of ``good_names``.

    The subset size is ``round(min_channels * len(ch_names))``: it counts
    every picked channel, including explicitly picked bad ones that cannot
    be drawn. Each subset comes from one ``rng.choice(good_names, size,
    replace=False)`` call on one generator, exactly as autoreject draws them,
    so the same seed gives the same subsets.

    Returns
    -------
    subsets : list of list of str
    """
    from mne.utils import check_random_state

    n_pick = int(np.round(min_channels * len(ch_names)))
    if n_pick < 1:
        raise ValueError(
            f"min_channels={min_channels} selects {n_pick} of the "
            f"{len(ch_names)} picked channels per subset; at least one is "
            "needed. Increase min_channels."
        )
    if len(good_names) < n_pick:
        raise ValueError(
            f"Too many bad channels: {len(good_names)} good channel(s) remain "
            f"among the {len(ch_names)} picked, but min_channels="
            f"{min_channels} needs {n_pick} per subset. Lower min_channels, "
            "remove channels from info['bads'] or check the montage."
        )
    rng = check_random_state(random_state)
    return [
        [str(ch) for ch in rng.choice(good_names, size=n_pick, replace=False)]
        for _ in range(n_resample)
    ]


def _map_subsets(func, subset_idx, n_jobs, desc):
    """``[func(idx) for idx in subset_idx]``, in threads when ``n_jobs`` allows.

    Every matrix is computed independently of the others, so the result does
    not depend on ``n_jobs``.
    """
    from joblib import Parallel, delayed, effective_n_jobs

    if effective_n_jobs(n_jobs) == 1 or len(subset_idx) <= 1:
        return [func(idx) for idx in progress(subset_idx, desc)]
    return Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(func)(idx) for idx in subset_idx
    )


def _stack_mappings(blocks, subset_idx, n_channels):
    """Put each subset's (n_channels, n_subset) matrix into full columns.

    Returns
    -------
    mappings : array, shape (n_resample * n_channels, n_channels)
        Block ``r`` (rows ``r * n_channels`` to ``(r + 1) * n_channels``)
        maps all channels to their prediction from subset ``r``; columns of
        channels outside the subset are zero.
    """
    out = np.zeros((len(subset_idx), n_channels, n_channels))
    for r, (block, idx) in enumerate(zip(blocks, subset_idx)):
        out[r][:, idx] = block
    return out.reshape(len(subset_idx) * n_channels, n_channels)


def _eeg_mappings(pos, subset_idx):
    """Spherical-spline mappings from each subset to all channels.

    ``pos`` are the raw sensor positions: like autoreject, no sphere is
    fitted and nothing is centred; MNE only scales them onto the unit
    sphere around the origin. The matrices are MNE's bit for bit (see
    :class:`~autoreject_cpp.interpolation._EEGSpline`, which evaluates the
    spline series once for all channel pairs: EEGMMIDB's 50 mappings take
    8 ms instead of 40).
    """
    every = np.arange(len(pos))
    blocks = _EEGSpline(pos).matrices([(idx, every) for idx in subset_idx])
    return _stack_mappings(blocks, subset_idx, len(pos))


def _meg_mappings(info, subset_idx, n_jobs=1):
    """MEG field mappings from each subset to all channels of ``info``.

    The lead-field dot products depend only on the geometry, so they are
    computed once for all channels and sliced per subset (autoreject
    recomputes them per subset; the slices are the same numbers).
    """
    dots = compute_meg_dots(info, mode="fast")
    mapping = MegMapping(info, dots, mode="fast")
    pick_to = np.arange(len(info["ch_names"]))

    def block(idx):
        return mapping.matrix(idx, pick_to)

    blocks = _map_subsets(block, subset_idx, n_jobs, "MEG mappings")
    return _stack_mappings(blocks, subset_idx, len(pick_to))


def _find_bad_channels(corr, min_corr, unbroken_time):
    """Flag poorly predicted epochs and the channels that have too many.

    Returns
    -------
    bad_log : array, shape (n_epochs, n_channels)
        1.0 where ``corr < min_corr``, else 0.0 (float, as upstream).
    bad_idx : array of int
        Channels whose count of flagged epochs is *strictly* greater than
        ``unbroken_time * n_epochs`` (autoreject's ``>``; a NaN correlation
        is never flagged since ``NaN < min_corr`` is False).
    """
    bad_log = np.zeros_like(corr)
    bad_log[corr < min_corr] = 1
    bad_idx = np.flatnonzero(bad_log.sum(axis=0) > unbroken_time * len(corr))
    return bad_log, bad_idx
