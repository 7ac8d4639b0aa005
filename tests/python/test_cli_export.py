"""``autoreject-cpp export`` / ``import-clean`` and the C++ program ``clean_epochs``.

The export writes the inputs of ``examples/cpp/clean_epochs`` (``epochs.npy``
and ``channels.csv``); ``import-clean`` reads its outputs back into MNE. When
the program has been built (``build/examples/cpp/clean_epochs``,
``build/*/examples/cpp/clean_epochs``, the ctest consumer's copy, or
``$AUTOREJECT_CLEAN_EPOCHS``), its answers on the exported demo are compared with ``autoreject_cpp._core.pipeline_autoreject``, the same
C++ pipeline called through the bindings.
"""

# License: BSD-3-Clause

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import mne
import numpy as np
import pytest

from autoreject_cpp import _core
from autoreject_cpp.cli import EXIT_INPUT, EXIT_OK, EXIT_USAGE, main
from autoreject_cpp.datasets import make_synthetic_epochs

ROOT = Path(__file__).resolve().parents[2]


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as fid:
        return list(csv.reader(fid))


def _small_epochs():
    """4 EEG channels with a montage, one EOG channel; C3 marked bad."""
    names = ["Fz", "C3", "Cz", "Pz", "EOG 1"]
    info = mne.create_info(names, 100.0, ["eeg"] * 4 + ["eog"])
    rng = np.random.default_rng(3)
    data = rng.standard_normal((6, 5, 20)) * 1e-5
    epochs = mne.EpochsArray(data, info, tmin=-0.1, verbose="error")
    epochs.set_montage("standard_1020", verbose="error")
    epochs.info["bads"] = ["C3"]
    return epochs


def test_export_demo_writes_the_demo_recording(tmp_path, capsys):
    out = tmp_path / "demo-cpp"
    assert main(["export", "--demo", "--out", str(out), "--dtype", "float32"]) == EXIT_OK
    assert "Exported 120 epochs x 32 channels x 193 samples (float32)" in capsys.readouterr().out
    # autoreject-cpp demo simulates 120 epochs of 32 EEG channels with seed 42
    epochs = make_synthetic_epochs(kind="eeg", n_epochs=120, seed=42)
    data = np.load(out / "epochs.npy")
    assert data.dtype == np.float32 and data.shape == (120, 32, 193)
    assert data.flags.c_contiguous
    # the simulation's values are exactly representable in float32
    np.testing.assert_array_equal(data.astype(np.float64), epochs.get_data())
    rows = _read_csv(out / "channels.csv")
    assert rows[0] == ["name", "type", "x", "y", "z", "bad"]
    assert [row[0] for row in rows[1:]] == epochs.ch_names
    assert {row[1] for row in rows[1:]} == {"eeg"}
    assert {row[5] for row in rows[1:]} == {"0"}
    pos = np.array([[float(v) for v in row[2:5]] for row in rows[1:]])
    np.testing.assert_array_equal(pos, [ch["loc"][:3] for ch in epochs.info["chs"]])
    assert sorted(p.name for p in out.iterdir()) == ["channels.csv", "epochs.npy"]


def test_export_fif_types_bads_positions_and_picks(tmp_path):
    epochs = _small_epochs()
    fname = tmp_path / "small-epo.fif"
    epochs.save(fname, verbose="error")
    epochs = mne.read_epochs(fname, preload=True, verbose="error")  # stored as float32
    out = tmp_path / "out"
    assert main(["--quiet", "export", str(fname), "--out", str(out)]) == EXIT_OK
    data = np.load(out / "epochs.npy")
    assert data.dtype == np.float64 and data.shape == (6, 5, 20)
    np.testing.assert_array_equal(data, epochs.get_data())
    rows = _read_csv(out / "channels.csv")
    assert [row[:2] + row[5:] for row in rows[1:]] == [
        ["Fz", "eeg", "0"], ["C3", "eeg", "1"], ["Cz", "eeg", "0"], ["Pz", "eeg", "0"],
        ["EOG 1", "eog", "0"],
    ]  # fmt: skip
    assert rows[5][2:5] == ["", "", ""]  # no position for the EOG channel
    # the montage's positions in the head frame, as MNE read them back from the file
    locs = [ch["loc"][:3] for ch in epochs.info["chs"][:4]]
    assert np.isfinite(locs).all() and np.all(np.abs(locs).max(axis=1) > 0.01)
    np.testing.assert_array_equal([[float(v) for v in row[2:5]] for row in rows[1:5]], locs)

    picked = tmp_path / "picked"
    assert main(["--quiet", "export", str(fname), "--out", str(picked), "--picks", "eeg"]) == 0
    rows = _read_csv(picked / "channels.csv")
    assert [row[0] for row in rows[1:]] == ["Fz", "C3", "Cz", "Pz"]  # bads stay, flagged
    np.testing.assert_array_equal(np.load(picked / "epochs.npy"), epochs.get_data()[:, :4])


def test_export_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--quiet", "export", "--demo", "--out", str(out)]) == EXIT_OK
    assert main(["--quiet", "export", "--demo", "--out", str(out)]) == EXIT_USAGE
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert main(["--quiet", "export", "--demo", "--out", str(out), "--overwrite"]) == EXIT_OK


@pytest.mark.parametrize(
    "argv, message",
    [
        (["export", "--out", "x"], "give either an epochs file (INPUT) or --demo"),
        (["export", "a-epo.fif", "--demo", "--out", "x"], "give either an epochs file"),
        (["export", "--demo", "--out", "x", "--dtype", "int16"], "invalid choice"),
    ],
)
def test_export_usage_errors(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == EXIT_USAGE
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_export_missing_input(tmp_path, capsys):
    code = main(["export", str(tmp_path / "none-epo.fif"), "--out", str(tmp_path / "x")])
    assert code == EXIT_INPUT
    assert "input file not found" in capsys.readouterr().err


def test_import_clean_round_trip(tmp_path):
    epochs = _small_epochs()
    fname = tmp_path / "small-epo.fif"
    epochs.save(fname, verbose="error")
    # what clean_epochs would write: epochs 1 and 4 dropped, the others changed
    folder = tmp_path / "cleaned"
    folder.mkdir()
    kept = np.array([0, 2, 3, 5], dtype=np.int64)
    clean = epochs.get_data()[kept] * 0.5
    np.save(folder / "clean.npy", clean)
    np.save(folder / "kept.npy", kept)
    output = tmp_path / "small-clean-epo.fif"
    code = main(
        ["--quiet", "import-clean", str(folder), "--epochs", str(fname), "-o", str(output)]
    )
    assert code == EXIT_OK
    back = mne.read_epochs(output, preload=True, verbose="error")
    np.testing.assert_allclose(back.get_data(), clean, rtol=1e-6)  # FIF stores float32
    np.testing.assert_array_equal(back.events, epochs.events[kept])
    assert back.ch_names == epochs.ch_names and back.info["bads"] == ["C3"]
    assert back.tmin == pytest.approx(epochs.tmin)

    np.save(folder / "kept.npy", kept[:3])  # does not match clean.npy
    code = main(
        ["--quiet", "import-clean", str(folder), "--epochs", str(fname), "-o", str(output),
         "--overwrite"]
    )  # fmt: skip
    assert code == EXIT_USAGE


def test_import_clean_needs_the_outputs(tmp_path, capsys):
    code = main(
        ["import-clean", str(tmp_path), "--demo", "-o", str(tmp_path / "x-epo.fif")]
    )
    assert code == EXIT_INPUT
    assert "clean.npy not found" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# the compiled example program


def _find_clean_epochs():
    env = os.environ.get("AUTOREJECT_CLEAN_EPOCHS")
    if env:
        return Path(env)
    patterns = (
        "build/examples/cpp/clean_epochs",
        "build/*/examples/cpp/clean_epochs",
        "build/*/consumer-test/example-build/clean_epochs",
        "build/*example*/clean_epochs",
    )
    found = [path for pattern in patterns for path in ROOT.glob(pattern)]
    found = [path for path in found if path.is_file() and os.access(path, os.X_OK)]
    return max(found, key=lambda path: path.stat().st_mtime) if found else None


CLEAN_EPOCHS = _find_clean_epochs()
needs_program = pytest.mark.skipif(
    CLEAN_EPOCHS is None or not hasattr(_core, "pipeline_autoreject"),
    reason="examples/cpp/clean_epochs not built, or the compiled module lacks the C++ pipeline",
)


@needs_program
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_clean_epochs_equals_the_bound_pipeline(dtype, tmp_path):
    folder = tmp_path / "demo-cpp"
    assert main(["--quiet", "export", "--demo", "--out", str(folder), "--dtype", dtype]) == 0
    out = folder / "out"
    proc = subprocess.run(
        [str(CLEAN_EPOCHS), "--epochs", str(folder / "epochs.npy"), "--channels",
         str(folder / "channels.csv"), "--out", str(out), "--random-state", "42", "--cv", "5"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = np.load(folder / "epochs.npy")
    rows = _read_csv(folder / "channels.csv")[1:]
    pos = np.array([[float(v) if v else np.nan for v in row[2:5]] for row in rows])
    want = _core.pipeline_autoreject(
        data, [row[0] for row in rows], [row[1] for row in rows], pos,
        [row[5] == "1" for row in rows], cv=5, thresh_method="exact", random_state=42,
    )  # fmt: skip
    labels = np.load(out / "labels.npy")
    assert labels.dtype == np.float64 and labels.shape == (120, 32)
    np.testing.assert_array_equal(labels, want["labels"])
    np.testing.assert_array_equal(np.load(out / "bad_epochs.npy").astype(bool), want["bad_epochs"])
    kept = np.load(out / "kept.npy")
    assert kept.dtype == np.int64
    np.testing.assert_array_equal(kept, want["kept"])
    clean = np.load(out / "clean.npy")
    assert clean.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(clean, want["clean"])
    thresholds = _read_csv(out / "thresholds.csv")
    assert thresholds[0] == ["name", "threshold"]
    got = {name: float(value) for name, value in thresholds[1:]}
    assert got == {rows[p][0]: want["thresholds"][p] for p in want["picks"]}
    dropped = " ".join(str(e) for e in np.flatnonzero(want["bad_epochs"])) or "none"
    assert f"dropped epochs: {dropped}\n" in proc.stdout
    assert f"eeg: consensus {want['consensus']['eeg']:g}" in proc.stdout


@needs_program
def test_clean_epochs_input_errors(tmp_path):
    folder = tmp_path / "demo-cpp"
    assert main(["--quiet", "export", "--demo", "--out", str(folder)]) == 0
    channels = folder / "channels.csv"
    lines = channels.read_text().splitlines()
    short = tmp_path / "short.csv"
    short.write_text("\n".join(lines[:-1]) + "\n")
    proc = subprocess.run(
        [str(CLEAN_EPOCHS), "--epochs", str(folder / "epochs.npy"), "--channels", str(short),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "lists 31 channels but" in proc.stderr and "holds 32" in proc.stderr
    assert not (tmp_path / "out").exists()
