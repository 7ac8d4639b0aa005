"""PyTorch kernels (CPU, CUDA; MPS in float32 only).

Imported only when the ``'torch'`` backend is selected. Data cross between
NumPy and torch only in :meth:`TorchBackend.asarray` and
:meth:`TorchBackend.to_numpy`; every kernel accepts NumPy arrays or tensors
and returns NumPy arrays.

Agreement with the NumPy reference in float64: ``ptp`` and ``median`` are
exact (``median`` sorts and averages the two middle values, like
``np.median``; ``torch.median`` would return the lower one), and so are the
RANSAC medians (sorted on GPUs; on the CPU a sorting network of in-place
``minimum``/``maximum`` passes, faster than ``torch.sort``). The prefix sums
(a product with 0/1 weights for few cuts, else ``torch.cumsum``) and the
other products add in another order than NumPy, so they agree to about 1e-15
relative (tests use 1e-12). In float32 (``precision='float32'``, required on
MPS, which has no float64) expect about 1e-6 relative and possibly different
decisions near thresholds.
Inputs with NaN or infinity for ``ransac_correlations`` are handed to the NumPy
reference.

Device memory: ``ptp``, ``median``, ``prefix_sums``, ``interp_apply`` and
``ransac_correlations`` move and process their input in chunks when it would
not fit the budget of :func:`~fastreject.backends._common.memory_budget`
(``FASTREJECT_DEVICE_MEMORY``, else half the free CUDA memory; no proactive
limit on the CPU), and halve the chunk and retry when torch runs out of memory
all the same (see :func:`~fastreject.backends._common.run_in_chunks`). Chunks
compute independent outputs: ``ptp``, ``median`` and the running-sum path of
``prefix_sums`` are bit-identical to one call; the matrix products
(``interp_apply``, the product path of ``prefix_sums``) may differ in the last
bits, as BLAS picks kernels by matrix size.
"""

from __future__ import annotations

import numpy as np
import torch

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


#: :func:`~fastreject.backends._common.use_product` ratio: a multiply-add of
#: a matrix product against an addition of ``torch.cumsum`` along rows
#: (measured on CPU; on GPUs both are fast)
_PRODUCT_RATIO = 32


class TorchBackend(Backend):
    """Kernels on PyTorch tensors.

    Parameters
    ----------
    device : str
        A torch device: ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ``'mps'``.
        Defaults to ``'cpu'``.
    precision : str
        ``'float64'`` (default) or ``'float32'``.
    """

    name = "torch"

    def __init__(self, device="cpu", precision="float64"):
        self.device = str(torch.device(device))
        self.dtype = precision
        self._dtype = getattr(torch, precision)

    # -- edges --------------------------------------------------------------
    def asarray(self, x):
        if isinstance(x, torch.Tensor):
            t = x.to(self.device)
        else:
            x = np.asarray(x)
            if x.dtype.kind in "fc":
                # cast on the host: MPS cannot hold float64 even briefly
                x = x.astype(self.dtype, copy=False)
            x = np.ascontiguousarray(x)
            if not x.flags.writeable:
                # torch tensors cannot be read-only: never share memory with
                # a protected (e.g. the user's) array
                x = x.copy()
            t = torch.as_tensor(x, device=self.device)
        if t.is_floating_point():
            t = t.to(self._dtype)
        return t

    def to_numpy(self, x):
        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
        return np.asarray(x)

    # -- device memory -------------------------------------------------------
    def _free_memory(self):
        """Free CUDA memory in bytes (with torch's cached blocks), else None."""
        device = torch.device(self.device)
        if device.type != "cuda":
            return None
        free, _ = torch.cuda.mem_get_info(device)
        return free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)

    def _release(self):
        if torch.device(self.device).type == "cuda":
            torch.cuda.empty_cache()

    @staticmethod
    def _host_or_tensor(x):
        return x if isinstance(x, torch.Tensor) else np.asarray(x)

    # -- kernels ------------------------------------------------------------
    def ptp(self, x, axis=-1):
        x = self._host_or_tensor(x)
        if x.ndim == 0:
            t = self.asarray(x)
            return self.to_numpy(t.max() - t.min())
        split, out_axis = reduction_split(x.shape, axis)
        n = x.shape[split]
        per_item = x.numel() if isinstance(x, torch.Tensor) else x.size
        per_item = per_item // max(n, 1)

        def part(start, stop, size):
            t = self.asarray(take(x, split, start, stop))
            if out_axis is None:
                return np.stack([self.to_numpy(t.max()), self.to_numpy(t.min())])
            return self.to_numpy(torch.amax(t, dim=axis) - torch.amin(t, dim=axis))

        # all axes reduced: max - min of the whole, from the chunks' extremes
        combine = combine_extremes if out_axis is None else None
        return self._chunked(
            "ptp", part, n, 2 * per_item, unit="slices", axis=out_axis or 0, combine=combine
        )

    def median(self, x, axis=0):
        x = self._host_or_tensor(x)
        if axis is None or x.ndim < 2:
            t = self.asarray(x)
            if axis is None:
                t, axis = t.reshape(-1), 0
            return self.to_numpy(_median(t, axis))
        axis = axis % x.ndim
        n = x.shape[axis]
        if axis == 0:
            # columns of the flattened trailing axes; each one sorted alone
            flat = x.reshape(n, -1)

            def part(start, stop, size):
                return self.to_numpy(_median(self.asarray(take(flat, 1, start, stop)), 0))

            # input, sorted values and their int64 indices
            out = self._chunked("median", part, flat.shape[1], 3 * n, unit="columns")
            return out.reshape(tuple(x.shape[1:]))

        def part(start, stop, size):
            return self.to_numpy(_median(self.asarray(take(x, 0, start, stop)), axis))

        per_item = int(np.prod(x.shape[1:]))
        return self._chunked("median", part, x.shape[0], 3 * per_item, unit="slices")

    def prefix_sums(self, data, order, cuts):
        data = self._host_or_tensor(data)
        order, cuts = (
            np.asarray(a.cpu().numpy() if isinstance(a, torch.Tensor) else a, dtype=np.int64)
            for a in (order, cuts)
        )
        n_rows = data.shape[0]
        check_prefix_args(n_rows, order, cuts)
        flat = data.reshape(n_rows, -1)
        if use_product(n_rows, int(cuts[-1]), len(cuts), _PRODUCT_RATIO):
            # few cuts: one product with 0/1 weights (no gather, BLAS speed)
            weights = self.asarray(prefix_weights(n_rows, order, cuts))

            def part(start, stop, size):
                t = self.asarray(take(flat, 1, start, stop))
                return self.to_numpy(torch.matmul(weights, t))

            per_column = n_rows + 2 * len(cuts)
        else:
            # many cuts: gather the rows in order, running sum, pick the cuts
            rows = self.asarray(order[: cuts[-1]] % n_rows)
            picks = self.asarray(cuts - 1)

            def part(start, stop, size):
                t = self.asarray(take(flat, 1, start, stop))
                out = torch.cumsum(t.index_select(0, rows), dim=0)
                return self.to_numpy(out.index_select(0, picks))

            per_column = n_rows + 2 * int(cuts[-1]) + len(cuts)
        out = self._chunked("prefix_sums", part, flat.shape[1], per_column, unit="columns", axis=1)
        return out.reshape((len(cuts),) + tuple(data.shape[1:]))

    def kept_means(self, data, train_idx, train_keys, bounds):
        # exact epoch-order means are a host computation (see Backend):
        # device reductions sum in another order
        host = exact_host_backend()
        return host.kept_means(self.to_numpy(data), train_idx, train_keys, bounds)

    def interp_apply(self, matrix, data):
        matrix = self.asarray(matrix)
        data = self._host_or_tensor(data)
        if data.ndim < 3:
            return self.to_numpy(torch.matmul(matrix, self.asarray(data)))

        def part(start, stop, size):
            return self.to_numpy(torch.matmul(matrix, self.asarray(take(data, 0, start, stop))))

        # input and output epochs, and a copy of each for the batched product
        per_epoch = 2 * (matrix.shape[0] + data.shape[1]) * data.shape[2]
        return self._chunked("interp_apply", part, data.shape[0], per_epoch, unit="epochs")

    def ransac_correlations(self, data, mappings, n_resample):
        data_np = np.asarray(data) if not isinstance(data, torch.Tensor) else None
        mappings = np.asarray(mappings, dtype=np.float64)
        x_all = self.asarray(data)
        if not (bool(torch.isfinite(x_all).all()) and np.isfinite(mappings).all()):
            if data_np is None:
                data_np = self.to_numpy(x_all)
            return NumpyBackend().ransac_correlations(data_np, mappings, n_resample)
        cols, counts, weights = ransac_subsets(mappings, n_resample)
        cols = self.asarray(cols)
        weights = self.asarray(weights)
        n_epochs, n_channels, n_times = x_all.shape
        network = median_network(n_resample) if x_all.device.type == "cpu" else None

        def part(start, stop, size):
            x = x_all[start:stop]
            n = x.shape[0]
            # x_t[k, (e, t)] = x[e, k, t]; pred[r, c, (e, t)]
            x_t = x.permute(1, 0, 2).reshape(n_channels, n * n_times)
            pred = torch.matmul(weights, x_t[cols])
            med = _median_resamples(pred.reshape(n_resample, -1), network)
            med = med.reshape(n_channels, n, n_times).permute(1, 0, 2)
            num = torch.sum(x * med, dim=-1)
            den = torch.sqrt(torch.sum(x**2, dim=-1)) * torch.sqrt(torch.sum(med**2, dim=-1))
            return self.to_numpy(num / den)

        return self._chunked_ransac(part, n_epochs, n_channels, n_times, n_resample)


def _median_resamples(pred, network):
    """Median over the rows of finite ``pred`` (overwritten when ``network``).

    On the CPU a sorting network of in-place ``minimum``/``maximum`` passes
    is several times faster than ``torch.sort``; elsewhere sort.
    """
    if network is None:
        return _median(pred, 0)
    pairs, lo, hi = network
    tmp = torch.empty_like(pred[0])
    for i, j in pairs.tolist():
        a, b = pred[i], pred[j]
        torch.minimum(a, b, out=tmp)
        torch.maximum(a, b, out=b)
        a.copy_(tmp)
    return pred[lo] if lo == hi else (pred[lo] + pred[hi]) / 2


def _median(t, dim):
    """``np.median`` semantics: mean of the two middle values, NaN wins."""
    n = t.shape[dim]
    lo, hi = (n - 1) // 2, n // 2
    s = torch.sort(t, dim=dim).values  # NaN sorts last
    med = s.select(dim, lo)
    if hi != lo:
        med = (med + s.select(dim, hi)) / 2
    return torch.where(torch.isnan(s.select(dim, n - 1)), torch.nan, med)
