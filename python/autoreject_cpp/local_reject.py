"""Local rejection with a fixed consensus and n_interpolate.

Every channel votes an epoch bad when its peak-to-peak amplitude exceeds the
channel's threshold. An epoch is dropped when at least ``consensus`` (a
fraction of the channels) vote against it; otherwise its worst ``n_interpolate``
bad channels are repaired by interpolation.

:class:`LocalAutoReject` is autoreject's ``_AutoReject`` (also exported under
that name); :class:`autoreject_cpp.AutoReject` chooses its two parameters by
cross-validation.
"""

from __future__ import annotations

import contextlib

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._docs import fill_doc
from ._logging import log_level
from ._validation import (
    check_consensus,
    check_epochs_type,
    check_fitted_channels,
    epochs_checked_once,
    get_picks_by_type,
    handle_picks,
    warnings_given,
)


def vote_bad_epochs(deltas, threshes, picks, n_channels):
    """Label each (epoch, picked channel) good (0) or bad (1).

    Parameters
    ----------
    deltas : array, shape (n_epochs, n_picks)
        Peak-to-peak amplitude of the picked channels.
    threshes : array, shape (n_picks,)
        Threshold of each picked channel.
    picks : array of int, shape (n_picks,)
        Column of each pick in the label matrix.
    n_channels : int
        Number of channels of the epochs.

    Returns
    -------
    labels : array, shape (n_epochs, n_channels)
        0 or 1 on picked columns, NaN elsewhere.
    bad_sensor_counts : array of int, shape (n_epochs,)
        Number of bad picked channels per epoch.
    """
    labels = np.full((len(deltas), n_channels), np.nan)
    # strict ">": a channel exactly at its threshold is good
    labels[:, picks] = (deltas > np.asarray(threshes)[None, :]).astype(float)
    return labels, np.sum(labels == 1, axis=1)


def interpolation_labels(labels, peaks, picks, n_interpolate):
    """Mark with 2 the bad channels that will be interpolated.

    In each epoch with at most ``n_interpolate`` bad channels all of them are
    marked; otherwise the ``n_interpolate`` with the largest peak-to-peak.

    Parameters
    ----------
    labels : array, shape (n_epochs, n_channels)
        Output of :func:`vote_bad_epochs` (not modified).
    peaks : array, shape (n_epochs, n_channels)
        Peak-to-peak of every channel.
    picks : array of int
        The picked columns.
    n_interpolate : int
        Maximum number of channels to interpolate per epoch.

    Returns
    -------
    labels : array, shape (n_epochs, n_channels)
        A copy with 2 where a bad channel will be interpolated.

    Notes
    -----
    autoreject counts bad channels as the *sum* of the labels of the picks.
    Its cross-validation passes the labels of the previous ``n_interpolate``
    value on to the next one, so channels already marked 2 count twice and
    stay marked. Both are reproduced, hence the sum below.
    """
    labels = labels.copy()
    picks = np.asarray(picks)
    n_bads = labels[:, picks].sum(axis=1)
    rows = np.flatnonzero(n_bads)
    mask = labels[rows] == 1
    over = n_bads[rows] > n_interpolate
    if over.any():
        is_pick = np.zeros(labels.shape[1], dtype=bool)
        is_pick[picks] = True
        # bad picked channels compete; every other channel ranks last
        ranking = np.where(mask[over] & is_pick, peaks[rows[over]], -np.inf)
        # argsort row by row, as autoreject sorts each epoch's peak-to-peak
        # values (the same call, so ties resolve identically), worst first
        order = np.argsort(ranking, axis=1)[:, ::-1]
        worst = mask[over]
        np.put_along_axis(worst, order[:, n_interpolate:], False, axis=1)
        mask[over] = worst
    labels[rows] = np.where(mask, 2, labels[rows])
    return labels


def bad_epochs_mask(bad_sensor_counts, consensus, n_channels):
    """Epochs with at least ``consensus * n_channels`` bad channels."""
    return np.asarray(bad_sensor_counts) >= consensus * n_channels


def all_peaks(epochs, backend=None):
    """Peak-to-peak amplitude of every channel and epoch (no data copy).

    NaN where a channel holds NaN; infinite or NaN where it holds infinity.
    ``backend`` (a :class:`autoreject_cpp.backends.Backend`) computes it, NumPy
    when None; every backend gives the same values. Peaks registered for
    these data by :func:`autoreject_cpp._validation.peaks_known` are returned
    as they are.
    """
    from ._validation import known_peaks

    data = epochs.get_data(copy=False)
    known = known_peaks(data)
    if known is not None:
        return known
    if backend is None:
        return np.ptp(data, axis=-1)
    return np.asarray(backend.ptp(data, axis=-1))


def interp_sets(labels):
    """Per epoch, the channel indices labelled 2."""
    return [np.flatnonzero(row == 2) for row in labels]


@fill_doc
class LocalAutoReject(BaseEstimator):
    r"""Reject and repair epochs with fixed parameters.

    The equivalent of autoreject's ``_AutoReject``.

    Parameters
    ----------
    n_interpolate : int
        Number of worst bad channels to interpolate per epoch (:math:`\rho`).
        Defaults to 0.
    consensus : float
        Fraction of channels that must be bad to drop an epoch
        (:math:`\kappa / Q`), in [0, 1]. Defaults to 0.1.
    thresh_func : callable | None
        ``thresh_func(epochs, dots=..., picks=..., verbose=...)`` returning a
        dict of thresholds. None uses :func:`autoreject_cpp.compute_thresholds`
        with ``thresh_method``.
    picks : str | list | slice | None
        Channels to include (a single channel type). None picks data channels.
    thresh_method : str
        ``'bayesian_optimization'``, ``'random_search'`` or ``'exact'``.
    dots : tuple | None
        Precomputed MEG lead-field dot products.
    verbose : bool | str | int | None
        Verbosity. Defaults to True.
    %(backend)s

    Attributes
    ----------
    threshes_ : dict
        Channel name -> peak-to-peak threshold.
    consensus_ : dict
        Channel type -> consensus.
    n_interpolate_ : dict
        Channel type -> n_interpolate.
    picks_ : array of int
        The channels used.
    mean_ : array, shape (n_channels, n_times)
        Mean of the repaired good training epochs (all channels).
    """

    def __init__(
        self,
        n_interpolate=0,
        consensus=0.1,
        thresh_func=None,
        picks=None,
        thresh_method="bayesian_optimization",
        dots=None,
        verbose=True,
        backend=None,
    ):
        self.n_interpolate = n_interpolate
        self.consensus = consensus
        self.thresh_func = thresh_func
        self.picks = picks
        self.thresh_method = thresh_method
        self.dots = dots
        self.verbose = verbose
        self.backend = backend

    def _vote_bad_epochs(self, epochs, picks, peaks=None):
        """Labels (0/1/NaN) and bad-channel counts per epoch for ``picks``.

        ``peaks`` (peak-to-peak of every channel) is computed when not given.
        """
        picks = np.asarray(picks)
        if peaks is None:
            peaks = all_peaks(epochs)
        threshes = [self.threshes_[epochs.ch_names[p]] for p in picks]
        return vote_bad_epochs(peaks[:, picks], threshes, picks, len(epochs.ch_names))

    def _get_epochs_interpolation(self, epochs, labels, picks, n_interpolate, peaks=None):
        """Labels with 2 on the channels to interpolate."""
        if peaks is None:
            peaks = all_peaks(epochs)
        return interpolation_labels(labels, peaks, picks, n_interpolate)

    def _get_bad_epochs(self, bad_sensor_counts, ch_type, picks):
        return bad_epochs_mask(bad_sensor_counts, self.consensus_[ch_type], len(picks))

    def get_reject_log(self, epochs, threshes=None, picks=None, *, _peaks=None):
        """Reject log of ``epochs`` with the fitted thresholds.

        Parameters
        ----------
        epochs : mne.Epochs
            The epochs.
        threshes : None
            Ignored (kept for autoreject compatibility); ``threshes_`` is used.
        picks : str | list | slice | None
            Channels to use; None uses ``picks_``.

        Returns
        -------
        reject_log : RejectLog
        """
        from .reject_log import RejectLog

        check_epochs_type(epochs)
        check_is_fitted(self, "threshes_")
        picks = self.picks_ if picks is None else handle_picks(epochs.info, picks)
        check_fitted_channels(epochs, picks, self.threshes_)
        (ch_type, this_picks), *others = get_picks_by_type(epochs.info, picks)
        if others:
            raise ValueError(
                "LocalAutoReject handles a single channel type; got "
                f"{ch_type} and {', '.join(t for t, _ in others)}. Use "
                "autoreject_cpp.AutoReject for several types."
            )
        peaks = all_peaks(epochs) if _peaks is None else _peaks
        labels, counts = self._vote_bad_epochs(epochs, this_picks, peaks)
        labels = self._get_epochs_interpolation(
            epochs, labels, this_picks, self.n_interpolate_[ch_type], peaks
        )
        bad_epochs = self._get_bad_epochs(counts, ch_type, this_picks)
        return RejectLog(bad_epochs=bad_epochs, labels=labels, ch_names=list(epochs.ch_names))

    def fit(self, epochs):
        """Learn the channel thresholds.

        Parameters
        ----------
        epochs : mne.Epochs
            Preloaded epochs of one channel type. Not modified.

        Returns
        -------
        self : LocalAutoReject
        """
        from .interpolation import Interpolator

        with log_level(self.verbose):
            self._fit_thresholds(epochs)
            reject_log = self.get_reject_log(epochs)
            data = epochs.get_data()  # a copy: repaired below
            Interpolator(epochs.info, self.picks_, dots=self.dots, backend=self.backend).repair(
                data, interp_sets(reject_log.labels)
            )
            good = ~reject_log.bad_epochs
            self.mean_ = np.mean(data[good], axis=0) if good.any() else np.nan
        return self

    def _fit_thresholds(self, epochs):
        """Validate, resolve picks and learn ``threshes_`` (no ``mean_``)."""
        from functools import partial

        from .thresholds import _compute_thresholds

        check_epochs_type(epochs)
        check_consensus(self.consensus)
        with log_level(self.verbose), contextlib.ExitStack() as stack:
            from .backends import get_backend

            self.picks_ = handle_picks(epochs.info, self.picks)
            # the peaks are reused by the threshold function's checks
            stack.enter_context(
                epochs_checked_once(
                    epochs, self.picks_, get_backend(self.backend), single_type=True
                )
            )
            ch_type = get_picks_by_type(epochs.info, self.picks_)[0][0]
            self.consensus_ = {ch_type: self.consensus}
            self.n_interpolate_ = {ch_type: self.n_interpolate}
            thresh_func = self.thresh_func
            if thresh_func is None:
                thresh_func = partial(
                    _compute_thresholds,
                    method=self.thresh_method,
                    backend=self.backend,
                )
            with warnings_given():
                self.threshes_ = thresh_func(
                    epochs, dots=self.dots, picks=self.picks_, verbose=self.verbose
                )
        return self

    def transform(self, epochs, return_log=False):
        """Repair and drop bad epochs.

        Parameters
        ----------
        epochs : mne.Epochs
            The epochs to clean. Not modified.
        return_log : bool
            Whether to also return the reject log.

        Returns
        -------
        epochs_clean : mne.Epochs
        reject_log : RejectLog
            Only if ``return_log``.
        """
        from .local_reject_cv import _apply_reject_log

        with log_level(self.verbose):
            reject_log = self.get_reject_log(epochs)
            if np.all(reject_log.bad_epochs):
                raise ValueError(
                    "Every epoch is bad with these thresholds and "
                    f"consensus={self.consensus_}; lower the consensus "
                    "fraction's strictness or check the data scale."
                )
            clean = _apply_reject_log(epochs, reject_log, self.picks_, self.dots, self.backend)
        return (clean, reject_log) if return_log else clean
