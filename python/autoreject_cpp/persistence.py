"""Saving and loading fitted :class:`~autoreject_cpp.AutoReject` models.

Models are stored in HDF5 through :mod:`h5io` in exactly the layout that
autoreject 0.5.1 uses (top-level title ``'autoreject'``, one entry per
attribute, a nested ``local_reject_`` group per channel type). A file written
by either package therefore loads in the other one.

The layout is described by the named field tuples below; the code never
selects fields by position, so adding a field cannot shift the others.
autoreject_cpp writes extra fields that autoreject 0.5.1 ignores on load:
``backend`` and ``dtype`` at the top level, ``picks_`` and ``backend`` in each
``local_reject_`` entry.
"""

from __future__ import annotations


import numpy as np

from ._fileio import atomic_path, check_input_file, resolve_output
from ._logging import logger, warn

#: HDF5 title (top-level group) shared with autoreject 0.5.1
HDF5_TITLE = "autoreject"

#: constructor parameters of AutoReject stored in the file
INIT_FIELDS = (
    "consensus",
    "n_interpolate",
    "picks",
    "verbose",
    "n_jobs",
    "cv",
    "random_state",
    "thresh_method",
)

#: attributes learned by ``AutoReject.fit`` (stored only when present)
FITTED_FIELDS = ("threshes_", "n_interpolate_", "consensus_", "dots", "picks_", "loss_")

#: parameters of each per-channel-type local estimator in ``local_reject_``
LOCAL_INIT_FIELDS = ("consensus", "n_interpolate", "picks", "verbose", "dots")

#: attributes learned by each local estimator
LOCAL_FITTED_FIELDS = ("threshes_", "n_interpolate_", "consensus_")

#: autoreject_cpp-only top-level fields (ignored by autoreject 0.5.1; absent
#: from its files, where the defaults apply: ``dtype='float64'``)
EXTRA_FIELDS = ("backend", "dtype")

#: autoreject_cpp-only local fields, optional on load (absent in upstream files)
LOCAL_EXTRA_FIELDS = ("picks_", "backend")



# ---------------------------------------------------------------------------
def state_from_autoreject(ar):
    """Collect the persistent state of an AutoReject model in a dict.

    Parameters
    ----------
    ar : autoreject_cpp.AutoReject
        The model, fitted or not. An ``autoreject.AutoReject`` (0.5.1) works
        too, since only attributes are read.

    Returns
    -------
    state : dict
        The constructor parameters (``consensus``, ``n_interpolate``,
        ``picks``, ``verbose``, ``n_jobs``, ``cv``, ``random_state``,
        ``thresh_method`` and, for autoreject_cpp models, ``backend`` and
        ``dtype``), the fitted
        attributes present on the model (``threshes_``, ``n_interpolate_``,
        ``consensus_``, ``dots``, ``picks_``, ``loss_``) and, when fitted,
        ``local_reject_``: a dict mapping each channel type to the state of
        its local estimator.

    See Also
    --------
    autoreject_from_state, save_autoreject

    Notes
    -----
    Values are referenced, not copied.

    .. versionadded:: 0.1
    """
    missing = [name for name in INIT_FIELDS if not hasattr(ar, name)]
    if missing:
        raise TypeError(
            f"Expected an AutoReject model; {type(ar).__name__} lacks the "
            f"attribute(s) {', '.join(missing)}."
        )
    state = {name: getattr(ar, name) for name in INIT_FIELDS}
    for name in EXTRA_FIELDS:
        if hasattr(ar, name):
            state[name] = getattr(ar, name)
    for name in FITTED_FIELDS:
        if hasattr(ar, name):
            state[name] = getattr(ar, name)
    local_reject = getattr(ar, "local_reject_", None)
    if local_reject is not None:
        state["local_reject_"] = {
            ch_type: _local_state(local) for ch_type, local in local_reject.items()
        }
    return state


def _local_state(local):
    out = {}
    for name in LOCAL_INIT_FIELDS + LOCAL_FITTED_FIELDS:
        out[name] = getattr(local, name)
    for name in LOCAL_EXTRA_FIELDS:
        if hasattr(local, name):
            out[name] = getattr(local, name)
    return out


def _as_bool_verbose(value):
    """h5io stores bools as ints; give ``verbose`` its bool back."""
    if type(value) is int and value in (0, 1):
        return bool(value)
    return value


def _is_index_list(picks):
    if isinstance(picks, (str, slice)) or picks is None:
        return False
    arr = np.asarray(picks)
    return arr.ndim == 1 and arr.size > 0 and np.issubdtype(arr.dtype, np.integer)


def _check_state(state, source="state"):
    """Validate the structure of a state dict; raise ValueError otherwise."""
    if not isinstance(state, dict):
        raise ValueError(
            f"{source} does not hold an AutoReject model: expected a dict of "
            f"attributes, got {type(state).__name__}."
        )
    known = set(INIT_FIELDS + FITTED_FIELDS + EXTRA_FIELDS + ("local_reject_",))
    if not known.intersection(state):
        raise ValueError(
            f"{source} does not hold an AutoReject model: none of the expected "
            f"fields ({', '.join(INIT_FIELDS)}, ...) is present; found "
            f"{', '.join(sorted(map(str, state))) or 'nothing'}."
        )
    unknown = sorted(set(state) - known)
    if unknown:
        logger.debug(f"Ignoring unknown AutoReject field(s): {', '.join(unknown)}")
    local_reject = state.get("local_reject_")
    if local_reject is None:
        return
    if not isinstance(local_reject, dict):
        raise ValueError(
            f"{source}: local_reject_ must map channel types to dicts; got "
            f"{type(local_reject).__name__}."
        )
    required = LOCAL_INIT_FIELDS + LOCAL_FITTED_FIELDS
    for ch_type, local in local_reject.items():
        if not isinstance(local, dict):
            raise ValueError(
                f"{source}: local_reject_[{ch_type!r}] must be a dict; got "
                f"{type(local).__name__}."
            )
        missing = [name for name in required if name not in local]
        if missing:
            raise ValueError(
                f"{source}: local_reject_[{ch_type!r}] lacks the field(s) "
                f"{', '.join(missing)}; the file is incomplete or was not "
                "written by autoreject/autoreject_cpp."
            )


def autoreject_from_state(state):
    """Rebuild a autoreject_cpp AutoReject from a state dict.

    Parameters
    ----------
    state : dict
        As returned by :func:`state_from_autoreject`, or as read from a file
        written by autoreject 0.5.1 or autoreject_cpp. Unknown fields are
        ignored, as autoreject 0.5.1 does.

    Returns
    -------
    ar : autoreject_cpp.AutoReject
        The model, with its fitted attributes restored when present.

    See Also
    --------
    state_from_autoreject, read_auto_reject

    Notes
    -----
    ``verbose`` read back as the integer 0 or 1 (h5io stores Python bools as
    integers) becomes ``False`` or ``True`` again. Files written by
    autoreject 0.5.1 do not store the local estimators' ``picks_``; it is
    restored from their ``picks`` (the channel indices of their type), as
    their ``fit`` would have set it.

    .. versionadded:: 0.1
    """
    from .local_reject import LocalAutoReject
    from .local_reject_cv import AutoReject

    _check_state(state)
    init = {name: state[name] for name in INIT_FIELDS + EXTRA_FIELDS if name in state}
    if "verbose" in init:
        init["verbose"] = _as_bool_verbose(init["verbose"])
    ar = AutoReject(**init)
    for name in FITTED_FIELDS:
        if name in state:
            setattr(ar, name, state[name])
    if state.get("local_reject_") is not None:
        local_reject = {}
        for ch_type, local_state in state["local_reject_"].items():
            local = LocalAutoReject(
                consensus=local_state["consensus"],
                n_interpolate=local_state["n_interpolate"],
                picks=local_state["picks"],
                verbose=_as_bool_verbose(local_state["verbose"]),
                dots=local_state["dots"],
                backend=local_state.get("backend"),
            )
            for name in LOCAL_FITTED_FIELDS + ("picks_",):
                if name in local_state:
                    setattr(local, name, local_state[name])
            if "picks_" not in local_state and _is_index_list(local_state["picks"]):
                # autoreject files lack picks_; the local estimator was given
                # the channel indices of its type, which fit() keeps as picks_
                local.picks_ = np.asarray(local_state["picks"], dtype=int)
            local_reject[ch_type] = local
        ar.local_reject_ = local_reject
    return ar


# ---------------------------------------------------------------------------
# HDF5


_STORABLE_LEAVES = (type(None), bool, int, float, str, np.generic, np.ndarray)


def _find_unstorable(value, where):
    """Return (where, value) of the first value h5io cannot store, else None."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if not isinstance(key, str):
                return f"{where}[{key!r}] (non-str key)", key
            found = _find_unstorable(sub, f"{where}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for idx, sub in enumerate(value):
            found = _find_unstorable(sub, f"{where}[{idx}]")
            if found:
                return found
        return None
    if isinstance(value, _STORABLE_LEAVES):
        return None
    return where, value


def _has_slash_key(value):
    if isinstance(value, dict):
        return any("/" in key or _has_slash_key(sub) for key, sub in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_slash_key(sub) for sub in value)
    return False


def save_autoreject(ar, fname, overwrite=False):
    """Save an AutoReject model to HDF5 (autoreject 0.5.1 compatible).

    Parameters
    ----------
    ar : autoreject_cpp.AutoReject
        The model to save, usually fitted.
    fname : path-like
        The file to write, conventionally ending in ``.h5`` or ``.hdf5``.
    overwrite : bool
        If True, replace an existing file. Defaults to False.

    Raises
    ------
    FileExistsError
        If ``fname`` exists and ``overwrite`` is False.
    TypeError
        If a parameter holds a value HDF5 cannot store (e.g. ``cv`` given as
        a splitter object or ``random_state`` as a Generator).

    See Also
    --------
    read_auto_reject

    Notes
    -----
    The file is written to a temporary file in the same directory and moved
    into place, so an interrupted save never leaves a truncated model. Channel
    names containing ``/`` are stored with h5io's ``{FWDSLASH}`` escape;
    autoreject_cpp restores them but autoreject 0.5.1 shows them escaped.

    .. versionadded:: 0.1
    """
    from h5io import write_hdf5

    path = resolve_output(fname, overwrite)
    state = state_from_autoreject(ar)
    found = _find_unstorable(state, "ar")
    if found:
        where, value = found
        raise TypeError(
            f"Cannot save {where} = {value!r} (type {type(value).__name__}) to "
            "HDF5. The format shared with autoreject stores only None, "
            "numbers, strings, arrays and lists/dicts of them; e.g. use an int "
            "for cv and an int or None for random_state before saving."
        )
    slash = "error"
    if _has_slash_key(state):
        slash = "replace"
        warn(
            "Some channel names contain '/'; they are stored escaped as "
            "'{FWDSLASH}'. autoreject_cpp.read_auto_reject restores them, "
            "autoreject 0.5.1 does not."
        )

    with atomic_path(path) as tmp:
        write_hdf5(tmp, state, overwrite=True, title=HDF5_TITLE, slash=slash)
    logger.debug(f"Saved AutoReject model to {path}")


def read_autoreject_state(fname):
    """Read the state dict of an AutoReject model from HDF5.

    Parameters
    ----------
    fname : path-like
        A file written by :func:`save_autoreject`, ``AutoReject.save`` or
        autoreject 0.5.1's ``AutoReject.save``.

    Returns
    -------
    state : dict
        The stored fields (see :func:`state_from_autoreject`), with
        ``verbose`` turned back into a bool.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    OSError
        If the file is not a readable HDF5 file (corrupted or truncated).
    ValueError
        If the file holds no AutoReject model.

    .. versionadded:: 0.1
    """
    from h5io import read_hdf5

    path = check_input_file(fname, "AutoReject model")
    try:
        state = read_hdf5(str(path), title=HDF5_TITLE, slash="replace")
    except ValueError as err:
        if f'no "{HDF5_TITLE}" data found' in str(err):
            raise ValueError(
                f"{path} is an HDF5 file but holds no AutoReject model (no "
                f"'{HDF5_TITLE}' entry). Was it written by AutoReject.save?"
            ) from None
        raise ValueError(f"{path} holds no valid AutoReject model: {err}") from err
    except (OSError, TypeError, KeyError, AttributeError) as err:
        # (h5io meets a damaged object header as a missing node: AttributeError)
        raise OSError(
            f"Could not read an AutoReject model from {path}: the file is not "
            f"a valid HDF5 file or is corrupted ({err}). Save the model again."
        ) from err
    _check_state(state, source=str(path))
    if "verbose" in state:
        state["verbose"] = _as_bool_verbose(state["verbose"])
    for local in (state.get("local_reject_") or {}).values():
        local["verbose"] = _as_bool_verbose(local["verbose"])
    return state


def read_auto_reject(fname):
    """Read an AutoReject model saved by autoreject_cpp or autoreject 0.5.1.

    Parameters
    ----------
    fname : path-like
        The HDF5 file written by ``AutoReject.save``.

    Returns
    -------
    ar : autoreject_cpp.AutoReject
        The model, fitted if it was fitted when saved.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    OSError
        If the file is not a readable HDF5 file.
    ValueError
        If the file holds no AutoReject model.

    See Also
    --------
    save_autoreject, read_autoreject_state

    .. versionadded:: 0.1
    """
    return autoreject_from_state(read_autoreject_state(fname))
