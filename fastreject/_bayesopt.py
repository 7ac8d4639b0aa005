"""Expected-improvement search over a discrete grid of candidate thresholds.

This reproduces the search autoreject 0.5.1 uses to pick a peak-to-peak
threshold, including the behaviours that shape its result:

* the surrogate is scikit-learn's ``GaussianProcessRegressor`` with its
  default kernel (``1.0 * RBF(1.0)``, both fixed) and ``optimizer=None``, fitted
  on raw threshold values (volts, so the RBF is nearly flat);
* the next candidate is the **argmin** of the expected-improvement formula
  ``(mu - best) * Phi(z) + sigma * phi(z)`` over the whole grid (the first index
  on ties);
* exactly ``max_iter`` proposals are made, repeated proposals included; the
  objective is cached, so a repeat costs nothing;
* initial points whose objective is infinite are skipped.

The objective is evaluated in batches: all initial points in one call to
``f_batch``, then one point per iteration. Using the scikit-learn surrogate
itself (not a re-implementation) is deliberate: the kernel matrix is nearly
singular, and only the very same floating-point operations guarantee the same
proposals.
"""

from __future__ import annotations

import warnings

import numpy as np


def expected_improvement(gp, best_y, x):
    """Expected-improvement values of ``gp`` at ``x`` relative to ``best_y``.

    Parameters
    ----------
    gp : sklearn.gaussian_process.GaussianProcessRegressor
        A fitted surrogate.
    best_y : float
        The best (lowest) objective value found so far.
    x : array, shape (n_candidates,)
        Candidate values.

    Returns
    -------
    ei : array, shape (n_candidates,)
    """
    from scipy.stats import norm

    with warnings.catch_warnings():
        # negative predictive variances are clipped to 0 by scikit-learn
        warnings.simplefilter("ignore")
        mu, sigma = gp.predict(x[:, None], return_std=True)
    # 1e-12 guards the division where the surrogate is certain
    z = (mu - best_y) / (sigma + 1e-12)
    return (mu - best_y) * norm.cdf(z) + sigma * norm.pdf(z)


def bayes_opt(f_batch, initial_x, all_x, max_iter=10, random_state=None):
    """Minimise an objective over ``all_x`` by expected-improvement search.

    Parameters
    ----------
    f_batch : callable
        ``f_batch(xs) -> ys`` evaluates the objective at several points.
    initial_x : array, shape (n_init,)
        Points evaluated first, in this order.
    all_x : array, shape (n_candidates,)
        The grid proposals are drawn from.
    max_iter : int
        Number of proposals after the initial points.
    random_state : int | RandomState | None
        Passed to the surrogate (it does not draw with ``optimizer=None``).

    Returns
    -------
    best_x : float
        The grid value with the lowest objective seen.
    best_y : float
        Its objective value.
    """
    from sklearn.gaussian_process import GaussianProcessRegressor

    initial_x = np.asarray(initial_x)
    init_y = np.asarray(f_batch(initial_x), float)
    finite = ~np.isinf(init_y)
    if not finite.any():
        raise RuntimeError(
            "Every initial threshold gave an infinite loss (no epoch is kept in "
            "some cross-validation fold); the data have too few epochs for "
            "this search. Use more epochs or fewer folds."
        )
    xs = list(initial_x[finite])
    ys = list(init_y[finite])
    best = int(np.argmin(ys))
    best_x, best_y = xs[best], ys[best]

    gp = GaussianProcessRegressor(random_state=random_state, optimizer=None)
    for _ in range(max_iter):
        gp.fit(np.array(xs)[:, None], np.array(ys))
        new_x = all_x[expected_improvement(gp, best_y, all_x).argmin()]
        new_y = float(np.asarray(f_batch(np.array([new_x])))[0])
        if not np.isinf(new_y):
            xs.append(new_x)
            ys.append(new_y)
            if new_y < best_y:
                best_x, best_y = new_x, new_y
    return best_x, best_y
