"""Input checks shared by every public entry point.

Each error names what is wrong and how to fix it. Checks run once, at the
public boundary; internal helpers trust their inputs.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections import defaultdict
from numbers import Integral

import numpy as np

from ._logging import warn
from ._mne_compat import picks_to_idx

#: channel types autoreject_cpp (like autoreject 0.5.1) can learn thresholds for
SUPPORTED_CH_TYPES = ("mag", "grad", "eeg", "hbo", "hbr", "ecog", "seeg")

#: largest plausible range (max - min over all epochs) of a channel, in SI
#: units, per type: a median channel above it means the data are not in SI
#: units (e.g. EEG in µV or MEG in fT). Generous: real artifacts stay far
#: below. fNIRS has no entry (its units vary too much to judge).
PLAUSIBLE_RANGE = {
    "eeg": (1.0, "V", "µV", 1e-6),
    "ecog": (1.0, "V", "µV", 1e-6),
    "seeg": (1.0, "V", "µV", 1e-6),
    "mag": (1e-6, "T", "fT", 1e-15),
    "grad": (1e-4, "T/m", "fT/cm", 1e-13),
}

# set while an estimator runs its nested helpers, which would otherwise
# repeat the warnings of the boundary check
_WARNED = contextvars.ContextVar("autoreject_cpp_epochs_warned", default=False)


@contextlib.contextmanager
def warnings_given():
    """Silence the warnings of nested :func:`check_epochs` calls.

    An estimator checks its epochs once, then calls helpers (e.g.
    :func:`autoreject_cpp.compute_thresholds`) that check them again; inside this
    context those repeated checks still raise errors but do not warn again.
    """
    token = _WARNED.set(True)
    try:
        yield
    finally:
        _WARNED.reset(token)


# the data array an estimator checked and the peak-to-peak amplitudes it
# computed for it, reused by the helpers it calls on the same epochs
_KNOWN_PEAKS = contextvars.ContextVar("autoreject_cpp_known_peaks", default=None)


@contextlib.contextmanager
def peaks_known(data, peaks):
    """Let nested checks and helpers reuse ``peaks``, those of ``data``.

    Parameters
    ----------
    data : array, shape (n_epochs, n_channels, n_times)
        The epochs' data array (``epochs.get_data(copy=False)``); the peaks
        are reused only for this very array object.
    peaks : array, shape (n_epochs, n_channels)
        Peak-to-peak amplitude of every epoch and channel.
    """
    token = _KNOWN_PEAKS.set((data, peaks))
    try:
        yield
    finally:
        _KNOWN_PEAKS.reset(token)


def known_peaks(data):
    """The peaks registered by :func:`peaks_known` for ``data``, or None."""
    known = _KNOWN_PEAKS.get()
    if known is not None and known[0] is data:
        return known[1]
    return None


@contextlib.contextmanager
def epochs_checked_once(epochs, picks, backend, **kwargs):
    """:func:`check_epochs` from one peak-to-peak pass of ``backend``; the
    peaks (read-only) are yielded and registered with :func:`peaks_known`
    for the nested checks and helpers of the block."""
    from .local_reject import all_peaks

    peaks = check_epochs(epochs, picks, peaks=lambda: all_peaks(epochs, backend), **kwargs)
    peaks.setflags(write=False)
    with peaks_known(epochs.get_data(copy=False), peaks):
        yield peaks


def check_epochs_type(epochs, name="epochs"):
    """Raise a TypeError unless ``epochs`` is an MNE Epochs object."""
    from mne.epochs import BaseEpochs

    if not isinstance(epochs, BaseEpochs):
        raise TypeError(
            f"{name} must be an instance of mne.Epochs (or mne.EpochsArray); "
            f"got {type(epochs).__name__}. Create epochs with mne.Epochs(raw, "
            "events, preload=True) or mne.read_epochs(fname)."
        )


def handle_picks(info, picks):
    """Resolve ``picks`` to sorted-as-given channel indices, bads excluded.

    ``None`` selects the data channels autoreject works on: MEG (without
    reference MEG), EEG, fNIRS, ECoG and sEEG, minus ``info['bads']``.
    """
    import mne

    if picks is None:
        return mne.pick_types(
            info,
            meg=True,
            eeg=True,
            ref_meg=False,
            fnirs=True,
            ecog=True,
            seeg=True,
            exclude="bads",
        )
    try:
        return picks_to_idx(info, picks, exclude="bads")
    except (ValueError, IndexError) as err:
        raise ValueError(
            f"Invalid picks {picks!r}: {err} Available channels: "
            f"{', '.join(info['ch_names'][:10])}"
            + (" ..." if len(info["ch_names"]) > 10 else "")
        ) from None


def picked_data(epochs, picks):
    """The data of ``picks``, read-only, copied only when it must be.

    MNE's ``get_data(picks)`` copies twice (the selection, then the copy);
    this copies once, and not at all when ``picks`` are every channel in
    order: a read-only view of the epochs' data is returned then, so the
    user's data cannot be written through it.

    Parameters
    ----------
    epochs : mne.Epochs
        Preloaded epochs.
    picks : array of int
        Channel indices.

    Returns
    -------
    data : ndarray, shape (n_epochs, len(picks), n_times)
    """
    data = epochs.get_data(copy=False)
    view = picked_channels(data, picks)
    if view is data:
        view = data.view()
    view.flags.writeable = False
    return view


def picked_channels(data, picks):
    """``data[:, picks]``, C-ordered: ``data`` itself when ``picks`` are
    every channel in order, else a copy.

    ``data[:, picks]`` with integer picks is strided, and compiled kernels
    would copy it again on every call.

    Parameters
    ----------
    data : array, shape (n_epochs, n_channels, n_times)
    picks : array-like of int
    """
    picks = np.asarray(picks, dtype=int)
    if np.array_equal(picks, np.arange(data.shape[1])):
        return data
    return np.take(data, picks, axis=1)


def has_valid_locs(info, picks):
    """Whether every picked channel has a finite, non-zero 3D position."""
    locs = np.array([info["chs"][p]["loc"][:3] for p in picks], float)
    if locs.size == 0:
        return False
    return bool(np.isfinite(locs).all() and not np.allclose(locs, 0.0))


def picked_ch_types(info, picks):
    """Channel types of ``picks`` in order of first appearance."""
    import mne

    out = []
    for p in picks:
        t = mne.channel_type(info, p)
        if t not in out:
            out.append(t)
    return out


def get_picks_by_type(info, picks):
    """Group ``picks`` by channel type, types in order of first appearance.

    Returns
    -------
    picks_by_type : list of (str, list of int)
    """
    import mne

    groups = defaultdict(list)
    order = []
    for p in picks:
        key = mne.channel_type(info, p)
        if key not in groups:
            order.append(key)
        groups[key].append(int(p))
    return [(key, groups[key]) for key in order]


def check_epochs(
    epochs,
    picks,
    *,
    single_type=False,
    check_loc=True,
    check_finite=True,
    check_flat=True,
    fitted=False,
    peaks=None,
):
    """Validate epochs for fitting or transforming.

    Parameters
    ----------
    epochs : mne.Epochs
        The epochs to check.
    picks : array of int
        The resolved channel indices that will be used.
    single_type : bool
        Whether all picks must share one channel type.
    check_loc : bool
        Whether channel positions are required.
    check_finite : bool
        Whether to reject NaN/inf in the picked data.
    check_flat : bool
        Whether to reject data whose picked channels are all flat (constant)
        and warn about single flat channels; for fitting.
    fitted : bool
        Whether ``picks`` come from a fitted model (transform time): channels
        of ``picks`` that are now in ``info['bads']`` are then still used,
        and the warning says so.
    peaks : callable | None
        Returns the peak-to-peak amplitude of every epoch and channel, shape
        (n_epochs, n_channels); called once the data are known to be loaded
        floating point. The checks then use it instead of passes over the
        data: a channel is finite where its peaks are, and its range is
        taken as its largest peak-to-peak. None uses the peaks registered
        for these data by :func:`peaks_known`, if any.

    Returns
    -------
    peaks : array | None
        What ``peaks`` returned, if given.

    Raises
    ------
    TypeError
        Not an Epochs object, or data that are not floating point.
    ValueError
        Data not loaded, no or unsupported channels, several types where one
        is required, NaN/inf values, every channel flat.
    RuntimeError
        Channel positions needed but missing.
    """
    check_epochs_type(epochs)
    if not epochs.preload:
        raise ValueError(
            "The epochs data are not loaded in memory. Use preload=True when "
            "creating the epochs, or call epochs.load_data() first."
        )
    if len(picks) == 0:
        raise ValueError(
            "No data channels were picked. autoreject_cpp works on "
            f"{', '.join(SUPPORTED_CH_TYPES)} channels that are not in "
            "info['bads']; check `picks` and info['bads']."
        )
    types = picked_ch_types(epochs.info, picks)
    unsupported = [t for t in types if t not in SUPPORTED_CH_TYPES]
    if unsupported:
        raise ValueError(
            f"Unsupported channel type(s) {', '.join(unsupported)} in picks. "
            f"autoreject_cpp supports {', '.join(SUPPORTED_CH_TYPES)}; pass picks "
            "that select only those (e.g. picks='eeg')."
        )
    if single_type and len(types) > 1:
        raise ValueError(
            f"Picks contain several channel types ({', '.join(types)}) but a "
            "single type is required here; pick one type, e.g. picks='eeg'."
        )
    if check_loc and not has_valid_locs(epochs.info, picks):
        raise RuntimeError(
            "Valid channel positions are needed (interpolation uses them) but "
            "the picked channels have none or all-zero positions. Set a "
            "montage, e.g. epochs.set_montage('standard_1005'), or pass "
            "augment=False to compute_thresholds."
        )
    data = epochs.get_data(copy=False)
    check_dtype(data.dtype)
    known = known_peaks(data)
    if peaks is None and known is not None:
        peaks = lambda: known  # noqa: E731 - computed by the calling estimator
    if peaks is not None:
        peaks = np.asarray(peaks())
        if check_finite:
            check_finite_peaks(peaks, picks, epochs.ch_names)
    elif check_finite:
        # per-channel check on the data itself, without copying the picks
        finite = np.isfinite(data).all(axis=(0, 2))[picks]
        _raise_non_finite(finite, picks, epochs.ch_names)
    quiet = _WARNED.get()
    if (check_flat or not quiet) and len(data):
        if peaks is None:
            ranges = channel_ranges(data, picks)
        else:
            ranges = peaks[:, np.asarray(picks)].max(axis=0).astype(np.float64)
        if check_flat:
            _check_flat(epochs, picks, ranges, warn_some=not quiet)
        if not quiet:
            _check_scale(epochs.info, picks, ranges)
    if not quiet:
        _warn_bads(epochs.info, picks, fitted)
    return peaks


def check_dtype(dtype):
    """Raise a TypeError unless ``dtype`` is a real floating-point type."""
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(
            f"The epochs data have dtype {dtype}, but autoreject_cpp needs real "
            "floating-point data in SI units (V, T, T/m). Convert them, e.g. "
            "mne.EpochsArray(data.astype(np.float64) * scale, info) with the "
            "scale that turns your units into SI units."
        )


#: the values of the estimators' ``dtype`` parameter
COMPUTE_DTYPES = ("float64", "float32")


def check_compute_dtype(dtype):
    """The estimators' ``dtype`` parameter as a NumPy dtype.

    Parameters
    ----------
    dtype : str | numpy dtype
        ``'float64'`` (autoreject's exact decisions) or ``'float32'`` (the
        speed option), or the equivalent NumPy type.

    Returns
    -------
    dtype : numpy.dtype

    Raises
    ------
    ValueError
        For any other value, naming the allowed ones.
    """
    resolved = None
    if isinstance(dtype, (str, type, np.dtype)):
        try:
            resolved = np.dtype(dtype)
        except TypeError:
            resolved = None
    if resolved is None or resolved.name not in COMPUTE_DTYPES:
        raise ValueError(
            "dtype must be 'float64' (the default: autoreject's exact decisions) or "
            f"'float32' (faster, decisions may differ slightly); got {dtype!r}."
        )
    return resolved


def compute_epochs(epochs, dtype):
    """``epochs`` as the computations in ``dtype`` read them.

    float64 returns ``epochs`` themselves. float32 returns a copy whose data
    are converted once to float32 (everything downstream then runs the
    float32 kernels), or ``epochs`` when their data already are float32. The
    user's object is never modified.

    Parameters
    ----------
    epochs : mne.Epochs
        Preloaded epochs.
    dtype : numpy.dtype
        As returned by :func:`check_compute_dtype`.

    Returns
    -------
    epochs : mne.Epochs
    """
    from copy import deepcopy

    from ._mne_compat import epochs_data

    if np.dtype(dtype) != np.float32:
        return epochs
    data = epochs_data(epochs)
    if data.dtype == np.float32:
        return epochs
    # the deep copy is told to take the float32 array for the data (one copy)
    return deepcopy(epochs, {id(data): np.ascontiguousarray(data, dtype=np.float32)})


def channel_ranges(data, picks):
    """Max minus min of each picked channel over all epochs and samples."""
    picks = np.asarray(picks)
    # reductions over the full array avoid copying the picks
    hi = data.max(axis=(0, 2))[picks]
    lo = data.min(axis=(0, 2))[picks]
    return hi.astype(np.float64) - lo.astype(np.float64)


def _check_flat(epochs, picks, ranges, warn_some=True):
    flat = ranges == 0
    if not flat.any():
        return
    names = [epochs.ch_names[p] for p in np.asarray(picks)[flat]]
    if flat.all():
        raise ValueError(
            f"All {len(names)} picked channel(s) are flat (constant in every "
            "epoch): there is no signal to learn from. Check that the right "
            "file and channels were loaded, and that the data were not zeroed."
        )
    if warn_some:
        listed = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
        warn(
            f"{len(names)} channel(s) are flat (constant in every epoch): "
            f"{listed}. Their threshold will be 0 and they are never marked "
            "bad, yet they are used to repair other channels. Mark them as "
            f"bad first: epochs.info['bads'] += {names!r}."
        )


def _check_scale(info, picks, ranges):
    import mne

    types = np.array([mne.channel_type(info, p) for p in picks])
    for ch_type, (limit, unit, small_unit, factor) in PLAUSIBLE_RANGE.items():
        these = ranges[types == ch_type]
        if not len(these):
            continue
        median = float(np.median(these))
        if median > limit:
            warn(
                f"The {ch_type} data look far too large for SI units: the "
                f"median channel range is {median:.3g} {unit}, above the "
                f"plausible {limit:g} {unit}. MNE stores {ch_type} in {unit}; "
                f"if the values are in {small_unit}, convert them first, e.g. "
                f"epochs.apply_function(lambda x: x * {factor:g}, "
                f"picks={ch_type!r}). Thresholds are learnt in the data's units."
            )


def _warn_bads(info, picks, fitted):
    bads = list(info["bads"])
    if not bads:
        return
    picked = set(info["ch_names"][p] for p in picks)
    used = [b for b in bads if b in picked]
    ignored = [b for b in bads if b not in picked]
    if used:
        how = "but were good at fit time" if fitted else "but were picked explicitly"
        fix = (
            "Fit again on these epochs to leave them out."
            if fitted
            else "Leave them out of picks to ignore them."
        )
        warn(
            f"{len(used)} channel(s) are marked as bad ({', '.join(used)}) {how}; "
            f"they are used. {fix}"
        )
    if ignored and not fitted:
        warn(
            f"{len(ignored)} channel(s) are marked as bad ({', '.join(ignored)}) "
            "and will be ignored. Remove them from epochs.info['bads'] if "
            "autoreject_cpp should consider them."
        )


def check_n_epochs(n_epochs, minimum, why):
    """Raise a ValueError when there are fewer than ``minimum`` epochs.

    Parameters
    ----------
    n_epochs : int
        The number of epochs given.
    minimum : int
        The number needed.
    why : str
        What needs them, completing "... needs at least N epochs".
    """
    if n_epochs < minimum:
        raise ValueError(
            f"Got {n_epochs} epoch(s), but {why} needs at least {minimum}. "
            "Use more epochs (e.g. shorter epochs or more events, or "
            "concatenate runs with mne.concatenate_epochs)."
        )


def check_int_array(values, name, low, high):
    """Validate a 1D array of integers within [low, high]."""
    arr = np.atleast_1d(np.asarray(values))
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be an int or a sequence of ints; got {values!r}.")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1D sequence of ints; got {values!r}.")
    if not all(isinstance(v, Integral) or (float(v).is_integer()) for v in arr.tolist()):
        raise TypeError(f"{name} must contain integers; got {values!r}.")
    if arr.min() < low or arr.max() > high:
        raise ValueError(
            f"{name} values must be between {low} and {high} (the number of "
            f"picked channels); got {values!r}."
        )
    return arr


def check_consensus(values):
    """Validate consensus fractions in [0, 1]."""
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        raise TypeError(
            f"consensus must be a float or a sequence of floats in [0, 1]; got {values!r}."
        ) from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"consensus must be a non-empty 1D sequence; got {values!r}.")
    if not np.all((arr >= 0) & (arr <= 1)):
        raise ValueError(
            f"consensus values are fractions of channels and must lie in [0, 1]; got {values!r}."
        )
    return arr


def _raise_non_finite(finite, picks, ch_names):
    if not finite.all():
        names = [ch_names[picks[b]] for b in np.flatnonzero(~finite)]
        raise ValueError(
            f"The data contain NaN or infinite values in channel(s) "
            f"{', '.join(names)}. Remove or repair those samples (or mark "
            "the channels as bad in info['bads']) before fitting."
        )


def check_finite_peaks(peaks, picks, ch_names):
    """Raise the non-finite data error from peak-to-peak amplitudes.

    A channel's peak-to-peak is finite exactly when all its samples are, so
    the peaks computed anyway spare a second pass over the data.

    Parameters
    ----------
    peaks : array, shape (n_epochs, n_channels)
        Peak-to-peak amplitudes of every channel.
    picks : array of int
        The channels that must be finite.
    ch_names : list of str
        Channel names, for the message.
    """
    finite = np.isfinite(peaks[:, picks]).all(axis=0)
    _raise_non_finite(finite, picks, ch_names)


def check_fitted_channels(epochs, picks, threshes):
    """Raise unless every channel at ``picks`` in ``epochs`` has a threshold.

    Catches epochs whose channels differ from those a model was fitted on
    (fewer channels, or others at the fitted positions), which would
    otherwise fail deep inside with an IndexError or KeyError.

    Parameters
    ----------
    epochs : mne.Epochs
    picks : array-like of int
        Channel indices the model reads (its ``picks_``).
    threshes : dict
        The fitted thresholds, by channel name.
    """
    picks = np.asarray(picks, dtype=int)
    n_channels = len(epochs.ch_names)
    if len(picks) and picks.max() >= n_channels:
        raise ValueError(
            f"The epochs have {n_channels} channels, but the model was fitted "
            f"on {len(threshes)} channels up to index {picks.max()}: the "
            "channels differ from those at fit time. Transform epochs with "
            "the same channels, in the same order, or fit again on these "
            "epochs."
        )
    missing = [epochs.ch_names[p] for p in picks if epochs.ch_names[p] not in threshes]
    if missing:
        raise ValueError(
            "The epochs' channels differ from those at fit time (no "
            f"threshold for {', '.join(missing[:5])}"
            + (" ..." if len(missing) > 5 else "")
            + "). Transform epochs with the same channels, in the same "
            "order, or fit again on these epochs."
        )
