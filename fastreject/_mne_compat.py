"""Every private MNE-Python function fastreject relies on, in one place.

MNE does not promise stability for underscore names. Keeping each one here
means an MNE upgrade touches this file only. Each entry says what it is for
and since when the current location exists; when MNE exposes a public
equivalent the shim can go.

The interpolation helpers are used *as MNE implements them* on purpose: the
repaired data of autoreject 0.5.1 are produced by these functions, and calling
the same numerical code is what keeps fastreject's repairs identical.
"""

from __future__ import annotations

import threading

import numpy as np

_INFO_LOCK = threading.Lock()


def picks_to_idx(info, picks, exclude="bads"):
    """Resolve any MNE ``picks`` spelling to channel indices.

    ``mne._fiff.pick._picks_to_idx`` (location since MNE 1.6). Note that
    ``exclude`` only applies to string picks such as ``'data'``; explicit
    indices or names are kept even if they are in ``info['bads']``.
    """
    from mne._fiff.pick import _picks_to_idx

    return _picks_to_idx(info, picks, exclude=exclude)


def make_interpolation_matrix(pos_from, pos_to, alpha=1e-5):
    """Spherical-spline interpolation matrix (Perrin et al., 1989).

    ``mne.channels.interpolation._make_interpolation_matrix`` (MNE >= 0.9).
    Positions are projected on the unit sphere *around the origin* by MNE;
    no sphere fitting or centring happens here.
    """
    from mne.channels.interpolation import _make_interpolation_matrix

    return _make_interpolation_matrix(pos_from, pos_to, alpha=alpha)


def read_coil_defs():
    """MEG coil definitions, ``mne.forward._make_forward._read_coil_defs``."""
    from mne.forward._make_forward import _read_coil_defs

    return _read_coil_defs(verbose="error")


def _meg_coils(info, templates):
    from mne.forward._make_forward import _create_meg_coils

    return _create_meg_coils(info["chs"], "normal", info["dev_head_t"], templates)


def _origin(info):
    from mne.bem import _check_origin

    # autoreject (and MNE's fast MEG mapping) expand around (0, 0, 0.04) m
    return _check_origin((0.0, 0.0, 0.04), info)


def compute_meg_dots(info, mode="fast", templates=None):
    """All-to-all MEG lead-field dot products for the channels in ``info``.

    Uses ``mne.forward._lead_dots._do_self_dots`` / ``_do_cross_dots`` and
    ``mne.forward._field_interpolation._setup_dots`` (MNE >= 0.14). These are
    the expensive part of MEG field mapping; they depend only on the sensor
    geometry, so fastreject computes them once per fit and then slices them for
    every bad-channel set.

    Returns
    -------
    self_dots : array, shape (n_channels, n_channels)
    cross_dots : array, shape (n_channels, n_channels)
    """
    from mne.forward._field_interpolation import _setup_dots
    from mne.forward._lead_dots import _do_cross_dots, _do_self_dots

    if templates is None:
        templates = read_coil_defs()
    coils = _meg_coils(info, templates)
    origin = _origin(info)
    int_rad, _, lut_fun, n_fact = _setup_dots(mode, info, coils, "meg")
    self_dots = _do_self_dots(
        int_rad, False, coils, origin, "meg", lut_fun, n_fact, n_jobs=1
    )
    cross_dots = _do_cross_dots(
        int_rad, False, coils, coils, origin, "meg", lut_fun, n_fact
    ).T
    return self_dots, cross_dots


def meg_mapping_matrix(info, pick_from, pick_to, dots, mode="fast", templates=None):
    """MEG field-mapping matrix from channels ``pick_from`` to ``pick_to``.

    ``info`` holds MEG channels only and ``dots`` are the dot products of
    :func:`compute_meg_dots` for all of them. Wraps
    ``mne.forward._field_interpolation._compute_mapping_matrix``.

    Returns
    -------
    mapping : array, shape (len(pick_to), len(pick_from))
    """
    import mne
    from mne.forward._field_interpolation import (
        _compute_mapping_matrix,
        _setup_dots,
    )

    if templates is None:
        templates = read_coil_defs()
    with _INFO_LOCK:
        # copying an Info briefly unlocks the source (MNE 1.13), so two
        # threads picking from the same Info can trip MNE's consistency check
        info_from = mne.pick_info(info, pick_from, copy=True)
    coils_from = _meg_coils(info_from, templates)
    origin = _origin(info_from)
    int_rad, noise, _, _ = _setup_dots(mode, info_from, coils_from, "meg")
    pick_from = np.asarray(pick_from, int)
    pick_to = np.asarray(pick_to, int)
    self_dots = dots[0][np.ix_(pick_from, pick_from)]
    cross_dots = dots[1][np.ix_(pick_to, pick_from)]
    fmd = dict(
        kind="meg",
        ch_names=info_from["ch_names"],
        origin=origin,
        noise=noise,
        self_dots=self_dots,
        surface_dots=cross_dots,
        int_rad=int_rad,
        miss=1e-4,  # MEG smoothing criterion used by MNE and autoreject
    )
    with mne.utils.use_log_level("error"):
        return _compute_mapping_matrix(fmd, info_from)


def get_channel_positions(info, picks):
    """3D sensor positions (first three ``loc`` entries) of ``picks``."""
    return np.array([info["chs"][p]["loc"][:3] for p in picks], float)


def epochs_data(epochs):
    """The writable data array of preloaded ``epochs`` (``epochs._data``).

    Only ever called on fastreject's own copies, never on the user's object.
    MNE has no public setter for epoch data (as of 1.13).
    """
    return epochs._data


def select_epochs(epochs, keep, reason):
    """A copy of ``epochs`` holding only the epochs at indices ``keep``.

    Equivalent to ``epochs.copy().drop(others, reason=reason)`` but copies
    the data of the kept epochs only, once: the deep copy is told to reuse
    the already-selected array, and MNE's selection then updates events,
    ``selection``, ``drop_log`` and metadata without touching the data
    (``select_data=False``). The user's object is not modified.

    Parameters
    ----------
    epochs : mne.Epochs
        Preloaded epochs.
    keep : array of int
        Indices of the epochs to keep, increasing.
    reason : str
        Entry written in ``drop_log`` for the other epochs.

    Returns
    -------
    selected : mne.Epochs
        A new object whose data array is its own (writable, C-contiguous).
    """
    from copy import deepcopy

    keep = np.asarray(keep, dtype=np.intp)
    data = np.ascontiguousarray(epochs._data[keep])  # a fresh array
    selected = deepcopy(epochs, {id(epochs._data): data})
    selected._getitem(keep, reason, copy=False, drop_event_id=False, select_data=False)
    if np.shares_memory(selected._data, epochs._data):  # pragma: no cover
        selected._data = selected._data.copy()  # never alias the user's data
    return selected
