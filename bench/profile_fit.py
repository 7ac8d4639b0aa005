"""Where the time of ``AutoReject.fit`` goes, part by part.

Times one ``AutoReject.fit`` (default grids, ``random_state=42``,
``n_jobs=1``) on EEGMMIDB (``../shared/data``) or on the simulated MEG-sized
epochs, with every call of the parts below timed on the calling (main)
thread. A part's time excludes the parts it calls, so the parts and the rest
add up to the whole fit; calls made on worker threads count in the part that
started them.

Parts:

* ``kernels``: the C++ core (peak-to-peak, medians, kept-epoch losses,
  prefix sums, copies);
* ``surrogate``: the Gaussian-process surrogate of the threshold search (its
  NumPy operations and SciPy's ``potrf``/``potrs``/``trtrs``);
* ``leave_one_out``: the augmentation's products (one BLAS ``gemv`` per
  epoch and channel, as autoreject computes them);
* ``matrices``: spline and field-mapping matrices (LAPACK ``gesdd``
  pseudo-inverses, MNE's ``_compute_mapping_matrix``);
* ``meg_dots``: MNE's lead-field dot products of the MEG sensors;
* ``repairs``: the interpolation products of the consensus /
  n_interpolate cross-validation;
* ``rest``: everything else (Python, MNE's bookkeeping, NumPy glue).

Every part except ``kernels`` and ``rest`` is a computation autoreject 0.5.1
also performs, with the same library routines, and that autoreject_cpp keeps
on those routines so that its numbers are autoreject's bit for bit. Their sum
with ``kernels`` is the time no rewrite of the Python glue can remove; the
ratio of autoreject's fit time to it is the best ratio reachable while the
results stay bit for bit. Best of ``--repeat`` fits (by total). Also timed
alone: one surrogate fit and prediction at the search's typical size (45
observations, a grid of 464 candidates), and its LAPACK calls, the share a
rewrite of the surrogate in C++ would have to keep::

    python bench/profile_fit.py --data eegmmidb|meg [--repeat 3] [--json FILE]
"""

# License: BSD-3-Clause

import argparse
import functools
import json
import threading
import time
from pathlib import Path

import numpy as np

import autoreject_cpp
from autoreject_cpp import _bayesopt, _lapack, _mne_compat, interpolation
from autoreject_cpp.backends import _base, _core
from autoreject_cpp.bench import _hardware, _versions, load_data

HERE = Path(__file__).resolve().parent

#: (owner, attribute) of each timed callable, by part
PARTS = {
    "kernels": [
        (_core.CoreBackend, name)
        for name in (
            "ptp", "take_rows", "median", "median_of_rows", "prefix_sums",
            "kept_means", "threshold_losses", "threshold_scores",
            "ransac_correlations",
        )
    ],  # fmt: skip
    "surrogate": [
        (_bayesopt._FlatGP, "fit"),
        (_bayesopt._FlatGP, "predict"),
        (_bayesopt, "expected_improvement"),
    ],
    "leave_one_out": [(interpolation.Interpolator, "leave_one_out")],
    "matrices": [
        (interpolation._EEGSpline, "matrices"),
        (interpolation.Interpolator, "_prefetch_meg"),
        (interpolation.Interpolator, "meg_matrix"),
        (_mne_compat.MegMapping, "matrix"),
        (_lapack, "pinv"),
    ],
    "meg_dots": [(_mne_compat, "compute_meg_dots"), (interpolation, "compute_meg_dots")],
    "repairs": [(_base.Backend, "interp_repair"), (_base.Backend, "interp_apply")],
}


def original(owner, name):
    """The callable ``owner.name`` a wrapper replaces: a class's own attribute
    (the function, not a bound method), or a module's."""
    return owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)


class PartTimer:
    """Exclusive wall time per part, on the main thread only.

    Inside the ``with`` block every callable of ``parts`` is replaced by a
    timed wrapper; leaving it puts the originals back.

    Parameters
    ----------
    parts : dict of str to list of (object, str)
        The attributes timed, by part (default :data:`PARTS`).
    clock : callable
        Returns the time in seconds (default :func:`time.perf_counter`).
    """

    def __init__(self, parts=None, clock=time.perf_counter):
        self.parts = PARTS if parts is None else parts
        self.clock = clock
        self.totals = {}
        self._stack = []  # [part, start, time spent in nested parts]
        self._saved = []

    def wrap(self, part, func):
        @functools.wraps(func)
        def timed(*args, **kwargs):
            if threading.current_thread() is not threading.main_thread():
                return func(*args, **kwargs)
            frame = [part, self.clock(), 0.0]
            self._stack.append(frame)
            try:
                return func(*args, **kwargs)
            finally:
                self._stack.pop()
                spent = self.clock() - frame[1]
                self.totals[part] = self.totals.get(part, 0.0) + spent - frame[2]
                if self._stack:
                    self._stack[-1][2] += spent

        return timed

    def __enter__(self):
        for part, targets in self.parts.items():
            for owner, name in targets:
                func = original(owner, name)
                self._saved.append((owner, name, func))
                setattr(owner, name, self.wrap(part, func))
        return self

    def __exit__(self, *exc):
        for owner, name, func in reversed(self._saved):
            setattr(owner, name, func)
        self._saved.clear()


def profile(epochs, repeat):
    """The best of ``repeat`` timed fits: its total and its parts (seconds)."""
    kw = dict(random_state=42, verbose=False, n_jobs=1)
    autoreject_cpp.AutoReject(**kw).fit(epochs)  # warm caches and the core
    best = None
    for _ in range(repeat):
        with PartTimer() as timer:
            start = time.perf_counter()
            autoreject_cpp.AutoReject(**kw).fit(epochs)
            total = time.perf_counter() - start
        if best is None or total < best[0]:
            best = (total, dict(timer.totals))
    total, parts = best
    parts = {name: parts.get(name, 0.0) for name in PARTS}
    parts["rest"] = total - sum(parts.values())
    return total, parts


def surrogate_split(n_obs=45, n_grid=464, repeat=640):
    """Seconds of one surrogate fit + prediction, and of its LAPACK calls alone.

    The grid and observations are synthetic thresholds (volts) of the
    search's typical size; the LAPACK calls, the ``potrf``, ``potrs`` and
    ``trtrs`` of :class:`autoreject_cpp._bayesopt._FlatGP`, are timed inside
    the same iterations.
    """
    rng = np.random.default_rng(0)
    grid = np.sort(rng.uniform(1e-5, 3e-4, n_grid))
    x = grid[np.linspace(0, n_grid - 1, n_obs).astype(int)]
    y = rng.uniform(1e-6, 2e-6, n_obs)
    gp = _bayesopt._FlatGP(grid)
    timer = PartTimer({"lapack": [(gp, "_potrf"), (gp, "_potrs"), (gp, "_trtrs")]})
    with timer:
        start = time.perf_counter()
        for _ in range(repeat):
            gp.fit(x, y)
            _bayesopt.expected_improvement(gp, y.min())
        whole = (time.perf_counter() - start) / repeat
    return whole, timer.totals.get("lapack", 0.0) / repeat


def main(argv=None):
    """Profile the fit and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=("eegmmidb", "meg"), default="eegmmidb")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    epochs = load_data(args.data)
    total, parts = profile(epochs, args.repeat)
    floor = total - parts["rest"]
    whole, lapack = surrogate_split()
    results = dict(
        data=args.data,
        shape=list(epochs.get_data(copy=False).shape),
        backend=autoreject_cpp.get_backend().name,
        repeat=args.repeat,
        versions=_versions(),
        hardware=_hardware(),
        date=time.strftime("%Y-%m-%d"),
        total_s=total,
        parts_s=parts,
        floor_s=floor,
        surrogate_iteration_s=whole,
        surrogate_iteration_lapack_s=lapack,
    )
    for name, seconds in parts.items():
        print(f"{name:>14}  {seconds:7.3f} s  {100 * seconds / total:5.1f} %")
    print(f"{'fit':>14}  {total:7.3f} s; without 'rest': {floor:.3f} s")
    print(
        f"one surrogate fit + prediction {1e6 * whole:.0f} us, of which LAPACK "
        f"{1e6 * lapack:.0f} us ({100 * lapack / whole:.0f} %)"
    )
    path = args.json or HERE / "results" / f"profile_fit_{args.data}.json"
    with open(path, "w") as fid:
        json.dump(results, fid, indent=2)


if __name__ == "__main__":
    main()
