"""The GIL-free pseudo-inverse is SciPy's, bit for bit."""

import numpy as np
import pytest
from scipy import linalg

from autoreject_cpp import _lapack
from autoreject_cpp._parallel import thread_map


def _spline_system(n, seed):
    """A bordered spline system like the EEG interpolation's (nearly singular)."""
    from autoreject_cpp.interpolation import _EEGSpline

    rng = np.random.default_rng(seed)
    pos = rng.standard_normal((n + 3, 3))
    pos[:, 2] = np.abs(pos[:, 2])  # a cap
    spline = _EEGSpline(pos)
    goods = list(range(n))
    C = np.ones((n + 1, n + 1))
    C[:n, :n] = spline.kernel[np.ix_(goods, goods)]
    C[np.arange(n), np.arange(n)] += spline.alpha
    C[n, n] = 0.0
    return C


@pytest.mark.parametrize(
    "shape", [(1, 1), (2, 2), (17, 17), (65, 65), (40, 25), (25, 40), (120, 3)]
)
def test_pinv_is_scipy_pinv(shape):
    rng = np.random.default_rng(sum(shape))
    a = rng.standard_normal(shape)
    ours = _lapack.pinv(a)
    np.testing.assert_array_equal(ours, linalg.pinv(a))
    assert ours.flags.c_contiguous == linalg.pinv(a).flags.c_contiguous


@pytest.mark.parametrize("n", [16, 32, 63])
def test_pinv_of_spline_systems_and_rank_deficient_matrices(n):
    C = _spline_system(n, n)
    np.testing.assert_array_equal(_lapack.pinv(C), linalg.pinv(C))
    rng = np.random.default_rng(n)
    low_rank = rng.standard_normal((n, 3)) @ rng.standard_normal((3, n))
    np.testing.assert_array_equal(_lapack.pinv(low_rank), linalg.pinv(low_rank))
    # C-ordered, Fortran-ordered and strided inputs give the same numbers
    for view in (np.asfortranarray(C), np.repeat(C, 2, axis=1)[:, ::2]):
        np.testing.assert_array_equal(_lapack.pinv(view), linalg.pinv(C))
    assert (C == _spline_system(n, n)).all()  # the input is not modified


def test_pinv_on_threads_equals_serial():
    systems = [_spline_system(n, n) for n in range(20, 60)]
    threaded = thread_map(_lapack.pinv, systems)
    for C, got in zip(systems, threaded):
        np.testing.assert_array_equal(got, linalg.pinv(C))


def test_svd_rejects_nan_like_scipy():
    a = np.full((4, 4), np.nan)
    for svd in (lambda a: linalg.svd(a, full_matrices=False, check_finite=False), _lapack.svd):
        with pytest.raises(ValueError, match="NaN"):
            svd(a)


def test_pinv_without_the_entry_point_is_scipy(monkeypatch):
    monkeypatch.setattr(_lapack, "_GESDD", False)
    C = _spline_system(20, 1)
    np.testing.assert_array_equal(_lapack.pinv(C), linalg.pinv(C))


def test_only_a_c_int_dgesdd_signature_is_called():
    d = "__pyx_t_5scipy_6linalg_13cython_lapack_d *"
    args = ["char *", "int *", "int *", d, "int *", d, d, "int *", d, "int *", d]
    good = "void (" + ", ".join(args + ["int *", "int *", "int *"]) + ")"
    assert _lapack._is_lp64_gesdd(good.encode())
    # a 64-bit-integer build, or another routine, falls back to SciPy
    assert not _lapack._is_lp64_gesdd(good.replace("int *", "int64_t *"))
    assert not _lapack._is_lp64_gesdd("void (" + ", ".join(args) + ")")
    assert not _lapack._is_lp64_gesdd("int (char *)")
