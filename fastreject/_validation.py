"""Input checks shared by every public entry point.

Each error names what is wrong and how to fix it. Checks run once, at the
public boundary; internal helpers trust their inputs.
"""

from __future__ import annotations

from collections import defaultdict
from numbers import Integral

import numpy as np

from ._logging import warn
from ._mne_compat import picks_to_idx

#: channel types fastreject (like autoreject 0.5.1) can learn thresholds for
SUPPORTED_CH_TYPES = ("mag", "grad", "eeg", "hbo", "hbr", "ecog", "seeg")


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
    except ValueError as err:
        raise ValueError(
            f"Invalid picks {picks!r}: {err} Available channels: "
            f"{', '.join(info['ch_names'][:10])}"
            + (" ..." if len(info["ch_names"]) > 10 else "")
        ) from None


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
    epochs, picks, *, single_type=False, check_loc=True, check_finite=True
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
    """
    check_epochs_type(epochs)
    if not epochs.preload:
        raise ValueError(
            "The epochs data are not loaded in memory. Use preload=True when "
            "creating the epochs, or call epochs.load_data() first."
        )
    if len(picks) == 0:
        raise ValueError(
            "No data channels were picked. fastreject works on "
            f"{', '.join(SUPPORTED_CH_TYPES)} channels that are not in "
            "info['bads']; check `picks` and info['bads']."
        )
    types = picked_ch_types(epochs.info, picks)
    unsupported = [t for t in types if t not in SUPPORTED_CH_TYPES]
    if unsupported:
        raise ValueError(
            f"Unsupported channel type(s) {', '.join(unsupported)} in picks. "
            f"fastreject supports {', '.join(SUPPORTED_CH_TYPES)}; pass picks "
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
    if check_finite:
        # per-channel check on the data itself, without copying the picks
        finite = np.isfinite(epochs.get_data(copy=False)).all(axis=(0, 2))[picks]
        _raise_non_finite(finite, picks, epochs.ch_names)
    n_bads = len(epochs.info["bads"])
    if n_bads > 0:
        warn(
            f"{n_bads} channel(s) are marked as bad ({', '.join(epochs.info['bads'])}) "
            "and will be ignored. Remove them from epochs.info['bads'] if "
            "fastreject should consider them."
        )


def check_int_array(values, name, low, high):
    """Validate a 1D array of integers within [low, high]."""
    arr = np.atleast_1d(np.asarray(values))
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
