"""SciPy's pseudo-inverse, with the SVD run outside the GIL.

``scipy.linalg.pinv`` calls LAPACK's ``dgesdd`` through an f2py wrapper that
holds the GIL, so many small pseudo-inverses (the EEG spline matrices of the
consensus / n_interpolate cross-validation) cannot share the cores. This
module calls the *same* ``dgesdd`` (SciPy's ``cython_lapack`` entry point,
which resolves to the LAPACK SciPy links) through ``ctypes``, which releases
the GIL, with the arguments SciPy's wrapper passes: a Fortran-ordered copy of
the matrix, ``jobz='S'`` and the workspace size LAPACK reports as optimal.
The post-processing is ``scipy.linalg.pinv``'s (default tolerances), in the
same operations and memory layouts, so the result is equal bit for bit;
``tests/test_lapack.py`` checks that against SciPy, so a change in SciPy is
caught. Where the entry point cannot be found, :func:`pinv` is SciPy's.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

_GESDD = None
_LOCK = threading.Lock()


def _cython_lapack(name):
    """A ``ctypes`` function for ``scipy.linalg.cython_lapack.<name>``, or None."""
    try:
        from scipy.linalg import cython_lapack

        capsule = cython_lapack.__pyx_capi__[name]
    except (ImportError, AttributeError, KeyError):  # pragma: no cover
        return None
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = [ctypes.py_object]
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    signature = get_name(capsule)
    if not _is_lp64_gesdd(signature):  # pragma: no cover - other SciPy builds
        return None
    address = get_pointer(capsule, signature)
    # every argument of a Fortran routine is a pointer; CFUNCTYPE calls
    # release the GIL
    return ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * 14)(address)


#: dgesdd(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork, info):
#: "c" a character, "i" a C int, "d" a double (all passed by pointer)
_GESDD_ARGS = "ciididdididiii"


def _is_lp64_gesdd(signature):
    """Whether a Cython capsule signature is ``dgesdd`` with C-int integers
    (the arguments :func:`svd` passes)."""
    text = signature.decode() if isinstance(signature, bytes) else str(signature)
    if not (text.startswith("void (") and text.endswith(")")):
        return False
    kinds = []
    for arg in text[len("void (") : -1].split(","):
        arg = arg.strip()
        if arg == "char *":
            kinds.append("c")
        elif arg == "int *":
            kinds.append("i")
        elif arg.endswith("_d *") or arg == "double *":
            kinds.append("d")
        else:
            return False
    return "".join(kinds) == _GESDD_ARGS


def _gesdd():
    global _GESDD
    if _GESDD is None:
        with _LOCK:
            if _GESDD is None:
                _GESDD = _cython_lapack("dgesdd") or False
    return _GESDD


def _int(value):
    return ctypes.byref(ctypes.c_int(value))


def svd(a):
    """``scipy.linalg.svd(a, full_matrices=False)`` for a float64 matrix.

    Returns
    -------
    u : array, shape (m, k), Fortran-ordered
    s : array, shape (k,)
    vh : array, shape (k, n), Fortran-ordered
    """
    gesdd = _gesdd()
    a = np.array(a, dtype=np.float64, order="F")  # LAPACK overwrites it
    m, n = a.shape
    if not gesdd or a.size == 0:
        from scipy.linalg import svd as scipy_svd

        return scipy_svd(a, full_matrices=False, check_finite=False)
    k = min(m, n)
    s = np.empty(k)
    u = np.empty((m, k), order="F")
    vh = np.empty((k, n), order="F")
    iwork = np.empty(8 * k, dtype=np.intc)
    info = ctypes.c_int(0)
    jobz = ctypes.c_char(b"S")

    def call(work, lwork):
        gesdd(
            ctypes.byref(jobz), _int(m), _int(n), a.ctypes.data, _int(m),
            s.ctypes.data, u.ctypes.data, _int(m), vh.ctypes.data, _int(k),
            work.ctypes.data, _int(lwork), iwork.ctypes.data, ctypes.byref(info),
        )  # fmt: skip

    query = np.empty(1)
    call(query, -1)  # workspace query, as SciPy makes before every SVD
    call(np.empty(max(int(query[0]), 1)), max(int(query[0]), 1))
    if info.value > 0:
        raise np.linalg.LinAlgError("SVD did not converge")
    if info.value == -4:  # LAPACK's report of a NaN in the matrix
        raise ValueError("A has a NaN entry")
    if info.value < 0:  # pragma: no cover - the other arguments are set above
        raise ValueError(f"illegal value in argument {-info.value} of dgesdd")
    return u, s, vh


def pinv(a):
    """``scipy.linalg.pinv(a)`` (default tolerances), bit for bit, for a
    finite float64 matrix; the SVD releases the GIL."""
    u, s, vh = svd(a)
    # singular values above max(s) * max(shape) * eps are kept
    cutoff = 0.0 + np.max(s, initial=0.0) * (max(np.shape(a)) * np.finfo(np.float64).eps)
    rank = np.sum(s > cutoff)
    u = u[:, :rank]
    u /= s[:rank]
    return (u @ vh[:rank]).conj().T
