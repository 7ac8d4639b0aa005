"""Interrupted writes (Ctrl-C) leave no partial or temporary file behind.

Every writer goes through :func:`autoreject_cpp._fileio.atomic_path`. Here the
library call that writes the bytes is replaced by one that writes a few
bytes and then raises KeyboardInterrupt, as Ctrl-C in the middle of a long
write would: afterwards the folder must hold exactly what it held before,
byte for byte.
"""

# License: BSD-3-Clause

import os

import mne
import numpy as np
import pytest

import autoreject_cpp
from autoreject_cpp.cli import EXIT_INTERRUPTED, EXIT_OK, main
from autoreject_cpp.report import make_report

from _data import eeg_epochs

FAST = dict(cv=3, n_interpolate=[1, 2], thresh_method="random_search", random_state=0, verbose=False)
OLD = b"an earlier, complete file"


@pytest.fixture(scope="module")
def epochs():
    return eeg_epochs(n_channels=8, n_epochs=20, n_times=60)


@pytest.fixture(scope="module")
def fitted(epochs):
    return autoreject_cpp.AutoReject(**FAST).fit(epochs)


def _write_then_interrupt(target):
    """Write partial bytes to ``target`` (a path or an open file), then Ctrl-C."""
    if hasattr(target, "write"):
        target.write(b"partial")
        target.flush()
    else:
        with open(target, "wb") as fid:
            fid.write(b"partial")
    raise KeyboardInterrupt


def _listing(folder):
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


@pytest.fixture(params=["new", "existing"])
def destination(request, tmp_path):
    """(folder, existing): the folder holds OLD under the name when existing."""
    return tmp_path, request.param == "existing"


def _prepare(folder, name, existing):
    path = folder / name
    if existing:
        path.write_bytes(OLD)
    return path, _listing(folder)


def test_autoreject_save(monkeypatch, fitted, destination):
    import h5io

    folder, existing = destination
    path, before = _prepare(folder, "model.h5", existing)
    monkeypatch.setattr(h5io, "write_hdf5", lambda fname, *a, **k: _write_then_interrupt(fname))
    with pytest.raises(KeyboardInterrupt):
        fitted.save(path, overwrite=True)
    assert _listing(folder) == before


def test_reject_log_save(monkeypatch, fitted, epochs, destination):
    folder, existing = destination
    path, before = _prepare(folder, "log.npz", existing)
    log = fitted.get_reject_log(epochs)
    monkeypatch.setattr(np, "savez_compressed", lambda fid, **k: _write_then_interrupt(fid))
    with pytest.raises(KeyboardInterrupt):
        log.save(path, overwrite=True)
    assert _listing(folder) == before


def test_report_save(monkeypatch, fitted, epochs, destination):
    pytest.importorskip("matplotlib")
    folder, existing = destination
    path, before = _prepare(folder, "report.html", existing)
    clean, log = fitted.transform(epochs, return_log=True)
    monkeypatch.setattr(mne.Report, "save", lambda self, fname, **k: _write_then_interrupt(fname))
    with pytest.raises(KeyboardInterrupt):
        make_report(epochs, fitted, log, clean, fname=path)
    assert _listing(folder) == before


def test_interrupt_is_not_swallowed_by_atomic_path(tmp_path):
    from autoreject_cpp._fileio import atomic_path

    with pytest.raises(KeyboardInterrupt):
        with atomic_path(tmp_path / "x.txt") as tmp:
            tmp.write_bytes(b"partial")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


@pytest.fixture(scope="module")
def epochs_file(epochs, tmp_path_factory):
    fname = tmp_path_factory.mktemp("input") / "small-epo.fif"
    epochs.save(fname, verbose="error")
    return fname


OUTPUTS = {"epochs": "clean-epo.fif", "log": "log.npz", "model": "model.h5", "report": "report.html"}


def _patch_writer(monkeypatch, which):
    import h5io

    if which == "epochs":
        monkeypatch.setattr(mne.epochs.BaseEpochs, "save", lambda self, fname, **k: _write_then_interrupt(fname))
    elif which == "log":
        monkeypatch.setattr(np, "savez_compressed", lambda fid, **k: _write_then_interrupt(fid))
    elif which == "model":
        monkeypatch.setattr(h5io, "write_hdf5", lambda fname, *a, **k: _write_then_interrupt(fname))
    else:
        monkeypatch.setattr(mne.Report, "save", lambda self, fname, **k: _write_then_interrupt(fname))


@pytest.mark.parametrize("which", list(OUTPUTS))
def test_cli_clean_interrupted(monkeypatch, which, epochs_file, tmp_path, capsys):
    """Ctrl-C while the CLI writes one output: that output keeps its old
    content (or does not exist), the outputs written before it are complete,
    and no temporary file is left."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    out.mkdir()
    (out / OUTPUTS[which]).write_bytes(OLD)
    args = ["-q", "clean", str(epochs_file), "-o", str(out / OUTPUTS["epochs"]),
            "--log", str(out / OUTPUTS["log"]), "--model", str(out / OUTPUTS["model"]),
            "--method", "random_search", "--cv", "3", "--random-state", "0", "--overwrite"]  # fmt: skip
    if which == "report":
        args += ["--report", str(out / OUTPUTS["report"])]
    _patch_writer(monkeypatch, which)
    assert main(args) == EXIT_INTERRUPTED
    assert "interrupted" in capsys.readouterr().err
    names = sorted(os.listdir(out))
    assert not [n for n in names if n.startswith(".")], names  # no temporary file
    assert (out / OUTPUTS[which]).read_bytes() == OLD
    # outputs written before the interrupted one are complete and readable
    order = list(OUTPUTS)
    done = order[: order.index(which)]
    if "epochs" in done:
        assert len(mne.read_epochs(out / OUTPUTS["epochs"], verbose="error")) > 0
    if "log" in done:
        autoreject_cpp.read_reject_log(out / OUTPUTS["log"])
    if "model" in done:
        autoreject_cpp.read_auto_reject(out / OUTPUTS["model"])
    assert set(names) == {OUTPUTS[w] for w in done} | {OUTPUTS[which]}


def test_cli_ransac_output_interrupted(monkeypatch, epochs_file, tmp_path):
    output = tmp_path / "marked-epo.fif"
    output.write_bytes(OLD)
    _patch_writer(monkeypatch, "epochs")
    args = ["-q", "ransac", str(epochs_file), "-o", str(output), "--n-resample", "10", "--overwrite"]
    assert main(args) == EXIT_INTERRUPTED
    assert _listing(tmp_path) == {output.name: OLD}


def test_cli_clean_completes_without_interrupt(epochs_file, tmp_path):
    """The same command line writes every output when not interrupted."""
    out = tmp_path
    args = ["-q", "clean", str(epochs_file), "-o", str(out / OUTPUTS["epochs"]),
            "--log", str(out / OUTPUTS["log"]), "--model", str(out / OUTPUTS["model"]),
            "--method", "random_search", "--cv", "3", "--random-state", "0"]  # fmt: skip
    assert main(args) == EXIT_OK
    assert sorted(os.listdir(out)) == sorted([OUTPUTS["epochs"], OUTPUTS["log"], OUTPUTS["model"]])


def test_bench_json_interrupted(monkeypatch, tmp_path):
    import json

    from autoreject_cpp import bench

    target = tmp_path / "bench.json"
    target.write_bytes(OLD)
    monkeypatch.setattr(bench, "run", lambda *a, **k: [{"name": "x"}])
    monkeypatch.setattr(bench, "format_table", lambda results: "table")

    def dump(obj, fid, **kwargs):
        fid.write("{partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(json, "dump", dump)
    with pytest.raises(KeyboardInterrupt):
        bench.main(["--data", "synthetic", "--no-oracle", "--json", str(target)])
    assert _listing(tmp_path) == {"bench.json": OLD}
