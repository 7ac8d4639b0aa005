"""Benchmark autoreject_cpp against autoreject 0.5.1 on the same data.

Run ``autoreject-cpp bench`` or ``python -m autoreject_cpp.bench`` (options:
``--data eegmmidb|synthetic|meg``, ``--scale``, ``--backend``, ``--repeat``,
``--n-jobs``, ``--workloads``, ``--json FILE``, ``--no-oracle``). Each
workload runs on the same epochs in the same process, autoreject first; the
ratio is autoreject's best time over autoreject_cpp's best time, and the
decisions (thresholds, consensus, n_interpolate, reject logs, RANSAC bad
channels, global thresholds) are checked to be identical.

The same workload table (:func:`make_workloads`) drives the pytest-benchmark
suite (``tests/python/test_benchmarks.py``) and the CI regression check.
"""

# License: BSD-3-Clause

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

#: synthetic EEG sizes of the benchmark scales: (n_epochs, n_channels,
#: sampling frequency, epoch length in s); n_times = sfreq * length + 1
SCALES = {
    "tiny": (30, 16, 100.0, 1.0),
    "small": (60, 32, 160.0, 1.0),
    "medium": (120, 64, 160.0, 2.0),
    "large": (240, 64, 160.0, 4.0),
}

#: workloads in the order they run (transform and the reject log need the fit)
WORKLOADS = (
    "compute_thresholds",
    "local_reject_cv",
    "AutoReject.fit",
    "reject_log",
    "AutoReject.transform",
    "Ransac.fit",
    "get_rejection_threshold",
)

#: autoreject workloads slow enough to run ``oracle_repeat`` times only
_SLOW_ORACLE = ("compute_thresholds", "local_reject_cv", "AutoReject.fit")

#: the MEG-sized data set: Neuromag triplets on the real helmet geometry
MEG_SHAPE = dict(n_epochs=300, sfreq=200.0, tmin=0.0, tmax=1.0)


def _best_time(fn, repeat):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _interleaved_ratio(ours, oracle, repeat):
    """autoreject's best time over autoreject_cpp's, the two calls alternating.

    Alternating the calls exposes both to the same load on a shared machine,
    so a burst of load slows both rather than one.
    """
    best_ours = best_oracle = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        oracle()
        best_oracle = min(best_oracle, time.perf_counter() - start)
        start = time.perf_counter()
        ours()
        best_ours = min(best_ours, time.perf_counter() - start)
    return best_oracle / best_ours


class RatioBaseline:
    """Speed ratios to autoreject, compared with a committed baseline.

    A ratio (autoreject's time over autoreject_cpp's, measured in the same
    process) rather than a time, so a slower or busier machine does not fail
    the check by itself. A ratio below the baseline's divided by
    ``tolerance`` is measured again, up to ``attempts`` times, with the two
    libraries' calls alternating, and the best ratio is kept: one unlucky
    measurement on a shared machine is not a regression, a ratio that stays
    low is.

    Parameters
    ----------
    baseline : path-like | dict | None
        The baseline, ``{"tolerance": 2.0, "ratios": {scale: {workload:
        ratio}}}``, as a JSON file or already loaded. ``None`` records the
        ratios without checking them.
    attempts : int
        How many times a ratio below the floor is measured again.
    """

    def __init__(self, baseline=None, attempts=3):
        if baseline is not None and not isinstance(baseline, dict):
            with open(baseline) as fid:
                baseline = json.load(fid)
        baseline = baseline or {}
        self.expected = baseline.get("ratios", {})
        self.tolerance = float(baseline.get("tolerance", 2.0))
        if not self.tolerance >= 1.0:
            raise ValueError(
                f"the baseline's tolerance must be at least 1 (got {self.tolerance}): "
                "it is the factor by which a ratio may fall below the baseline"
            )
        self.attempts = int(attempts)
        #: ``{scale: {workload: ratio}}`` kept by :meth:`check`
        self.measured = {}
        #: ``{(scale, workload): [ratio, ...]}``, every measurement made
        self.history = {}

    def floor(self, scale, name):
        """The lowest ratio that passes (``None`` without a baseline value)."""
        expected = self.expected.get(scale, {}).get(name)
        return None if expected is None else expected / self.tolerance

    def check(self, scale, name, ratio, remeasure=None):
        """Record ``ratio``; return why it fails, or ``None`` when it passes.

        Parameters
        ----------
        scale, name : str
            The benchmark scale and the workload.
        ratio : float
            The measured ratio.
        remeasure : callable | None
            Returns a new ratio; called while the best ratio so far is below
            the floor, at most ``attempts`` times.

        Returns
        -------
        message : str | None
            The failure message, naming every measurement, or ``None``.
        """
        floor = self.floor(scale, name)
        tries = [float(ratio)]
        for _ in range(self.attempts if remeasure is not None else 0):
            if floor is None or max(tries) >= floor:
                break
            tries.append(float(remeasure()))
        best = max(tries)
        self.measured.setdefault(scale, {})[name] = best
        self.history[(scale, name)] = tries
        if floor is None or best >= floor:
            return None
        expected = self.expected[scale][name]
        measured = ", ".join(f"{r:.2f}x" for r in tries)
        return (
            f"{name} ({scale}): autoreject_cpp is now at most {best:.2f}x faster than "
            f"autoreject (measured {measured}); the baseline says {expected:.2f}x "
            f"(allowed down to {floor:.2f}x). A change made it slower."
        )

    def to_json(self):
        """The measured ratios as a new baseline (same layout, with the machine)."""
        return dict(
            tolerance=self.tolerance,
            date=time.strftime("%Y-%m-%d"),
            hardware=_hardware(),
            versions=_versions(),
            ratios=self.measured,
        )


def _peak_memory(fn):
    """Peak traced Python/NumPy allocation (bytes) while running ``fn``."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def load_data(kind="eegmmidb", scale="small"):
    """Epochs used by the benchmark.

    Parameters
    ----------
    kind : str
        ``'eegmmidb'`` (232 x 64 x 641 real EEG, needs the shared data),
        ``'synthetic'`` (simulated EEG of size ``scale``, see :data:`SCALES`)
        or ``'meg'`` (300 simulated epochs of the 306 Neuromag channels,
        201 samples; needs the shared data for the sensor geometry).
    scale : str
        ``'tiny'``, ``'small'``, ``'medium'`` or ``'large'`` (synthetic only).

    Returns
    -------
    epochs : mne.Epochs
    """
    from .datasets import load_eegmmidb_epochs, make_synthetic_epochs

    if kind == "eegmmidb":
        return load_eegmmidb_epochs()
    if kind == "meg":
        return make_synthetic_epochs(kind="meg", seed=42, **MEG_SHAPE)
    if kind != "synthetic":
        raise ValueError(f"kind must be 'eegmmidb', 'synthetic' or 'meg'; got {kind!r}.")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}; got {scale!r}.")
    n_epochs, n_channels, sfreq, length = SCALES[scale]
    return make_synthetic_epochs(
        kind="eeg", n_epochs=n_epochs, n_channels=n_channels, sfreq=sfreq,
        tmin=0.0, tmax=length, seed=42,
    )


def _fixed_thresholds(threshes):
    """A ``thresh_func`` returning ``threshes`` (isolates the CV stage)."""

    def thresh_func(epochs, dots=None, picks=None, verbose=None, **kwargs):
        names = [epochs.ch_names[p] for p in picks] if picks is not None else threshes
        return {name: threshes[name] for name in names}

    return thresh_func


class Workloads:
    """The benchmarked calls, for autoreject_cpp and (optionally) autoreject.

    Parameters
    ----------
    epochs : mne.Epochs
        The data every workload runs on (never modified).
    backend : str | None
        autoreject_cpp backend.
    n_jobs : int
        ``n_jobs`` for both libraries.
    oracle : module | None
        The imported ``autoreject`` package, or None.

    Notes
    -----
    ``reject_log``, ``AutoReject.transform`` and ``local_reject_cv`` use a
    model fitted once on first need (and thresholds computed once), so they
    can be timed on their own.
    """

    def __init__(self, epochs, backend=None, n_jobs=1, oracle=None):
        self.epochs = epochs
        # autoreject gets its own copy, made once so no timing includes it
        self._oracle_epochs = epochs.copy() if oracle is not None else None
        self.backend = backend
        self.n_jobs = n_jobs
        self.oracle = oracle
        self._models = {}

    # fitted state shared by several workloads
    def _kw(self):
        return dict(random_state=42, verbose=False, n_jobs=self.n_jobs)

    def model(self, lib):
        """An AutoReject fitted on the epochs (``lib``: 'fr' or 'ar')."""
        if lib not in self._models:
            self._models[lib] = self.fit(lib)
        return self._models[lib]

    def threshes(self):
        """autoreject_cpp's thresholds (identical to autoreject's, tested)."""
        if "threshes" not in self._models:
            self._models["threshes"] = self.compute_thresholds("fr")
        return self._models["threshes"]

    # the workloads: each takes 'fr' (autoreject_cpp) or 'ar' (autoreject)
    def _lib(self, lib):
        import autoreject_cpp

        return autoreject_cpp if lib == "fr" else self.oracle

    def _backend_kw(self, lib):
        return dict(backend=self.backend) if lib == "fr" else {}

    def _epochs(self, lib):
        return self.epochs if lib == "fr" else self._oracle_epochs

    def compute_thresholds(self, lib):
        """``compute_thresholds`` (Bayesian search, random_state=42)."""
        mod = self._lib(lib)
        return mod.compute_thresholds(
            self._epochs(lib), **self._kw(), **self._backend_kw(lib)
        )

    def local_reject_cv(self, lib):
        """``AutoReject.fit`` with the thresholds fixed: the consensus/n_interpolate CV."""
        from unittest import mock

        mod = self._lib(lib)
        fixed = _fixed_thresholds(self.threshes())
        est = mod.AutoReject(thresh_func=fixed, **self._kw(), **self._backend_kw(lib))
        if lib == "fr":
            return est.fit(self._epochs(lib))
        # autoreject 0.5.1 ignores ``thresh_func``: swap its threshold search
        # for the fixed thresholds while it fits
        with mock.patch.object(self.oracle.autoreject, "_compute_thresholds", fixed):
            return est.fit(self._epochs(lib))

    def fit(self, lib):
        """``AutoReject.fit`` with the default grids (the first fit is kept as the model)."""
        mod = self._lib(lib)
        model = mod.AutoReject(**self._kw(), **self._backend_kw(lib)).fit(self._epochs(lib))
        self._models.setdefault(lib, model)
        return model

    def reject_log(self, lib):
        """``get_reject_log`` of the fitted model (the vote)."""
        return self.model(lib).get_reject_log(self._epochs(lib))

    def transform(self, lib):
        """``transform(..., return_log=True)`` with the fitted model."""
        return self.model(lib).transform(self._epochs(lib), return_log=True)

    def ransac_picks(self):
        """None for single-type data, else the most numerous channel type.

        RANSAC (like autoreject's) works on one channel type at a time.
        """
        import mne

        types = [
            mne.channel_type(self.epochs.info, p)
            for p in mne.pick_types(self.epochs.info, meg=True, eeg=True, exclude="bads")
        ]
        if len(set(types)) <= 1:
            return None
        return max(sorted(set(types)), key=types.count)

    def ransac(self, lib):
        """``Ransac.fit`` with the default parameters (see :meth:`ransac_picks`)."""
        mod = self._lib(lib)
        kw = dict(verbose=False, n_jobs=self.n_jobs, **self._backend_kw(lib))
        return mod.Ransac(picks=self.ransac_picks(), **kw).fit(self._epochs(lib))

    def global_thresholds(self, lib):
        """``get_rejection_threshold`` (random_state=42)."""
        mod = self._lib(lib)
        return mod.get_rejection_threshold(
            self._epochs(lib), random_state=42, verbose=False, **self._backend_kw(lib)
        )

    def call(self, name, lib):
        """Run workload ``name`` for ``lib`` ('fr' or 'ar') and return its output."""
        method = {
            "compute_thresholds": self.compute_thresholds,
            "local_reject_cv": self.local_reject_cv,
            "AutoReject.fit": self.fit,
            "reject_log": self.reject_log,
            "AutoReject.transform": self.transform,
            "Ransac.fit": self.ransac,
            "get_rejection_threshold": self.global_thresholds,
        }[name]
        return method(lib)


def same_result(name, ours, ref):
    """Whether autoreject_cpp's output of workload ``name`` matches autoreject's.

    Decisions must be equal and floats within 1e-9 relative (repaired data:
    1e-9 relative with a floor of 1e-10 of the peak).
    """
    import numpy as np

    def close(a, b):
        return bool(np.allclose(a, b, rtol=1e-9, atol=0))

    if name in ("AutoReject.fit", "local_reject_cv"):
        return bool(
            ours.consensus_ == ref.consensus_
            and ours.n_interpolate_ == ref.n_interpolate_
            and ours.threshes_.keys() == ref.threshes_.keys()
            and all(close(ours.threshes_[k], v) for k, v in ref.threshes_.items())
            and all(
                np.array_equal(np.isinf(ours.loss_[k]), np.isinf(v))
                and close(ours.loss_[k][np.isfinite(v)], v[np.isfinite(v)])
                for k, v in ref.loss_.items()
            )
        )
    if name == "compute_thresholds":
        return ours.keys() == ref.keys() and all(close(ours[k], v) for k, v in ref.items())
    if name == "reject_log":
        return bool(
            np.array_equal(ours.labels, ref.labels, equal_nan=True)
            and np.array_equal(ours.bad_epochs, ref.bad_epochs)
        )
    if name == "AutoReject.transform":
        (clean, log), (clean_ref, log_ref) = ours, ref
        data_ref = clean_ref.get_data()
        return bool(
            same_result("reject_log", log, log_ref)
            and clean.drop_log == clean_ref.drop_log
            and np.allclose(
                clean.get_data(), data_ref, rtol=1e-9, atol=1e-10 * np.abs(data_ref).max()
            )
        )
    if name == "Ransac.fit":
        return bool(ours.bad_chs_ == ref.bad_chs_ and close(ours.corr_, ref.corr_))
    if name == "get_rejection_threshold":
        return ours.keys() == ref.keys() and all(close(ours[k], v) for k, v in ref.items())
    raise ValueError(f"Unknown workload {name!r}; expected one of {', '.join(WORKLOADS)}.")


def _versions():
    import mne
    import numpy
    import scipy
    import sklearn

    from . import __version__

    out = dict(
        autoreject_cpp=__version__,
        mne=mne.__version__,
        numpy=numpy.__version__,
        scipy=scipy.__version__,
        sklearn=sklearn.__version__,
        python=platform.python_version(),
    )
    try:
        out["autoreject"] = __import__("autoreject").__version__
    except ImportError:
        pass
    try:
        from . import _core

        out["core"] = _core.__version__
    except ImportError:  # pragma: no cover - not built
        pass
    return out


def _hardware():
    info = dict(machine=platform.machine(), processor=platform.processor(), cpus=os.cpu_count())
    try:
        with open("/proc/cpuinfo") as fid:
            for line in fid:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["blas"] = _blas_kernels()
    info["numpy_simd"] = _numpy_simd()
    try:
        from . import _core

        info["openmp_threads"] = int(_core.max_threads())
        info["backends"] = [row["name"] for row in _core.backends() if row["available"]]
    except ImportError:  # pragma: no cover - not built
        pass
    return info


def _numpy_simd():
    """The SIMD targets NumPy dispatches to on this CPU beyond its baseline
    (e.g. ``['X86_V3']``, or ``['X86_V3', 'X86_V4', ...]`` with AVX-512).
    Some ufuncs (``exp`` among them) have their own code per target, whose
    last bits differ, and the Gaussian process of autoreject's search calls
    them."""
    from numpy._core import _multiarray_umath as umath

    features = umath.__cpu_features__
    return [target for target in umath.__cpu_dispatch__ if features.get(target)]


def _kernel_fingerprint():
    """What decides the last bits of the NumPy/SciPy operations autoreject's
    threshold search depends on: ``{'blas': _blas_kernels(), 'numpy_simd':
    _numpy_simd()}``. Stored references serve a machine with the same
    fingerprint; elsewhere the tests compare with autoreject live."""
    return {"blas": _blas_kernels(), "numpy_simd": _numpy_simd()}


def _blas_kernels():
    """The kernel families NumPy's and SciPy's BLAS libraries picked for this
    CPU (e.g. ``['Haswell']``), sorted and unique. The last bit of a product
    depends on them, and autoreject's threshold search can turn a last-bit
    change into another threshold."""
    import importlib

    from threadpoolctl import threadpool_info

    importlib.import_module("scipy.linalg")  # loads SciPy's BLAS

    return sorted(
        {str(lib.get("architecture")) for lib in threadpool_info() if lib.get("user_api") == "blas"}
    )


def import_oracle():
    """The ``autoreject`` module, or None when it is not installed."""
    try:
        import autoreject
    except ImportError:
        return None
    return autoreject


def run(
    data="eegmmidb",
    backend=None,
    repeat=3,
    oracle=True,
    n_jobs=1,
    scale="small",
    workloads=None,
    oracle_repeat=1,
    memory=True,
    epochs=None,
    oracle_memory=False,
):
    """Time each workload for autoreject_cpp (and autoreject when installed).

    Parameters
    ----------
    data : str
        See :func:`load_data`.
    backend : str | None
        autoreject_cpp backend.
    repeat : int
        Repetitions of autoreject_cpp's calls; the best time is kept.
    oracle : bool
        Whether to run autoreject 0.5.1 too.
    n_jobs : int
        ``n_jobs`` for both libraries.
    scale : str
        Size of the synthetic data (see :data:`SCALES`).
    workloads : list of str | None
        Subset of :data:`WORKLOADS` (None: all).
    oracle_repeat : int
        Repetitions of autoreject's threshold search and fits (slow); its
        other calls run ``repeat`` times.
    memory : bool
        Whether to also trace autoreject_cpp's peak memory (one more run).
    oracle_memory : bool
        Whether to trace autoreject's peak memory too (one more, slower run).
    epochs : mne.Epochs | None
        Use these epochs instead of loading ``data``.

    Returns
    -------
    results : dict
        Per workload: times, ratio, peak memory, decisions identical.
    """
    import mne

    with mne.utils.use_log_level("error"):
        return _run(data, backend, repeat, oracle, n_jobs, scale, workloads,
                    oracle_repeat, memory, epochs, oracle_memory)  # fmt: skip


def _run(data, backend, repeat, oracle, n_jobs, scale, workloads, oracle_repeat, memory, epochs,
         oracle_memory):  # fmt: skip
    import autoreject_cpp

    if epochs is None:
        epochs = load_data(data, scale)
    names = list(WORKLOADS if workloads is None else workloads)
    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown:
        raise ValueError(f"Unknown workload(s) {unknown}; choose from {', '.join(WORKLOADS)}.")
    oracle_mod = import_oracle() if oracle else None
    wl = Workloads(epochs, backend=backend, n_jobs=n_jobs, oracle=oracle_mod)
    # warm the caches outside the timings
    wl.call("reject_log", "fr")
    results = dict(
        data=data if data != "synthetic" else f"synthetic-{scale}",
        shape=list(epochs.get_data(copy=False).shape),
        data_bytes=int(epochs.get_data(copy=False).nbytes),
        backend=autoreject_cpp.get_backend(backend).name,
        n_jobs=n_jobs,
        versions=_versions(),
        hardware=_hardware(),
        date=time.strftime("%Y-%m-%d"),
        workloads={},
    )
    for name in names:
        row = {}
        if oracle_mod is not None:
            n = oracle_repeat if name in _SLOW_ORACLE else repeat
            row["autoreject_s"], ar_out = _best_time(lambda: wl.call(name, "ar"), n)
        row["autoreject_cpp_s"], fr_out = _best_time(lambda: wl.call(name, "fr"), repeat)
        if memory:
            row["autoreject_cpp_peak_bytes"] = _peak_memory(lambda: wl.call(name, "fr"))
        if oracle_mod is not None and oracle_memory:
            row["autoreject_peak_bytes"] = _peak_memory(lambda: wl.call(name, "ar"))
        if oracle_mod is not None:
            row["ratio"] = row["autoreject_s"] / row["autoreject_cpp_s"]
            row["identical"] = same_result(name, fr_out, ar_out)
        results["workloads"][name] = row
    return results


def format_table(results):
    """Render :func:`run`'s results as a text table."""
    lines = [
        f"data: {results['data']} {tuple(results['shape'])}, backend {results['backend']}, "
        f"n_jobs={results['n_jobs']}",
        f"{'workload':<26}{'autoreject':>12}{'autoreject_cpp':>12}{'ratio':>9}{'peak MB':>10}"
        f"{'AR peak MB':>12}  identical",
    ]
    for name, row in results["workloads"].items():
        ar_s = f"{row['autoreject_s']:.3f}s" if "autoreject_s" in row else "-"
        ratio = f"{row['ratio']:.1f}x" if "ratio" in row else "-"
        peak = (
            f"{row['autoreject_cpp_peak_bytes'] / 2**20:>10.1f}"
            if "autoreject_cpp_peak_bytes" in row
            else f"{'-':>10}"
        )
        ar_peak = (
            f"{row['autoreject_peak_bytes'] / 2**20:>12.1f}"
            if "autoreject_peak_bytes" in row
            else f"{'-':>12}"
        )
        lines.append(
            f"{name:<26}{ar_s:>12}{row['autoreject_cpp_s']:>11.3f}s{ratio:>9}"
            f"{peak}{ar_peak}  {row.get('identical', '-')}"
        )
    return "\n".join(lines)


def build_parser(parser=None):
    """Add the benchmark options to ``parser`` (a new one when None)."""
    if parser is None:
        parser = argparse.ArgumentParser(
            prog="python -m autoreject_cpp.bench", description=__doc__.split("\n")[0]
        )
    parser.add_argument("--data", choices=("eegmmidb", "synthetic", "meg"), default="eegmmidb")
    parser.add_argument("--scale", choices=tuple(SCALES), default="small",
                        help="size of the synthetic data (default: small)")
    parser.add_argument("--backend", default=None, choices=("auto", "scalar", "openmp", "cuda"),
                        help="compute backend (default: AUTOREJECT_BACKEND, else auto)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--oracle-repeat", type=int, default=1,
                        help="repetitions of autoreject's fits (default: 1)")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=None)
    parser.add_argument("--no-oracle", action="store_true", help="do not run autoreject")
    parser.add_argument("--no-memory", action="store_true", help="do not trace peak memory")
    parser.add_argument("--oracle-memory", action="store_true",
                        help="also trace autoreject's peak memory (slow)")
    parser.add_argument("--json", help="write the results to this JSON file")
    return parser


def run_from_args(args):
    """Run the benchmark described by parsed ``args``; print the table."""
    results = run(
        args.data, args.backend, args.repeat, not args.no_oracle, args.n_jobs,
        scale=args.scale, workloads=args.workloads, oracle_repeat=args.oracle_repeat,
        memory=not args.no_memory, oracle_memory=args.oracle_memory,
    )
    print(format_table(results))
    if args.json:
        from ._fileio import atomic_path

        with atomic_path(Path(args.json).absolute()) as tmp, open(tmp, "w") as fid:
            json.dump(results, fid, indent=2)
    return results


def main(argv=None):
    """Command-line entry point (``python -m autoreject_cpp.bench``)."""
    run_from_args(build_parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
