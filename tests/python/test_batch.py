"""Batch cleaning of a study (``autoreject-cpp batch``, ``autoreject_cpp.batch.run_batch``).

End to end on simulated subjects (local processes and a dask LocalCluster)
and on a small BIDS dataset written from the EEGMMIDB runs of
../shared/data, each compared with ``autoreject-cpp clean`` run per recording.
"""

# License: BSD-3-Clause

import csv
import json
import os
import shutil
import sys

import numpy as np
import pytest

import autoreject_cpp
from autoreject_cpp.cli import (
    EXIT_ERROR,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CLIError,
    main,
)
from autoreject_cpp.datasets import make_synthetic_epochs, sample_data_dir

#: options shared by every run here (small and deterministic)
OPTS = ["--cv", "3", "--random-state", "0"]
KW = {"cv": 3, "random_state": 0}
N_SUBJECTS = 3


def _read(fname):
    import mne

    return mne.read_epochs(fname, preload=True, verbose="error")


def _assert_same_outputs(epochs_a, log_a, model_a, epochs_b, log_b, model_b):
    """Cleaned epochs, reject log and model of two runs are identical."""
    a, b = _read(epochs_a), _read(epochs_b)
    assert a.ch_names == b.ch_names
    assert a.info["bads"] == b.info["bads"]
    np.testing.assert_array_equal(a.events, b.events)
    np.testing.assert_array_equal(a.get_data(), b.get_data())
    la, lb = autoreject_cpp.read_reject_log(log_a), autoreject_cpp.read_reject_log(log_b)
    np.testing.assert_array_equal(la.labels, lb.labels)
    np.testing.assert_array_equal(la.bad_epochs, lb.bad_epochs)
    ma, mb = autoreject_cpp.read_auto_reject(model_a), autoreject_cpp.read_auto_reject(model_b)
    assert ma.threshes_ == mb.threshes_
    assert ma.consensus_ == mb.consensus_
    assert ma.n_interpolate_ == mb.n_interpolate_


def _clean_reference(fname, out, extra=()):
    """``autoreject-cpp clean`` on one file; returns (epochs, log, model) paths."""
    paths = (out / "ref-clean-epo.fif", out / "ref-log.npz", out / "ref-ar.h5")
    code = main(["--quiet", "clean", str(fname), "-o", str(paths[0]), "--log", str(paths[1]),
                 "--model", str(paths[2]), *OPTS, *extra])  # fmt: skip
    assert code == EXIT_OK
    return paths


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Three simulated subjects in sub-XX/ folders (30 epochs x 16 EEG channels)."""
    root = tmp_path_factory.mktemp("study")
    for i in range(1, N_SUBJECTS + 1):
        folder = root / f"sub-{i:02d}"
        folder.mkdir()
        epochs = make_synthetic_epochs(n_epochs=30, n_channels=16, seed=i)
        epochs.save(folder / f"sub-{i:02d}-epo.fif", verbose="error")
    return root


@pytest.fixture(scope="module")
def references(study, tmp_path_factory):
    """``clean`` run on each subject, the reference for batch outputs."""
    refs = {}
    for i in range(1, N_SUBJECTS + 1):
        out = tmp_path_factory.mktemp(f"ref{i}")
        fname = study / f"sub-{i:02d}" / f"sub-{i:02d}-epo.fif"
        refs[f"sub-{i:02d}"] = _clean_reference(fname, out)
    return refs


def _batch_paths(out, sub):
    folder = out / sub
    return (folder / f"{sub}-clean-epo.fif", folder / f"{sub}-log.npz", folder / f"{sub}-ar.h5")


# ---------------------------------------------------------------------------
# end to end on simulated subjects


@pytest.mark.parametrize("scheduler", [None, "local"])
def test_batch_matches_clean_per_subject(study, references, tmp_path, scheduler):
    from autoreject_cpp.batch import SUMMARY_COLUMNS, run_batch

    if scheduler is not None:
        pytest.importorskip("distributed")
    out = tmp_path / "out"
    rows = run_batch([study / "sub-*" / "*-epo.fif"], out, n_jobs=2, scheduler=scheduler,
                     report=scheduler is None, **KW)  # fmt: skip
    assert [r["subject"] for r in rows] == [f"sub-{i:02d}/sub-{i:02d}" for i in (1, 2, 3)]
    assert {r["status"] for r in rows} == {"done"}, [r["error"] for r in rows]
    for sub, ref in references.items():
        _assert_same_outputs(*_batch_paths(out, sub), *ref)
        assert (out / sub / f"{sub}-report.html").is_file() == (scheduler is None)
        assert (out / sub / f"{sub}-autoreject_cpp.json").is_file()
    # summary: one row per subject, numbers matching the reject logs
    with open(out / "summary.csv", newline="") as fid:
        table = list(csv.DictReader(fid))
    assert tuple(table[0]) == SUMMARY_COLUMNS
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"done": 3, "skipped": 0, "failed": 0}
    for row, line, (sub, ref) in zip(rows, table, references.items()):
        log = autoreject_cpp.read_reject_log(ref[1])
        assert row["n_dropped"] == int(log.bad_epochs.sum()) == int(line["n_dropped"])
        assert row["n_epochs"] == 30 and row["backend"]
        assert row["thresholds"] == autoreject_cpp.read_auto_reject(ref[2]).threshes_
    assert "sub-01/sub-01" in (out / "summary.html").read_text()
    # atomic writes leave no temporary files behind
    assert not [p for p in out.rglob(".*") if p.is_file()]
    # the jobs ran in worker processes (loky or dask), not in this one
    assert not any(r["worker"].endswith(f":{os.getpid()}") for r in rows)


def test_resume_skips_and_redoes_what_changed(study, tmp_path):
    from autoreject_cpp.batch import run_batch

    data = tmp_path / "data"
    shutil.copytree(study, data)
    out = tmp_path / "out"
    first = run_batch([data], out, report=False, **KW)
    assert [r["status"] for r in first] == ["done"] * 3
    epochs_file = _batch_paths(out, "sub-01")[0]
    mtime = epochs_file.stat().st_mtime_ns

    again = run_batch([data], out, report=False, **KW)
    assert [r["status"] for r in again] == ["skipped"] * 3
    assert epochs_file.stat().st_mtime_ns == mtime
    for a, b in zip(first, again):  # the stored numbers are reported
        assert (a["n_dropped"], a["thresholds"]) == (b["n_dropped"], b["thresholds"])

    # new input bytes, a missing output: only those are redone
    make_synthetic_epochs(n_epochs=30, n_channels=16, seed=9).save(
        data / "sub-02" / "sub-02-epo.fif", overwrite=True, verbose="error"
    )
    _batch_paths(out, "sub-03")[1].unlink()
    third = run_batch([data], out, report=False, **KW)
    assert [r["status"] for r in third] == ["skipped", "done", "done"]

    # a report now asked for is missing: redone; other options: redone; --force
    assert [r["status"] for r in run_batch([data], out, **KW)] == ["done"] * 3
    assert [r["status"] for r in run_batch([data], out, cv=4, random_state=0,
                                           report=False)] == ["done"] * 3  # fmt: skip
    assert [r["status"] for r in run_batch([data], out, cv=4, random_state=0,
                                           report=False)] == ["skipped"] * 3  # fmt: skip
    forced = run_batch([data], out, cv=4, random_state=0, report=False, force=True)
    assert [r["status"] for r in forced] == ["done"] * 3


def test_failing_subject_is_reported_others_finish(study, references, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(study, data)
    (data / "sub-00").mkdir()
    (data / "sub-00" / "sub-00-epo.fif").write_bytes(b"not a fif file" * 100)
    out = tmp_path / "out"
    code = main(["--quiet", "batch", str(data), "--out", str(out), "--n-jobs", "2",
                 "--no-report", *OPTS])  # fmt: skip
    assert code == EXIT_ERROR
    captured = capsys.readouterr()
    assert "1 failed" in captured.out and "FAILED sub-00/sub-00" in captured.out
    rows = json.loads((out / "summary.json").read_text())["subjects"]
    status = {r["subject"]: r["status"] for r in rows}
    assert status == {"sub-00/sub-00": "failed", "sub-01/sub-01": "done",
                      "sub-02/sub-02": "done", "sub-03/sub-03": "done"}  # fmt: skip
    failed = rows[0]
    assert "cannot read epochs" in failed["error"] and failed["n_epochs"] is None
    assert not (out / "sub-00" / "sub-00-autoreject_cpp.json").exists()
    _assert_same_outputs(*_batch_paths(out, "sub-02"), *references["sub-02"])
    # the next run redoes only the failed subject (and fails it again)
    assert main(["--quiet", "batch", str(data), "--out", str(out), "--no-report", *OPTS]) == 1
    rows = json.loads((out / "summary.json").read_text())["subjects"]
    assert [r["status"] for r in rows] == ["failed", "skipped", "skipped", "skipped"]


def test_ransac_option_matches_clean(study, tmp_path):
    from autoreject_cpp.batch import run_batch

    fname = study / "sub-01" / "sub-01-epo.fif"
    ref = _clean_reference(fname, tmp_path, ["--ransac"])
    out = tmp_path / "out"
    (row,) = run_batch([fname], out, ransac=True, report=False, **KW)
    assert row["status"] == "done", row["error"]
    assert isinstance(row["ransac_bad_channels"], list)
    _assert_same_outputs(out / "sub-01-clean-epo.fif", out / "sub-01-log.npz",
                         out / "sub-01-ar.h5", *ref)  # fmt: skip


def test_worker_crash_fails_the_rest_not_the_batch(study, tmp_path, monkeypatch):
    from autoreject_cpp import batch

    real = batch._execute

    def crashing(subjects, *args):
        for i, row in enumerate(real(subjects, *args)):
            if i == 1:
                raise RuntimeError("worker lost")
            yield row

    monkeypatch.setattr(batch, "_execute", crashing)
    rows = batch.run_batch([study], tmp_path / "out", report=False, **KW)
    assert [r["status"] for r in rows] == ["done", "failed", "failed"]
    assert rows[2]["error"] == "not run: RuntimeError: worker lost"


def test_ctrl_c_writes_the_summary_of_what_finished(study, tmp_path, monkeypatch, capsys):
    from autoreject_cpp import batch

    real = batch._execute

    def interrupted(subjects, *args):
        for i, row in enumerate(real(subjects, *args)):
            if i == 1:
                raise KeyboardInterrupt
            yield row

    monkeypatch.setattr(batch, "_execute", interrupted)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        batch.run_batch([study], out, report=False, **KW)
    summary = json.loads((out / "summary.json").read_text())
    rows = summary["subjects"]
    assert [r["status"] for r in rows] == ["done", "failed", "failed"]
    assert rows[1]["error"] == rows[2]["error"] == "not run: interrupted"
    assert summary["counts"] == {"done": 1, "skipped": 0, "failed": 2}
    # the command line reports it as an interruption, after the summary
    assert main(["batch", str(study), "--out", str(tmp_path / "cli"), "--no-report",
                 "--cv", "3"]) == EXIT_INTERRUPTED  # fmt: skip
    assert (tmp_path / "cli" / "summary.csv").is_file()
    # a rerun redoes only the recordings that did not finish: the second one
    # finished in its worker before the interruption reached the loop, so its
    # manifest makes it skipped; the third never ran
    monkeypatch.setattr(batch, "_execute", real)
    rows = batch.run_batch([study], out, report=False, **KW)
    assert [r["status"] for r in rows] == ["skipped", "skipped", "done"]


# ---------------------------------------------------------------------------
# BIDS input through mne-bids, on a dask LocalCluster


def _write_bids(root, runs=(3, 4)):
    """EEGMMIDB runs written as BIDS subjects 01, 02 (the EDF files copied as they are)."""
    import mne
    from mne_bids import BIDSPath, write_raw_bids

    from _data import montage

    data = sample_data_dir()
    for i, run in enumerate(runs, start=1):
        raw = mne.io.read_raw_edf(data / "eegmmidb" / f"S001R{run:02d}.edf", verbose="error")
        std = raw.copy()
        mne.datasets.eegbci.standardize(std)  # positions under the file's own names
        pos = montage("1005").get_positions()
        ch_pos = {o: pos["ch_pos"][s] for o, s in zip(raw.ch_names, std.ch_names)}
        raw.set_montage(mne.channels.make_dig_montage(
            ch_pos=ch_pos, nasion=pos["nasion"], lpa=pos["lpa"], rpa=pos["rpa"],
            coord_frame="unknown"))  # fmt: skip
        bids_path = BIDSPath(subject=f"{i:02d}", task="motor", root=root, datatype="eeg")
        write_raw_bids(raw, bids_path, verbose="error")


@pytest.mark.slow
def test_bids_study_on_local_cluster(tmp_path, capsys):
    import mne

    pytest.importorskip("mne_bids")
    pytest.importorskip("distributed")
    if sample_data_dir() is None:
        pytest.skip("shared data folder absent")
    root = tmp_path / "bids"
    _write_bids(root)
    out = root / "derivatives" / "autoreject_cpp"
    args = ["--quiet", "batch", "--bids-root", str(root), "--task", "motor", "--datatype",
            "eeg", "--out", str(out), "--scheduler", "local", "--n-jobs", "2", *OPTS]  # fmt: skip
    assert main(args) == EXIT_OK
    assert "2 cleaned" in capsys.readouterr().out
    description = json.loads((out / "dataset_description.json").read_text())
    assert description["DatasetType"] == "derivative"
    assert description["GeneratedBy"][0]["Name"] == "autoreject_cpp"
    for sub in ("01", "02"):
        folder = out / f"sub-{sub}" / "eeg"
        base = folder / f"sub-{sub}_task-motor"
        got = (f"{base}_desc-clean_epo.fif", f"{base}_desc-autoreject_cpp_log.npz",
               f"{base}_desc-autoreject_cpp_model.h5")  # fmt: skip
        assert (folder / f"sub-{sub}_task-motor_desc-autoreject_cpp_report.html").is_file()
        # AutoReject, as clean runs it, on the same recording epoched by hand
        # (annotations, -0.2..0.5 s); in memory, because a FIF round trip
        # would round the electrode positions to float32
        from mne_bids import BIDSPath, read_raw_bids

        raw = read_raw_bids(BIDSPath(subject=sub, task="motor", root=root, datatype="eeg"),
                            verbose="error")  # fmt: skip
        events, event_id = mne.events_from_annotations(raw, verbose="error")
        epochs = mne.Epochs(raw, events, event_id, tmin=-0.2, tmax=0.5, baseline=None,
                            preload=True, verbose="error")  # fmt: skip
        assert len(epochs) == 29
        ar = autoreject_cpp.AutoReject(cv=3, random_state=0, verbose=False)
        clean, log = ar.fit_transform(epochs, return_log=True)
        ref = (tmp_path / f"{sub}-clean-epo.fif", tmp_path / f"{sub}-log.npz",
               tmp_path / f"{sub}-ar.h5")  # fmt: skip
        clean.save(ref[0], verbose="error")
        log.save(ref[1])
        ar.save(ref[2])
        _assert_same_outputs(*got, *ref)
    # entity filters; the sidecars read_raw_bids uses are hashed with the data
    from autoreject_cpp._batch_inputs import bids_subjects

    (only,) = bids_subjects(root, out, subjects=["02"], datatype=["eeg"])
    assert only.key == "sub-02_task-motor"
    names = sorted(p.rsplit("/", 1)[1] for p in only.sources)
    assert names == sorted(["sub-02_task-motor_eeg.edf", "sub-02_task-motor_events.tsv",
                            "sub-02_task-motor_events.json", "sub-02_task-motor_eeg.json",
                            "sub-02_task-motor_channels.tsv", "sub-02_space-CapTrak_electrodes.tsv",
                            "sub-02_space-CapTrak_coordsystem.json"])  # fmt: skip
    # resumed: nothing to do
    assert main(args) == EXIT_OK
    assert "0 cleaned, 2 up to date" in capsys.readouterr().out


# ---------------------------------------------------------------------------
# inputs, options and errors


def test_inputs_mirror_the_tree_and_reject_clashes(tmp_path):
    from autoreject_cpp._batch_inputs import file_subjects

    for rel in ("a/x-epo.fif", "a/b/y_epo.fif", "c/z.set", "c/z.fdt", "c/notes.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    subjects = file_subjects([tmp_path / "a", tmp_path / "c" / "*.set"], tmp_path / "out")
    assert [s.key for s in subjects] == ["a/b/y", "a/x", "c/z"]
    assert subjects[0].outputs["epochs"] == str(tmp_path / "out" / "a" / "b" / "y-clean-epo.fif")
    assert [p.rsplit("/", 1)[1] for p in subjects[2].sources] == ["z.set", "z.fdt"]
    (tmp_path / "a" / "x_epo.fif").write_bytes(b"x")
    with pytest.raises(CLIError, match="same outputs") as err:
        file_subjects([tmp_path / "a"], tmp_path / "out")
    assert err.value.code == EXIT_USAGE
    with pytest.raises(CLIError, match="no input matches") as err:
        file_subjects([tmp_path / "nothing-*.fif"], tmp_path / "out")
    assert err.value.code == EXIT_INPUT


def test_hash_covers_sidecars_options_and_version(tmp_path, monkeypatch):
    from autoreject_cpp._batch_inputs import EpochOptions, file_subjects
    from autoreject_cpp._clean import CleanOptions
    from autoreject_cpp.batch import _digest

    (tmp_path / "z.set").write_bytes(b"header")
    (tmp_path / "z.fdt").write_bytes(b"data")
    (subject,) = file_subjects([tmp_path / "z.set"], tmp_path / "out")
    base = _digest(subject, CleanOptions(), EpochOptions())
    assert _digest(subject, CleanOptions(n_jobs=4), EpochOptions()) == base  # speed only
    assert _digest(subject, CleanOptions(cv=5), EpochOptions()) != base
    (tmp_path / "z.fdt").write_bytes(b"other data")
    assert _digest(subject, CleanOptions(), EpochOptions()) != base
    (tmp_path / "z.fdt").write_bytes(b"data")
    monkeypatch.setattr("autoreject_cpp._version.__version__", "99")
    assert _digest(subject, CleanOptions(), EpochOptions()) != base


@pytest.mark.parametrize(
    "argv, message",
    [
        (["batch", "--out", "o"], "INPUTS) or --bids-root"),
        (["batch", "x-epo.fif", "--out", "o", "--tmin", "0"], "--tmin only apply"),
        (["batch", "x-epo.fif", "--out", "o", "--bids-root", "r"], "not both"),
        (["batch", "x-epo.fif", "--out", "o", "--ransac", "--from-model", "m.h5"],
         "--ransac cannot be combined"),
    ],
)  # fmt: skip
def test_usage_errors(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_missing_input_and_missing_extra(tmp_path, monkeypatch, capsys):
    assert main(["batch", str(tmp_path / "none-epo.fif"), "--out", str(tmp_path)]) == EXIT_INPUT
    monkeypatch.setitem(sys.modules, "mne_bids", None)  # import fails
    assert main(["batch", "--bids-root", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert 'pip install "autoreject-cpp[batch]"' in capsys.readouterr().err


def test_thread_limits_inside_a_job():
    from threadpoolctl import threadpool_info

    from autoreject_cpp.batch import _thread_limits

    from autoreject_cpp._parallel import n_cores

    from autoreject_cpp.backends import get_backend

    before, cores = get_backend().n_threads, n_cores()
    with _thread_limits(1):
        assert get_backend().n_threads == 1  # the core's kernels
        assert get_backend("scalar", n_jobs=None).n_threads == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
        assert n_cores() == 1  # autoreject_cpp's thread_map runs serially
    assert get_backend().n_threads == before == 0
    assert n_cores() == cores


def test_outputs_inside_the_data_are_not_inputs(study, tmp_path):
    from autoreject_cpp.batch import run_batch

    data = tmp_path / "data"
    shutil.copytree(study / "sub-01", data)
    first = run_batch(data, data, report=False, **KW)  # --out = the input folder
    assert [r["subject"] for r in first] == ["sub-01"]
    assert (data / "sub-01-clean-epo.fif").is_file()
    again = run_batch(data, data, report=False, **KW)
    assert [(r["subject"], r["status"]) for r in again] == [("sub-01", "skipped")]
