"""Tests for autoreject_cpp.report: sections render, options behave."""

# License: BSD-3-Clause

import mne
import numpy as np
import pytest

import autoreject_cpp
from autoreject_cpp.datasets import make_synthetic_epochs
from autoreject_cpp.report import (
    add_cv_loss,
    add_evoked_comparison,
    add_ransac,
    add_reject_log,
    add_summary,
    add_thresholds,
    make_report,
)

SECTIONS = (
    "Summary",
    "Reject log",
    "Channel thresholds",
    "Cross-validation loss",
    "Evoked before/after",
    "RANSAC correlations",
)


@pytest.fixture(scope="module")
def fitted():
    """Small simulated EEG, cleaned, plus a fitted Ransac."""
    epochs = make_synthetic_epochs(kind="eeg", n_epochs=40, n_channels=20, seed=3)
    ar = autoreject_cpp.AutoReject(cv=4, random_state=0, verbose=False)
    clean, log = ar.fit_transform(epochs, return_log=True)
    ransac = autoreject_cpp.Ransac(n_resample=20, verbose=False).fit(epochs)
    return epochs, ar, log, clean, ransac


def test_make_report_writes_html(fitted, tmp_path):
    epochs, ar, log, clean, ransac = fitted
    fname = tmp_path / "report.html"
    report = make_report(epochs, ar, log, clean, ransac=ransac, runtime=1.25, fname=fname)
    assert isinstance(report, mne.Report)
    assert fname.is_file()
    html = fname.read_text(encoding="utf-8")
    for title in SECTIONS:
        assert title in html
    assert "1.25 s" in html  # run time in the summary table
    assert f"consensus = {ar.consensus_['eeg']:.2f}" in html
    assert html.count("<img") >= 5  # self-contained: figures embedded
    assert list(tmp_path.iterdir()) == [fname]  # no temporary file left


def test_make_report_without_optional_parts(fitted, tmp_path):
    epochs, ar, log, clean, _ = fitted
    report = make_report(epochs, ar, log, clean)
    assert not list(tmp_path.iterdir())  # not saved without fname
    report.save(tmp_path / "r.html", open_browser=False, verbose="error")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "RANSAC correlations" not in html
    assert "Summary" in html and "Run time" not in html


def test_sections_options(fitted):
    epochs, ar, log, clean, ransac = fitted
    report = mne.Report(verbose="error")
    add_reject_log(report, log, title="Log", tags=("mine",), section="Run 1")
    add_reject_log(report, log, title="Log", tags=("mine",), section="Run 1", replace=True)
    add_thresholds(report, ar, epochs.info, tags="thresholds-only")
    add_cv_loss(report, ar, section="Run 1")
    add_evoked_comparison(report, epochs, clean)
    add_ransac(report, ransac, epochs.info)
    add_summary(report, ar, log, runtime=None, backend="scalar")
    titles = [element.name for element in report._content]
    assert titles.count("Log") == 1  # replaced, not added twice
    assert len(titles) == 6
    assert "mine" in report.tags and "thresholds-only" in report.tags
    assert "autoreject_cpp" in report.tags


def test_errors(fitted):
    epochs, ar, log, clean, ransac = fitted
    with pytest.raises(TypeError, match="mne.Report"):
        add_reject_log("report.html", log)
    unfitted = autoreject_cpp.AutoReject()
    with pytest.raises(ValueError, match="not fitted"):
        add_thresholds(mne.Report(), unfitted, epochs.info)
    with pytest.raises(ValueError, match="not fitted"):
        add_ransac(mne.Report(), autoreject_cpp.Ransac(), epochs.info)
    with pytest.raises(ValueError, match="no epoch"):
        add_evoked_comparison(mne.Report(), epochs, clean[[]] if len(clean) else clean)


def test_thresholds_without_positions(fitted):
    epochs, ar, *_ = fitted
    info = mne.create_info(epochs.ch_names, epochs.info["sfreq"], "eeg")  # no montage
    report = mne.Report(verbose="error")
    add_thresholds(report, ar, info)  # histogram only, no topomap
    assert len(report._content) == 1


def test_save_h5(fitted, tmp_path):
    from autoreject_cpp.report import _save_report

    epochs, ar, log, clean, _ = fitted
    report = mne.Report(verbose="error")
    add_summary(report, ar, log)
    fname = _save_report(report, tmp_path / "report.h5")
    assert mne.open_report(fname).title == report.title
    with pytest.raises(FileExistsError, match="overwrite"):
        _save_report(report, fname)
    with pytest.raises(ValueError, match="must end in"):
        _save_report(report, tmp_path / "report.pdf")


def test_report_meg_two_channel_types(tmp_path, meg_file):
    epochs = make_synthetic_epochs(kind="meg", n_epochs=30, n_channels=30, seed=1)
    # (the default grid would interpolate up to 29 of the 10 magnetometers)
    ar = autoreject_cpp.AutoReject(n_interpolate=[1, 4], cv=3, random_state=0, verbose=False)
    clean, log = ar.fit_transform(epochs, return_log=True)
    assert set(ar.loss_) == {"mag", "grad"}
    fname = tmp_path / "meg.html"
    make_report(epochs, ar, log, clean, fname=fname)
    html = fname.read_text(encoding="utf-8")
    assert "Cross-validation loss" in html and "Evoked before/after" in html
    assert np.isfinite(list(ar.threshes_.values())).all()
