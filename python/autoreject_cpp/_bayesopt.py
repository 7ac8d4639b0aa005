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
configuration (squared differences, ``exp(-d / 2)``, jitter 1e-10 on the
diagonal, LAPACK ``potrf``/``potrs``/``trtrs`` as SciPy calls them) without
its per-call validation overhead. Because every prediction is over the same
grid, the kernel column of each observed point is computed once and reused
by the later iterations. ``tests/test_bayesopt.py`` checks it against
scikit-learn bit for bit, so a change in scikit-learn's arithmetic is caught.

The objective is evaluated in batches: all initial points in one call to
``f_batch``, then one point per iteration.
"""

from __future__ import annotations

import numpy as np


_SQRT_2PI = np.sqrt(2 * np.pi)


def _lapack():
    from scipy.linalg import get_lapack_funcs

    return get_lapack_funcs(("potrf", "potrs", "trtrs"), (np.empty(1),))


def _sq_kernel(d):
    """``exp(-d**2 / 2)``: the RBF kernel of unit length scale, given differences."""
    return np.exp(-0.5 * (d * d))


class _FlatGP:
    """Noise-free GP with a fixed ``1.0 * RBF(length_scale=1.0)`` kernel.

    Mirrors ``GaussianProcessRegressor(optimizer=None)`` (alpha 1e-10,
    ``normalize_y=False``) operation for operation; predictions are always
    over ``grid``, whose kernel values against each training point are
    cached.

    Parameters
    ----------
    grid : array, shape (n_grid,)
        The points :meth:`predict` evaluates.
    """

    alpha = 1e-10

    def __init__(self, grid):
        self.grid = np.asarray(grid, float).ravel()
        # kernel of each training point (one row each) against the grid, for
        # the points of the last fit in their order; refits that append
        # points (the search's case) only compute the new rows
        self._rows = np.empty((0, len(self.grid)))
        self._rows_x = np.empty(0)
        self._potrf, self._potrs, self._trtrs = _lapack()

    def _kernel_to_grid(self, x):
        """Kernel between the grid and ``x``, C-ordered (n_grid, n) like
        scikit-learn's ``K_trans``."""
        n, known = len(x), self._rows_x
        same = known[: min(n, len(known))] == x[: len(known)]
        k = len(same) if same.all() else int(np.argmin(same))
        if len(self._rows) < n:
            grown = np.empty((max(n, 2 * len(self._rows)), len(self.grid)))
            grown[:k] = self._rows[:k]
            self._rows = grown
        # scikit-learn's squared distance of one-dimensional points is the
        # squared difference, rounded once
        self._rows[k:n] = _sq_kernel(x[k:, None] - self.grid[None, :])
        self._rows_x = x.copy()
        return np.ascontiguousarray(self._rows[:n].T)

    def fit(self, x, y):
        """Condition on observations ``y`` at points ``x`` (1-D arrays)."""
        x = np.asarray(x, float).ravel()
        K = _sq_kernel(x[:, None] - x[None, :])
        np.fill_diagonal(K, 1)
        K[np.diag_indices_from(K)] += self.alpha
        L, info = self._potrf(K, lower=1, clean=1, overwrite_a=1)
        if info != 0:
            raise np.linalg.LinAlgError(
                f"{info}-th leading minor of the surrogate's kernel matrix is "
                "not positive definite"
            )
        self.x_ = x
        self.L_ = L
        self.coef_, _ = self._potrs(L, np.asarray(y, float), lower=1)
        # kernel between grid and training points, C-ordered (n_grid, n)
        self._K_trans = self._kernel_to_grid(x)
        return self

    def predict(self):
        """Predictive mean and standard deviation at every grid point."""
        K_trans = self._K_trans
        mean = K_trans @ self.coef_
        V, _ = self._trtrs(self.L_, K_trans.T, lower=1)
        var = np.ones(len(self.grid))
        var -= np.einsum("ij,ji->i", V.T, V)
        var[var < 0] = 0.0  # clipped like scikit-learn
        return mean, np.sqrt(var)


def expected_improvement(gp, best_y):
    """Expected-improvement values over ``gp.grid`` relative to ``best_y``.

    Parameters
    ----------
    gp : _FlatGP
        A fitted surrogate.
    best_y : float
        The best (lowest) objective value found so far.

    Returns
    -------
    ei : array, shape (n_grid,)
    """
    from scipy.special import ndtr

    mu, sigma = gp.predict()
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
    gp = _FlatGP(all_x)
    for _ in range(max_iter):
        gp.fit(np.array(xs), np.array(ys))
        new_x = all_x[expected_improvement(gp, best_y).argmin()]
        new_y = float(np.asarray(f_batch(np.array([new_x])))[0])
        if not np.isinf(new_y):
            xs.append(new_x)
            ys.append(new_y)
            if new_y < best_y:
                best_x, best_y = new_x, new_y
    return best_x, best_y
