"""The threshold search's surrogate and acquisition match scikit-learn/SciPy."""

import numpy as np
import pytest

from autoreject_cpp._bayesopt import _FlatGP, bayes_opt, expected_improvement


def _sklearn_ei(gp, best_y, x):
    from scipy.stats import norm

    mu, sigma = gp.predict(x[:, None], return_std=True)
    z = (mu - best_y) / (sigma + 1e-12)
    return (mu - best_y) * norm.cdf(z) + sigma * norm.pdf(z)


@pytest.mark.parametrize("scale", [1e-5, 1e-12, 1.0])
@pytest.mark.parametrize("n_train", [3, 41, 51])
def test_flat_gp_is_sklearn_gp_bit_for_bit(scale, n_train):
    """Same floats as GaussianProcessRegressor(optimizer=None), on the
    nearly singular kernels that thresholds in volts produce, including when
    one surrogate is refitted on more points (its cached kernel columns are
    reused) and when a point is observed twice."""
    import warnings

    from sklearn.gaussian_process import GaussianProcessRegressor

    rng = np.random.default_rng(n_train)
    grid = np.sort(rng.uniform(1, 20, 300)) * scale
    x_all = np.r_[rng.choice(grid, n_train, replace=False), grid[7]]
    y_all = rng.uniform(0.5, 2, n_train + 1) * scale
    ours = _FlatGP(grid)
    fits = [(x_all[:n], y_all[:n]) for n in (max(1, n_train - 2), n_train, n_train + 1)]
    # then points that are not an extension of the previous fit's
    fits.append((x_all[::-1], y_all[::-1]))
    for x, y in fits:
        ours.fit(x, y)
        ref = GaussianProcessRegressor(optimizer=None).fit(x[:, None], y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mu_ref, sd_ref = ref.predict(grid[:, None], return_std=True)
            ei_ref = _sklearn_ei(ref, y.min(), grid)
        mu, sd = ours.predict()
        np.testing.assert_array_equal(mu, mu_ref)
        np.testing.assert_array_equal(sd, sd_ref)
        np.testing.assert_array_equal(expected_improvement(ours, y.min()), ei_ref)


def test_flat_gp_reports_a_kernel_that_is_not_positive_definite():
    gp = _FlatGP(np.linspace(0, 1, 5))
    # LAPACK's potrf reports the order of the failing leading minor in info
    gp._potrf = lambda K, **kw: (K, 2)
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        gp.fit(np.array([0.0, np.nan]), np.array([1.0, 2.0]))


def test_bayes_opt_finds_minimum_of_convex_objective():
    grid = np.linspace(1e-6, 1e-4, 200)
    calls = []

    def f_batch(xs):
        calls.append(len(xs))
        return (np.asarray(xs) - 3.3e-5) ** 2

    best, best_y = bayes_opt(f_batch, grid[::40], grid, max_iter=10)
    assert best in grid
    assert best_y == pytest.approx(((grid - 3.3e-5) ** 2)[grid == best][0])
    # every initial point first, in one batch, then one point per proposal
    assert calls[0] == len(grid[::40]) and calls[1:] == [1] * 10


def test_bayes_opt_skips_infinite_initial_points_and_fails_clearly():
    grid = np.linspace(1.0, 2.0, 10)
    best, _ = bayes_opt(lambda xs: np.where(np.asarray(xs) < 1.5, np.inf, xs), grid, grid, 2)
    assert best >= 1.5
    with pytest.raises(RuntimeError, match="infinite loss"):
        bayes_opt(lambda xs: np.full(len(xs), np.inf), grid, grid, 2)
