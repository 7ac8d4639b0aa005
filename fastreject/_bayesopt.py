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

The surrogate is :class:`_FlatGP`, which performs exactly the floating-point
operations of scikit-learn's ``GaussianProcessRegressor`` for that
configuration (squared distances with SciPy, ``exp(-d / 2)``, jitter 1e-10 on
the diagonal, SciPy Cholesky and triangular solves) without its per-call
validation overhead; ``tests/test_bayesopt.py`` checks it against scikit-learn
bit for bit, so a change in scikit-learn's arithmetic is caught.

The objective is evaluated in batches: all initial points in one call to
``f_batch``, then one point per iteration.
"""

from __future__ import annotations

import warnings

import numpy as np


_SQRT_2PI = np.sqrt(2 * np.pi)


class _FlatGP:
    """Noise-free GP with a fixed ``1.0 * RBF(length_scale=1.0)`` kernel.

    Mirrors ``GaussianProcessRegressor(optimizer=None)`` (alpha 1e-10,
    ``normalize_y=False``) operation for operation.
    """

    alpha = 1e-10

    def fit(self, x, y):
        from scipy.linalg import cho_solve, cholesky
        from scipy.spatial.distance import pdist, squareform

        x = np.asarray(x, float).reshape(-1, 1)
        K = squareform(np.exp(-0.5 * pdist(x, metric="sqeuclidean")))
        np.fill_diagonal(K, 1)
        K[np.diag_indices_from(K)] += self.alpha
        self.x_ = x
        self.L_ = cholesky(K, lower=True, check_finite=False)
        self.coef_ = cho_solve((self.L_, True), np.asarray(y, float), check_finite=False)
        return self

    def predict(self, x, return_std=True):
        from scipy.linalg import solve_triangular
        from scipy.spatial.distance import cdist

        x = np.asarray(x, float).reshape(-1, 1)
        K_trans = np.exp(-0.5 * cdist(x, self.x_, metric="sqeuclidean"))
        mean = K_trans @ self.coef_
        if not return_std:
            return mean
        V = solve_triangular(self.L_, K_trans.T, lower=True, check_finite=False)
        var = np.ones(len(x))
        var -= np.einsum("ij,ji->i", V.T, V)
        var[var < 0] = 0.0  # clipped like scikit-learn
        return mean, np.sqrt(var)


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
    from scipy.special import ndtr

    with warnings.catch_warnings():
        # negative predictive variances are clipped to 0 by scikit-learn
        warnings.simplefilter("ignore")
        mu, sigma = gp.predict(x[:, None], return_std=True)
    # 1e-12 guards the division where the surrogate is certain
    z = (mu - best_y) / (sigma + 1e-12)
    # scipy.stats.norm.cdf / .pdf reduce to these for finite z
    pdf = np.exp(-(z**2) / 2.0) / _SQRT_2PI
    return (mu - best_y) * ndtr(z) + sigma * pdf


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
        Accepted for compatibility; the search draws no random numbers.

    Returns
    -------
    best_x : float
        The grid value with the lowest objective seen.
    best_y : float
        Its objective value.
    """
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

    # ``random_state`` would only matter for optimizer restarts, which the
    # search never does; it is accepted for API parity.
    gp = _FlatGP()
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
