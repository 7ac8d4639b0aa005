"""Bad inputs fail loudly: one test per case of the table in docs/errors.md.

Each test asserts the exception (or warning) type and a message that names
what is wrong and how to fix it. Where autoreject 0.5.1 accepts an input and
returns a result, autoreject_cpp must return the same result (and may warn);
those cases are checked against the oracle or against the definition.
"""

# License: BSD-3-Clause

import warnings

import mne
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import autoreject_cpp
from autoreject_cpp import AutoReject, Ransac, compute_thresholds, get_rejection_threshold
from autoreject_cpp.local_reject import LocalAutoReject

from _data import eeg_epochs

FAST = dict(cv=3, n_interpolate=[1, 2], thresh_method="random_search", random_state=0, verbose=False)


@pytest.fixture(scope="module")
def epochs():
    """20 epochs x 8 EEG channels x 60 samples on a 10-20 montage."""
    return eeg_epochs(n_channels=8, n_epochs=20, n_times=60)


@pytest.fixture(scope="module")
def fitted(epochs):
    return AutoReject(**FAST).fit(epochs)


def _copy_with(epochs, func):
    """A copy of ``epochs`` whose data array went through ``func``."""
    out = epochs.copy()
    out._data = func(out._data.copy())
    return out


def _without_positions(epochs):
    info = mne.create_info(epochs.ch_names, epochs.info["sfreq"], "eeg")
    return mne.EpochsArray(epochs.get_data(), info, verbose=False)


def _lazy(epochs):
    raw = mne.io.RawArray(np.zeros((len(epochs.ch_names), 1000)), epochs.info, verbose=False)
    events = np.array([[100, 0, 1], [400, 0, 1], [700, 0, 1]])
    return mne.Epochs(raw, events, tmax=0.5, baseline=None, preload=False, verbose=False)


def _no_warnings(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return func(*args, **kwargs)


ENTRY_POINTS = {
    "AutoReject.fit": lambda e: AutoReject(**FAST).fit(e),
    "LocalAutoReject.fit": lambda e: LocalAutoReject(thresh_method="random_search", verbose=False).fit(e),
    "compute_thresholds": lambda e: compute_thresholds(e, method="random_search", random_state=0, verbose=False),
    "Ransac.fit": lambda e: Ransac(n_resample=10, random_state=0, verbose=False).fit(e),
    "get_rejection_threshold": lambda e: get_rejection_threshold(e, cv=3, random_state=0, verbose=False),
}  # fmt: skip


# ---------------------------------------------------------------------------
# the epochs themselves


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("bad", [np.zeros((5, 8, 60)), "epochs.fif", None])
def test_not_epochs(entry, bad):
    with pytest.raises(TypeError, match=r"must be an instance of mne\.Epochs.*preload=True"):
        ENTRY_POINTS[entry](bad)


def test_raw_instead_of_epochs(epochs):
    raw = mne.io.RawArray(epochs.get_data()[0], epochs.info, verbose=False)
    with pytest.raises(TypeError, match=r"got RawArray\. Create epochs with mne\.Epochs"):
        AutoReject(**FAST).fit(raw)


def test_transform_not_epochs(fitted, epochs):
    with pytest.raises(TypeError, match="mne.Epochs"):
        fitted.transform(epochs.get_data())
    with pytest.raises(TypeError, match="mne.Epochs"):
        fitted.get_reject_log(epochs.get_data())


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_not_preloaded(entry, epochs):
    with pytest.raises(ValueError, match=r"not loaded in memory.*(preload=True|load_data)"):
        ENTRY_POINTS[entry](_lazy(epochs))


def test_transform_not_preloaded(fitted, epochs):
    with pytest.raises(ValueError, match="load_data"):
        fitted.transform(_lazy(epochs))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_nan_inf(entry, value, epochs):
    def poison(x):
        x[4, 2, 10] = value
        return x

    with pytest.raises(ValueError, match=r"NaN or infinite values.*(repair|Repair)"):
        ENTRY_POINTS[entry](_copy_with(epochs, poison))


def test_nan_at_transform(fitted, epochs):
    def poison(x):
        x[0, 5, 0] = np.nan
        return x

    with pytest.raises(ValueError, match=rf"NaN or infinite values in channel\(s\) {epochs.ch_names[5]}"):
        fitted.transform(_copy_with(epochs, poison))


@pytest.mark.parametrize("kind", ["none", "zeros"])
@pytest.mark.parametrize("entry", ["AutoReject.fit", "LocalAutoReject.fit", "compute_thresholds", "Ransac.fit"])
def test_missing_positions(entry, kind, epochs):
    if kind == "none":
        bad = _without_positions(epochs)
    else:
        bad = epochs.copy()
        for ch in bad.info["chs"]:
            ch["loc"][:] = 0.0
    with pytest.raises(RuntimeError, match=r"positions.*set_montage"):
        ENTRY_POINTS[entry](bad)


def test_positions_not_needed_without_augmentation(epochs):
    """augment=False needs no positions: the documented way out."""
    bare = _without_positions(epochs)
    got = compute_thresholds(bare, method="random_search", augment=False, random_state=0, verbose=False)
    assert set(got) == set(epochs.ch_names)


def test_fewer_than_4_channels(epochs):
    three = epochs.copy().pick(epochs.ch_names[:3])
    with pytest.raises(ValueError, match=r"Only 3 channel\(s\).*at least 4.*get_rejection_threshold"):
        AutoReject(cv=3, verbose=False).fit(three)
    # an explicit grid is accepted (as by autoreject 0.5.1), with a warning
    with pytest.warns(RuntimeWarning, match=r"Only 3 channel\(s\).*fewer than 4"):
        AutoReject(**FAST).fit(three)


@pytest.mark.parametrize("entry", ["AutoReject.fit", "LocalAutoReject.fit", "compute_thresholds", "Ransac.fit"])
@pytest.mark.parametrize("level", [0.0, 3e-6])
def test_all_channels_flat(entry, level, epochs):
    flat = _copy_with(epochs, lambda x: np.full_like(x, level))
    with pytest.raises(ValueError, match=r"All 8 picked channel\(s\) are flat.*right file"):
        ENTRY_POINTS[entry](flat)


@pytest.mark.parametrize("entry", ["AutoReject.fit", "compute_thresholds", "Ransac.fit"])
def test_one_flat_channel_warns(entry, epochs):
    def flatten(x):
        x[:, 2] = 0.0
        return x

    name = epochs.ch_names[2]
    with pytest.warns(RuntimeWarning, match=rf"1 channel\(s\) are flat.*{name}.*info\['bads'\]") as record:
        ENTRY_POINTS[entry](_copy_with(epochs, flatten))
    assert sum("are flat" in str(w.message) for w in record) == 1  # once per call


@pytest.mark.oracle
def test_one_flat_channel_same_as_autoreject(epochs):
    autoreject = pytest.importorskip("autoreject")

    def flatten(x):
        x[:, 2] = 0.0
        return x

    flat = _copy_with(epochs, flatten)
    kwargs = dict(cv=3, n_interpolate=[1, 2], random_state=0, verbose=False)
    ref = autoreject.AutoReject(**kwargs).fit(flat)
    with pytest.warns(RuntimeWarning, match="flat"):
        ours = AutoReject(**kwargs).fit(flat)
    assert ours.threshes_ == pytest.approx(ref.threshes_, rel=1e-12)
    assert ours.consensus_ == ref.consensus_ and ours.n_interpolate_ == ref.n_interpolate_


@pytest.mark.parametrize(
    "entry, minimum",
    [("AutoReject.fit", 3), ("compute_thresholds", 3), ("get_rejection_threshold", 3)],
)
def test_single_epoch(entry, minimum, epochs):
    with pytest.raises(ValueError, match=rf"Got 1 epoch\(s\).*needs at least {minimum}.*more epochs"):
        ENTRY_POINTS[entry](epochs[:1])


def test_threshold_search_minimum_epochs(epochs):
    with pytest.raises(ValueError, match=r"Got 2 epoch\(s\).*augmented.*at least 3"):
        compute_thresholds(epochs[:2], method="random_search", random_state=0, verbose=False)
    # the documented minimum works
    compute_thresholds(epochs[:3], method="random_search", random_state=0, verbose=False)
    compute_thresholds(epochs[:2], method="random_search", augment=False, random_state=0, verbose=False)


def test_fewer_epochs_than_folds(epochs):
    with pytest.raises(ValueError, match=r"Got 8 epoch\(s\), but 10-fold cross-validation \(cv\) needs at least 10"):
        AutoReject(**{**FAST, "cv": 10}).fit(epochs[:8])
    with pytest.raises(ValueError, match=r"Got 4 epoch\(s\), but 5-fold"):
        get_rejection_threshold(epochs[:4], cv=5, verbose=False)


def test_all_epochs_bad_after_fit(fitted, epochs):
    loud = _copy_with(epochs, lambda x: x * 100)
    with pytest.warns(RuntimeWarning, match=r"All 20 epochs are bad.*empty.*units"):
        clean, log = fitted.transform(loud, return_log=True)
    # the definition: everything the log marks bad is dropped (autoreject too)
    assert log.bad_epochs.all() and len(clean) == 0


def test_no_usable_parameters_warns(epochs):
    """consensus=0 keeps no training epoch: every loss is infinite."""
    with pytest.warns(RuntimeWarning, match=r"all cross-validation losses are infinite.*consensus"):
        ar = AutoReject(**{**FAST, "consensus": [0.0]}).fit(epochs)
    assert np.isinf(ar.loss_["eeg"]).all()


def test_local_autoreject_all_bad_raises(epochs):
    local = LocalAutoReject(consensus=0.0, thresh_method="random_search", verbose=False).fit(epochs)
    with pytest.raises(ValueError, match="Every epoch is bad.*consensus"):
        local.transform(epochs)


# ---------------------------------------------------------------------------
# channels


def test_no_supported_channel(epochs):
    misc = epochs.copy().set_channel_types({n: "misc" for n in epochs.ch_names}, on_unit_change="ignore")
    with pytest.raises(ValueError, match=r"No data channels were picked.*eeg.*info\['bads'\]"):
        AutoReject(**FAST).fit(misc)


def test_unsupported_channel_picked(epochs):
    stim = epochs.copy().set_channel_types({epochs.ch_names[-1]: "stim"})
    with pytest.raises(ValueError, match=r"Unsupported channel type\(s\) stim.*picks='eeg'"):
        AutoReject(**{**FAST, "picks": list(range(8))}).fit(stim)
    # the default picks leave it out
    AutoReject(**FAST).fit(stim)


def test_mixed_types_where_one_is_required(epochs):
    mixed = epochs.copy().set_channel_types({n: "ecog" for n in epochs.ch_names[:4]})
    for fit in (
        lambda: Ransac(n_resample=10, verbose=False).fit(mixed),
        lambda: LocalAutoReject(thresh_method="random_search", verbose=False).fit(mixed),
    ):
        with pytest.raises(ValueError, match=r"several channel types \(ecog, eeg\).*single type"):
            fit()


def test_ransac_type(epochs):
    ecog = epochs.copy().set_channel_types({n: "ecog" for n in epochs.ch_names})
    with pytest.raises(ValueError, match=r"Ransac works on EEG.*'ecog'.*picks='eeg'"):
        Ransac(verbose=False).fit(ecog)


@pytest.mark.parametrize("picks", [["Fp1", "NOPE"], [0, 99], "nonsense"])
def test_unknown_picks(picks, epochs):
    with pytest.raises(ValueError, match=r"Invalid picks.*Available channels: Fp1"):
        AutoReject(**{**FAST, "picks": picks}).fit(epochs)


def test_bads_warn_once(epochs):
    marked = epochs.copy()
    marked.info["bads"] = [epochs.ch_names[0]]
    with pytest.warns(RuntimeWarning) as record:
        ar = AutoReject(**FAST).fit(marked)
    messages = [str(w.message) for w in record]
    assert sum("marked as bad" in m for m in messages) == 1, messages
    assert any(f"bad ({epochs.ch_names[0]}) and will be ignored" in m for m in messages)
    assert epochs.ch_names[0] not in ar.threshes_
    # picked by name: used, and the warning says so
    with pytest.warns(RuntimeWarning, match=r"marked as bad \(Fp1\) but were picked explicitly; they are used"):
        ar = AutoReject(**{**FAST, "picks": epochs.ch_names}).fit(marked)
    assert "Fp1" in ar.threshes_


def test_bads_at_transform(fitted, epochs):
    later = epochs.copy()
    later.info["bads"] = [epochs.ch_names[1]]
    with pytest.warns(RuntimeWarning, match=r"marked as bad \(Fpz\) but were good at fit time.*Fit again"):
        got = fitted.transform(later)
    # the fitted model still uses the channel: same result as without the mark
    assert_array_equal(got.get_data(), fitted.transform(epochs).get_data())


@pytest.fixture(scope="module")
def fitted_local(epochs):
    return LocalAutoReject(
        consensus=0.5, n_interpolate=1, thresh_method="random_search", verbose=False
    ).fit(epochs)


@pytest.mark.parametrize("model", ["fitted", "fitted_local"])
@pytest.mark.parametrize("change", ["fewer", "renamed", "other"])
def test_transform_channels_differ(change, model, epochs, request):
    fitted = request.getfixturevalue(model)
    if change == "fewer":
        other = epochs.copy().pick(epochs.ch_names[:7])
        match = r"have 7 channels, but the model was fitted on 8 channels.*same channels"
    elif change == "renamed":
        other = epochs.copy().rename_channels({epochs.ch_names[3]: "XX"})
        match = r"differ from those at fit time \(no threshold for XX\).*same order"
    else:
        other = eeg_epochs(n_channels=12, n_epochs=5, n_times=60).pick(list(range(4, 12)))
        match = "differ from those at fit time"
    for call in (fitted.transform, fitted.get_reject_log):
        with pytest.raises(ValueError, match=match):
            call(other)


def test_transform_reordered_channels(fitted, epochs):
    """Reordered channels are matched by name (as by autoreject): the output
    is the reordered output, up to float rounding of the interpolation."""
    order = epochs.ch_names[::-1]
    got, log = fitted.transform(epochs.copy().reorder_channels(order), return_log=True)
    want, want_log = fitted.transform(epochs, return_log=True)
    assert_array_equal(log.bad_epochs, want_log.bad_epochs)
    assert_array_equal(log.labels, want_log.labels[:, ::-1])
    want = want.reorder_channels(order).get_data()
    assert_allclose(got.get_data(), want, rtol=0, atol=1e-10 * np.abs(want).max())


def test_transform_extra_channels(epochs):
    ar = AutoReject(**FAST).fit(epochs.copy().pick(epochs.ch_names[:7]))
    clean = ar.transform(epochs)
    assert clean.ch_names == epochs.ch_names  # the extra channel passes through
    kept = np.flatnonzero(~ar.get_reject_log(epochs).bad_epochs)
    assert_array_equal(clean.get_data()[:, 7], epochs.get_data()[kept, 7])


def test_ransac_transform_channels_differ(epochs):
    def breaking(x):
        x[:, 4] = np.random.default_rng(0).standard_normal(x[:, 4].shape) * 1e-4
        return x

    ransac = Ransac(n_resample=20, random_state=0, verbose=False).fit(_copy_with(epochs, breaking))
    assert ransac.bad_chs_
    with pytest.raises(ValueError, match=r"lack the bad channel\(s\).*same channels"):
        ransac.transform(epochs.copy().drop_channels(ransac.bad_chs_))


# ---------------------------------------------------------------------------
# parameters


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(consensus=[0.1, 1.5]), ValueError, r"consensus.*\[0, 1\]"),
        (dict(consensus=-0.1), ValueError, r"consensus.*\[0, 1\]"),
        (dict(consensus=[np.nan]), ValueError, r"consensus.*\[0, 1\]"),
        (dict(consensus="a"), TypeError, "consensus must be a float or a sequence"),
        (dict(consensus=[]), ValueError, "non-empty"),
        (dict(n_interpolate=[1, 99]), ValueError, r"between 0 and 8 \(the number of picked channels\)"),
        (dict(n_interpolate=[-1]), ValueError, "between 0 and 8"),
        (dict(n_interpolate=[1.5]), TypeError, "n_interpolate must contain integers"),
        (dict(n_interpolate="a"), TypeError, "n_interpolate must be an int or a sequence of ints"),
        (dict(n_interpolate=[None]), TypeError, "n_interpolate must be an int"),
        (dict(n_interpolate=[]), ValueError, "non-empty"),
        (dict(cv="ten"), TypeError, "cv must be an int.*splitter"),
        (dict(cv=3.0), TypeError, "cv must be an int.*got float"),
        (dict(cv=True), TypeError, "cv must be an int.*got bool"),
        (dict(cv=object()), TypeError, "split"),
        (dict(cv=1), ValueError, "at least 2 folds"),
        (dict(thresh_method="grid"), ValueError, "thresh_method must be one of 'bayesian_optimization'"),
        (dict(backend="nope"), ValueError, r"(?i)unknown backend 'nope'.*'auto', 'scalar', 'openmp'"),
        (dict(backend=3), TypeError, "backend must be a str"),
    ],
)
def test_bad_autoreject_parameters(kwargs, error, match, epochs):
    with pytest.raises(error, match=match):
        AutoReject(**{**FAST, **kwargs}).fit(epochs)


def test_parameters_untouched_until_fit():
    """scikit-learn contract: __init__ stores, fit validates."""
    ar = AutoReject(consensus="a", cv="ten", backend="nope")
    assert ar.get_params()["consensus"] == "a" and ar.cv == "ten"


def test_unknown_method_compute_thresholds(epochs):
    with pytest.raises(ValueError, match="method must be one of 'bayesian_optimization'"):
        compute_thresholds(epochs, method="grid")


@pytest.mark.parametrize("entry", ["compute_thresholds", "Ransac", "get_rejection_threshold"])
def test_unknown_backend_elsewhere(entry, epochs):
    calls = {
        "compute_thresholds": lambda: compute_thresholds(epochs, method="random_search", backend="nope", verbose=False),
        "Ransac": lambda: Ransac(backend="nope", verbose=False).fit(epochs),
        "get_rejection_threshold": lambda: get_rejection_threshold(epochs, backend="nope", verbose=False),
    }  # fmt: skip
    with pytest.raises(ValueError, match="(?i)unknown backend 'nope'"):
        calls[entry]()


def test_unknown_backend_from_environment(monkeypatch, epochs):
    monkeypatch.setenv("AUTOREJECT_BACKEND", "cuda-please")
    with pytest.raises(ValueError, match=r"(?i)unknown backend 'cuda-please'.*AUTOREJECT_BACKEND"):
        AutoReject(**FAST).fit(epochs)


def test_unavailable_backend(epochs):
    """'cuda' in a build without it (or without a device): no fallback, an
    error that says why and what is available."""
    import autoreject_cpp

    row = [r for r in autoreject_cpp.backends() if r["name"] == "cuda"][0]
    if row["available"]:
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="'scalar'") as err:
        AutoReject(**{**FAST, "backend": "cuda"}).fit(epochs)
    assert row["reason"] in str(err.value)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_resample=0), ValueError, "n_resample"),
    (dict(min_channels=1.5), ValueError, "min_channels"),
    (dict(min_corr="high"), TypeError, "min_corr"),
    (dict(unbroken_time=2), ValueError, "unbroken_time"),
])  # fmt: skip
def test_bad_ransac_parameters(kwargs, error, match, epochs):
    with pytest.raises(error, match=match):
        Ransac(verbose=False, **kwargs).fit(epochs)


# ---------------------------------------------------------------------------
# data type and units


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.complex128, bool])
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_non_float_data(entry, dtype, epochs):
    bad = _copy_with(epochs, lambda x: (x * 1e6).astype(dtype))
    with pytest.raises(TypeError, match=rf"dtype {np.dtype(dtype)}.*floating-point.*astype"):
        ENTRY_POINTS[entry](bad)


def test_float32_data(epochs):
    """float32 data are accepted, computed at their precision, kept float32."""
    f32 = _copy_with(epochs, lambda x: x.astype(np.float32))
    ar = _no_warnings(AutoReject(**FAST).fit, f32)
    clean = ar.transform(f32)
    assert clean.get_data(copy=False).dtype == np.float32
    assert f32.get_data(copy=False).dtype == np.float32


@pytest.mark.oracle
def test_float32_same_as_autoreject(epochs):
    autoreject = pytest.importorskip("autoreject")
    f32 = _copy_with(epochs, lambda x: x.astype(np.float32))
    kwargs = dict(cv=3, n_interpolate=[1, 2], random_state=0, verbose=False)
    ref = autoreject.AutoReject(**kwargs).fit(f32)
    ours = AutoReject(**kwargs).fit(f32)
    assert ours.threshes_ == pytest.approx(ref.threshes_, rel=1e-6)
    assert ours.consensus_ == ref.consensus_ and ours.n_interpolate_ == ref.n_interpolate_
    assert_array_equal(ours.transform(f32).get_data(), ref.transform(f32).get_data())


@pytest.mark.parametrize("entry", ["AutoReject.fit", "compute_thresholds", "Ransac.fit"])
def test_microvolts_as_volts_warns(entry, epochs):
    uv = _copy_with(epochs, lambda x: x * 1e6)
    with pytest.warns(RuntimeWarning, match=r"eeg data look far too large for SI units.*µV.*x \* 1e-06") as record:
        ENTRY_POINTS[entry](uv)
    assert sum("too large" in str(w.message) for w in record) == 1


def test_femtotesla_as_tesla_warns():
    rng = np.random.default_rng(0)
    info = mne.create_info([f"MEG{i:03d}" for i in range(8)], 100.0, "mag")
    data = rng.standard_normal((10, 8, 50)) * 200.0  # fT values stored as T
    fake = mne.EpochsArray(data, info, verbose=False)
    with pytest.warns(RuntimeWarning, match=r"mag data look far too large.*fT.*1e-15"):
        compute_thresholds(fake, method="random_search", augment=False, random_state=0, verbose=False)


def test_plausible_data_do_not_warn(epochs):
    _no_warnings(AutoReject(**FAST).fit, epochs)
    _no_warnings(compute_thresholds, epochs, method="random_search", random_state=0, verbose=False)


# ---------------------------------------------------------------------------
# files


def test_save_existing_without_overwrite(fitted, epochs, tmp_path):
    model, log = tmp_path / "model.h5", tmp_path / "log.npz"
    fitted.save(model)
    fitted.get_reject_log(epochs).save(log)
    before = model.read_bytes(), log.read_bytes()
    with pytest.raises(FileExistsError, match=r"already exists\. Pass overwrite=True"):
        fitted.save(model)
    with pytest.raises(FileExistsError, match=r"already exists\. Pass overwrite=True"):
        fitted.get_reject_log(epochs).save(log)
    assert (model.read_bytes(), log.read_bytes()) == before
    fitted.save(model, overwrite=True)  # the way out


def test_save_to_directory_or_missing_folder(fitted, tmp_path):
    with pytest.raises(IsADirectoryError, match="Pass a file name"):
        fitted.save(tmp_path, overwrite=True)
    with pytest.raises(FileNotFoundError, match="does not exist. Create it first"):
        fitted.save(tmp_path / "missing" / "model.h5")


def _damaged(data, how):
    if how == "truncated":
        return data[: len(data) // 2]
    if how == "empty":
        return b""
    flipped = bytearray(data)  # garbage in the middle, length kept
    mid = len(flipped) // 2
    flipped[mid : mid + 64] = bytes(64)
    return bytes(flipped)


@pytest.mark.parametrize("how", ["truncated", "empty", "zeroed"])
def test_damaged_model_file(how, fitted, tmp_path):
    good = tmp_path / "good.h5"
    fitted.save(good)
    bad = tmp_path / "bad.h5"
    bad.write_bytes(_damaged(good.read_bytes(), how))
    try:
        model = autoreject_cpp.read_auto_reject(bad)
    except (OSError, ValueError) as err:
        assert str(bad) in str(err) and ("corrupted" in str(err) or "Save the model again" in str(err)
                                        or "no valid AutoReject model" in str(err))
    else:  # zeroing may hit padding only: then the model must be intact
        assert how == "zeroed"
        assert model.threshes_ == fitted.threshes_


@pytest.mark.parametrize("how", ["truncated", "empty", "zeroed"])
def test_damaged_reject_log_file(how, fitted, epochs, tmp_path):
    good = tmp_path / "good.npz"
    fitted.get_reject_log(epochs).save(good)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(_damaged(good.read_bytes(), how))
    with pytest.raises((OSError, ValueError), match=r"(corrupted|inconsistent).*|reject log"):
        autoreject_cpp.read_reject_log(bad)


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="No AutoReject model found"):
        autoreject_cpp.read_auto_reject(tmp_path / "nope.h5")
    with pytest.raises(FileNotFoundError, match="No reject log found"):
        autoreject_cpp.read_reject_log(tmp_path / "nope.npz")


def test_picked_data_is_read_only_and_copies_only_when_needed():
    """All channels in order: a read-only view; a subset: one read-only copy."""
    from autoreject_cpp._validation import picked_data

    epochs = eeg_epochs()
    data = epochs.get_data(copy=False)
    everything = picked_data(epochs, np.arange(len(epochs.ch_names)))
    assert np.shares_memory(everything, data) and not everything.flags.writeable
    subset = picked_data(epochs, [3, 1])
    assert not np.shares_memory(subset, data) and not subset.flags.writeable
    np.testing.assert_array_equal(subset, data[:, [3, 1]])
    with pytest.raises(ValueError, match="read-only"):
        everything[0, 0, 0] = 1.0


@pytest.mark.parametrize("name", ["scalar", "openmp"])
def test_kernels_take_read_only_arrays(name):
    """The core reads read-only inputs (picked data are read-only views)
    and never writes to them."""
    from autoreject_cpp.backends import available_backends, get_backend

    if name not in available_backends():
        pytest.skip(f"{name} not available")
    be = get_backend(name)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 3, 15))
    x.flags.writeable = False
    copy = x.copy()
    be.ptp(x, axis=-1)
    be.median(x, axis=0)
    be.median_of_rows(x, np.arange(5))
    be.prefix_sums(x, np.arange(20), np.array([5, 20]))
    flat = x.reshape(20, -1)
    idx = np.arange(16).reshape(1, 16)
    keys = np.ptp(flat, axis=1)[idx]
    keys.flags.writeable = False
    be.kept_means(flat, idx, keys, np.array([[np.inf]]))
    be.threshold_losses(flat, idx, keys, np.array([[np.inf]]), flat[:1])
    mappings = np.full((2 * 3, 3), 0.5)
    mappings.flags.writeable = False
    be.ransac_correlations(x, mappings, 2)
    np.testing.assert_array_equal(x, copy)


def test_picked_data_is_read_only_and_c_ordered():
    """A subset of channels comes back C-ordered (``data[:, picks]`` is not),
    so the compiled kernels read it without copying it again."""
    from autoreject_cpp._validation import picked_data

    epochs = eeg_epochs(n_channels=6, n_epochs=5)
    data = epochs.get_data(copy=False)
    for picks in ([0, 2, 5], list(range(6))):
        got = picked_data(epochs, picks)
        assert got.flags.c_contiguous and not got.flags.writeable
        np.testing.assert_array_equal(got, data[:, picks])
    assert np.shares_memory(picked_data(epochs, range(6)), data)  # no copy
