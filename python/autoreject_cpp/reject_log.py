"""The rejection log: which epochs are bad, which channels were repaired.

:class:`RejectLog` holds the per-epoch, per-channel labels produced by
:class:`~autoreject_cpp.AutoReject`, plots them, and saves them in the ``.npz``
layout of autoreject 0.5.1 (keys ``ch_names``, ``bad_epochs``, ``labels``),
so logs written by either package load in the other one.
"""

from __future__ import annotations

import os
import pickle
import zipfile

import numpy as np

from ._logging import logger

#: label values and their meaning
GOOD, BAD, INTERPOLATED = 0, 1, 2

#: keys of the ``.npz`` archive, shared with autoreject 0.5.1
NPZ_KEYS = ("ch_names", "bad_epochs", "labels")

_ORIENTATIONS = ("vertical", "horizontal")


class RejectLog:
    """The rejection log of an AutoReject run.

    Parameters
    ----------
    bad_epochs : array-like of bool, shape (n_epochs,)
        True for each epoch marked as bad (to be dropped).
    labels : array, shape (n_epochs, n_channels)
        For each epoch and channel: 0 if the segment is good, 1 if it is bad,
        2 if it is bad and interpolated. NaN marks channels that were not
        examined (not picked).
    ch_names : list of str
        The channel names, one per column of ``labels``.

    Attributes
    ----------
    bad_epochs : array of bool, shape (n_epochs,)
        As given (converted to an array).
    labels : array, shape (n_epochs, n_channels)
        As given (converted to an array).
    ch_names : list of str
        As given.

    See Also
    --------
    read_reject_log

    Notes
    -----
    Arrays are not copied: ``labels`` and ``bad_epochs`` are the objects
    passed in when those already are numpy arrays.

    .. versionadded:: 0.1
    """

    def __init__(self, bad_epochs, labels, ch_names):
        bad_epochs = np.asarray(bad_epochs)
        labels = np.asarray(labels)
        if labels.ndim != 2:
            raise ValueError(
                "labels must be a 2D array of shape (n_epochs, n_channels); got "
                f"an array with shape {labels.shape}."
            )
        if bad_epochs.ndim != 1:
            raise ValueError(
                "bad_epochs must be a 1D array with one entry per epoch; got an "
                f"array with shape {bad_epochs.shape}."
            )
        if len(bad_epochs) != labels.shape[0]:
            raise ValueError(
                f"bad_epochs has {len(bad_epochs)} entries but labels has "
                f"{labels.shape[0]} rows (epochs); both need one entry per epoch."
            )
        if isinstance(ch_names, str) or not hasattr(ch_names, "__len__"):
            raise TypeError(
                f"ch_names must be a list of str; got {type(ch_names).__name__}."
            )
        if len(ch_names) != labels.shape[1]:
            raise ValueError(
                f"ch_names has {len(ch_names)} names but labels has "
                f"{labels.shape[1]} columns (channels); give one name per column."
            )
        self.bad_epochs = bad_epochs
        self.labels = labels
        self.ch_names = ch_names

    def __repr__(self):
        n_epochs, n_channels = self.labels.shape
        n_bad = int(np.count_nonzero(self.bad_epochs))
        n_interp = int(np.count_nonzero(self.labels == INTERPOLATED))
        return (
            f"<RejectLog | {n_epochs} epochs ({n_bad} bad), {n_channels} "
            f"channels, {n_interp} interpolated segments>"
        )

    def plot(self, orientation="vertical", show_names="auto", aspect="equal", show=True, ax=None):
        """Draw an image of good, bad and interpolated segments.

        Parameters
        ----------
        orientation : 'vertical' | 'horizontal'
            ``'vertical'`` (default) puts channels on the x-axis and epochs on
            the y-axis; ``'horizontal'`` swaps them.
        show_names : 'auto' | int
            Label every ``show_names``-th channel. ``'auto'`` (default) labels
            every channel when there are fewer than 25, else every fifth.
        aspect : 'equal' | 'auto' | float
            Aspect ratio of the image, as in :meth:`matplotlib.axes.Axes.imshow`.
            ``'equal'`` (default) draws square cells; ``'auto'`` fills the
            axes.
        show : bool
            Whether to show the figure. Defaults to True.
        ax : matplotlib.axes.Axes | None
            The axes to draw into. If None (default), a new figure is created.

        Returns
        -------
        fig : matplotlib.figure.Figure
            The figure. Good segments are light green, interpolated ones blue,
            bad ones red, unexamined channels blank; bad epochs are framed in
            red.
        """
        from mne.utils import _check_option

        _check_option("orientation", orientation, _ORIENTATIONS)
        n_epochs, n_channels = self.labels.shape
        step = _check_show_names(show_names, n_channels)

        import matplotlib.pyplot as plt
        from matplotlib import colors, patches

        if ax is None:
            fig, ax = plt.subplots(figsize=(12, 6))
        else:
            fig = ax.get_figure()
        ax.grid(False)

        # map the labels onto [0, 1]: good 0, interpolated 0.5, bad 1
        image = np.array(self.labels, dtype=float)
        image[image == INTERPOLATED] = 0.5
        cmap = colors.ListedColormap(["lightgreen", "blue", "red"])
        vertical = orientation == "vertical"
        img = ax.imshow(
            image if vertical else image.T,
            cmap=cmap,
            vmin=0,
            vmax=1,
            interpolation="nearest",
            aspect=aspect,
        )
        tick_pos = range(0, n_channels, step)
        tick_labels = list(self.ch_names[::step])
        if vertical:
            ax.set_xlabel("Channels")
            ax.set_ylabel("Epochs")
            ax.set_xticks(tick_pos, tick_labels, fontsize=8)
        else:
            ax.set_xlabel("Epochs")
            ax.set_ylabel("Channels")
            ax.set_yticks(tick_pos, tick_labels, fontsize=8)
        for idx in np.flatnonzero(self.bad_epochs):
            # a frame spanning all channels of the bad epoch
            xy, width, height = (-0.5, idx - 0.5), n_channels, 1
            if not vertical:
                xy, width, height = (idx - 0.5, -0.5), 1, n_channels
            ax.add_patch(
                patches.Rectangle(
                    xy, width, height, linewidth=1, edgecolor="r", facecolor="none"
                )
            )
        handles = [
            patches.Patch(color=img.cmap(img.norm(value)), label=label)
            for value, label in ((0, "good"), (0.5, "interpolated"), (1, "bad"))
        ]
        ax.legend(handles=handles, bbox_to_anchor=(0.7, 1.2), ncol=3, borderaxespad=0.0)
        plt.setp(ax.get_yticklabels(), rotation=0)
        plt.setp(ax.get_xticklabels(), rotation=90)
        ax.tick_params(axis="both", which="both", length=0)
        fig.tight_layout()
        if show:
            plt.show()
        return fig

    def plot_epochs(self, epochs, scalings=None, title=""):
        """Plot the epochs, colouring bad and interpolated segments.

        Bad epochs are drawn in red, bad channel segments in red and
        interpolated ones in grey; everything else is black.

        Parameters
        ----------
        epochs : mne.Epochs
            The epochs the log was computed on, *before* cleaning (same
            epochs and channels, in the same order).
        scalings : dict | None
            Scaling factors for the traces, passed to
            :func:`mne.viz.plot_epochs`. If None (default), MNE's defaults are
            used.
        title : str
            The figure title. Defaults to ``''``.

        Returns
        -------
        fig : matplotlib.figure.Figure | mne_qt_browser.figure.MNEQtBrowser
            The epochs browser.
        """
        from mne.viz import plot_epochs

        from ._validation import check_epochs_type

        check_epochs_type(epochs)
        n_epochs, n_channels = self.labels.shape
        if n_epochs != len(epochs.events):
            raise ValueError(
                f"The reject log covers {n_epochs} epochs but epochs has "
                f"{len(epochs.events)}. Pass the epochs as they were *before* "
                "AutoReject dropped any (the input of transform), not the "
                "cleaned epochs."
            )
        if n_channels != len(epochs.ch_names):
            raise ValueError(
                f"The reject log covers {n_channels} channels but epochs has "
                f"{len(epochs.ch_names)}. Pass the epochs with the channels they "
                "had when the log was computed."
            )
        labels = np.asarray(self.labels, dtype=float)
        valid = np.isnan(labels) | np.isin(labels, (GOOD, BAD, INTERPOLATED))
        if not valid.all():
            bad_values = np.unique(labels[~valid])
            raise ValueError(
                "labels may only contain 0 (good), 1 (bad), 2 (interpolated) or "
                f"NaN; found {bad_values.tolist()}."
            )
        grey = (0.6, 0.6, 0.6, 1.0)
        epoch_colors = []
        for is_bad, row in zip(np.asarray(self.bad_epochs, dtype=bool), labels):
            if is_bad:
                epoch_colors.append(["r"] * n_channels)
            else:
                epoch_colors.append(
                    ["r" if lab == BAD else grey if lab == INTERPOLATED else "k" for lab in row]
                )
        return plot_epochs(
            epochs=epochs,
            events=epochs.events,
            epoch_colors=epoch_colors,
            scalings=scalings,
            title=title,
        )

    def save(self, fname, overwrite=False):
        """Save the log as a ``.npz`` archive (autoreject 0.5.1 compatible).

        Parameters
        ----------
        fname : path-like
            The file to write. ``.npz`` is appended when missing, as
            :func:`numpy.savez_compressed` does.
        overwrite : bool
            If True, replace an existing file. Defaults to False.

        Raises
        ------
        FileExistsError
            If the file exists and ``overwrite`` is False.

        See Also
        --------
        read_reject_log

        Notes
        -----
        The archive is written to a temporary file in the same directory and
        then moved into place, so an interrupted save never leaves a
        truncated file.
        """
        from ._fileio import atomic_path, resolve_output

        if isinstance(fname, (str, os.PathLike)) and not os.fspath(fname).endswith(".npz"):
            fname = os.fspath(fname) + ".npz"
        path = resolve_output(fname, overwrite)

        with atomic_path(path) as tmp, open(tmp, "wb") as fid:
            np.savez_compressed(
                fid,
                ch_names=self.ch_names,
                bad_epochs=self.bad_epochs,
                labels=self.labels,
            )
        logger.debug(f"Saved reject log to {path}")


def _check_show_names(show_names, n_channels):
    """Resolve ``show_names`` to a positive tick step."""
    if isinstance(show_names, str):
        if show_names != "auto":
            raise ValueError(f"show_names must be 'auto' or a positive int; got {show_names!r}.")
        return 1 if n_channels < 25 else 5
    if isinstance(show_names, (bool, np.bool_)) or not isinstance(show_names, (int, np.integer)):
        raise TypeError(
            f"show_names must be 'auto' or a positive int; got {type(show_names).__name__}."
        )
    if show_names < 1:
        raise ValueError(f"show_names must be 'auto' or a positive int; got {show_names}.")
    return int(show_names)


def read_reject_log(fname):
    """Read a reject log saved by autoreject_cpp or autoreject 0.5.1.

    Parameters
    ----------
    fname : path-like
        The ``.npz`` file written by :meth:`RejectLog.save`.

    Returns
    -------
    reject_log : RejectLog
        The log; ``ch_names`` is a list of str.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    OSError
        If the file is not a readable ``.npz`` archive (corrupted or
        truncated).
    ValueError
        If the archive lacks one of ``ch_names``, ``bad_epochs`` or
        ``labels`` or their shapes disagree.

    See Also
    --------
    RejectLog.save

    .. versionadded:: 0.1
    """
    from ._fileio import check_input_file

    path = check_input_file(fname, "reject log")
    corrupted = (OSError, ValueError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError)
    # open the file ourselves so it is closed even when numpy fails to parse it
    with open(path, "rb") as fid:
        try:
            archive = np.load(fid, allow_pickle=False)
        except corrupted as err:
            raise OSError(
                f"Could not read a reject log from {path}: the file is not a "
                f"valid .npz archive or is corrupted ({err}). Save the log "
                "again with RejectLog.save."
            ) from err
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(
                f"{path} holds a single array, not a reject log archive with "
                f"keys {', '.join(NPZ_KEYS)}."
            )
        with archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise ValueError(
                    f"{path} is not a reject log: the archive lacks "
                    f"{', '.join(missing)} (found "
                    f"{', '.join(archive.files) or 'no arrays'})."
                )
            try:
                data = {key: archive[key] for key in NPZ_KEYS}
            except corrupted as err:
                raise OSError(
                    f"Could not read a reject log from {path}: the archive is "
                    f"corrupted ({err}). Save the log again with RejectLog.save."
                ) from err
    try:
        return RejectLog(
            bad_epochs=data["bad_epochs"],
            labels=data["labels"],
            ch_names=[str(name) for name in data["ch_names"]],
        )
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path} holds an inconsistent reject log: {err}") from None
