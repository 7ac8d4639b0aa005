"""JAX kernels (CPU or GPU) in float64 without touching the global config.

Imported only when the ``'jax'`` backend is selected. JAX computes in
float32 unless 64-bit mode is on; rather than flipping the process-wide
``jax_enable_x64`` flag, every method of :class:`JaxBackend` runs inside the
scoped ``jax.enable_x64(True)`` context (``jax.experimental.enable_x64()`` on
older JAX), which is restored on exit. Consequently, arrays returned by
:meth:`JaxBackend.asarray` are float64, but arithmetic you do on them
*outside* a backend method follows your own x64 setting.

Agreement with the NumPy reference in float64: ``ptp`` and ``median`` exact
(sort, then the mean of the two middle values); the RANSAC medians are exact
too (a sorting network that XLA fuses into one elementwise kernel). The prefix
sums (a product with 0/1 weights, or ``jnp.cumsum`` for very many cuts) and
the other products add in another order than NumPy (about 1e-15 relative;
tests use 1e-12). Inputs with NaN or infinity for ``ransac_correlations`` are
handed to the NumPy reference.
"""

from __future__ import annotations

import contextlib
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ._base import Backend
from ._common import (
    check_prefix_args,
    median_network,
    prefix_weights,
    ransac_chunk,
    ransac_subsets,
    use_product,
)
from ._numpy import NumpyBackend

_HIGHEST = jax.lax.Precision.HIGHEST


def x64_context(enabled=True):
    """Scoped 64-bit mode: ``jax.enable_x64`` or its older experimental form.

    Parameters
    ----------
    enabled : bool
        Whether float64 is enabled inside the context. Defaults to True.

    Returns
    -------
    context : context manager
    """
    state = getattr(jax, "enable_x64", None)
    if state is not None:
        try:
            return state(enabled)
        except TypeError:  # pragma: no cover - a plain function in some versions
            pass
    from jax.experimental import disable_x64, enable_x64  # pragma: no cover

    return enable_x64() if enabled else disable_x64()  # pragma: no cover


def _median(x, axis, lo, hi):
    s = jnp.sort(x, axis=axis)  # NaN sorts last
    med = jnp.take(s, lo, axis=axis)
    if hi != lo:
        med = (med + jnp.take(s, hi, axis=axis)) / 2
    return jnp.where(jnp.isnan(jnp.take(s, -1, axis=axis)), jnp.nan, med)


@partial(jax.jit, static_argnames=("axis", "lo", "hi"))
def _median_jit(x, axis, lo, hi):
    return _median(x, axis, lo, hi)


#: :func:`~fastreject.backends._common.use_product` ratio: XLA's cumulative
#: sum is a parallel scan, slow on the CPU, so the product wins up to
#: hundreds of cuts
_PRODUCT_RATIO = 512


@partial(jax.jit, static_argnames=("pairs", "lo", "hi"))
def _ransac_chunk(x, cols, weights, pairs, lo, hi):
    n, n_channels, n_times = x.shape
    # x_t[k, (e, t)] = x[e, k, t]; pred[r, c, (e, t)]
    x_t = jnp.transpose(x, (1, 0, 2)).reshape(n_channels, n * n_times)
    pred = jnp.matmul(weights, x_t[cols], precision=_HIGHEST)
    # exact median by a sorting network, which XLA fuses into one
    # elementwise kernel (much faster than jnp.sort on the CPU)
    wires = [pred[r] for r in range(pred.shape[0])]
    for i, j in pairs:
        a, b = wires[i], wires[j]
        wires[i] = jnp.minimum(a, b)
        wires[j] = jnp.maximum(a, b)
    med = wires[lo] if lo == hi else (wires[lo] + wires[hi]) / 2
    med = jnp.transpose(med.reshape(n_channels, n, n_times), (1, 0, 2))
    num = jnp.sum(x * med, axis=-1)
    den = jnp.sqrt(jnp.sum(x**2, axis=-1)) * jnp.sqrt(jnp.sum(med**2, axis=-1))
    return num / den


class JaxBackend(Backend):
    """Kernels on JAX arrays.

    Parameters
    ----------
    device : str
        ``'cpu'`` or ``'gpu'`` (the first device of that platform). Defaults
        to ``'cpu'``.
    precision : str
        ``'float64'`` (default, scoped x64 mode) or ``'float32'``.
    """

    name = "jax"

    def __init__(self, device="cpu", precision="float64"):
        try:
            self._device = jax.devices(device)[0]
        except RuntimeError as err:
            raise RuntimeError(
                f"JAX has no {device!r} device ({err}). Available devices: "
                f"{jax.devices()}. Install a CUDA build of JAX "
                "(pip install fastreject[gpu-cuda] with jax[cuda12]) or use "
                "backend='jax:cpu'."
            ) from None
        self.device = device
        self.dtype = precision

    def _scope(self):
        if self.dtype == "float64":
            return x64_context(True)
        return contextlib.nullcontext()

    # -- edges --------------------------------------------------------------
    def asarray(self, x):
        with self._scope():
            if isinstance(x, jax.Array) and (x.dtype.kind not in "fc" or x.dtype == self.dtype):
                return jax.device_put(x, self._device)
            x = np.asarray(x)
            if x.dtype.kind in "fc":
                x = x.astype(self.dtype, copy=False)
            return jax.device_put(x, self._device)

    def to_numpy(self, x):
        return np.asarray(x)

    # -- kernels ------------------------------------------------------------
    def ptp(self, x, axis=-1):
        with self._scope():
            t = self.asarray(x)
            return self.to_numpy(jnp.max(t, axis=axis) - jnp.min(t, axis=axis))

    def median(self, x, axis=0):
        with self._scope():
            t = self.asarray(x)
            if axis is None:
                t, axis = t.reshape(-1), 0
            axis = axis % t.ndim
            n = t.shape[axis]
            return self.to_numpy(_median_jit(t, axis, (n - 1) // 2, n // 2))

    def prefix_sums(self, data, order, cuts):
        order = np.asarray(order, dtype=np.int64)
        cuts = np.asarray(cuts, dtype=np.int64)
        with self._scope():
            t = self.asarray(data)
            check_prefix_args(t.shape[0], order, cuts)
            if use_product(t.shape[0], int(cuts[-1]), len(cuts), _PRODUCT_RATIO):
                # one product with 0/1 weights (no gather); contracting axis 0
                # directly, as a reshape would copy the data
                weights = self.asarray(prefix_weights(t.shape[0], order, cuts))
                out = jax.lax.dot_general(
                    weights, t, (((1,), (0,)), ((), ())), precision=_HIGHEST
                )
            else:
                # many cuts: gather the rows in order, running sum, pick the cuts
                out = jnp.cumsum(t[self.asarray(order[: cuts[-1]])], axis=0)
                out = out[self.asarray(cuts - 1)]
            return self.to_numpy(out)

    def kept_means(self, data, train_idx, train_keys, bounds):
        # exact epoch-order means are a host computation (see Backend):
        # device reductions sum in another order
        from ._numpy import NumpyBackend

        return NumpyBackend().kept_means(self.to_numpy(data), train_idx, train_keys, bounds)

    def interp_apply(self, matrix, data):
        with self._scope():
            out = jnp.matmul(self.asarray(matrix), self.asarray(data), precision=_HIGHEST)
            return self.to_numpy(out)

    def ransac_correlations(self, data, mappings, n_resample):
        mappings = np.asarray(mappings, dtype=np.float64)
        with self._scope():
            x_all = self.asarray(data)
            if not (bool(jnp.isfinite(x_all).all()) and np.isfinite(mappings).all()):
                return NumpyBackend().ransac_correlations(
                    self.to_numpy(x_all), mappings, n_resample
                )
            cols, counts, weights = ransac_subsets(mappings, n_resample)
            cols = self.asarray(cols)
            weights = self.asarray(weights)
            pairs, lo, hi = median_network(n_resample)
            pairs = tuple(map(tuple, pairs.tolist()))
            n_epochs, n_channels, n_times = x_all.shape
            chunk = min(ransac_chunk(n_channels, n_times, n_resample), n_epochs)
            n_chunks = -(-n_epochs // chunk)
            if n_chunks * chunk > n_epochs:  # one compiled shape for all chunks
                pad = jnp.zeros((n_chunks * chunk - n_epochs, n_channels, n_times), x_all.dtype)
                x_all = jnp.concatenate([x_all, pad])
            corr = [
                self.to_numpy(
                    _ransac_chunk(x_all[s : s + chunk], cols, weights, pairs, lo, hi)
                )
                for s in range(0, n_epochs, chunk)
            ]
            return np.concatenate(corr)[:n_epochs]
