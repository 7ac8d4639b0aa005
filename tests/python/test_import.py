"""``import autoreject_cpp`` stays light: no optional or plotting library loads."""

import subprocess
import sys


def test_import_loads_no_heavy_or_optional_modules():
    code = (
        "import sys, autoreject_cpp; "
        "heavy = [m for m in ('torch', 'jax', 'numba', 'matplotlib', 'mne', 'sklearn', 'h5io') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names_resolve():
    import autoreject_cpp

    for name in autoreject_cpp.__all__:
        assert getattr(autoreject_cpp, name) is not None
    assert "AutoReject" in dir(autoreject_cpp)
