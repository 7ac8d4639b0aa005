"""``import fastreject`` stays light: no optional or plotting library loads."""

import subprocess
import sys


def test_import_loads_no_heavy_or_optional_modules():
    code = (
        "import sys, fastreject; "
        "heavy = [m for m in ('torch', 'jax', 'numba', 'matplotlib', 'mne', 'sklearn', 'h5io') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names_resolve():
    import fastreject

    for name in fastreject.__all__:
        assert getattr(fastreject, name) is not None
    assert "AutoReject" in dir(fastreject)
