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
"""

from __future__ import annotations

import numpy as np
import torch

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
            t = torch.as_tensor(np.ascontiguousarray(x), device=self.device)
        if t.is_floating_point():
            t = t.to(self._dtype)
        return t

    def to_numpy(self, x):
        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
        return np.asarray(x)

    # -- kernels ------------------------------------------------------------
    def ptp(self, x, axis=-1):
        t = self.asarray(x)
        if axis is None:
            return self.to_numpy(t.max() - t.min())
        return self.to_numpy(torch.amax(t, dim=axis) - torch.amin(t, dim=axis))

    def median(self, x, axis=0):
        t = self.asarray(x)
        if axis is None:
            t, axis = t.reshape(-1), 0
        return self.to_numpy(_median(t, axis))

    def prefix_sums(self, data, order, cuts):
        t = self.asarray(data)
        order, cuts = (
            np.asarray(a.cpu().numpy() if isinstance(a, torch.Tensor) else a, dtype=np.int64)
            for a in (order, cuts)
        )
        check_prefix_args(t.shape[0], order, cuts)
        flat = t.reshape(t.shape[0], -1)
        if use_product(t.shape[0], int(cuts[-1]), len(cuts), _PRODUCT_RATIO):
            # few cuts: one product with 0/1 weights (no gather, BLAS speed)
            weights = self.asarray(prefix_weights(t.shape[0], order, cuts))
            out = torch.matmul(weights, flat)
        else:
            # many cuts: gather the rows in order, running sum, pick the cuts
            rows = self.asarray(order[: cuts[-1]] % t.shape[0])
            out = torch.cumsum(flat.index_select(0, rows), dim=0)
            out = out.index_select(0, self.asarray(cuts - 1))
        return self.to_numpy(out.reshape((len(cuts),) + tuple(t.shape[1:])))

    def kept_means(self, data, train_idx, train_keys, bounds):
        # exact epoch-order means are a host computation (see Backend):
        # device reductions sum in another order
        from ._numpy import NumpyBackend

        return NumpyBackend().kept_means(self.to_numpy(data), train_idx, train_keys, bounds)

    def interp_apply(self, matrix, data):
        return self.to_numpy(torch.matmul(self.asarray(matrix), self.asarray(data)))

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
        chunk = ransac_chunk(n_channels, n_times, n_resample)
        network = median_network(n_resample) if x_all.device.type == "cpu" else None
        corr = []
        for start in range(0, n_epochs, chunk):
            x = x_all[start : start + chunk]
            n = x.shape[0]
            # x_t[k, (e, t)] = x[e, k, t]; pred[r, c, (e, t)]
            x_t = x.permute(1, 0, 2).reshape(n_channels, n * n_times)
            pred = torch.matmul(weights, x_t[cols])
            med = _median_resamples(pred.reshape(n_resample, -1), network)
            med = med.reshape(n_channels, n, n_times).permute(1, 0, 2)
            num = torch.sum(x * med, dim=-1)
            den = torch.sqrt(torch.sum(x**2, dim=-1)) * torch.sqrt(torch.sum(med**2, dim=-1))
            corr.append(num / den)
        return self.to_numpy(torch.cat(corr))


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
