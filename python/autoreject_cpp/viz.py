"""Figures: matplotlib defaults, threshold histograms and CV-loss maps.

Matplotlib is imported inside each function, so ``import autoreject_cpp`` does
not load it. The reject-log image lives in :meth:`RejectLog.plot`.
"""

from __future__ import annotations

import numpy as np

#: font size that :func:`set_matplotlib_defaults` builds on (as autoreject)
_BASE_FONTSIZE = 17


def set_matplotlib_defaults(plt, style="ggplot"):
    """Apply a matplotlib style and large fonts for publication figures.

    Same effect as ``autoreject.utils.set_matplotlib_defaults``: the style
    is activated, tick and legend labels get font size 17, axis labels and
    titles 19. This changes matplotlib's global settings; wrap the call in
    :func:`matplotlib.rc_context` to keep the change local.

    Parameters
    ----------
    plt : module
        The :mod:`matplotlib.pyplot` module.
    style : str | dict | path-like | list
        The style to activate, as accepted by :func:`matplotlib.style.use`.
        Defaults to ``'ggplot'``.

    .. versionadded:: 0.1
    """
    import matplotlib.style

    matplotlib.style.use(style)
    plt.rcParams.update(
        {
            "axes.labelsize": _BASE_FONTSIZE + 2,
            "legend.fontsize": _BASE_FONTSIZE,
            "xtick.labelsize": _BASE_FONTSIZE,
            "ytick.labelsize": _BASE_FONTSIZE,
            "axes.titlesize": _BASE_FONTSIZE + 2,
        }
    )


def _group_thresholds(threshes, info, ch_type):
    """Split thresholds into ``[(ch_type, values), ...]`` in channel order."""
    if isinstance(threshes, dict):
        names, values = list(threshes), np.asarray(list(threshes.values()), float)
    else:
        names, values = None, np.atleast_1d(np.asarray(threshes, float))
        if values.ndim != 1:
            raise ValueError(
                f"threshes must be a dict or a 1D array; got an array with shape {values.shape}."
            )
    if values.size == 0:
        raise ValueError("threshes is empty; fit an AutoReject model first (ar.threshes_).")
    if info is None:
        return [(ch_type, values)]
    if names is None:
        raise TypeError(
            "Grouping by channel type needs channel names: pass threshes as a "
            "dict (e.g. ar.threshes_), or leave info=None."
        )
    import mne

    missing = [name for name in names if name not in info["ch_names"]]
    if missing:
        raise ValueError(
            f"Channel(s) {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''} "
            "of threshes are not in info; pass the info of the fitted epochs."
        )
    groups = {}
    for name, value in zip(names, values):
        kind = mne.channel_type(info, info["ch_names"].index(name))
        groups.setdefault(kind, []).append(value)
    return [(kind, np.asarray(vals)) for kind, vals in groups.items()]


def plot_thresholds(threshes, info=None, *, ch_type="eeg", bins=30, axes=None, show=True):
    """Histogram of the per-channel peak-to-peak rejection thresholds.

    Parameters
    ----------
    threshes : dict | array-like
        Thresholds in SI units (V, T, T/m), e.g. ``ar.threshes_``, which maps
        channel names to thresholds.
    info : mne.Info | None
        If given, thresholds are grouped by channel type (``threshes`` must
        then be a dict) and each type gets its own panel in its usual unit.
        If None (default), all thresholds share one panel of type
        ``ch_type``.
    ch_type : str
        The channel type whose unit and scaling are used when ``info`` is
        None. Defaults to ``'eeg'`` (µV).
    bins : int | array-like
        Histogram bins, as in :func:`numpy.histogram`. Defaults to 30.
    axes : matplotlib.axes.Axes | list of Axes | None
        Where to draw, one axes per channel type. If None (default), a new
        figure is created.
    show : bool
        Whether to show the figure. Defaults to True.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.

    .. versionadded:: 0.1
    """
    from mne.defaults import DEFAULTS

    groups = _group_thresholds(threshes, info, ch_type)
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 4), squeeze=False)
        axes = list(axes[0])
    else:
        axes = list(np.atleast_1d(axes))
        if len(axes) != len(groups):
            raise ValueError(
                f"axes must hold one Axes per channel type ({len(groups)}: "
                f"{', '.join(kind for kind, _ in groups)}); got {len(axes)}."
            )
        fig = axes[0].get_figure()
    for ax, (kind, values) in zip(axes, groups):
        scaling = DEFAULTS["scalings"].get(kind, 1.0)
        unit = DEFAULTS["units"].get(kind, "AU")
        ax.hist(values * scaling, bins=bins, color="g", alpha=0.4)
        ax.set_xlabel(f"Threshold ({unit})")
        ax.set_ylabel("Number of channels")
        ax.set_title(f"{kind} ({len(values)} channels)")
    fig.tight_layout()
    if show:
        plt.show()
    return fig


def plot_cv_loss(
    loss,
    consensus,
    n_interpolate,
    *,
    ax=None,
    cmap="viridis",
    mark_best=True,
    title=None,
    show=True,
):
    """Heat map of the cross-validation loss over the parameter grid.

    Parameters
    ----------
    loss : array, shape (n_consensus, n_interpolate, n_folds)
        The loss of every fold for each (consensus, n_interpolate) pair, e.g.
        ``ar.loss_['eeg']``.
    consensus : array-like, shape (n_consensus,)
        The consensus values of the grid (rows of ``loss``).
    n_interpolate : array-like, shape (n_interpolate,)
        The n_interpolate values of the grid (columns of ``loss``).
    ax : matplotlib.axes.Axes | None
        The axes to draw into. If None (default), a new figure is created.
    cmap : str | matplotlib.colors.Colormap
        The colormap. Defaults to ``'viridis'``.
    mark_best : bool
        Whether to frame the cell with the lowest mean loss, the pair
        AutoReject selects. Defaults to True.
    title : str | None
        The axes title. Defaults to None (no title).
    show : bool
        Whether to show the figure. Defaults to True.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure; the image shows the loss averaged over folds.

    .. versionadded:: 0.1
    """
    loss = np.asarray(loss, dtype=float)
    consensus = np.atleast_1d(np.asarray(consensus))
    n_interpolate = np.atleast_1d(np.asarray(n_interpolate))
    if loss.ndim != 3:
        raise ValueError(
            "loss must have shape (n_consensus, n_interpolate, n_folds); got an "
            f"array with shape {loss.shape}. For a fitted model pass "
            "ar.loss_[ch_type]."
        )
    if loss.shape[:2] != (len(consensus), len(n_interpolate)):
        raise ValueError(
            f"loss has shape {loss.shape} but the grid has {len(consensus)} "
            f"consensus and {len(n_interpolate)} n_interpolate values; the first "
            "two dimensions of loss must match them."
        )
    mean_loss = loss.mean(axis=-1)

    import matplotlib.pyplot as plt
    from matplotlib import patches

    if ax is None:
        fig, ax = plt.subplots(figsize=(1.2 * len(n_interpolate) + 3, 0.5 * len(consensus) + 2.5))
    else:
        fig = ax.get_figure()
    ax.grid(False)
    img = ax.imshow(
        mean_loss, cmap=cmap, origin="lower", aspect="auto", interpolation="nearest"
    )
    ax.set_xticks(range(len(n_interpolate)), [str(v) for v in n_interpolate.tolist()])
    ax.set_yticks(range(len(consensus)), [f"{v:.3g}" for v in consensus.tolist()])
    ax.set_xlabel(r"n_interpolate ($\rho$)")
    ax.set_ylabel(r"consensus ($\kappa$)")
    fig.colorbar(img, ax=ax, label=f"Mean loss over {loss.shape[2]} folds")
    if mark_best and np.isfinite(mean_loss).any():
        row, col = np.unravel_index(np.nanargmin(mean_loss), mean_loss.shape)
        ax.add_patch(
            patches.Rectangle(
                (col - 0.5, row - 0.5), 1, 1, linewidth=2, edgecolor="r", facecolor="none"
            )
        )
    if title is not None:
        ax.set_title(title)
    fig.tight_layout()
    if show:
        plt.show()
    return fig
