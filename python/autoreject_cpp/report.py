"""Sections of an :class:`mne.Report` describing a autoreject_cpp run.

Each ``add_*`` function adds one section to a report through
:meth:`mne.Report.add_figure` or :meth:`mne.Report.add_html` and mirrors their
signature: the content first, then ``title`` and the keyword-only ``tags``,
``section`` and ``replace``. :func:`make_report` builds a complete report in
one call. Saving is :meth:`mne.Report.save`'s job (``.html`` for a
self-contained page, ``.h5`` to reopen it later with :func:`mne.open_report`).

Matplotlib is imported inside the functions, so importing this module stays
cheap.

.. versionadded:: 0.1
"""

# License: BSD-3-Clause

from __future__ import annotations

import html
import warnings

import numpy as np

from ._docs import fill_doc
from .reject_log import BAD, INTERPOLATED

#: tag added to every autoreject_cpp section, so they can be filtered together
TAG = "autoreject_cpp"

__all__ = [
    "add_cv_loss",
    "add_evoked_comparison",
    "add_ransac",
    "add_reject_log",
    "add_summary",
    "add_thresholds",
    "make_report",
]


def _tags(extra, tags):
    """The tags of a section: the caller's, else the autoreject_cpp defaults."""
    if tags is None:
        return (TAG, extra)
    if isinstance(tags, str):
        return (tags,)
    return tuple(tags)


def _add_figures(report, figs, title, caption, tags, section, replace):
    """Add one figure (or a slider of several) and close them."""
    import matplotlib.pyplot as plt

    try:
        report.add_figure(
            figs[0] if len(figs) == 1 else figs,
            title,
            caption=caption if len(figs) == 1 else [caption] * len(figs),
            tags=tags,
            section=section,
            replace=replace,
        )
    finally:
        for fig in figs:
            plt.close(fig)


def _check_report(report):
    from mne import Report

    if not isinstance(report, Report):
        raise TypeError(
            f"report must be an mne.Report; got {type(report).__name__}. Create "
            "one with mne.Report(title=...)."
        )


def _check_fitted(ar, what):
    if not hasattr(ar, "threshes_"):
        raise ValueError(
            f"The AutoReject model is not fitted, so it has no {what}. Call "
            "ar.fit(epochs) first or read a fitted model with "
            "autoreject_cpp.read_auto_reject."
        )


@fill_doc
def add_reject_log(
    report, reject_log, *, title="Reject log", tags=None, section=None, replace=False
):
    """Add the image of good, bad and interpolated segments.

    Parameters
    ----------
    %(report_in)s
    reject_log : autoreject_cpp.RejectLog
        The log to draw, e.g. from ``ar.fit_transform(epochs,
        return_log=True)``.
    title : str
        The section title. Defaults to ``'Reject log'``.
    tags : str | list of str | None
        Tags of the section. None (default) uses ``('autoreject_cpp',
        'reject-log')``.
    %(section_replace)s

    Returns
    -------
    %(report_out)s

    See Also
    --------
    autoreject_cpp.RejectLog.plot, make_report

    .. versionadded:: 0.1
    """
    _check_report(report)
    import matplotlib.pyplot as plt

    labels = np.asarray(reject_log.labels)
    n_epochs, n_channels = labels.shape
    fig, ax = plt.subplots(figsize=(12, min(12, max(4, 0.05 * n_epochs + 3))))
    reject_log.plot(
        show=False, aspect="auto", ax=ax, show_names=1 if n_channels <= 64 else "auto"
    )
    # the legend sits at a fixed axes fraction; put it just above the image
    legend = ax.get_legend()
    if legend is not None:
        ax.legend(
            handles=legend.legend_handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=3,
            frameon=False,
        )
    fig.tight_layout()
    n_bad = int(np.count_nonzero(reject_log.bad_epochs))
    caption = (
        f"{n_epochs} epochs x {n_channels} channels: {n_bad} epoch(s) dropped "
        f"(framed in red), {int(np.count_nonzero(labels == INTERPOLATED))} "
        f"segment(s) interpolated (blue), {int(np.count_nonzero(labels == BAD))} "
        "bad segment(s) left as they are (red); white columns were not examined."
    )
    _add_figures(report, [fig], title, caption, _tags("reject-log", tags), section, replace)
    return report


def _threshold_groups(threshes, info):
    """``[(ch_type, names, values)]`` in channel order, for channels in info."""
    import mne

    groups = {}
    for name, value in threshes.items():
        if name not in info["ch_names"]:
            continue
        kind = mne.channel_type(info, info["ch_names"].index(name))
        names, values = groups.setdefault(kind, ([], []))
        names.append(name)
        values.append(float(value))
    return [(kind, names, np.asarray(values)) for kind, (names, values) in groups.items()]


@fill_doc
def add_thresholds(
    report, ar, info, *, title="Channel thresholds", tags=None, section=None, replace=False
):
    """Add the histogram (and for EEG the topomap) of per-channel thresholds.

    Parameters
    ----------
    %(report_in)s
    ar : autoreject_cpp.AutoReject
        A fitted model; its ``threshes_`` are drawn.
    info : mne.Info
        The measurement info of the epochs the model was fitted on (channel
        types and, for the topomap, EEG positions).
    title : str
        The section title. Defaults to ``'Channel thresholds'``.
    tags : str | list of str | None
        Tags of the section. None (default) uses ``('autoreject_cpp',
        'thresholds')``.
    %(section_replace)s

    Returns
    -------
    %(report_out)s

    See Also
    --------
    autoreject_cpp.viz.plot_thresholds

    Notes
    -----
    The topomap is drawn only for EEG channels whose positions are all
    known.

    .. versionadded:: 0.1
    """
    import matplotlib.pyplot as plt
    import mne
    from mne.defaults import DEFAULTS

    from ._validation import has_valid_locs
    from .viz import plot_thresholds

    _check_report(report)
    _check_fitted(ar, "thresholds")
    groups = _threshold_groups(ar.threshes_, info)
    if not groups:
        raise ValueError(
            "None of the model's channels is in info; pass the info of the "
            "epochs the model was fitted on."
        )
    eeg = next((g for g in groups if g[0] == "eeg"), None)
    picks_eeg = [info["ch_names"].index(n) for n in eeg[1]] if eeg else []
    topo = eeg is not None and len(picks_eeg) >= 3 and has_valid_locs(info, picks_eeg)
    n_axes = len(groups) + topo
    fig, axes = plt.subplots(1, n_axes, figsize=(5 * n_axes, 4), squeeze=False)
    axes = list(axes[0])
    threshes = {n: v for _, names, values in groups for n, v in zip(names, values)}
    plot_thresholds(threshes, info, axes=axes[: len(groups)], show=False)
    if topo:
        scale, unit = DEFAULTS["scalings"]["eeg"], DEFAULTS["units"]["eeg"]
        ax = axes[-1]
        im, _ = mne.viz.plot_topomap(
            eeg[2] * scale,
            mne.pick_info(info, picks_eeg),
            axes=ax,
            cmap="Reds",
            contours=0,
            show=False,
        )
        fig.colorbar(im, ax=ax, shrink=0.8, label=f"Threshold ({unit})")
        ax.set_title("eeg thresholds")
    fig.tight_layout()
    parts = []
    for kind, _, values in groups:
        scale = DEFAULTS["scalings"].get(kind, 1.0)
        unit = DEFAULTS["units"].get(kind, "AU")
        parts.append(
            f"{kind}: median {np.median(values) * scale:.4g} {unit} "
            f"(range {values.min() * scale:.4g}-{values.max() * scale:.4g})"
        )
    caption = "Peak-to-peak rejection threshold learnt for each channel. " + "; ".join(parts)
    _add_figures(report, [fig], title, caption, _tags("thresholds", tags), section, replace)
    return report


def _cv_grid(ar, ch_type, loss):
    """The consensus and n_interpolate values along the axes of ``loss``."""
    n_cons, n_interp = loss.shape[:2]
    consensus = n_interpolate = None
    picks = getattr(ar, "picks_", None)
    if picks is not None and hasattr(ar, "_grids"):
        try:
            n_interpolate, consensus = ar._grids(len(picks))
        except (ValueError, TypeError):
            pass
    if consensus is None or len(consensus) != n_cons:
        consensus = np.arange(n_cons)
    if n_interpolate is None or len(n_interpolate) != n_interp:
        n_interpolate = np.arange(n_interp)
    return np.asarray(consensus), np.asarray(n_interpolate)


def _annotate_cv_loss(fig, mean_loss, unit):
    """Write the value in each cell and give the colour bar its unit."""
    ax, cax = fig.axes[0], fig.axes[-1]
    cax.set_ylabel(f"Mean loss ({unit})")
    finite = mean_loss[np.isfinite(mean_loss)]
    if finite.size == 0 or mean_loss.size > 200:
        return
    image = ax.images[0]
    for (row, col), value in np.ndenumerate(mean_loss):
        if not np.isfinite(value):
            continue
        rgba = image.cmap(image.norm(value))
        dark = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] < 0.5
        ax.text(
            col, row, f"{value:.4g}", ha="center", va="center", fontsize=8,
            color="white" if dark else "black",
        )  # fmt: skip


@fill_doc
def add_cv_loss(
    report, ar, *, title="Cross-validation loss", tags=None, section=None, replace=False
):
    """Add the CV loss heat map over consensus x n_interpolate, per channel type.

    Parameters
    ----------
    %(report_in)s
    ar : autoreject_cpp.AutoReject
        A fitted model with ``loss_``.
    title : str
        The section title. Defaults to ``'Cross-validation loss'``.
    tags : str | list of str | None
        Tags of the section. None (default) uses ``('autoreject_cpp',
        'cv-loss')``.
    %(section_replace)s

    Returns
    -------
    %(report_out)s

    See Also
    --------
    autoreject_cpp.viz.plot_cv_loss

    Notes
    -----
    With several channel types the figures are shown as a slider. Cells
    without a finite loss (e.g. ``consensus * n_channels <= n_interpolate``)
    are left blank; the chosen pair is framed in red.

    .. versionadded:: 0.1
    """
    from mne.defaults import DEFAULTS

    from .viz import plot_cv_loss

    _check_report(report)
    _check_fitted(ar, "CV loss")
    losses = getattr(ar, "loss_", None) or {}
    if not losses:
        raise ValueError("The model has no CV loss (loss_ is empty or missing).")
    figs, parts = [], []
    for ch_type, loss in losses.items():
        scale = DEFAULTS["scalings"].get(ch_type, 1.0)
        unit = DEFAULTS["units"].get(ch_type, "AU")
        loss = np.asarray(loss, dtype=float) * scale
        consensus, n_interpolate = _cv_grid(ar, ch_type, loss)
        fig = plot_cv_loss(
            loss,
            consensus,
            n_interpolate,
            title=f"{ch_type}: mean CV loss ({loss.shape[2]} folds)",
            show=False,
        )
        _annotate_cv_loss(fig, loss.mean(axis=-1), unit)
        figs.append(fig)
        chosen = getattr(ar, "consensus_", {}).get(ch_type)
        rho = getattr(ar, "n_interpolate_", {}).get(ch_type)
        if chosen is not None and rho is not None:
            parts.append(f"{ch_type}: consensus={float(chosen):.2f}, n_interpolate={int(rho)}")
    caption = (
        "Root-mean-square difference between the mean of the kept training "
        "epochs and the median of the test epochs, averaged over folds; the "
        "lowest cell (framed) is chosen. " + "; ".join(parts)
    )
    _add_figures(report, figs, title, caption, _tags("cv-loss", tags), section, replace)
    return report


@fill_doc
def add_evoked_comparison(
    report,
    epochs,
    epochs_clean,
    *,
    title="Evoked before/after",
    tags=None,
    section=None,
    replace=False,
):
    """Add the average of the input epochs next to that of the cleaned ones.

    Parameters
    ----------
    %(report_in)s
    epochs : mne.Epochs
        The epochs before cleaning.
    epochs_clean : mne.Epochs
        The cleaned epochs (repaired, bad ones dropped).
    title : str
        The section title. Defaults to ``'Evoked before/after'``.
    tags : str | list of str | None
        Tags of the section. None (default) uses ``('autoreject_cpp',
        'evoked')``.
    %(section_replace)s

    Returns
    -------
    %(report_out)s

    Notes
    -----
    Both rows of butterfly plots share their y-limits per channel type, so
    the reduction of artifacts is visible at a glance.

    .. versionadded:: 0.1
    """
    import matplotlib.pyplot as plt
    from mne.defaults import DEFAULTS

    _check_report(report)
    if len(epochs_clean) == 0:
        raise ValueError("epochs_clean holds no epoch; there is nothing to average.")
    evokeds = [epochs.average(), epochs_clean.average()]
    ch_types = [
        t for t in dict.fromkeys(evokeds[0].get_channel_types()) if t in DEFAULTS["scalings"]
    ]
    if not ch_types:
        raise ValueError("The epochs hold no data channel to average.")
    ylim = {}
    for ch_type in ch_types:
        scale = DEFAULTS["scalings"][ch_type]
        peak = max(np.abs(ev.copy().pick(ch_type).data).max() for ev in evokeds) * scale
        peak = 1.05 * peak if peak > 0 else 1.0
        ylim[ch_type] = [-peak, peak]
    fig, axes = plt.subplots(
        2, len(ch_types), figsize=(6 * len(ch_types) + 1, 6.5), squeeze=False, sharex=True
    )
    names = (
        f"Before: average of {len(epochs)} epochs",
        f"After: average of {len(epochs_clean)} cleaned epochs",
    )
    for row, (evoked, name) in enumerate(zip(evokeds, names)):
        evoked.plot(
            picks=ch_types,
            axes=list(axes[row]),
            ylim=ylim,
            spatial_colors="auto",
            show=False,
            time_unit="s",
        )
        for ax, ch_type in zip(axes[row], ch_types):
            ax.set_title(f"{name} ({ch_type})", fontsize=10)
            if row == 0:
                ax.set_xlabel("")
    with warnings.catch_warnings():
        # the sensor-position insets are not tight_layout compatible
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()
    caption = (
        "Butterfly plots of the average before cleaning (top) and after "
        "repair and rejection (bottom), with the same y-axis."
    )
    _add_figures(report, [fig], title, caption, _tags("evoked", tags), section, replace)
    return report


@fill_doc
def add_ransac(
    report, ransac, info, *, title="RANSAC correlations", tags=None, section=None, replace=False
):
    """Add the image of RANSAC correlations (epochs x channels).

    Parameters
    ----------
    %(report_in)s
    ransac : autoreject_cpp.Ransac
        A fitted Ransac estimator.
    info : mne.Info
        The measurement info of the epochs Ransac was fitted on (channel
        names).
    title : str
        The section title. Defaults to ``'RANSAC correlations'``.
    tags : str | list of str | None
        Tags of the section. None (default) uses ``('autoreject_cpp', 'ransac')``.
    %(section_replace)s

    Returns
    -------
    %(report_out)s

    Notes
    -----
    Each cell is the correlation of a channel with the median of its
    predictions in one epoch; cells below ``min_corr`` count against the
    channel. Bad channels are labelled in red under the image.

    .. versionadded:: 0.1
    """
    import matplotlib.pyplot as plt

    _check_report(report)
    if not hasattr(ransac, "corr_"):
        raise ValueError("The Ransac estimator is not fitted; call ransac.fit(epochs) first.")
    corr = np.asarray(ransac.corr_, dtype=float)
    names = [info["ch_names"][p] for p in ransac.picks_]
    if len(names) != corr.shape[1]:
        raise ValueError(
            f"ransac.corr_ has {corr.shape[1]} channels but picks_ names "
            f"{len(names)}; pass the info of the epochs Ransac was fitted on."
        )
    n_epochs, n_channels = corr.shape
    from matplotlib.colors import TwoSlopeNorm

    fig, ax = plt.subplots(figsize=(12, min(10, max(4, 0.05 * n_epochs + 2.5))))
    # white at min_corr: red cells count against their channel, blue ones not
    center = float(np.clip(ransac.min_corr, -0.99, 0.99))
    img = ax.imshow(
        corr,
        aspect="auto",
        interpolation="nearest",
        cmap="RdBu",
        norm=TwoSlopeNorm(vcenter=center, vmin=-1.0, vmax=1.0),
    )
    ax.grid(False)
    cbar = fig.colorbar(img, ax=ax, label="Correlation with the median prediction")
    cbar.set_ticks(sorted({-1.0, 0.0, center, 1.0}))
    step = 1 if n_channels <= 40 else int(np.ceil(n_channels / 40))
    bads = set(ransac.bad_chs_)
    ticks = sorted(set(range(0, n_channels, step)) | {names.index(b) for b in bads})
    ax.set_xticks(ticks, [names[i] for i in ticks], rotation=90, fontsize=7)
    for label in ax.get_xticklabels():
        if label.get_text() in bads:
            label.set_color("red")
            label.set_fontweight("bold")
    ax.set_xlabel("Channels")
    ax.set_ylabel("Epochs")
    n_low = int(np.count_nonzero(corr < ransac.min_corr))
    ax.set_title(
        f"{len(bads)} bad channel(s): {', '.join(ransac.bad_chs_) or 'none'}", fontsize=11
    )
    fig.tight_layout()
    caption = (
        f"{n_low} of {corr.size} epoch-channel correlations are below "
        f"min_corr={ransac.min_corr}; a channel is bad when that happens in more "
        f"than {ransac.unbroken_time:.0%} of the epochs."
    )
    _add_figures(report, [fig], title, caption, _tags("ransac", tags), section, replace)
    return report


def _backend_name(ar, epochs=None):
    """Name of the backend the model resolves to (best effort)."""
    backend = getattr(ar, "backend_", None)
    if backend is not None:
        return getattr(backend, "name", str(backend))
    try:
        from .backends import get_backend

        return get_backend(getattr(ar, "backend", None)).name
    except Exception:  # an unusable backend must not break the report
        return str(getattr(ar, "backend", None) or "auto")


def _summary_rows(ar, reject_log, runtime, backend, ransac):
    labels = np.asarray(reject_log.labels)
    n_epochs = labels.shape[0]
    n_bad = int(np.count_nonzero(reject_log.bad_epochs))
    rows = []
    if runtime is not None:
        rows.append(("Run time", f"{float(runtime):.2f} s"))
    rows.append(("Backend", backend))
    local_reject = getattr(ar, "local_reject_", None) or {}
    for ch_type in getattr(ar, "consensus_", {}):
        n_ch = len(getattr(local_reject.get(ch_type), "picks_", ()))
        rows.append(
            (
                f"{ch_type}" + (f" ({n_ch} channels)" if n_ch else ""),
                f"consensus = {float(ar.consensus_[ch_type]):.2f}, "
                f"n_interpolate = {int(ar.n_interpolate_[ch_type])}",
            )
        )
    rows.append(("Epochs", f"{n_epochs} in, {n_epochs - n_bad} kept, {n_bad} dropped"))
    rows.append(
        (
            "Channel segments",
            f"{int(np.count_nonzero(labels == INTERPOLATED))} repaired (interpolated), "
            f"{int(np.count_nonzero(labels == BAD))} bad not repaired, of "
            f"{int(np.count_nonzero(~np.isnan(labels)))} examined",
        )
    )
    if ransac is not None and hasattr(ransac, "bad_chs_"):
        rows.append(("RANSAC bad channels", ", ".join(ransac.bad_chs_) or "none"))
    return rows


def _html_table(rows):
    cells = "".join(
        f"<tr><th scope='row' style='text-align:left;padding-right:2em'>{html.escape(k)}</th>"
        f"<td>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table class='table table-sm table-striped' style='width:auto'>{cells}</table>"


@fill_doc
def add_summary(
    report,
    ar,
    reject_log,
    *,
    runtime=None,
    backend=None,
    ransac=None,
    title="Summary",
    tags=None,
    section=None,
    replace=False,
):
    """Add a table with run time, backend, chosen parameters and counts.

    Parameters
    ----------
    %(report_in)s
    ar : autoreject_cpp.AutoReject
        The fitted model.
    reject_log : autoreject_cpp.RejectLog
        The reject log of the cleaned epochs.
    runtime : float | None
        Run time in seconds to show. Defaults to None (not shown).
    backend : str | None
        Name of the compute backend to show. None (default) resolves the
        model's ``backend`` parameter.
    ransac : autoreject_cpp.Ransac | None
        A fitted Ransac whose bad channels are listed. Defaults to None.
    title : str
        The section title. Defaults to ``'Summary'``.
    tags : str | list of str | None
        Tags of the section. None (default) uses ``('autoreject_cpp',
        'summary')``.
    %(section_replace)s

    Returns
    -------
    %(report_out)s

    .. versionadded:: 0.1
    """
    from ._version import __version__

    _check_report(report)
    if backend is None:
        backend = _backend_name(ar)
    rows = _summary_rows(ar, reject_log, runtime, str(backend), ransac)
    rows.append(("autoreject_cpp version", __version__))
    report.add_html(
        _html_table(rows), title, tags=_tags("summary", tags), section=section, replace=replace
    )
    return report


def make_report(
    epochs, ar, reject_log, epochs_clean, ransac=None, runtime=None, fname=None
):
    """Build a complete report of a autoreject_cpp run.

    Sections: summary table, reject log, channel thresholds, CV loss (when
    the model has one), evoked before/after and, when ``ransac`` is given,
    the RANSAC correlations.

    Parameters
    ----------
    epochs : mne.Epochs
        The epochs before cleaning.
    ar : autoreject_cpp.AutoReject
        The fitted model.
    reject_log : autoreject_cpp.RejectLog
        The reject log of ``epochs``.
    epochs_clean : mne.Epochs
        The cleaned epochs.
    ransac : autoreject_cpp.Ransac | None
        A Ransac estimator fitted on ``epochs``, or None (default) to leave
        its section out.
    runtime : float | None
        Run time in seconds shown in the summary. Defaults to None.
    fname : path-like | None
        If given, the report is saved there (``.html``: self-contained page,
        replacing an existing file). Defaults to None (not saved).

    Returns
    -------
    report : mne.Report
        The report.

    See Also
    --------
    add_summary, add_reject_log, add_thresholds, add_cv_loss,
    add_evoked_comparison, add_ransac

    .. versionadded:: 0.1
    """
    import mne

    report = mne.Report(title="autoreject_cpp report", verbose="error")
    _add_sections(report, epochs, ar, reject_log, epochs_clean, ransac, runtime)
    if fname is not None:
        _save_report(report, fname, overwrite=True)
    return report


def _add_sections(report, epochs, ar, reject_log, epochs_clean, ransac=None, runtime=None):
    """Add every standard section of :func:`make_report` to ``report``."""
    add_summary(
        report,
        ar,
        reject_log,
        runtime=runtime,
        backend=_backend_name(ar, epochs),
        ransac=ransac,
    )
    add_reject_log(report, reject_log)
    add_thresholds(report, ar, epochs.info)
    if getattr(ar, "loss_", None):
        add_cv_loss(report, ar)
    if len(epochs_clean):
        add_evoked_comparison(report, epochs, epochs_clean)
    if ransac is not None:
        add_ransac(report, ransac, epochs.info)
    return report


def _save_report(report, fname, overwrite=False):
    """Save ``report`` through a temporary file moved into place.

    The temporary file sits next to ``fname`` and keeps its ending (``.html``,
    ``.h5``), which :meth:`mne.Report.save` uses to pick the format; readers
    never see a partly written report.
    """
    from pathlib import Path

    from ._fileio import atomic_path, resolve_output

    path = Path(resolve_output(fname, overwrite))
    if not path.name.endswith((".html", ".h5", ".hdf5")):
        raise ValueError(
            f"Cannot save a report to {path}: the file name must end in .html "
            "(web page) or .h5/.hdf5 (to reopen with mne.open_report)."
        )
    with atomic_path(path) as tmp:
        report.save(tmp, open_browser=False, overwrite=True, verbose="error")
    return path

