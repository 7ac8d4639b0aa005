"""AutoReject: choose consensus and n_interpolate by cross-validation.

For each channel type, thresholds are learnt on all epochs; then for every
``n_interpolate`` value the epochs are repaired, and for every fold and
``consensus`` value the mean of the good training epochs is compared (RMSE)
with the median of the test epochs. The pair with the lowest mean loss wins.

What never changes is computed once: peak-to-peak amplitudes, votes, fold
splits and test medians; interpolation matrices are cached per bad-channel set
and applied to all epochs sharing the set; the means of all consensus values
of a fold come from one batched kernel call.

Reproduced behaviours of autoreject 0.5.1:

* labels are carried from one ``n_interpolate`` value to the next (see
  :func:`autoreject_cpp.local_reject.interpolation_labels`);
* a (consensus, n_interpolate) pair with ``consensus * n_channels <=
  n_interpolate`` gets an infinite loss, and so does a fold without good
  training epochs;
* medians come from the original (unrepaired) test epochs;
* the winner is the first minimum of the fold-averaged loss, consensus-major;
* at transform time MEG sensors are repaired from magnetometers and
  gradiometers together, EEG from EEG.
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial

import numpy as np
from sklearn.base import BaseEstimator

from ._docs import fill_doc
from ._logging import log_level, logger, progress, warn
from ._parallel import blas_single_thread
from ._validation import (
    check_compute_dtype,
    check_consensus,
    check_epochs,
    check_epochs_type,
    check_fitted_channels,
    check_int_array,
    check_n_epochs,
    compute_epochs,
    epochs_checked_once,
    get_picks_by_type,
    handle_picks,
    picked_channels,
    picked_data,
    warnings_given,
)
from .local_reject import LocalAutoReject, all_peaks, interp_sets, interpolation_labels


def _check_cv(cv):
    from sklearn.model_selection import KFold

    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds; got {cv}.")
        return KFold(n_splits=int(cv))
    if hasattr(cv, "split") and hasattr(cv, "get_n_splits"):
        return cv
    raise TypeError(
        "cv must be an int (number of KFold folds) or a scikit-learn splitter "
        f"with split() and get_n_splits(); got {type(cv).__name__}."
    )


def _layout_key(info):
    """Channel names and positions: what interpolation matrices depend on."""
    return tuple((ch["ch_name"], ch["kind"], tuple(ch["loc"][:3].tolist())) for ch in info["chs"])


def _apply_reject_log(epochs, reject_log, picks, dots, backend, interpolator=None, dtype=None):
    """A repaired copy of ``epochs`` without the bad epochs of ``reject_log``.

    ``interpolator`` (for the same channels and picks) reuses cached matrices;
    ``dtype`` is the precision of the repairs of a new one (None: the data's).
    """
    from ._mne_compat import epochs_data, select_epochs
    from .backends import get_backend
    from .interpolation import Interpolator

    labels = np.asarray(reject_log.labels)
    if labels.shape != (len(epochs), len(epochs.ch_names)):
        raise ValueError(
            f"reject_log.labels has shape {labels.shape} but the epochs have "
            f"{len(epochs)} epochs and {len(epochs.ch_names)} channels; use the "
            "reject log of these epochs (before any epoch was dropped)."
        )
    labelled = np.flatnonzero(np.any(~np.isnan(labels), axis=0))
    if not np.array_equal(labelled, np.sort(picks)):
        raise ValueError(
            "reject_log.labels must hold labels exactly on the fitted channels "
            f"({len(picks)} picks) and NaN elsewhere; got labels on "
            f"{len(labelled)} channels."
        )
    # drop first, then repair the kept epochs in the (only) copy of the data
    bad_mask = np.asarray(reject_log.bad_epochs, dtype=bool)
    keep = np.flatnonzero(~bad_mask)
    clean = select_epochs(epochs, keep, reason="AUTOREJECT", backend=get_backend(backend))
    if interpolator is None:
        interpolator = Interpolator(epochs.info, picks, dots=dots, backend=backend, dtype=dtype)
    interpolator.repair(epochs_data(clean), interp_sets(labels[keep]))
    n_bad = int(bad_mask.sum())
    if n_bad:
        logger.info(f"Dropped {n_bad} epoch(s) marked bad (drop_log reason AUTOREJECT).")
    else:
        logger.info(
            "No bad epochs were found; returning a copy of the data "
            "(interpolation may have been done)."
        )
    return clean


def _run_local_reject_cv(
    epochs,
    thresh_func,
    picks,
    n_interpolate,
    cv,
    consensus,
    dots,
    verbose,
    backend,
    n_jobs=1,
    dtype=None,
):
    """Thresholds and the CV loss grid for one channel type.

    Returns
    -------
    local_reject : LocalAutoReject
        Fitted on all epochs (thresholds).
    loss : array, shape (n_consensus, n_interpolate, n_folds)
    interpolator : Interpolator
        With the matrices of every bad set met, for reuse; its repairs run in
        ``dtype`` (None: the data's).
    """
    from ._folds import FoldMeans, rmse_to
    from .backends import estimator_backend
    from .interpolation import Interpolator

    be = estimator_backend(backend, n_jobs)
    local_reject = LocalAutoReject(
        thresh_func=thresh_func, verbose=verbose, picks=picks, dots=dots, backend=backend
    )
    # the thresholds only: its ``mean_`` (epochs repaired with
    # n_interpolate=0) is never used by the cross-validation
    local_reject._fit_thresholds(epochs)

    picks = np.asarray(picks)
    n_channels = len(picks)
    all_data = epochs.get_data(copy=False)
    peaks = all_peaks(epochs)
    labels, counts = local_reject._vote_bad_epochs(epochs, picks, peaks)
    X = picked_data(epochs, picks)
    splits = list(cv.split(X))
    with be.resident(X):  # on a GPU, X goes there once for every fold
        medians = [be.median_of_rows(X, test) for _, test in splits]
    del X

    interpolator = Interpolator(epochs.info, picks, dots=dots, backend=be, dtype=dtype)
    loss = np.zeros((len(consensus), len(n_interpolate), len(splits)))
    # one private copy of the data, repaired for each n_interpolate value in
    # turn and then restored where the repairs wrote
    data = all_data.copy()
    for j, n_interp in enumerate(progress(list(n_interpolate), "n_interp")):
        # carried over from the previous n_interpolate value, as upstream
        labels = interpolation_labels(labels, peaks, picks, n_interp)
        interpolator.repair(data, interp_sets(labels))
        X_interp = picked_channels(data, picks)
        thresholds = np.asarray(consensus) * n_channels
        # an epoch is good for a consensus when its bad-sensor count is
        # strictly below consensus * n_channels: sort by count, keep prefixes
        folds = FoldMeans(X_interp, counts, splits, be, bounds=thresholds, side="left")
        for f in range(len(splits)):
            n_kept, means = folds.means(f, thresholds)
            # kappa must exceed rho, and an empty selection scores inf
            usable = (thresholds > n_interp) & (n_kept > 0)
            loss[:, j, f] = np.inf
            loss[usable, j, f] = rmse_to(medians[f], means[usable], be)
        del X_interp, folds
        repaired = np.nonzero(labels == 2)
        data[repaired] = all_data[repaired]
    return local_reject, loss, interpolator


@fill_doc
class AutoReject(BaseEstimator):
    r"""Find bad epochs and sensors, repair what can be repaired.

    Drop-in replacement for ``autoreject.AutoReject`` (0.5.1) with identical
    results. Each channel type is fitted separately and the solutions are
    combined.

    Parameters
    ----------
    n_interpolate : array-like of int | None
        Values tried for the number of worst channels to interpolate per epoch
        (:math:`\rho`). None tries ``[1, 4, min(n_picks - 1, 32)]``.
    consensus : array-like of float | None
        Values tried for the fraction of channels that must be bad to drop an
        epoch (:math:`\kappa / Q`). None tries ``np.linspace(0, 1, 11)``.
    thresh_func : callable | None
        Custom threshold function ``f(epochs, dots=..., picks=...,
        verbose=...) -> dict``. None (default) uses
        :func:`autoreject_cpp.compute_thresholds` with ``thresh_method``,
        ``random_state`` and ``n_jobs``. (autoreject 0.5.1 ignores this
        parameter.)
    cv : int | scikit-learn splitter
        Cross-validation over epochs; an int means ``KFold(cv)``. Defaults
        to 10.
    picks : str | list | slice | None
        Channels to include, in any form MNE accepts. None picks the data
        channels not in ``info['bads']``; each channel type is fitted
        separately.
    thresh_method : str
        ``'bayesian_optimization'`` (default) or ``'random_search'``, as in
        autoreject, or ``'exact'`` (every candidate threshold evaluated; see
        :func:`autoreject_cpp.compute_thresholds`).
    %(n_jobs)s
    random_state : int | np.random.RandomState | None
        Seed for the threshold search. Defaults to None.
    verbose : bool | str | int | None
        Verbosity (MNE convention). Defaults to True.
    %(backend)s
    %(dtype)s

    Attributes
    ----------
    threshes_ : dict
        Channel name -> peak-to-peak threshold.
    consensus_ : dict
        Channel type -> chosen consensus.
    n_interpolate_ : dict
        Channel type -> chosen n_interpolate.
    loss_ : dict
        Channel type -> CV loss, shape (n_consensus, n_interpolate, n_folds).
    local_reject_ : dict
        Channel type -> :class:`~autoreject_cpp.local_reject.LocalAutoReject` with
        the thresholds and chosen parameters of that type (without ``mean_``,
        which the cross-validation does not use).
    picks_ : array of int
        The channels used, sorted.
    dots : tuple | None
        MEG lead-field dot products (None without MEG); named as in
        autoreject.
    cv_ : splitter
        The resolved cross-validation splitter.

    See Also
    --------
    compute_thresholds, Ransac, RejectLog
    """

    def __init__(
        self,
        n_interpolate=None,
        consensus=None,
        thresh_func=None,
        cv=10,
        picks=None,
        thresh_method="bayesian_optimization",
        n_jobs=1,
        random_state=None,
        verbose=True,
        backend=None,
        dtype="float64",
    ):
        self.n_interpolate = n_interpolate
        self.consensus = consensus
        self.thresh_func = thresh_func
        self.cv = cv
        self.picks = picks
        self.thresh_method = thresh_method
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.backend = backend
        self.dtype = dtype

    def _grids(self, n_picks):
        if self.n_interpolate is None:
            if n_picks < 4:
                raise ValueError(
                    f"Only {n_picks} channel(s) picked; AutoReject needs at least "
                    "4 to be effective. Pick more channels or use "
                    "get_rejection_threshold for a global threshold."
                )
            n_interpolate = np.array([1, 4, min(n_picks - 1, 32)])
        else:
            n_interpolate = check_int_array(self.n_interpolate, "n_interpolate", 0, n_picks)
            if n_picks < 4:
                warn(
                    f"Only {n_picks} channel(s) picked; AutoReject is unlikely to "
                    "be effective with fewer than 4. Pick more channels or use "
                    "get_rejection_threshold for a global threshold."
                )
        consensus = (
            np.linspace(0, 1.0, 11) if self.consensus is None else check_consensus(self.consensus)
        )
        return n_interpolate, consensus

    @blas_single_thread
    def fit(self, epochs):
        """Learn thresholds, consensus and n_interpolate.

        Parameters
        ----------
        epochs : mne.Epochs
            Preloaded epochs. Not modified.

        Returns
        -------
        self : AutoReject
        """
        import mne

        from ._mne_compat import compute_meg_dots
        from .thresholds import _METHODS, _compute_thresholds

        check_epochs_type(epochs)
        dtype = check_compute_dtype(self.dtype)
        # float32: the data converted once, for every step below
        epochs = compute_epochs(epochs, dtype)
        if self.thresh_method not in _METHODS:
            raise ValueError(
                f"thresh_method must be one of {', '.join(map(repr, _METHODS))}; "
                f"got {self.thresh_method!r}."
            )
        cv = _check_cv(self.cv)
        with log_level(self.verbose), ExitStack() as stack:
            from .backends import estimator_backend

            picks = np.sort(handle_picks(epochs.info, self.picks))
            # one peak-to-peak pass serves the checks here, the helpers'
            # checks of the same epochs, and the vote
            be = estimator_backend(self.backend, self.n_jobs)
            stack.enter_context(epochs_checked_once(epochs, picks, be))
            n_interpolate, consensus = self._grids(len(picks))
            try:
                n_splits = cv.get_n_splits()
            except TypeError:  # splitters that need the data to tell
                n_splits = None
            if n_splits is not None:
                check_n_epochs(
                    len(epochs), n_splits, f"{n_splits}-fold cross-validation (cv)"
                )
            picks_by_type = get_picks_by_type(epochs.info, picks)
            types = [t for t, _ in picks_by_type]
            dots = None
            if "mag" in types or "grad" in types:
                meg = mne.pick_types(epochs.info, meg=True, eeg=False, exclude=[])
                dots = compute_meg_dots(mne.pick_info(epochs.info, meg))
            thresh_func = self.thresh_func or partial(
                _compute_thresholds,
                n_jobs=self.n_jobs,
                method=self.thresh_method,
                random_state=self.random_state,
                backend=self.backend,
                dtype=dtype,
            )
            self.picks_ = picks
            self.cv_ = cv
            self.dots = dots
            self.threshes_, self.consensus_, self.n_interpolate_ = {}, {}, {}
            self.loss_, self.local_reject_ = {}, {}
            self._interpolators = {}  # matrices cached for transform
            for ch_type, this_picks in picks_by_type:
                logger.info(f"Running autoreject on ch_type={ch_type}")
                with warnings_given():  # check_epochs warned above
                    local_reject, loss, interpolator = _run_local_reject_cv(
                        epochs,
                        thresh_func,
                        this_picks,
                        n_interpolate,
                        cv,
                        consensus,
                        dots,
                        self.verbose,
                        self.backend,
                        self.n_jobs,
                        dtype,
                    )
                best_i, best_j = np.unravel_index(
                    loss.mean(axis=-1).argmin(), loss.shape[:2]
                )
                self.threshes_.update(local_reject.threshes_)
                self.consensus_[ch_type] = consensus[best_i]
                self.n_interpolate_[ch_type] = n_interpolate[best_j]
                self.loss_[ch_type] = loss
                if not np.isfinite(loss.mean(axis=-1)).any():
                    warn(
                        f"No (consensus, n_interpolate) pair kept good training "
                        f"epochs in every fold for {ch_type}: all cross-validation "
                        "losses are infinite, so the first pair (consensus="
                        f"{consensus[best_i]:g}, n_interpolate="
                        f"{n_interpolate[best_j]}) was taken and may reject every "
                        "epoch. Try larger consensus values (consensus * n_channels "
                        "must exceed n_interpolate) and check the data."
                    )
                local_reject.consensus_[ch_type] = self.consensus_[ch_type]
                local_reject.n_interpolate_[ch_type] = self.n_interpolate_[ch_type]
                self.local_reject_[ch_type] = local_reject
                if len(picks_by_type) == 1:  # same picks as transform's
                    self._interpolators = {_layout_key(epochs.info): interpolator}
                logger.info(
                    f"Estimated consensus={self.consensus_[ch_type]:0.2f} and "
                    f"n_interpolate={self.n_interpolate_[ch_type]}"
                )
        return self

    def _check_fitted(self):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "local_reject_")

    def _check_channels(self, epochs):
        """Raise unless the fitted channels sit at ``picks_`` in ``epochs``."""
        check_fitted_channels(epochs, self.picks_, self.threshes_)

    def get_reject_log(self, epochs, picks=None):
        """Reject log of ``epochs`` with the fitted parameters.

        When several channel types were fitted, an epoch is bad if it is bad
        for any type.

        Parameters
        ----------
        epochs : mne.Epochs
            The epochs.
        picks : None
            Ignored, as in autoreject: the fitted ``picks_`` are used.

        Returns
        -------
        reject_log : RejectLog
        """
        self._check_fitted()
        check_epochs_type(epochs)
        self._check_channels(epochs)
        dtype = check_compute_dtype(self.dtype)
        return self._reject_log(epochs, all_peaks(compute_epochs(epochs, dtype)))

    def _reject_log(self, epochs, peaks):
        from .reject_log import RejectLog

        labels = np.full((len(epochs), len(epochs.ch_names)), np.nan)
        bad_epochs = np.zeros(len(epochs), dtype=bool)
        for ch_type, this_picks in get_picks_by_type(epochs.info, self.picks_):
            log = self.local_reject_[ch_type].get_reject_log(
                epochs, threshes=self.threshes_, picks=this_picks, _peaks=peaks
            )
            labels[:, this_picks] = log.labels[:, this_picks]
            bad_epochs |= np.asarray(log.bad_epochs, bool)
        return RejectLog(bad_epochs=bad_epochs, labels=labels, ch_names=list(epochs.ch_names))

    @blas_single_thread
    def transform(self, epochs, return_log=False, reject_log=None):
        """Repair bad sensors and drop bad epochs.

        Parameters
        ----------
        epochs : mne.Epochs
            The epochs to clean. Not modified.
        return_log : bool
            Whether to also return the reject log. Defaults to False.
        reject_log : RejectLog | None
            A reject log to apply instead of the one computed from the fitted
            parameters (e.g. an edited one).

        Returns
        -------
        epochs_clean : mne.Epochs
            Repaired epochs without the bad ones.
        reject_log : RejectLog
            Only if ``return_log``.
        """
        from .reject_log import RejectLog

        self._check_fitted()
        check_epochs_type(epochs)
        self._check_channels(epochs)
        dtype = check_compute_dtype(self.dtype)
        with log_level(self.verbose):
            from .backends import estimator_backend

            # the peak-to-peak pass needed anyway doubles as the data checks
            # (float32: on the data converted once; the repairs below write
            # float32 values into the float64 copy returned)
            work = compute_epochs(epochs, dtype)
            peaks = check_epochs(
                work, self.picks_, check_flat=False, fitted=True,
                peaks=lambda: all_peaks(work, estimator_backend(self.backend, self.n_jobs)),
            )  # fmt: skip
            if reject_log is not None and not isinstance(reject_log, RejectLog):
                raise TypeError(
                    f"reject_log must be a RejectLog (or None); got {type(reject_log).__name__}."
                )
            if reject_log is None:
                reject_log = self._reject_log(epochs, peaks)
            clean = _apply_reject_log(
                epochs,
                reject_log,
                self.picks_,
                self.dots,
                self.backend,
                self._interpolator(epochs.info),
                dtype,
            )
            if len(epochs) and not len(clean):
                warn(
                    f"All {len(epochs)} epochs are bad and were dropped: the returned "
                    "Epochs object is empty. Check that the data are in the units of "
                    "the fitted model (SI units), inspect the reject log "
                    "(return_log=True), or fit again with larger consensus values."
                )
        return (clean, reject_log) if return_log else clean

    def _interpolator(self, info):
        """Interpolator for ``info``'s channels, kept between transforms.

        Matrices depend only on the channels (positions) and the bad set, so
        they are cached per channel layout; the cache is not a parameter and
        is not saved.
        """
        from .interpolation import Interpolator

        key = _layout_key(info)
        dtype = check_compute_dtype(self.dtype)
        cache = self.__dict__.setdefault("_interpolators", {})
        if key in cache and cache[key].dtype not in (None, dtype):
            del cache[key]  # fitted with another dtype (set_params)
        if key not in cache:
            cache.clear()  # one layout at a time
            cache[key] = Interpolator(
                info, self.picks_, dots=self.dots, backend=self.backend, dtype=dtype
            )
        return cache[key]

    def fit_transform(self, epochs, return_log=False):
        """Fit on ``epochs`` and clean them.

        Parameters
        ----------
        epochs : mne.Epochs
            Preloaded epochs. Not modified.
        return_log : bool
            Whether to also return the reject log.

        Returns
        -------
        epochs_clean : mne.Epochs
        reject_log : RejectLog
            Only if ``return_log``.
        """
        return self.fit(epochs).transform(epochs, return_log=return_log)

    def save(self, fname, overwrite=False):
        """Save the fitted model to HDF5 (readable by autoreject 0.5.1 too).

        Parameters
        ----------
        fname : str | path-like
            Destination, ending in ``.h5`` or ``.hdf5``.
        overwrite : bool
            Whether to replace an existing file. Defaults to False.
        """
        from .persistence import save_autoreject

        save_autoreject(self, fname, overwrite=overwrite)
