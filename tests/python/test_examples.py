"""Run every script of examples/ as a user would; each must exit with 0."""

# License: BSD-3-Clause

import os
import subprocess
import sys
from pathlib import Path

import pytest

import autoreject_cpp

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"  # <repo>/tests/python
SCRIPTS = sorted(EXAMPLES.glob("*.py"))

#: scripts that take an output folder as first argument
TAKES_OUTPUT_DIR = {"demo.py", "clean_eeg.py", "find_bad_channels.py"}


def test_examples_found():
    assert {"demo.py", "clean_eeg.py", "find_bad_channels.py", "global_thresholds.py"} <= {
        script.name for script in SCRIPTS
    }


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.stem for script in SCRIPTS])
def test_example_runs(script, tmp_path):
    args = [str(tmp_path / "out")] if script.name in TAKES_OUTPUT_DIR else []
    # the scripts run elsewhere (cwd=tmp_path): an uninstalled checkout's
    # package must stay importable whatever PYTHONPATH's relative entries
    package_dir = str(Path(autoreject_cpp.__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [package_dir, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": path}
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert proc.stdout.strip(), "examples say what they did"
