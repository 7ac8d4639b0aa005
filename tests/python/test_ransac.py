"""Tests for autoreject_cpp.ransac: agreement with autoreject 0.5.1 and contract."""

import warnings
from pathlib import Path

import mne
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from autoreject_cpp.ransac import Ransac

RTOL = 1e-9


def _find_data_dir():
    """The shared data folder: ``<repo root>/../shared/data``, else /work/shared/data."""
    repo_root = Path(__file__).resolve().parents[2]  # <repo>/tests/python
    for candidate in (repo_root.parent / "shared" / "data", Path("/work/shared/data")):
        if candidate.is_dir():
            return candidate
    return None


DATA_DIR = _find_data_dir()
EEGMMIDB = None if DATA_DIR is None else DATA_DIR / "eegmmidb" / "S001R04.edf"
SSS_FIF = (
    None
    if DATA_DIR is None
    else DATA_DIR / "mne_testing_sss" / "sample_audvis_trunc_regIn_raw_sss.fif"
)


def _require(path):
    if path is None or not path.is_file():
        pytest.skip(f"real data not available ({path})")


def _montage(kind):
    """``standard_<kind>`` montage under the name this MNE uses without warning.

    MNE 1.13 renamed ``standard_1005``/``standard_1020`` to ``colin27_*``
    (same positions) and deprecated the old names.
    """
    name = f"colin27_{kind}"
    if name not in mne.channels.get_builtin_montages():
        name = f"standard_{kind}"
    return mne.channels.make_standard_montage(name)


# a common 32-electrode 10-20 layout
_CH_NAMES_32 = (
    "Fp1 Fp2 F7 F3 Fz F4 F8 FC5 FC1 FC2 FC6 T7 C3 Cz C4 T8 "
    "TP9 CP5 CP1 CP2 CP6 TP10 P7 P3 Pz P4 P8 PO9 O1 Oz O2 PO10"
).split()


def _make_synthetic_epochs(n_epochs=20, n_times=100, broken=("T7", "O2"), seed=42):
    """32 standard_1020 EEG channels with smooth fields plus broken channels."""
    rng = np.random.default_rng(seed)
    montage = _montage("1020")
    ch_names = _CH_NAMES_32
    info = mne.create_info(ch_names, sfreq=100.0, ch_types="eeg")
    info.set_montage(montage)
    pos = np.array([ch["loc"][:3] for ch in info["chs"]])
    pos = pos / np.linalg.norm(pos, axis=1, keepdims=True)
    # three smooth (linear and quadratic) spatial patterns with sinusoidal
    # time courses give strongly correlated neighbouring channels
    patterns = np.stack([pos[:, 0], pos[:, 1] * pos[:, 2], pos[:, 2] + 0.5 * pos[:, 0] ** 2])
    times = np.arange(n_times) / info["sfreq"]
    data = np.empty((n_epochs, len(ch_names), n_times))
    for e in range(n_epochs):
        freqs = rng.uniform(2, 12, size=3)
        phases = rng.uniform(0, 2 * np.pi, size=3)
        courses = np.sin(2 * np.pi * freqs[:, None] * times + phases[:, None])
        data[e] = patterns.T @ courses
    data += 0.05 * rng.standard_normal(data.shape)
    for ch in broken:
        data[:, ch_names.index(ch)] = rng.standard_normal((n_epochs, n_times))
    return mne.EpochsArray(data * 1e-5, info, verbose="error")


@pytest.fixture(scope="module")
def synthetic_epochs():
    return _make_synthetic_epochs()


@pytest.fixture(scope="module")
def eegmmidb_epochs():
    _require(EEGMMIDB)
    raw = mne.io.read_raw_edf(EEGMMIDB, preload=True, verbose="error")
    mne.datasets.eegbci.standardize(raw)
    raw.set_montage(_montage("1005"))
    events, _ = mne.events_from_annotations(raw, verbose="error")
    return mne.Epochs(
        raw, events, tmin=-0.5, tmax=1.5, baseline=None, preload=True, verbose="error"
    )


@pytest.fixture(scope="module")
def sss_epochs():
    _require(SSS_FIF)
    raw = mne.io.read_raw_fif(SSS_FIF, preload=True, verbose="error")
    # ten 0.1-s epochs: too short for statistics, but real sensor geometry
    return mne.make_fixed_length_epochs(raw, duration=0.1, preload=True, verbose="error")


def _assert_same_as_autoreject(epochs, **params):
    """Fit both implementations and compare every result."""
    autoreject = pytest.importorskip("autoreject")
    theirs = autoreject.Ransac(verbose=False, **params).fit(epochs)
    ours = Ransac(verbose=False, **params).fit(epochs)
    assert ours.ch_subsets_ == theirs.ch_subsets_
    assert_array_equal(ours.picks_, theirs.picks)
    assert ours.ch_type_ == theirs.ch_type
    assert_allclose(ours.mappings_, theirs.mappings_, rtol=RTOL, atol=0)
    assert_allclose(ours.corr_, theirs.corr_, rtol=RTOL, atol=0)
    assert_array_equal(ours.bad_log_, theirs.bad_log)
    assert ours.bad_chs_ == theirs.bad_chs_
    with warnings.catch_warnings():
        # autoreject asks MNE to interpolate even an empty list, which warns
        warnings.filterwarnings("ignore", "No bad channels to interpolate")
        clean_theirs = theirs.transform(epochs)
    clean_ours = ours.transform(epochs)
    assert clean_ours.ch_names == clean_theirs.ch_names
    assert clean_ours.info["bads"] == clean_theirs.info["bads"]
    assert_allclose(clean_ours.get_data(), clean_theirs.get_data(), rtol=RTOL, atol=0)
    return ours


# ---------------------------------------------------------------- oracle


@pytest.mark.oracle
@pytest.mark.parametrize("n_resample", [50, 7], ids=["even", "odd"])
def test_synthetic_matches_autoreject(synthetic_epochs, n_resample):
    ours = _assert_same_as_autoreject(synthetic_epochs, n_resample=n_resample)
    # the two broken channels are found
    assert ours.bad_chs_ == ["T7", "O2"]


@pytest.mark.oracle
def test_synthetic_with_marked_bads_matches_autoreject(synthetic_epochs):
    """Channels in info['bads'] are never drawn; explicitly picked ones are predicted."""
    epochs = synthetic_epochs.copy()
    epochs.info["bads"] = ["Fp1", "Cz"]
    # by type: both marked channels are excluded from the picks
    with pytest.warns(RuntimeWarning, match="marked as bad"):
        ours = _assert_same_as_autoreject(epochs, n_resample=10)
    assert "Fp1" not in epochs.ch_names[ours.picks_[0]]
    # by name: Fp1 is picked (and predicted) but never part of a subset
    names = [ch for ch in epochs.ch_names if ch != "Cz"]
    with pytest.warns(RuntimeWarning, match="marked as bad"):
        ours = _assert_same_as_autoreject(epochs, n_resample=10, picks=names)
    assert "Fp1" in [epochs.ch_names[p] for p in ours.picks_]
    assert not any("Fp1" in sub for sub in ours.ch_subsets_)


@pytest.mark.oracle
def test_random_state_forms_match_autoreject(synthetic_epochs):
    autoreject = pytest.importorskip("autoreject")
    for make in (lambda: 3, lambda: np.random.RandomState(3)):
        theirs = autoreject.Ransac(n_resample=5, random_state=make(), verbose=False)
        ours = Ransac(n_resample=5, random_state=make(), verbose=False)
        theirs.fit(synthetic_epochs)
        ours.fit(synthetic_epochs)
        assert ours.ch_subsets_ == theirs.ch_subsets_
        assert_allclose(ours.corr_, theirs.corr_, rtol=RTOL, atol=0)


@pytest.mark.oracle
def test_eegmmidb_matches_autoreject(eegmmidb_epochs):
    ours = _assert_same_as_autoreject(eegmmidb_epochs)
    assert ours.corr_.shape == (len(eegmmidb_epochs), 64)


@pytest.mark.oracle
@pytest.mark.parametrize(
    "picks, n_resample", [("mag", 8), ("grad", 3), ("eeg", 10)], ids=["mag", "grad", "eeg"]
)
def test_sss_matches_autoreject(sss_epochs, picks, n_resample):
    _assert_same_as_autoreject(sss_epochs, picks=picks, n_resample=n_resample)


# ---------------------------------------------------------- behaviour


def test_known_bad_eeg_electrode_is_found(sss_epochs):
    """EEG 053 of the MNE sample subject barely correlates with its neighbours."""
    ransac = Ransac(picks="eeg", n_resample=20, verbose=False).fit(sss_epochs)
    assert "EEG 053" in ransac.bad_chs_


def test_fitted_attributes(synthetic_epochs):
    ransac = Ransac(n_resample=6, verbose=False)
    assert ransac.fit(synthetic_epochs) is ransac
    n_epochs, n_channels = len(synthetic_epochs), len(synthetic_epochs.ch_names)
    assert ransac.picks is None  # the parameter is left as given
    assert_array_equal(ransac.picks_, np.arange(n_channels))
    assert ransac.ch_type_ == "eeg"
    assert len(ransac.ch_subsets_) == 6
    assert all(len(sub) == 8 and len(set(sub)) == 8 for sub in ransac.ch_subsets_)
    assert all(type(ch) is str for sub in ransac.ch_subsets_ for ch in sub)
    assert ransac.mappings_.shape == (6 * n_channels, n_channels)
    assert ransac.corr_.shape == ransac.bad_log_.shape == (n_epochs, n_channels)
    assert ransac.bad_log is ransac.bad_log_
    assert set(np.unique(ransac.bad_log_)) <= {0.0, 1.0}
    # the threshold is strict: "more than unbroken_time of the epochs"
    counts = ransac.bad_log_.sum(axis=0)
    expected = [synthetic_epochs.ch_names[i] for i in np.flatnonzero(counts > 0.4 * n_epochs)]
    assert ransac.bad_chs_ == expected


def test_unbroken_time_is_strict(synthetic_epochs):
    """A channel flagged in exactly unbroken_time * n_epochs epochs is not bad."""
    ransac = Ransac(n_resample=6, verbose=False).fit(synthetic_epochs)
    counts = ransac.bad_log_.sum(axis=0)
    worst = int(counts.max())
    at_limit = Ransac(n_resample=6, unbroken_time=worst / len(synthetic_epochs), verbose=False)
    assert at_limit.fit(synthetic_epochs).bad_chs_ == []


def test_input_not_modified(synthetic_epochs):
    epochs = synthetic_epochs.copy()
    epochs.info["bads"] = ["Fz"]
    data_before = epochs.get_data()
    ransac = Ransac(n_resample=6, verbose=False)
    with pytest.warns(RuntimeWarning, match="marked as bad"):
        clean = ransac.fit_transform(epochs)
    assert clean is not epochs
    assert epochs.info["bads"] == ["Fz"]
    assert_array_equal(epochs.get_data(), data_before)
    assert clean.info["bads"] == []
    assert ransac.bad_chs_  # something was interpolated in the copy
    changed = ~np.all(clean.get_data() == data_before, axis=(0, 2))
    assert [epochs.ch_names[i] for i in np.flatnonzero(changed)] == ransac.bad_chs_


def test_n_jobs_does_not_change_results(synthetic_epochs, sss_epochs):
    for epochs, params in ((synthetic_epochs, {}), (sss_epochs, dict(picks="mag", n_resample=4))):
        one = Ransac(n_jobs=1, verbose=False, **params).fit(epochs)
        two = Ransac(n_jobs=2, verbose=False, **params).fit(epochs)
        assert one.ch_subsets_ == two.ch_subsets_
        assert_array_equal(one.mappings_, two.mappings_)
        assert_array_equal(one.corr_, two.corr_)
        assert one.bad_chs_ == two.bad_chs_


def test_refit_and_clone(synthetic_epochs):
    ransac = Ransac(n_resample=5, verbose=False)
    first = ransac.fit(synthetic_epochs).corr_.copy()
    assert_array_equal(ransac.fit(synthetic_epochs).corr_, first)
    twin = clone(ransac)
    assert twin.get_params() == ransac.get_params()
    assert not hasattr(twin, "corr_")


def test_logging_not_print(synthetic_epochs, capsys):
    Ransac(n_resample=3, verbose=False).fit(synthetic_epochs)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------- errors


def test_transform_before_fit(synthetic_epochs):
    with pytest.raises(NotFittedError):
        Ransac().transform(synthetic_epochs)


@pytest.mark.parametrize("bad_input", [np.zeros((2, 3, 4)), "epochs", None])
def test_wrong_type(bad_input):
    with pytest.raises(TypeError, match="mne.Epochs"):
        Ransac().fit(bad_input)


def test_not_preloaded():
    epochs = _make_synthetic_epochs(n_epochs=3)
    raw = mne.io.RawArray(
        np.concatenate(list(epochs.get_data()), axis=1), epochs.info, verbose="error"
    )
    lazy = mne.make_fixed_length_epochs(raw, duration=0.5, preload=False, verbose="error")
    with pytest.raises(ValueError, match="load_data"):
        Ransac().fit(lazy)


def test_too_many_bad_channels(synthetic_epochs):
    epochs = synthetic_epochs.copy()
    names = epochs.ch_names
    epochs.info["bads"] = names[:26]
    # picking all 32 by name keeps the 26 bad ones as targets: 6 good < 8 needed
    with pytest.warns(RuntimeWarning, match="marked as bad"):
        with pytest.raises(ValueError, match=r"6 good channel\(s\) remain.*needs 8"):
            Ransac(picks=names, verbose=False).fit(epochs)


def test_mixed_channel_types(sss_epochs):
    with pytest.raises(ValueError, match="several channel types"):
        Ransac(verbose=False).fit(sss_epochs)
    with pytest.raises(ValueError, match="several channel types"):
        Ransac(picks=["grad", "mag"], verbose=False).fit(sss_epochs)


def test_no_positions():
    rng = np.random.default_rng(0)
    info = mne.create_info([f"EEG{i:02d}" for i in range(16)], 100.0, "eeg")
    epochs = mne.EpochsArray(rng.standard_normal((3, 16, 50)), info, verbose="error")
    with pytest.raises(RuntimeError, match="montage"):
        Ransac(verbose=False).fit(epochs)


def test_unsupported_channel_type():
    epochs = _make_synthetic_epochs(n_epochs=3)
    epochs.set_channel_types({ch: "ecog" for ch in epochs.ch_names}, verbose="error")
    with pytest.raises(ValueError, match="EEG, gradiometer or magnetometer"):
        Ransac(verbose=False).fit(epochs)


@pytest.mark.parametrize(
    "param, value, error",
    [
        ("n_resample", 0, ValueError),
        ("n_resample", 2.5, TypeError),
        ("min_channels", 0.0, ValueError),
        ("min_channels", 1.5, ValueError),
        ("min_channels", "a", TypeError),
        ("unbroken_time", -0.1, ValueError),
        ("min_corr", None, TypeError),
        ("n_jobs", 1.5, TypeError),
    ],
)
def test_invalid_params(synthetic_epochs, param, value, error):
    with pytest.raises(error, match=param):
        Ransac(verbose=False, **{param: value}).fit(synthetic_epochs)


def test_min_channels_too_small(synthetic_epochs):
    with pytest.raises(ValueError, match="at least one"):
        Ransac(min_channels=0.01, verbose=False).fit(synthetic_epochs)


def test_transform_missing_channel(synthetic_epochs):
    ransac = Ransac(n_resample=6, verbose=False).fit(synthetic_epochs)
    assert ransac.bad_chs_
    other = synthetic_epochs.copy().drop_channels(ransac.bad_chs_[:1])
    with pytest.raises(ValueError, match=ransac.bad_chs_[0]):
        ransac.transform(other)


def test_transform_without_bad_channels(synthetic_epochs):
    ransac = Ransac(n_resample=4, min_corr=-2.0, verbose=False).fit(synthetic_epochs)
    assert ransac.bad_chs_ == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = ransac.transform(synthetic_epochs)
    assert clean is not synthetic_epochs
    assert_array_equal(clean.get_data(), synthetic_epochs.get_data())


@pytest.mark.parametrize("verbose", [True, "debug", None])
def test_verbose_levels(synthetic_epochs, verbose):
    level = mne.utils.logger.level
    Ransac(n_resample=3, verbose=verbose).fit(synthetic_epochs)
    assert mne.utils.logger.level == level
