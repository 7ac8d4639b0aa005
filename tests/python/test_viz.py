"""Tests for autoreject_cpp.viz."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import mne  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from numpy.testing import assert_allclose, assert_array_equal  # noqa: E402

from autoreject_cpp.viz import plot_cv_loss, plot_thresholds, set_matplotlib_defaults  # noqa: E402

_FONT_KEYS = (
    "axes.labelsize",
    "legend.fontsize",
    "xtick.labelsize",
    "ytick.labelsize",
    "axes.titlesize",
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_set_matplotlib_defaults():
    with matplotlib.rc_context():
        set_matplotlib_defaults(plt)
        assert [plt.rcParams[key] for key in _FONT_KEYS] == [19, 17, 17, 17, 19]
        assert plt.rcParams["axes.facecolor"] == "#E5E5E5"  # ggplot
    with matplotlib.rc_context():
        set_matplotlib_defaults(plt, style="classic")
        assert plt.rcParams["axes.facecolor"] == "w"
        assert plt.rcParams["axes.labelsize"] == 19


@pytest.mark.oracle
@pytest.mark.parametrize("style", ["ggplot", "bmh"])
def test_set_matplotlib_defaults_matches_autoreject(style):
    utils = pytest.importorskip("autoreject.utils")
    with matplotlib.rc_context():
        utils.set_matplotlib_defaults(plt, style=style)
        theirs = dict(plt.rcParams)
    with matplotlib.rc_context():
        set_matplotlib_defaults(plt, style=style)
        ours = dict(plt.rcParams)
    assert ours == theirs


def test_plot_thresholds_single_panel():
    threshes = {f"EEG{ii}": (ii + 1) * 1e-5 for ii in range(10)}
    fig = plot_thresholds(threshes, bins=5, show=False)
    (ax,) = fig.axes
    heights = [patch.get_height() for patch in ax.patches]
    assert sum(heights) == 10
    assert len(heights) == 5
    assert "µV" in ax.get_xlabel()
    lo, hi = ax.patches[0].get_x(), ax.patches[-1].get_x() + ax.patches[-1].get_width()
    assert_allclose([lo, hi], [10, 100])  # scaled to µV
    # an array works as well
    fig = plot_thresholds(np.array(list(threshes.values())), bins=5, show=False)
    assert sum(p.get_height() for p in fig.axes[0].patches) == 10


def test_plot_thresholds_by_channel_type():
    info = mne.create_info(["E1", "E2", "E3", "M1", "M2"], 100.0, ["eeg"] * 3 + ["mag"] * 2)
    threshes = {"E1": 1e-4, "E2": 2e-4, "E3": 3e-4, "M1": 1e-12, "M2": 2e-12}
    fig = plot_thresholds(threshes, info, show=False)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["eeg (3 channels)", "mag (2 channels)"]
    assert "fT" in fig.axes[1].get_xlabel()
    fig, axes = plt.subplots(1, 2)
    assert plot_thresholds(threshes, info, axes=axes, show=False) is fig


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        (({},), {}, ValueError, "empty"),
        ((np.zeros((2, 2)),), {}, ValueError, "1D array"),
        (([1e-5, 2e-5], mne.create_info(["a", "b"], 100.0, "eeg")), {}, TypeError, "dict"),
        (({"x": 1e-5}, mne.create_info(["a"], 100.0, "eeg")), {}, ValueError, "not in info"),
        (({"a": 1e-5},), dict(axes=[None, None]), ValueError, "one Axes per channel type"),
    ],
    ids=["empty", "2d", "array_with_info", "unknown_channel", "n_axes"],
)
def test_plot_thresholds_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        plot_thresholds(*args, show=False, **kwargs)


def test_plot_cv_loss():
    rng = np.random.default_rng(0)
    consensus = np.linspace(0, 1, 5)
    n_interpolate = [1, 4, 8]
    loss = rng.random((5, 3, 4))
    loss[2, 1] = 0.0  # the best cell
    fig = plot_cv_loss(loss, consensus, n_interpolate, title="eeg", show=False)
    ax = fig.axes[0]
    assert_allclose(ax.images[0].get_array(), loss.mean(axis=-1))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "4", "8"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "0.25", "0.5", "0.75", "1"]
    (box,) = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert box.get_xy() == (0.5, 1.5)
    assert ax.get_title() == "eeg"
    assert len(fig.axes) == 2  # with colorbar
    fig, ax = plt.subplots()
    assert plot_cv_loss(loss, consensus, n_interpolate, ax=ax, mark_best=False, show=False) is fig
    assert not ax.patches


def test_plot_cv_loss_infinite_cells():
    loss = np.full((2, 2, 3), np.inf)
    loss[1, 0] = 1.0
    fig = plot_cv_loss(loss, [0.1, 0.5], [1, 2], show=False)
    (box,) = fig.axes[0].patches
    assert box.get_xy() == (-0.5, 0.5)
    image = fig.axes[0].images[0].get_array()
    assert_array_equal(np.isinf(image), np.isinf(loss.mean(-1)))


@pytest.mark.parametrize(
    "loss, match",
    [(np.zeros((2, 3)), "n_folds"), (np.zeros((3, 3, 2)), "must match")],
    ids=["2d", "grid_mismatch"],
)
def test_plot_cv_loss_errors(loss, match):
    with pytest.raises(ValueError, match=match):
        plot_cv_loss(loss, [0.1, 0.5], [1, 2, 3], show=False)
