"""One peak-to-peak rejection threshold per channel type.

:func:`get_rejection_threshold` returns a ``reject`` dict for ``mne.Epochs``.
A threshold keeps the epochs whose largest peak-to-peak amplitude (over the
channels of the type) is at most the threshold; its loss is the
cross-validated RMSE between the mean of the kept training epochs and the
median of the test epochs. Candidates are the epochs' own maxima, searched
with autoreject's Bayesian optimisation (5 initial points by rank plus the
largest, 10 proposals); folds are ``KFold(cv)`` without shuffling.

Fold medians are computed once and all candidates of a batch are scored with
one kernel call. A fold that keeps no training epoch scores ``-inf`` (infinite
loss), as in autoreject, and such candidates are skipped by the search.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from ._bayesopt import bayes_opt
from ._folds import padded_folds
from ._parallel import blas_single_thread
from ._docs import fill_doc
from ._logging import log_level, logger
from ._validation import (
    check_compute_dtype,
    check_dtype,
    check_epochs_type,
    check_n_epochs,
    compute_epochs,
    picked_data,
)

_DEFAULT_CH_TYPES = ("mag", "grad", "eeg", "eog", "hbo", "hbr", "ecog", "seeg")


def _type_picks(info, ch_type):
    import mne

    if ch_type in ("mag", "grad"):
        return mne.pick_types(info, meg=ch_type, eeg=False)
    if ch_type in ("eeg", "eog", "ecog", "seeg"):
        return mne.pick_types(info, meg=False, **{ch_type: True})
    if ch_type in ("hbo", "hbr"):
        return mne.pick_types(info, meg=False, fnirs=ch_type)
    raise ValueError(
        f"Unknown channel type {ch_type!r}; choose among {', '.join(_DEFAULT_CH_TYPES)}."
    )


class _EpochFolds:
    """Per-fold quantities for scoring global thresholds on 3D data."""

    def __init__(self, X, splits, backend, with_train_median=False):
        self.flat = X.reshape(len(X), -1)
        self.maxima = np.asarray(backend.ptp(X, axis=2)).max(axis=1)
        self.backend = backend
        self.train_idx, self.train_keys = padded_folds([tr for tr, _ in splits], self.maxima)
        self.test_medians = np.array(
            [backend.median_of_rows(self.flat, test) for _, test in splits]
        )
        self.train_medians = (
            np.array([backend.median_of_rows(self.flat, train) for train, _ in splits])
            if with_train_median
            else None
        )

    def scores(self, threshes, which="test"):
        """Scores, shape (n_thresh, n_folds): ``-RMSE``, or ``-inf`` when a
        threshold keeps no training epoch (exact epoch-order means, as the
        search is sensitive to the last bit; the core computes the RMSE
        without returning the means)."""
        threshes = np.asarray(threshes, float)
        bounds = np.repeat(threshes[:, None], len(self.train_idx), axis=1)
        medians = self.test_medians if which == "test" else self.train_medians
        out = self.backend.threshold_scores(
            self.flat, self.train_idx, self.train_keys, bounds, medians
        )
        out[np.isnan(out)] = -np.inf
        return out


@blas_single_thread
@fill_doc
def get_rejection_threshold(
    epochs,
    decim=1,
    random_state=None,
    ch_types=None,
    cv=5,
    verbose=True,
    backend=None,
    dtype="float64",
):
    """Estimate a global peak-to-peak ``reject`` dict for each channel type.

    Parameters
    ----------
    epochs : mne.Epochs
        Preloaded epochs. Not modified. Channels in ``info['bads']`` are
        ignored.
    decim : int
        Keep every ``decim``-th sample before estimating. Defaults to 1.
    random_state : int | np.random.RandomState | None
        Passed to the search's surrogate model (the search itself is
        deterministic). Defaults to None.
    ch_types : str | list of str | None
        Channel types to estimate, e.g. ``['mag', 'grad']``. None tries
        mag, grad, eeg, eog, hbo, hbr, ecog and seeg, keeping those present.
    cv : int | scikit-learn splitter
        Cross-validation; an int means ``KFold(cv)``. Defaults to 5.
    verbose : bool | str | int | None
        Verbosity. Defaults to True.
    %(backend)s
    %(dtype)s

    Returns
    -------
    reject : dict
        Channel type -> threshold, ready for ``mne.Epochs(..., reject=reject)``.
    """
    from sklearn.model_selection import check_cv

    from .backends import get_backend

    check_epochs_type(epochs)
    dtype = check_compute_dtype(dtype)
    if ch_types is not None and not isinstance(ch_types, (list, tuple, str)):
        raise TypeError(
            f"ch_types must be None, a str or a list of str; got {type(ch_types).__name__}."
        )
    if ch_types is None:
        ch_types = list(_DEFAULT_CH_TYPES)
    elif isinstance(ch_types, str):
        ch_types = [ch_types]
    if not isinstance(decim, (int, np.integer)) or decim < 1:
        raise ValueError(f"decim must be a positive integer; got {decim!r}.")
    if not epochs.preload:
        raise ValueError(
            "The epochs data are not loaded in memory. Use preload=True or "
            "epochs.load_data() first."
        )
    check_dtype(epochs.get_data(copy=False).dtype)
    if decim > 1:
        epochs = epochs.copy().decimate(decim)
    epochs = compute_epochs(epochs, dtype)  # float32: the data converted once
    cv = check_cv(cv)
    try:
        n_splits = cv.get_n_splits()
    except TypeError:  # splitters that need the data to tell
        n_splits = None
    if n_splits is not None:
        check_n_epochs(len(epochs), n_splits, f"{n_splits}-fold cross-validation (cv)")
    be = get_backend(backend)
    reject = {}
    with log_level(verbose):
        for ch_type in ch_types:
            if ch_type not in epochs:
                continue
            picks = _type_picks(epochs.info, ch_type)
            X = picked_data(epochs, picks)
            if not np.isfinite(X).all():
                raise ValueError(
                    f"The {ch_type} data contain NaN or infinite values; repair "
                    "or mark those channels bad first."
                )
            logger.info(f"Estimating rejection dictionary for {ch_type}")
            folds = _EpochFolds(X, list(cv.split(X)), be)
            all_threshes = np.sort(folds.maxima)
            cache = {}

            def f_batch(xs, folds=folds, all_threshes=all_threshes, cache=cache):
                snapped = all_threshes[
                    np.searchsorted(all_threshes, np.asarray(xs), side="right") - 1
                ]
                todo = [t for t in dict.fromkeys(snapped.tolist()) if t not in cache]
                if todo:
                    objective = -np.mean(folds.scores(todo), axis=-1)
                    cache.update(zip(todo, objective.tolist()))
                return np.array([cache[t] for t in snapped.tolist()])

            n = len(all_threshes)
            idx = np.unique(
                np.concatenate((np.linspace(0, n, 5, endpoint=False, dtype=int), [n - 1]))
            )
            best, _ = bayes_opt(
                f_batch, all_threshes[idx], all_threshes, max_iter=10,
                random_state=random_state,
            )
            reject[ch_type] = float(best)
    return reject


class _GlobalAutoReject(BaseEstimator):
    """Scikit-learn estimator behind :func:`validation_curve` (autoreject name).

    Parameters
    ----------
    n_channels : int | None
        Channels per epoch (to reshape flattened epochs).
    n_times : int | None
        Samples per epoch.
    thresh : float
        Global peak-to-peak threshold.
    """

    def __init__(self, n_channels=None, n_times=None, thresh=40e-6):
        self.n_channels = n_channels
        self.n_times = n_times
        self.thresh = thresh

    def fit(self, X, y=None):
        """Mean of the epochs whose largest peak-to-peak is <= ``thresh``.

        Parameters
        ----------
        X : array, shape (n_epochs, n_channels * n_times)
            Flattened epochs.
        y : None
            Ignored.

        Returns
        -------
        self : _GlobalAutoReject
        """
        if self.n_channels is None or self.n_times is None:
            raise ValueError("Set n_channels and n_times before fitting.")
        X = np.asarray(X).reshape(-1, self.n_channels, self.n_times)
        keep = np.ptp(X, axis=2).max(axis=1) <= self.thresh
        self.mean_ = np.mean(X[keep], axis=0) if keep.any() else np.nan
        return self

    def score(self, X, y=None):
        """Minus the RMSE between the median of ``X`` and the fitted mean.

        Parameters
        ----------
        X : array, shape (n_epochs, n_channels * n_times)
            Flattened epochs.
        y : None
            Ignored.

        Returns
        -------
        score : float
            ``-inf`` if no epoch was kept at fit time.
        """
        X = np.asarray(X).reshape(-1, self.n_channels, self.n_times)
        if np.any(np.isnan(self.mean_)):
            return -np.inf
        return -np.sqrt(np.mean((np.median(X, axis=0) - self.mean_) ** 2))


def validation_curve(
    epochs, y=None, param_name="thresh", param_range=None, cv=None,
    return_param_range=False, n_jobs=1,
):
    """Train and test scores of global thresholds, like scikit-learn's.

    Parameters
    ----------
    epochs : mne.Epochs
        Preloaded epochs (data channels not in ``info['bads']`` are used).
    y : array | None
        Labels for stratified splitters. Defaults to None.
    param_name : str
        Only ``'thresh'`` is supported (as in autoreject).
    param_range : array | None
        Thresholds to evaluate. None uses 15 values evenly spaced between the
        smallest and largest channel peak-to-peak.
    cv : int | scikit-learn splitter | None
        Cross-validation; None means 5-fold ``KFold``.
    return_param_range : bool
        Whether to also return ``param_range``. Defaults to False.
    n_jobs : int
        Other than 1, the number of threads of the core's kernels (-1: every
        core); with 1 (default) they use the OpenMP default
        (``OMP_NUM_THREADS``, else every core). The results do not depend
        on it.

    Returns
    -------
    train_scores : array, shape (n_params, n_folds)
    test_scores : array, shape (n_params, n_folds)
    param_range : array
        Only if ``return_param_range``.
    """
    from sklearn.model_selection import check_cv

    from .backends import estimator_backend
    from ._validation import handle_picks

    check_epochs_type(epochs)
    if param_name != "thresh":
        raise ValueError(f"Only param_name='thresh' is supported; got {param_name!r}.")
    X = picked_data(epochs, handle_picks(epochs.info, None))
    if param_range is None:
        ptps = np.ptp(X, axis=2)
        param_range = np.linspace(ptps.min(), ptps.max(), 15)
    param_range = np.asarray(param_range, float)
    splits = list(check_cv(cv, y).split(X.reshape(len(X), -1), y))
    folds = _EpochFolds(X, splits, estimator_backend(None, n_jobs), with_train_median=True)
    out = (folds.scores(param_range, "train"), folds.scores(param_range, "test"))
    return out + (param_range,) if return_param_range else out
