"""Per-channel peak-to-peak rejection thresholds.

For each channel, candidate thresholds are the peak-to-peak amplitudes of its
epochs. A threshold is scored by cross-validation: the mean of the training
epochs it keeps is compared (RMSE) with the median of the test epochs. The
search over candidates is either autoreject's Bayesian optimisation or its
random search; both are reproduced exactly, but every candidate's loss is
computed from per-fold quantities prepared once (fold medians, training
peak-to-peaks) and many candidates are scored in one batched kernel call.

Reproduced behaviours of autoreject 0.5.1:

* data are augmented with a leave-one-out interpolation of every channel
  (``augment=True``), and folds come from
  ``StratifiedShuffleSplit(n_splits=10, test_size=0.2)`` stratified on
  original-vs-interpolated epochs;
* a candidate below the smallest training peak-to-peak keeps that minimum
  epoch (``max(thresh, deltas.min())``);
* Bayesian optimisation evaluates a threshold snapped down to the nearest
  observed peak-to-peak value, starts from 40 evenly spaced (by rank)
  candidates plus the largest, and makes 10 proposals;
* random search draws 20 thresholds from ``uniform(loc=min, scale=max)``
  (so up to ``min + max``, not ``max``), like scikit-learn's
  ``RandomizedSearchCV`` with the same seed.

autoreject_cpp adds ``method='exact'``: the loss of *every* candidate (every
observed peak-to-peak amplitude) is computed, which the prefix sums make
cheap, and the true minimum is taken (the smallest threshold on ties).
"""

from __future__ import annotations

import numpy as np

from ._bayesopt import bayes_opt
from ._docs import fill_doc
from ._folds import FoldMeans
from ._parallel import blas_single_thread
from ._logging import log_level, logger, progress
from ._validation import (
    check_compute_dtype,
    check_epochs,
    check_epochs_type,
    check_n_epochs,
    compute_epochs,
    get_picks_by_type,
    handle_picks,
    picked_channels,
)

_METHODS = ("bayesian_optimization", "random_search", "exact")


class _FoldData:
    """What the loss of a threshold needs from one channel and one split."""

    def __init__(self, data, splits, backend, medians=None):
        # contiguous once, not at every kernel call (and resident on a GPU as it is)
        self.data = data = np.ascontiguousarray(data)
        self.splits = splits
        self.backend = backend
        self.deltas = np.ptp(data, axis=1)
        self.train = np.array([train for train, _ in splits])
        self.train_deltas = self.deltas[self.train]
        # a threshold below every training peak-to-peak still keeps the
        # smallest one (autoreject's ``max(thresh, deltas.min())``)
        self.floors = self.train_deltas.min(axis=1)
        if medians is None:
            medians = np.array([np.median(data[test], axis=0) for _, test in splits])
        self.medians = medians
        self._prefix = None

    def losses(self, threshes):
        """Mean over folds of the RMSE between kept-train mean and test median.

        Returns, per threshold, ``-mean(scores)`` with
        ``score = -sqrt(mean((median - mean_kept) ** 2))``, the quantity
        autoreject minimises, computed with the very same floating-point
        operations (the Bayesian search is sensitive to the last bit).
        """
        threshes = np.asarray(threshes, float)
        bounds = np.maximum(threshes[:, None], self.floors[None, :])
        return self.backend.threshold_losses(
            self.data, self.train, self.train_deltas, bounds, self.medians
        )

    def all_losses(self, threshes):
        """Losses of many thresholds at once from sorted prefix sums (equal to
        :meth:`losses` up to rounding); used by ``method='exact'``."""
        threshes = np.asarray(threshes, float)
        if self._prefix is None:
            self._prefix = FoldMeans(self.data, self.deltas, self.splits, self.backend)
        means = np.stack(
            [
                self._prefix.means(f, np.maximum(threshes, self.floors[f]))[1]
                for f in range(len(self.splits))
            ],
            axis=1,
        )
        # per (threshold, fold): -RMSE with the same reductions as autoreject
        scores = -np.sqrt(np.mean((self.medians[None] - means) ** 2, axis=-1))
        return -np.mean(scores, axis=-1)


def _initial_candidates(all_threshes, n_points):
    """Evenly spaced (by rank) candidates plus the largest one."""
    n = len(all_threshes)
    idx = np.concatenate(
        (np.linspace(0, n, n_points, endpoint=False, dtype=int), [n - 1])
    )
    return all_threshes[np.unique(idx)]


def _search_bayes(all_threshes, loss_fn, random_state, n_init):
    """Bayesian optimisation over ``all_threshes`` with a snapping cache."""
    cache = {}

    def f_batch(xs):
        # snap each value down to the largest observed peak-to-peak <= it
        snapped = all_threshes[
            np.searchsorted(all_threshes, np.asarray(xs), side="right") - 1
        ]
        todo = [t for t in dict.fromkeys(snapped.tolist()) if t not in cache]
        if todo:
            cache.update(zip(todo, loss_fn(np.array(todo)).tolist()))
        return np.array([cache[t] for t in snapped.tolist()])

    best, _ = bayes_opt(
        f_batch,
        _initial_candidates(all_threshes, n_init),
        all_threshes,
        max_iter=10,
        random_state=random_state,
    )
    return best


def _random_search_candidates(all_threshes, random_state, n_iter=20):
    from scipy.stats import uniform
    from sklearn.model_selection import ParameterSampler

    dist = {"thresh": uniform(all_threshes[0], all_threshes[-1])}
    return np.array(
        [p["thresh"] for p in ParameterSampler(dist, n_iter, random_state=random_state)]
    )


def _compute_thresh(
    data, method, splits, random_state, backend, candidates=None, medians=None
):
    """Best threshold for one channel's (augmented) epochs.

    Parameters
    ----------
    data : array, shape (n_epochs, n_times)
        One channel.
    method : str
        ``'bayesian_optimization'``, ``'random_search'`` or ``'exact'``.
    splits : list of (train, test)
        The cross-validation split of ``data``.
    random_state : int | RandomState | None
        Passed to the surrogate of the Bayesian optimisation.
    backend : Backend
        Where the candidate losses are computed.
    candidates : array | None
        The random-search draws (``method='random_search'`` only).
    medians : array, shape (n_folds, n_times) | None
        Test-fold medians, when already computed.
    """
    folds = _FoldData(data, splits, backend, medians)
    if method == "random_search":
        # best mean test score, first one on ties (scikit-learn's rank 1)
        return candidates[int(np.argmin(folds.losses(candidates)))]
    all_threshes = np.sort(folds.deltas)
    if method == "exact":
        grid = np.unique(all_threshes)
        return grid[int(np.argmin(folds.all_losses(grid)))]
    # every proposal's loss reads the same epochs: on a GPU, copied there once
    with backend.resident(folds.data):
        return _search_bayes(all_threshes, folds.losses, random_state, n_init=40)


def _thresholds_one_type(
    epochs, picks, method, random_state, augment, dots, n_jobs, backend, dtype=None
):
    from joblib import Parallel, delayed
    from sklearn.model_selection import StratifiedShuffleSplit

    from .backends import get_backend
    from .interpolation import Interpolator

    data = epochs.get_data(copy=False)
    picks = np.asarray(picks)
    n_epochs = len(data)
    y = np.ones(n_epochs)
    # from here on ``data`` holds the picked channels only, C-ordered
    # (``data[:, picks]`` is not): column i is channel picks[i]
    if augment:
        interp = Interpolator(
            epochs.info, picks, dots=dots, dots_mode="fast", backend=backend, dtype=dtype
        )
        logger.info("Creating augmented epochs")
        # the epochs, then their leave-one-out versions, in one array
        augmented = np.empty((2 * n_epochs, len(picks), data.shape[2]), dtype=data.dtype)
        np.take(data, picks, axis=1, out=augmented[:n_epochs], mode="clip")
        interp.leave_one_out(data, out=augmented[n_epochs:], picks_only=True)
        data = augmented
        y = np.r_[np.zeros(n_epochs), np.ones(n_epochs)]
    else:
        data = picked_channels(data, picks)
    cv = StratifiedShuffleSplit(n_splits=10, test_size=0.2, random_state=random_state)
    # Draw every random quantity first, sequentially in channel order, so that
    # a shared RandomState advances exactly as in autoreject's loop whatever
    # n_jobs is. Random search samples its candidates before splitting (as
    # RandomizedSearchCV does). With an int seed every channel gets the same
    # split, so it is drawn once.
    fixed_seed = isinstance(random_state, (int, np.integer))
    shared_splits = list(cv.split(data[:, 0], y)) if fixed_seed else None
    medians = None
    if fixed_seed:
        # every channel's test-fold medians in one call per fold (on a GPU,
        # the data go there once for every fold)
        with backend.resident(data):
            medians = np.stack(
                [backend.median_of_rows(data, test) for _, test in shared_splits], axis=1
            )
    plans = []
    for i in range(len(picks)):
        candidates = None
        if method == "random_search":
            all_threshes = np.sort(np.ptp(data[:, i], axis=1))
            candidates = _random_search_candidates(all_threshes, random_state)
        splits = shared_splits if fixed_seed else list(cv.split(data[:, i], y))
        plans.append((i, splits, candidates, None if medians is None else medians[i]))

    # with n_jobs > 1 the channels run on n_jobs threads, each channel's
    # kernels on one thread
    channel_backend = backend if n_jobs == 1 else get_backend(backend.name, n_jobs=1)

    def one(plan):
        column, splits, candidates, this_medians = plan
        return _compute_thresh(
            np.ascontiguousarray(data[:, column]),
            method,
            splits,
            random_state,
            channel_backend,
            candidates=candidates,
            medians=this_medians,
        )

    it = progress(plans, "Computing thresholds ...")
    if n_jobs == 1:
        threshes = [one(plan) for plan in it]
    else:
        threshes = Parallel(n_jobs=n_jobs, prefer="threads")(
            delayed(one)(plan) for plan in it
        )
    return {epochs.ch_names[p]: float(t) for p, t in zip(picks, threshes)}


def _compute_thresholds(
    epochs,
    method="bayesian_optimization",
    random_state=None,
    picks=None,
    augment=True,
    dots=None,
    verbose=None,
    n_jobs=1,
    backend=None,
    dtype="float64",
):
    """:func:`compute_thresholds` with precomputed MEG ``dots`` (internal)."""
    from .backends import estimator_backend
    from .local_reject import all_peaks

    if method not in _METHODS:
        raise ValueError(
            f"method must be one of {', '.join(map(repr, _METHODS))}; got {method!r}."
        )
    dtype = check_compute_dtype(dtype)
    check_epochs_type(epochs)
    # float32: the data converted once (a no-op when a caller already did)
    epochs = compute_epochs(epochs, dtype)
    with log_level(verbose):
        picks = handle_picks(epochs.info, picks)
        be = estimator_backend(backend, n_jobs)
        # the checks read the peak-to-peaks (registered by a calling
        # estimator, else computed in one pass) rather than the data
        check_epochs(epochs, picks, check_loc=augment, peaks=lambda: all_peaks(epochs, be))
        # the 80/20 stratified split needs two test and two training epochs
        # of each class (original, and augmented when augment=True)
        check_n_epochs(
            len(epochs),
            3 if augment else 2,
            "the threshold search (an 80/20 split of the "
            + ("original and augmented epochs)" if augment else "epochs)"),
        )
        threshes = {}
        for _, this_picks in get_picks_by_type(epochs.info, picks):
            threshes.update(
                _thresholds_one_type(
                    epochs, this_picks, method, random_state, augment, dots, n_jobs, be, dtype
                )
            )
    return threshes


@blas_single_thread
@fill_doc
def compute_thresholds(
    epochs,
    method="bayesian_optimization",
    random_state=None,
    picks=None,
    augment=True,
    verbose=True,
    n_jobs=1,
    backend=None,
    dtype="float64",
):
    """Learn a peak-to-peak rejection threshold for every channel.

    Parameters
    ----------
    epochs : mne.Epochs
        Preloaded epochs. Not modified.
    method : str
        ``'bayesian_optimization'`` (default) or ``'random_search'``, as in
        autoreject, or ``'exact'`` (autoreject_cpp only): evaluate every candidate
        threshold and take the true minimum of the cross-validated loss.
    random_state : int | np.random.RandomState | None
        Seed of the cross-validation splits and of the random search. Defaults
        to None (not reproducible).
    picks : str | list | slice | None
        Channels to include, in any form MNE accepts. None (default) picks the
        data channels (MEG, EEG, fNIRS, ECoG, sEEG) not in ``info['bads']``.
        Each channel type is handled separately.
    augment : bool
        Whether to add a leave-one-out interpolation of each channel to the
        epochs the thresholds are learnt on (needs channel positions).
        Defaults to True.
    verbose : bool | str | int | None
        Verbosity (MNE convention). Defaults to True.
    %(n_jobs)s
    %(backend)s
    %(dtype)s

    Returns
    -------
    threshes : dict
        Channel name -> threshold (same units as the data).

    See Also
    --------
    AutoReject
    get_rejection_threshold
    """
    return _compute_thresholds(
        epochs,
        method=method,
        random_state=random_state,
        picks=picks,
        augment=augment,
        verbose=verbose,
        n_jobs=n_jobs,
        backend=backend,
        dtype=dtype,
    )
