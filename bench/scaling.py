"""How autoreject_cpp's time grows with n_epochs, n_channels, n_times and n_jobs.

Runs ``AutoReject.fit``, ``AutoReject.transform`` and ``Ransac.fit`` on the
EEGMMIDB epochs of ``../shared/data`` (232 x 64 x 641):

* n_epochs 58, 116, 232 and 464 (the last: the epochs followed by their
  time-reversed copies, which keep the spectra and amplitudes of real EEG);
* n_channels 16, 32 and 64 (every fourth, every second and every channel of
  the 10-10 montage, so the subsets still cover the head);
* n_times 161, 321 and 641 (the epochs cropped to their first 1, 2 or 4 s);
* n_jobs 1 and 2 at the full size, and one core only (the core's kernels
  and BLAS limited to one thread, ``n_jobs=1``) against the default (with
  ``n_jobs=1`` the OpenMP kernels use every core).

Best of ``--repeat`` runs each. The growth exponent is the slope of
log(time) against log(size) between the smallest and largest sizes (1 is
linear). Writes ``bench/results/scaling.json`` and prints a table::

    python bench/scaling.py [--repeat 3] [--backend openmp] [--json FILE]
"""

# License: BSD-3-Clause

import argparse
import json
import math
import time
from pathlib import Path

import mne
import numpy as np

import autoreject_cpp
from autoreject_cpp.bench import _best_time, _hardware, _versions
from autoreject_cpp.datasets import load_eegmmidb_epochs

HERE = Path(__file__).resolve().parent


def _with_epochs(epochs, data):
    return mne.EpochsArray(data, epochs.info, tmin=epochs.tmin, verbose=False)


def _variants(epochs):
    data = epochs.get_data()
    sizes = {}
    for n in (58, 116, 232):
        sizes[("n_epochs", n)] = _with_epochs(epochs, data[:n])
    sizes[("n_epochs", 464)] = _with_epochs(epochs, np.concatenate([data, data[..., ::-1]]))
    for step in (4, 2):
        names = epochs.ch_names[::step]
        sizes[("n_channels", len(names))] = epochs.copy().pick(names)
    sizes[("n_channels", len(epochs.ch_names))] = epochs
    for n in (161, 321, 641):
        sizes[("n_times", n)] = _with_epochs(epochs, data[..., :n])
    return sizes


def _time_all(epochs, backend, n_jobs, repeat):
    kw = dict(random_state=42, verbose=False, n_jobs=n_jobs, backend=backend)
    fit_s, model = _best_time(lambda: autoreject_cpp.AutoReject(**kw).fit(epochs), repeat)
    transform_s, _ = _best_time(lambda: model.transform(epochs), repeat)
    ransac_s, _ = _best_time(
        lambda: autoreject_cpp.Ransac(verbose=False, n_jobs=n_jobs, backend=backend).fit(epochs),
        repeat,
    )
    return {"AutoReject.fit": fit_s, "AutoReject.transform": transform_s, "Ransac.fit": ransac_s}


def _exponent(rows, axis):
    sizes = sorted(size for kind, size in rows if kind == axis)
    lo, hi = sizes[0], sizes[-1]
    return {
        name: math.log(rows[(axis, hi)][name] / rows[(axis, lo)][name]) / math.log(hi / lo)
        for name in rows[(axis, lo)]
    }


def main(argv=None):
    """Measure and write the scaling results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", default=None)
    parser.add_argument("--json", default=str(HERE / "results" / "scaling.json"))
    args = parser.parse_args(argv)
    mne.set_log_level("error")
    epochs = load_eegmmidb_epochs()
    # warm the caches before timing anything
    autoreject_cpp.AutoReject(random_state=42, verbose=False, backend=args.backend).fit(epochs[:40])
    rows = {}
    for key, variant in _variants(epochs).items():
        rows[key] = _time_all(variant, args.backend, 1, args.repeat)
        print(key, {k: round(v, 3) for k, v in rows[key].items()}, flush=True)
    n_jobs2 = _time_all(epochs, args.backend, 2, args.repeat)
    from threadpoolctl import threadpool_limits

    from autoreject_cpp._parallel import limit_threads

    # the kernels (and BLAS, and autoreject_cpp's thread pools) on one thread
    with threadpool_limits(limits=1), limit_threads(1):
        one_core = _time_all(epochs, args.backend, 1, args.repeat)
    full = rows[("n_epochs", 232)]
    results = dict(
        data="eegmmidb",
        backend=autoreject_cpp.get_backend(args.backend).name,
        repeat=args.repeat,
        versions=_versions(),
        hardware=_hardware(),
        date=time.strftime("%Y-%m-%d"),
        times_s={f"{kind}={size}": row for (kind, size), row in rows.items()},
        exponent_n_epochs=_exponent(rows, "n_epochs"),
        exponent_n_channels=_exponent(rows, "n_channels"),
        exponent_n_times=_exponent(rows, "n_times"),
        n_jobs_2_s=n_jobs2,
        speedup_n_jobs_2={name: full[name] / n_jobs2[name] for name in full},
        one_core_s=one_core,
        speedup_all_cores_vs_one=(
            None if one_core is None else {name: one_core[name] / full[name] for name in full}
        ),
    )
    print(json.dumps({k: results[k] for k in (
        "exponent_n_epochs", "exponent_n_channels", "exponent_n_times", "speedup_n_jobs_2",
        "speedup_all_cores_vs_one")}, indent=2))  # fmt: skip
    with open(args.json, "w") as fid:
        json.dump(results, fid, indent=2)


if __name__ == "__main__":
    main()
