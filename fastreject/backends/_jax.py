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

Device memory: ``ptp``, ``median``, ``prefix_sums``, ``interp_apply`` and
``ransac_correlations`` move and process their input in chunks when it would
not fit the budget of :func:`~fastreject.backends._common.memory_budget`
(``FASTREJECT_DEVICE_MEMORY``, else half the free memory that the device's
``memory_stats()`` reports; no proactive limit on the CPU), and halve the chunk
and retry when XLA reports ``RESOURCE_EXHAUSTED`` all the same (see
:func:`~fastreject.backends._common.run_in_chunks`). Chunks compute
independent outputs: ``ptp``, ``median`` and the running-sum path of
``prefix_sums`` are bit-identical to one call; the matrix products
(``interp_apply``, the product path of ``prefix_sums``) may differ in the last
bits, as XLA picks kernels by matrix size. Each chunk length is a shape that
XLA compiles once.
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
    combine_extremes,
    exact_host_backend,
    median_network,
    prefix_weights,
    ransac_subsets,
    reduction_split,
    take,
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


@partial(jax.jit, static_argnames=("axis",))
def _ptp_jit(x, axis):
    # XLA's CPU max/min reductions may drop NaN (seen with JAX 0.10 on large
    # arrays); NumPy's propagate it
    out = jnp.max(x, axis=axis) - jnp.min(x, axis=axis)
    return jnp.where(jnp.isnan(x).any(axis=axis), jnp.nan, out)


@jax.jit
def _extremes_jit(x):
    nan = jnp.isnan(x).any()
    return jnp.stack([jnp.where(nan, jnp.nan, jnp.max(x)), jnp.where(nan, jnp.nan, jnp.min(x))])


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

    # -- device memory -------------------------------------------------------
    def _free_memory(self):
        """Free memory of the device in bytes from ``memory_stats()``, else None."""
        if self._device.platform == "cpu":
            return None
        stats = self._device.memory_stats()
        if not stats or "bytes_limit" not in stats:
            return None
        return stats["bytes_limit"] - stats.get("bytes_in_use", 0)

    @staticmethod
    def _host_or_device(x):
        return x if isinstance(x, jax.Array) else np.asarray(x)

    # -- kernels ------------------------------------------------------------
    def ptp(self, x, axis=-1):
        x = self._host_or_device(x)
        with self._scope():
            if x.ndim == 0:
                return self.to_numpy(_ptp_jit(self.asarray(x), None))
            if axis is not None and not np.isscalar(axis):
                axis = tuple(axis)  # a static (hashable) argument of _ptp_jit
            split, out_axis = reduction_split(x.shape, axis)
            n = x.shape[split]

            def part(start, stop, size):
                t = self.asarray(take(x, split, start, stop))
                if out_axis is None:
                    return self.to_numpy(_extremes_jit(t))
                return self.to_numpy(_ptp_jit(t, axis))

            # all axes reduced: max - min of the whole, from the chunks' extremes
            combine = combine_extremes if out_axis is None else None
            return self._chunked(
                "ptp",
                part,
                n,
                2 * (x.size // max(n, 1)),
                unit="slices",
                axis=out_axis or 0,
                combine=combine,
            )

    def median(self, x, axis=0):
        x = self._host_or_device(x)
        with self._scope():
            if axis is None or x.ndim < 2:
                t = self.asarray(x)
                if axis is None:
                    t, axis = t.reshape(-1), 0
                n = t.shape[axis]
                return self.to_numpy(_median_jit(t, axis % t.ndim, (n - 1) // 2, n // 2))
            axis = axis % x.ndim
            n = x.shape[axis]
            lo, hi = (n - 1) // 2, n // 2
            if axis == 0:
                # columns of the flattened trailing axes; each one sorted alone
                flat = x.reshape(n, -1)

                def part(start, stop, size):
                    t = self.asarray(take(flat, 1, start, stop))
                    return self.to_numpy(_median_jit(t, 0, lo, hi))

                # input, sorted values and temporaries
                out = self._chunked("median", part, flat.shape[1], 3 * n, unit="columns")
                return out.reshape(tuple(x.shape[1:]))

            def part(start, stop, size):
                t = self.asarray(take(x, 0, start, stop))
                return self.to_numpy(_median_jit(t, axis, lo, hi))

            per_item = x.size // max(x.shape[0], 1)
            return self._chunked("median", part, x.shape[0], 3 * per_item, unit="slices")

    def prefix_sums(self, data, order, cuts):
        data = self._host_or_device(data)
        order = np.asarray(order, dtype=np.int64)
        cuts = np.asarray(cuts, dtype=np.int64)
        n_rows = data.shape[0]
        check_prefix_args(n_rows, order, cuts)
        n_columns = data.size // max(n_rows, 1)
        with self._scope():
            if use_product(n_rows, int(cuts[-1]), len(cuts), _PRODUCT_RATIO):
                # one product with 0/1 weights (no gather)
                weights = self.asarray(prefix_weights(n_rows, order, cuts))

                def kernel(t):
                    # contracting axis 0 directly, as a reshape would copy
                    return jax.lax.dot_general(
                        weights, t, (((1,), (0,)), ((), ())), precision=_HIGHEST
                    )

                per_column = n_rows + 2 * len(cuts)
            else:
                # many cuts: gather the rows in order, running sum, pick the cuts
                rows = self.asarray(order[: cuts[-1]])
                picks = self.asarray(cuts - 1)

                def kernel(t):
                    return jnp.cumsum(t[rows], axis=0)[picks]

                per_column = n_rows + 2 * int(cuts[-1]) + len(cuts)

            def part(start, stop, size):
                if start == 0 and stop == n_columns:  # all of it, in its shape
                    return self.to_numpy(kernel(self.asarray(data)))
                # columns of the flattened trailing axes (a view for NumPy input)
                return self.to_numpy(kernel(self.asarray(data.reshape(n_rows, -1)[:, start:stop])))

            out = self._chunked(
                "prefix_sums", part, n_columns, per_column, unit="columns", axis=1
            )
            return out.reshape((len(cuts),) + tuple(data.shape[1:]))

    def kept_means(self, data, train_idx, train_keys, bounds):
        # exact epoch-order means are a host computation (see Backend):
        # device reductions sum in another order
        host = exact_host_backend()
        return host.kept_means(self.to_numpy(data), train_idx, train_keys, bounds)

    def interp_apply(self, matrix, data):
        data = self._host_or_device(data)
        with self._scope():
            matrix = self.asarray(matrix)
            if data.ndim < 3:
                return self.to_numpy(jnp.matmul(matrix, self.asarray(data), precision=_HIGHEST))

            def part(start, stop, size):
                t = self.asarray(take(data, 0, start, stop))
                return self.to_numpy(jnp.matmul(matrix, t, precision=_HIGHEST))

            # input and output epochs, and a copy of each for the batched product
            per_epoch = 2 * (matrix.shape[0] + data.shape[1]) * data.shape[2]
            return self._chunked("interp_apply", part, data.shape[0], per_epoch, unit="epochs")

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

            def part(start, stop, size):
                x = x_all[start:stop]
                if stop - start < size:  # one compiled shape for all chunks
                    pad = jnp.zeros((size - (stop - start), n_channels, n_times), x.dtype)
                    x = jnp.concatenate([x, pad])
                out = _ransac_chunk(x, cols, weights, pairs, lo, hi)
                return self.to_numpy(out)[: stop - start]

            return self._chunked_ransac(part, n_epochs, n_channels, n_times, n_resample)
