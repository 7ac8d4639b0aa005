"""End-to-end tests of the command line on real recordings of ../shared/data."""

# License: BSD-3-Clause

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autoreject_cpp
from autoreject_cpp.cli import EXIT_INPUT, EXIT_OK, EXIT_USAGE, main
from autoreject_cpp.datasets import load_eegmmidb_epochs, sample_data_dir

DATA = sample_data_dir()
EEGLAB_SET = None if DATA is None else DATA / "eeglab_sample" / "eeglab_data_epochs_ica.set"

needs_data = pytest.mark.skipif(
    DATA is None, reason="shared data folder absent (<repo>/../shared/data or AUTOREJECT_DATA)"
)


def _read(fname):
    import mne

    return mne.read_epochs(fname, preload=True, verbose="error")


@pytest.fixture(scope="module")
def fif(tmp_path_factory):
    """One EEGMMIDB run (29 epochs x 64 EEG channels) saved as -epo.fif."""
    if DATA is None:
        pytest.skip("shared data folder absent")
    epochs = load_eegmmidb_epochs(DATA, runs=(4,), chunk_duration=None)
    fname = tmp_path_factory.mktemp("input") / "S001R04-epo.fif"
    epochs.save(fname, verbose="error")
    return fname


@pytest.fixture(scope="module")
def cleaned(fif, tmp_path_factory):
    """Outputs of one ``clean`` run with every output requested."""
    out = tmp_path_factory.mktemp("clean")
    paths = {
        "output": out / "S001R04-clean-epo.fif",
        "log": out / "log.npz",
        "model": out / "model.h5",
        "report": out / "report.html",
    }
    code = main(
        ["--quiet", "clean", str(fif), "-o", str(paths["output"]), "--log", str(paths["log"]),
         "--model", str(paths["model"]), "--report", str(paths["report"]),
         "--random-state", "0", "--cv", "5"]
    )  # fmt: skip
    return code, paths


@needs_data
def test_clean_writes_consistent_outputs(cleaned, fif):
    code, paths = cleaned
    assert code == EXIT_OK
    for path in paths.values():
        assert path.is_file(), path
    # nothing left behind by the atomic writes
    assert sorted(p.name for p in paths["output"].parent.iterdir()) == sorted(
        p.name for p in paths.values()
    )
    clean = _read(paths["output"])
    log = autoreject_cpp.read_reject_log(paths["log"])
    assert len(clean) == int(np.sum(~log.bad_epochs))
    assert log.labels.shape == (29, 64)
    ar = autoreject_cpp.read_auto_reject(paths["model"])
    assert ar.consensus_.keys() == {"eeg"}
    assert (ar.random_state, ar.cv, ar.thresh_method) == (0, 5, "bayesian_optimization")
    # the saved model, applied with the Python API, gives the written outputs
    ar.verbose = False
    ref_clean, ref_log = ar.transform(_read(fif), return_log=True)
    np.testing.assert_array_equal(ref_log.bad_epochs, log.bad_epochs)
    np.testing.assert_array_equal(ref_log.labels, log.labels)
    # fif stores epochs in single precision
    np.testing.assert_allclose(clean.get_data(), ref_clean.get_data(), rtol=1e-6, atol=1e-12)
    html = paths["report"].read_text(encoding="utf-8")
    for title in ("Summary", "Reject log", "Channel thresholds", "Cross-validation loss"):
        assert title in html


@needs_data
def test_clean_from_model_reproduces(cleaned, fif, tmp_path, capsys):
    _, paths = cleaned
    out, log = tmp_path / "again-epo.fif", tmp_path / "again.npz"
    code = main(
        ["clean", str(fif), "-o", str(out), "--from-model", str(paths["model"]),
         "--log", str(log)]
    )  # fmt: skip
    assert code == EXIT_OK
    stdout = capsys.readouterr().out
    assert "Kept" in stdout and str(out) in stdout
    first, second = (autoreject_cpp.read_reject_log(p) for p in (paths["log"], log))
    np.testing.assert_array_equal(first.labels, second.labels)
    np.testing.assert_array_equal(first.bad_epochs, second.bad_epochs)
    np.testing.assert_array_equal(_read(out).get_data(), _read(paths["output"]).get_data())
    # refitting options make no sense with a saved model
    code = main(["clean", str(fif), "-o", str(out), "--overwrite",
                 "--from-model", str(paths["model"]), "--cv", "3"])  # fmt: skip
    assert code == EXIT_USAGE
    assert "--from-model" in capsys.readouterr().err


@needs_data
def test_clean_eeglab_set(tmp_path, capsys):
    out, log = tmp_path / "eeglab-clean-epo.fif", tmp_path / "eeglab-log.npz"
    code = main(
        ["-q", "clean", str(EEGLAB_SET), "-o", str(out), "--log", str(log),
         "--eog", "EOG1", "EOG2", "--random-state", "0", "--cv", "4"]
    )  # fmt: skip
    assert code == EXIT_OK, capsys.readouterr().err
    clean = _read(out)
    reject_log = autoreject_cpp.read_reject_log(log)
    assert len(clean) == int(np.sum(~reject_log.bad_epochs))
    assert clean.get_channel_types(picks=["EOG1", "EOG2"]) == ["eog", "eog"]
    # EOG channels are not examined
    eog = [reject_log.ch_names.index(ch) for ch in ("EOG1", "EOG2")]
    assert np.isnan(reject_log.labels[:, eog]).all()


@needs_data
def test_ransac(fif, tmp_path, capsys):
    out = tmp_path / "bads-epo.fif"
    code = main(["-q", "ransac", str(fif), "-o", str(out)])
    assert code == EXIT_OK
    printed = capsys.readouterr().out.split()
    expected = autoreject_cpp.Ransac(verbose=False).fit(_read(fif)).bad_chs_
    assert printed == expected
    assert _read(out).info["bads"] == expected
    # without -o only the channels are printed
    assert main(["-q", "ransac", str(fif)]) == EXIT_OK
    assert capsys.readouterr().out.split() == expected


@needs_data
def test_thresholds_json(fif, capsys):
    code = main(["-q", "thresholds", str(fif)])
    assert code == EXIT_OK
    reject = json.loads(capsys.readouterr().out)
    assert reject == autoreject_cpp.get_rejection_threshold(_read(fif), verbose=False)


@needs_data
def test_thresholds_eeglab_eog(capsys):
    code = main(["-q", "thresholds", str(EEGLAB_SET), "--eog", "EOG1", "EOG2", "--cv", "3"])
    assert code == EXIT_OK
    assert set(json.loads(capsys.readouterr().out)) == {"eeg", "eog"}


def test_info(capsys):
    assert main(["info", "--json"]) == EXIT_OK
    info = json.loads(capsys.readouterr().out)
    assert info["autoreject_cpp"] == autoreject_cpp.__version__
    assert info["backends"] == autoreject_cpp.backends()
    assert [row["name"] for row in info["backends"]] == ["scalar", "openmp", "cuda"]
    assert info["default_backend"] == autoreject_cpp.get_backend().name
    assert info["cpu_count"] >= 1


def test_info_subprocess():
    proc = subprocess.run(
        [sys.executable, "-m", "autoreject_cpp", "info"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert proc.returncode == 0, proc.stderr
    assert f"autoreject-cpp {autoreject_cpp.__version__}" in proc.stdout
    assert "CPU cores usable" in proc.stdout
    lines = proc.stdout.splitlines()
    header = lines.index("backends:") + 1
    assert lines[header].split() == ["name", "compiled", "available", "reason"]
    for row, line in zip(autoreject_cpp.backends(), lines[header + 1 :]):
        cells = line.split(None, 3)
        assert cells[:3] == [
            row["name"], "yes" if row["compiled"] else "no", "yes" if row["available"] else "no"
        ]  # fmt: skip
        assert cells[3] == (row["reason"] or "-")


def test_info_with_an_unusable_backend_variable(monkeypatch, capsys):
    """``info`` reports an unusable AUTOREJECT_BACKEND instead of failing."""
    monkeypatch.setenv("AUTOREJECT_BACKEND", "bogus")
    assert main(["info"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "default backend: unusable (unknown backend 'bogus'" in out


@pytest.mark.parametrize("name", ["numpy", "numba", "torch", "jax"])
def test_old_backend_names_are_usage_errors(name, capsys):
    assert main(["thresholds", "x-epo.fif", "--backend", name]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "invalid choice" in err and "'openmp'" in err


def test_demo(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["-q", "demo", "--out", str(out)]) == EXIT_OK
    stdout = capsys.readouterr().out
    assert "recall" in stdout and "precision" in stdout
    assert f"Report: {out / 'report.html'}" in stdout
    for name in ("report.html", "reject_log.npz", "autoreject.h5"):
        assert (out / name).is_file()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Ground truth" in html and "RANSAC correlations" in html
    # a second run refuses to replace the files, before doing any work
    assert main(["-q", "demo", "--out", str(out)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "--overwrite" in err and len(err.strip().splitlines()) == 1


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("autoreject-cpp: error: ")
    return err[0]


def test_missing_input(tmp_path, capsys):
    missing = tmp_path / "nope-epo.fif"
    code = main(["clean", str(missing), "-o", str(tmp_path / "out-epo.fif")])
    assert code == EXIT_INPUT
    assert "not found" in _one_error_line(capsys)
    assert main(["ransac", str(missing)]) == EXIT_INPUT
    assert main(["thresholds", str(missing)]) == EXIT_INPUT
    capsys.readouterr()
    assert not (tmp_path / "out-epo.fif").exists()


def test_unreadable_input(tmp_path, capsys):
    junk = tmp_path / "junk-epo.fif"
    junk.write_text("not a fif file")
    assert main(["thresholds", str(junk)]) == EXIT_INPUT
    assert "cannot read" in _one_error_line(capsys)
    other = tmp_path / "data.csv"
    other.write_text("1,2,3")
    assert main(["thresholds", str(other)]) == EXIT_INPUT
    assert "unknown file type" in _one_error_line(capsys)


@needs_data
def test_existing_output_needs_overwrite(fif, tmp_path, capsys):
    out = tmp_path / "exists-epo.fif"
    out.write_bytes(b"keep me")
    code = main(["clean", str(fif), "-o", str(out)])
    assert code == EXIT_USAGE
    line = _one_error_line(capsys)
    assert "already exists" in line and "--overwrite" in line
    assert out.read_bytes() == b"keep me"
    assert main(["ransac", str(fif), "-o", str(out)]) == EXIT_USAGE
    capsys.readouterr()
    assert main(["-q", "ransac", str(fif), "-o", str(out), "--overwrite"]) == EXIT_OK
    assert len(_read(out)) == 29


@needs_data
def test_processing_error_is_one_line(fif, tmp_path, capsys):
    out = tmp_path / "out-epo.fif"
    code = main(["clean", str(fif), "-o", str(out), "--picks", "Fz", "Cz"])
    assert code == 1
    assert "at least 4" in _one_error_line(capsys)
    assert not out.exists()
    # --debug adds the traceback
    assert main(["--debug", "clean", str(fif), "-o", str(out), "--picks", "Fz", "Cz"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("autoreject-cpp: error:")


@pytest.mark.parametrize(
    "argv",
    [[], ["clean"], ["clean", "in-epo.fif"], ["bogus"], ["clean", "x-epo.fif", "-o", "y-epo.fif",
                                                         "--method", "grid"]],
    ids=["no-command", "no-input", "no-output", "unknown-command", "bad-choice"],
)  # fmt: skip
def test_usage_errors(argv, capsys):
    assert main(argv) == EXIT_USAGE
    assert "usage: autoreject-cpp" in capsys.readouterr().err


def test_bad_output_name(tmp_path, capsys):
    code = main(["clean", "whatever-epo.fif", "-o", str(tmp_path / "out.txt")])
    assert code == EXIT_USAGE
    assert "must end in .fif" in _one_error_line(capsys)


def test_log_level_restored():
    from mne.utils import logger

    level, handlers = logger.level, list(logger.handlers)
    main(["--quiet", "thresholds", str(Path("missing-epo.fif"))])
    assert logger.level == level and logger.handlers == handlers
