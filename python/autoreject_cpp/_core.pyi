"""Type stubs of the compiled C++ core (``autoreject_cpp._core``).

Every kernel takes ``backend`` (``'scalar'``, ``'openmp'`` or ``'cuda'``, as
returned by :func:`resolve_backend`) and ``n_threads`` (0: the OpenMP
default, i.e. ``OMP_NUM_THREADS`` or the number of cores; ignored by
``'scalar'``) and ``simd`` (``'sse2'``, ``'avx2'``, ``'avx512'``; None:
``AUTOREJECT_SIMD``, else the widest the processor supports; results are
the same bits on every one). Arrays are converted to C-ordered float64 / int64 when they
are not already; inputs are never modified. The bulk kernels (``ptp``, ``median_rows``,
``kept_means``, ``threshold_losses``, ``threshold_scores``, ``prefix_sums``,
``ransac_correlations``) run in float32 instead when their first (data) argument is a
float32 array: their other float arguments are then converted to float32 and the result
is float32 (``dtype='float32'``, the speed option; not autoreject's exact decisions, and
not on ``'cuda'``). Indices stay int64. Shape or value errors raise
``ValueError`` naming the argument; an unknown or unavailable backend raises
``ValueError`` listing the available ones.
"""

from typing import Any, TypedDict, TypeVar

import numpy as np
from numpy.typing import NDArray

#: the precision of a bulk kernel: its data argument's (float32), else float64
F = TypeVar("F", np.float32, np.float64)

__version__: str

class BackendInfo(TypedDict):
    name: str
    compiled: bool
    available: bool
    reason: str

def backends() -> list[BackendInfo]:
    """Every backend the core knows, whether compiled in and usable, and why not."""

def resolve_backend(name: str | None = None) -> str:
    """Resolve a requested backend: ``name`` wins, else ``AUTOREJECT_BACKEND``,
    else ``'auto'``; ``'auto'`` is ``'openmp'`` when compiled in and more than
    one thread is available, else ``'scalar'``."""

def simd_levels() -> list[BackendInfo]:
    """Instruction sets the kernels are built for (sse2, avx2, avx512): compiled, available, why not."""

def resolve_simd(name: str | None = None) -> str:
    """Resolve an instruction-set request: ``name``, else ``AUTOREJECT_SIMD``, else the widest available."""

def max_threads() -> int:
    """Threads the OpenMP backend uses by default (1 without OpenMP)."""

def ptp(x: NDArray[F], *, backend: str = ..., n_threads: int = ..., simd: str | None = ...) -> NDArray[F]:
    """``np.ptp(x, axis=-1)`` of a 2-D array, shape (n_rows,); NaN rows give NaN."""

def median_rows(
    x: NDArray[F],
    rows: NDArray[np.int64],
    *,
    backend: str = ...,
    n_threads: int = ...,
    simd: str | None = ...,
) -> NDArray[F]:
    """``np.median(x[rows], axis=0)`` of a 2-D ``x``, shape (n_cols,), bit for bit."""

def kept_means(
    data: NDArray[F],
    train_idx: NDArray[np.int64],
    train_keys: NDArray[F],
    bounds: NDArray[F],
    *,
    backend: str = ...,
    n_threads: int = ...,
    simd: str | None = ...,
) -> NDArray[F]:
    """Epoch-order means of kept training rows, shape (n_bounds, n_folds, n_times)."""

def threshold_losses(
    data: NDArray[F],
    train_idx: NDArray[np.int64],
    train_keys: NDArray[F],
    bounds: NDArray[F],
    medians: NDArray[F],
    *,
    backend: str = ...,
    n_threads: int = ...,
    simd: str | None = ...,
) -> NDArray[F]:
    """The threshold search's cross-validated loss of each bound, shape (n_bounds,)."""

def threshold_scores(
    data: NDArray[F],
    train_idx: NDArray[np.int64],
    train_keys: NDArray[F],
    bounds: NDArray[F],
    medians: NDArray[F],
    *,
    backend: str = ...,
    n_threads: int = ...,
    simd: str | None = ...,
) -> NDArray[F]:
    """Each fold's ``-RMSE`` of each bound, shape (n_bounds, n_folds); NaN where none is kept."""

def rmse_rows(
    median: NDArray[np.float64],
    means: NDArray[np.float64],
    *,
    backend: str | None = ...,
    n_threads: int = ...,
) -> NDArray[np.float64]:
    """``np.sqrt(np.mean((median - means) ** 2, axis=-1))``, bit for bit."""

def prefix_sums(
    data: NDArray[F],
    order: NDArray[np.int64],
    cuts: NDArray[np.int64],
    *,
    backend: str = ...,
    n_threads: int = ...,
    simd: str | None = ...,
) -> NDArray[F]:
    """Sums of ``data[order[:cuts[i]]]`` as NumPy's reduceat + cumsum, shape (n_cuts, n_cols)."""

def ransac_correlations(
    data: NDArray[F],
    cols: NDArray[np.int64],
    counts: NDArray[np.int64],
    weights: NDArray[F],
    *,
    backend: str = ...,
    n_threads: int = ...,
    simd: str | None = ...,
) -> NDArray[F]:
    """Correlation of each channel with its median prediction, shape (n_epochs, n_channels)."""

def take_rows(
    x: NDArray[Any], rows: NDArray[np.int64], *, backend: str = ..., n_threads: int = ...
) -> NDArray[Any]:
    """``x[rows]`` along the first axis, a new C-ordered array of ``x``'s dtype (numbers only)."""

def vote_bad_epochs(
    deltas: NDArray[np.float64],
    threshes: NDArray[np.float64],
    *,
    backend: str | None = ...,
    n_threads: int = ...,
) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """Bad (peak-to-peak > threshold) matrix and bad count per epoch."""

def spline_matrix(
    pos: NDArray[np.float64],
    from_: NDArray[np.int64],
    to: NDArray[np.int64],
    alpha: float = ...,
) -> NDArray[np.float64]:
    """Spherical-spline matrix interpolating ``to`` from ``from_``, shape (len(to), len(from_))."""

def spline_leave_one_out(
    pos: NDArray[np.float64], channels: NDArray[np.int64], alpha: float = ...
) -> NDArray[np.float64]:
    """Leave-one-out spline rows, shape (n, n - 1): row i interpolates channels[i] from the others."""

def legacy_permutation(seed: int, n: int) -> NDArray[np.int64]:
    """``np.random.RandomState(seed).permutation(n)``, draw for draw."""

def legacy_uniform(seed: int, n: int) -> NDArray[np.float64]:
    """``np.random.RandomState(seed).random_sample(n)``, draw for draw."""

def legacy_bounded(seed: int, max: int, n: int) -> NDArray[np.uint64]:
    """``n`` legacy masked-rejection integers in [0, max] from ``RandomState(seed)``."""

def legacy_choice(seed: int, n: int, size: int) -> NDArray[np.int64]:
    """``np.random.RandomState(seed).choice(n, size=size, replace=False)``."""

def kfold_splits(
    n_samples: int, n_splits: int
) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """``KFold(n_splits).split(range(n_samples))`` as (train, test) pairs."""

def stratified_shuffle_splits(
    y: NDArray[np.int64], n_splits: int, test_size: float, seed: int
) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """``StratifiedShuffleSplit(n_splits, test_size=test_size, random_state=seed)`` splits."""

def random_search_draws(loc: float, scale: float, n_iter: int, seed: int) -> NDArray[np.float64]:
    """Thresholds of ``ParameterSampler({'thresh': uniform(loc, scale)}, n_iter, seed)``."""

def ransac_subsets(n_good: int, n_pick: int, n_resample: int, seed: int) -> NDArray[np.int64]:
    """RANSAC's channel subsets, shape (n_resample, n_pick): indices into the good channels."""
