"""Tests for autoreject_cpp.reject_log: validation, plots, .npz persistence."""

import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import mne  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from numpy.testing import assert_array_equal  # noqa: E402

from autoreject_cpp.reject_log import RejectLog, read_reject_log  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _make_log(n_epochs=12, n_channels=6, seed=0):
    """Random log with good/bad/interpolated labels and a NaN (unpicked) column."""
    rng = np.random.default_rng(seed)
    labels = rng.choice([0.0, 1.0, 2.0], size=(n_epochs, n_channels), p=[0.7, 0.2, 0.1])
    labels[:, -1] = np.nan
    bad_epochs = np.zeros(n_epochs, bool)
    bad_epochs[[1, 4, n_epochs - 1]] = True
    ch_names = [f"EEG{ii:03d}" for ii in range(n_channels)]
    return bad_epochs, labels, ch_names


def _make_epochs(n_epochs, n_channels, seed=0):
    rng = np.random.default_rng(seed)
    info = mne.create_info([f"EEG{ii:03d}" for ii in range(n_channels)], 100.0, "eeg")
    data = rng.standard_normal((n_epochs, n_channels, 50)) * 1e-5
    return mne.EpochsArray(data, info, verbose="error")


def _no_temp_files(directory):
    return [name for name in os.listdir(directory) if name.endswith(".tmp")] == []


# ---------------------------------------------------------------------------
# construction


def test_attributes_are_kept():
    bad_epochs, labels, ch_names = _make_log()
    log = RejectLog(bad_epochs, labels, ch_names)
    assert log.labels is labels
    assert log.bad_epochs is bad_epochs
    assert log.ch_names is ch_names
    assert "12 epochs (3 bad)" in repr(log)


@pytest.mark.parametrize(
    "bad_epochs, labels, ch_names, match",
    [
        (np.zeros(3, bool), np.zeros((4, 2)), ["a", "b"], "bad_epochs has 3 entries"),
        (np.zeros(4, bool), np.zeros((4, 2)), ["a"], "ch_names has 1 names"),
        (np.zeros(4, bool), np.zeros(4), ["a"], "labels must be a 2D array"),
        (np.zeros((4, 1), bool), np.zeros((4, 2)), ["a", "b"], "bad_epochs must be a 1D"),
    ],
    ids=["n_epochs", "n_channels", "labels_1d", "bad_epochs_2d"],
)
def test_shape_errors(bad_epochs, labels, ch_names, match):
    with pytest.raises(ValueError, match=match):
        RejectLog(bad_epochs, labels, ch_names)


def test_ch_names_type_error():
    with pytest.raises(TypeError, match="ch_names must be a list"):
        RejectLog(np.zeros(2, bool), np.zeros((2, 3)), "abc")


# ---------------------------------------------------------------------------
# plot


def _image_and_boxes(fig):
    ax = fig.axes[0]
    image = np.ma.filled(ax.images[0].get_array().astype(float), np.nan)
    boxes = sorted(
        (p.get_xy(), p.get_width(), p.get_height())
        for p in ax.patches
        if isinstance(p, Rectangle)
    )
    return ax, image, boxes


@pytest.mark.parametrize("orientation", ["vertical", "horizontal"])
def test_plot_image(orientation):
    bad_epochs, labels, ch_names = _make_log()
    fig = RejectLog(bad_epochs, labels, ch_names).plot(orientation=orientation, show=False)
    ax, image, boxes = _image_and_boxes(fig)
    expected = labels.copy()
    expected[expected == 2] = 0.5
    if orientation == "horizontal":
        expected = expected.T
    assert_array_equal(image, expected)
    assert len(boxes) == bad_epochs.sum()
    # colors of good / interpolated / bad cells
    img = ax.images[0]
    rgba = [img.cmap(img.norm(value)) for value in (0, 0.5, 1)]
    expected_rgba = [matplotlib.colors.to_rgba(c) for c in ("lightgreen", "blue", "red")]
    assert_array_equal(rgba, expected_rgba)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["good", "interpolated", "bad"]
    ticks = ax.get_xticklabels() if orientation == "vertical" else ax.get_yticklabels()
    assert [t.get_text() for t in ticks] == ch_names


def test_plot_show_names_and_ax():
    bad_epochs, labels, _ = _make_log(n_channels=30)
    ch_names = [f"C{ii}" for ii in range(30)]
    log = RejectLog(bad_epochs, labels, ch_names)
    fig = log.plot(show=False)  # 'auto' -> every 5th name with >= 25 channels
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ch_names[::5]
    fig, ax = plt.subplots()
    assert log.plot(show_names=3, ax=ax, show=False) is fig
    assert [t.get_text() for t in ax.get_xticklabels()] == ch_names[::3]


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(orientation="diagonal"), ValueError, "orientation"),
        (dict(show_names=0), ValueError, "positive int"),
        (dict(show_names="all"), ValueError, "positive int"),
        (dict(show_names=2.5), TypeError, "positive int"),
    ],
    ids=["orientation", "show_names_zero", "show_names_str", "show_names_float"],
)
def test_plot_errors(kwargs, exc, match):
    log = RejectLog(*_make_log())
    with pytest.raises(exc, match=match):
        log.plot(show=False, **kwargs)


@pytest.mark.oracle
@pytest.mark.parametrize("orientation", ["vertical", "horizontal"])
def test_plot_matches_autoreject(orientation):
    autoreject = pytest.importorskip("autoreject")
    bad_epochs, labels, ch_names = _make_log()
    ours = RejectLog(bad_epochs, labels, ch_names).plot(orientation=orientation, show=False)
    theirs = autoreject.RejectLog(bad_epochs, labels.copy(), ch_names).plot(
        orientation=orientation, show=False
    )
    ax_o, image_o, boxes_o = _image_and_boxes(ours)
    ax_t, image_t, boxes_t = _image_and_boxes(theirs)
    assert_array_equal(image_o, image_t)
    assert boxes_o == boxes_t
    img_o, img_t = ax_o.images[0], ax_t.images[0]
    assert img_o.cmap.colors == img_t.cmap.colors
    assert (img_o.norm.vmin, img_o.norm.vmax) == (img_t.norm.vmin, img_t.norm.vmax)
    for getter in ("get_xticklabels", "get_yticklabels"):
        texts_o = [t.get_text() for t in getattr(ax_o, getter)()]
        texts_t = [t.get_text() for t in getattr(ax_t, getter)()]
        if getter == ("get_xticklabels" if orientation == "vertical" else "get_yticklabels"):
            assert texts_o == texts_t
    assert ax_o.get_xlabel() == ax_t.get_xlabel()
    assert ax_o.get_ylabel() == ax_t.get_ylabel()
    legend_o = [t.get_text() for t in ax_o.get_legend().get_texts()]
    assert legend_o == [t.get_text() for t in ax_t.get_legend().get_texts()]


# ---------------------------------------------------------------------------
# plot_epochs


def _expected_colors(bad_epochs, labels):
    grey = (0.6, 0.6, 0.6, 1.0)
    out = []
    for is_bad, row in zip(bad_epochs, labels):
        if is_bad:
            out.append(["r"] * len(row))
        else:
            out.append([{0: "k", 1: "r", 2: grey}.get(v, "k") if v == v else "k" for v in row])
    return out


def test_plot_epochs_colors():
    bad_epochs, labels, ch_names = _make_log(n_epochs=5, n_channels=4)
    epochs = _make_epochs(5, 4)
    with mne.viz.use_browser_backend("matplotlib"):
        fig = RejectLog(bad_epochs, labels, ch_names).plot_epochs(epochs, title="log")
    assert fig.mne.epoch_colors == _expected_colors(bad_epochs, labels)


@pytest.mark.oracle
def test_plot_epochs_matches_autoreject():
    autoreject = pytest.importorskip("autoreject")
    bad_epochs, labels, ch_names = _make_log(n_epochs=5, n_channels=4, seed=3)
    epochs = _make_epochs(5, 4)
    with mne.viz.use_browser_backend("matplotlib"):
        ours = RejectLog(bad_epochs, labels, ch_names).plot_epochs(epochs)
        theirs = autoreject.RejectLog(bad_epochs, labels, ch_names).plot_epochs(epochs)
    assert ours.mne.epoch_colors == theirs.mne.epoch_colors


@pytest.mark.parametrize(
    "n_epochs, n_channels, match",
    [(4, 4, "covers 5 epochs but epochs has 4"), (5, 3, "covers 4 channels")],
    ids=["epochs", "channels"],
)
def test_plot_epochs_mismatch(n_epochs, n_channels, match):
    log = RejectLog(*_make_log(n_epochs=5, n_channels=4))
    with pytest.raises(ValueError, match=match):
        log.plot_epochs(_make_epochs(n_epochs, n_channels))


def test_plot_epochs_checks_input():
    bad_epochs, labels, ch_names = _make_log(n_epochs=5, n_channels=4)
    with pytest.raises(TypeError, match="mne.Epochs"):
        RejectLog(bad_epochs, labels, ch_names).plot_epochs(np.zeros((5, 4, 10)))
    labels[0, 0] = 7
    with pytest.raises(ValueError, match=r"found \[7.0\]"):
        RejectLog(bad_epochs, labels, ch_names).plot_epochs(_make_epochs(5, 4))


# ---------------------------------------------------------------------------
# save / read


def _assert_logs_equal(log_a, log_b):
    assert_array_equal(log_a.bad_epochs, log_b.bad_epochs)
    assert_array_equal(log_a.labels, log_b.labels)  # NaNs compare equal here
    assert list(log_a.ch_names) == list(log_b.ch_names)


def test_save_read_round_trip(tmp_path):
    log = RejectLog(*_make_log())
    fname = tmp_path / "log.npz"
    log.save(fname)
    loaded = read_reject_log(fname)
    _assert_logs_equal(log, loaded)
    assert loaded.labels.dtype == np.float64
    assert loaded.bad_epochs.dtype == bool
    assert isinstance(loaded.ch_names, list)
    with np.load(fname) as archive:
        assert sorted(archive.files) == ["bad_epochs", "ch_names", "labels"]
    assert _no_temp_files(tmp_path)


def test_save_overwrite(tmp_path):
    fname = tmp_path / "log.npz"
    RejectLog(*_make_log(seed=0)).save(fname)
    second = RejectLog(*_make_log(seed=1))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        second.save(fname)
    second.save(str(fname), overwrite=True)
    _assert_logs_equal(second, read_reject_log(fname))


def test_save_appends_npz(tmp_path):
    log = RejectLog(*_make_log())
    log.save(tmp_path / "log")
    assert (tmp_path / "log.npz").is_file()
    with pytest.raises(FileExistsError):
        log.save(tmp_path / "log")


def test_save_is_atomic(tmp_path, monkeypatch):
    fname = tmp_path / "log.npz"
    original = RejectLog(*_make_log(seed=0))
    original.save(fname)

    def _fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez_compressed", _fail)
    with pytest.raises(RuntimeError, match="disk full"):
        RejectLog(*_make_log(seed=1)).save(fname, overwrite=True)
    _assert_logs_equal(original, read_reject_log(fname))
    assert _no_temp_files(tmp_path)


def test_save_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        RejectLog(*_make_log()).save(tmp_path / "nope" / "log.npz")


def test_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No reject log found"):
        read_reject_log(tmp_path / "missing.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not an archive")
    with pytest.raises(OSError, match="not a valid .npz archive"):
        read_reject_log(garbage)
    truncated = tmp_path / "truncated.npz"
    RejectLog(*_make_log()).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:-40])
    with pytest.raises(OSError, match="reject log"):
        read_reject_log(truncated)
    other = tmp_path / "other.npz"
    np.savez(other, labels=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="lacks ch_names, bad_epochs"):
        read_reject_log(other)
    inconsistent = tmp_path / "inconsistent.npz"
    np.savez(
        inconsistent, labels=np.zeros((2, 2)), bad_epochs=np.zeros(3, bool), ch_names=["a", "b"]
    )
    with pytest.raises(ValueError, match="inconsistent reject log"):
        read_reject_log(inconsistent)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        read_reject_log(single)


@pytest.mark.oracle
def test_files_interchangeable_with_autoreject(tmp_path):
    autoreject = pytest.importorskip("autoreject")
    bad_epochs, labels, ch_names = _make_log()
    theirs = autoreject.RejectLog(bad_epochs, labels, ch_names)
    theirs.save(tmp_path / "theirs.npz")
    _assert_logs_equal(theirs, read_reject_log(tmp_path / "theirs.npz"))

    ours = RejectLog(bad_epochs, labels, ch_names)
    ours.save(tmp_path / "ours.npz")
    loaded = autoreject.read_reject_log(tmp_path / "ours.npz")
    _assert_logs_equal(ours, loaded)
    assert loaded.labels.dtype == labels.dtype
    assert loaded.bad_epochs.dtype == bad_epochs.dtype
    # byte-level content of each array is the same whoever wrote the file
    with np.load(tmp_path / "ours.npz") as a, np.load(tmp_path / "theirs.npz") as b:
        for key in ("ch_names", "bad_epochs", "labels"):
            assert a[key].dtype == b[key].dtype
            assert_array_equal(a[key], b[key])
