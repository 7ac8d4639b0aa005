"""Generate the autoreject 0.5.1 reference outputs used by the retro-compat tests.

Runs the original autoreject (the oracle) on three deterministic data sets
and stores its inputs and outputs in ``references/<name>.npz``:

``synthetic_eeg``
    :func:`autoreject_cpp.datasets.make_synthetic_epochs` EEG (seed 42).
``synthetic_meg``
    The same generator on the real Neuromag geometry: magnetometers plus
    gradiometers (two channel types, so per-type handling is covered).
``eegmmidb``
    Real EEG: EEGMMIDB subject 1, runs 3-4, one 2-s epoch per annotation.

Each file holds the epochs as plain arrays (see
``autoreject_cpp.datasets._epochs_to_arrays``; the data are rounded to float32
so they are stored exactly and compactly) and, computed on epochs rebuilt
from those arrays:

* ``vote_*``: ``_AutoReject._vote_bad_epochs`` labels and bad-sensor counts
  with the thresholds AutoReject learnt;
* ``local_*``: ``_AutoReject.get_reject_log`` for fixed (consensus,
  n_interpolate) pairs;
* ``thresh_bayes`` / ``thresh_random``: ``compute_thresholds`` with both
  methods (``random_state=42``);
* ``loo_*``: the leave-one-out interpolation (``autoreject.utils.
  clean_by_interp``) that augments the data, for the first epochs;
* ``ar_*``: ``AutoReject(cv=..., random_state=42)`` fit, reject log and the
  repaired values of ``transform`` (only the interpolated channel/epoch
  pairs; everything else equals the input, which is checked here);
* ``ransac_*``: ``Ransac(random_state=42)`` correlations, bad channels and
  channel subsets;
* ``grt_*``: ``get_rejection_threshold(random_state=42)``;
* ``versions``, ``config``, ``timings``: JSON strings.

Usage::

    python references/generate_references.py            # all data sets
    python references/generate_references.py synthetic_eeg

Requires the oracle environment pinned in ``constraints-oracle.txt`` and the
shared data folder (``AUTOREJECT_DATA`` or ``<repo>/../shared/data``).
"""

# License: BSD-3-Clause

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "python"))  # autoreject_cpp, when not installed

OUT_DIR = REPO / "references"
SEED = 42
#: (consensus, n_interpolate) pairs for the fixed-parameter reject logs
LOCAL_PARAMS = ((0.1, 1), (0.3, 4), (0.5, 8), (1.0, 0))
N_LOO_EPOCHS = 8


def _versions():
    import autoreject
    import mne
    import scipy
    import sklearn

    return dict(
        autoreject=autoreject.__version__,
        mne=mne.__version__,
        numpy=np.__version__,
        scipy=scipy.__version__,
        sklearn=sklearn.__version__,
        python=sys.version.split()[0],
    )


def _make_epochs(name):
    """Build the input epochs of one data set; returns (epochs, config)."""
    from autoreject_cpp import datasets

    if name == "synthetic_eeg":
        config = dict(kind="eeg", n_epochs=60, n_channels=32, sfreq=160.0, seed=SEED)
        return datasets.make_synthetic_epochs(**config), config
    if name == "synthetic_meg":
        config = dict(
            kind="meg", n_epochs=40, n_channels=60, sfreq=100.0, tmin=-0.2,
            tmax=0.8, seed=SEED,
        )  # fmt: skip
        return datasets.make_synthetic_epochs(**config), config
    if name == "eegmmidb":
        config = dict(
            subject=1, runs=(3, 4), tmin=0.0, tmax=2.0, chunk_duration=None,
            float32=True,
        )  # fmt: skip
        kwargs = {k: v for k, v in config.items() if k != "float32"}
        epochs = datasets.load_eegmmidb_epochs(**kwargs)
        # round to float32 so the stored data are exact and half the size
        epochs._data = epochs._data.astype(np.float32).astype(np.float64)
        return epochs, config
    raise ValueError(f"Unknown data set {name!r}; choose from {DATASETS}.")


def _dict_arrays(prefix, mapping, ch_names):
    """Store a {ch_name: value} dict as values aligned to ``ch_names``."""
    missing = [ch for ch in ch_names if ch not in mapping]
    if missing or len(mapping) != len(ch_names):
        raise RuntimeError(f"{prefix}: channels differ from picks: {missing}")
    return {prefix: np.array([mapping[ch] for ch in ch_names], dtype=np.float64)}


def generate(name, ar_cv=5, ransac_picks=None):
    """Run the oracle on one data set and write ``references/<name>.npz``."""
    from autoreject_cpp.bench import _hardware
    from autoreject_cpp.datasets import _epochs_from_arrays, _epochs_to_arrays

    epochs_in, config = _make_epochs(name)
    out = _epochs_to_arrays(epochs_in, prefix="epochs_")
    # everything runs on the epochs *as the tests will rebuild them*
    epochs = _epochs_from_arrays(out, prefix="epochs_")
    if not np.array_equal(epochs.get_data(), epochs_in.get_data()):
        raise RuntimeError("Rebuilt epochs differ from the generated ones.")
    timings = oracle_outputs(out, ar_cv=ar_cv, ransac_picks=ransac_picks)

    config.update(name=name, ar_cv=ar_cv, ransac_picks=ransac_picks, seed=SEED)
    out["config"] = np.array(json.dumps(config))
    out["versions"] = np.array(json.dumps(_versions()))
    out["timings"] = np.array(json.dumps({k: round(v, 2) for k, v in timings.items()}))
    # the Bayesian threshold search can take other thresholds when the BLAS
    # kernels or NumPy's SIMD targets differ (the tests compare with
    # autoreject live then)
    hardware = _hardware()
    out["blas"] = np.array(json.dumps(hardware["blas"]))
    out["numpy_simd"] = np.array(json.dumps(hardware["numpy_simd"]))

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    fname = OUT_DIR / f"{name}.npz"
    np.savez_compressed(fname, **out)
    print(
        f"{name}: {epochs.get_data().shape} -> {fname.name} "
        f"({fname.stat().st_size / 1e6:.2f} MB); oracle timings (s): {timings}"
    )
    return fname


def oracle_outputs(out, ar_cv=5, ransac_picks=None):
    """Run the oracle on the epochs stored in ``out`` (the ``epochs_*``
    arrays) and add its outputs to ``out``; returns the timings (s)."""
    import autoreject
    from autoreject.autoreject import _AutoReject
    from autoreject.utils import _get_picks_by_type, _handle_picks, clean_by_interp

    from autoreject_cpp.datasets import _epochs_from_arrays

    timings = dict()
    epochs = _epochs_from_arrays(out, prefix="epochs_")
    data = epochs.get_data()
    ch_names = epochs.ch_names

    picks = _handle_picks(epochs.info, None)
    picks_by_type = _get_picks_by_type(epochs.info, picks)
    ch_types = [ch_type for ch_type, _ in picks_by_type]
    out["ch_types_picked"] = np.array(ch_types)
    for ch_type, this_picks in picks_by_type:
        out[f"picks_{ch_type}"] = np.array(this_picks, dtype=np.int64)
    pick_names = [ch_names[p] for p in picks]
    out["thresh_ch_names"] = np.array(pick_names)

    # --- AutoReject fit / transform ---------------------------------------
    t0 = time.perf_counter()
    ar = autoreject.AutoReject(cv=ar_cv, random_state=SEED, verbose=False)
    ar.fit(epochs)
    timings["autoreject_fit"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    clean, reject_log = ar.transform(epochs, return_log=True)
    timings["autoreject_transform"] = time.perf_counter() - t0
    out["ar_cv"] = np.int64(ar_cv)
    out["ar_n_interpolate_grid"] = np.asarray(ar.n_interpolate, dtype=np.int64)
    out["ar_consensus_grid"] = np.asarray(ar.consensus, dtype=np.float64)
    out["ar_picks"] = np.asarray(ar.picks_, dtype=np.int64)
    out.update(_dict_arrays("ar_threshes", ar.threshes_, pick_names))
    for ch_type in ch_types:
        out[f"ar_loss_{ch_type}"] = np.asarray(ar.loss_[ch_type], dtype=np.float64)
        out[f"ar_consensus_{ch_type}"] = np.float64(ar.consensus_[ch_type])
        out[f"ar_n_interpolate_{ch_type}"] = np.int64(ar.n_interpolate_[ch_type])
    out["ar_labels"] = np.asarray(reject_log.labels, dtype=np.float64)
    out["ar_bad_epochs"] = np.asarray(reject_log.bad_epochs, dtype=bool)
    kept = np.flatnonzero(~reject_log.bad_epochs)
    clean_data = clean.get_data()
    if clean_data.shape[0] != len(kept):
        raise RuntimeError("transform dropped other epochs than bad_epochs.")
    pairs = np.argwhere(reject_log.labels[kept] == 2)  # (kept row, channel)
    expected = data[kept].copy()
    expected[pairs[:, 0], pairs[:, 1]] = clean_data[pairs[:, 0], pairs[:, 1]]
    if not np.array_equal(expected, clean_data):
        raise RuntimeError("transform changed values outside label == 2.")
    out["ar_repaired_pairs"] = np.c_[kept[pairs[:, 0]], pairs[:, 1]].astype(np.int64)
    out["ar_repaired_values"] = clean_data[pairs[:, 0], pairs[:, 1]]

    # --- votes and fixed-parameter reject logs ----------------------------
    t0 = time.perf_counter()
    out["local_params"] = np.array(LOCAL_PARAMS, dtype=np.float64)
    for ch_type, this_picks in picks_by_type:
        local = _AutoReject(picks=this_picks, verbose=False)
        local.threshes_ = dict(ar.threshes_)
        local.picks_ = np.array(this_picks)
        labels, counts = local._vote_bad_epochs(epochs, picks=this_picks)
        out[f"vote_labels_{ch_type}"] = np.asarray(labels, dtype=np.float64)
        out[f"vote_counts_{ch_type}"] = np.asarray(counts, dtype=np.int64)
        all_labels, all_bad = [], []
        for consensus, n_interp in LOCAL_PARAMS:
            local.consensus_ = {ch_type: consensus}
            local.n_interpolate_ = {ch_type: int(n_interp)}
            log = local.get_reject_log(epochs, picks=this_picks)
            all_labels.append(log.labels)
            all_bad.append(log.bad_epochs)
        out[f"local_labels_{ch_type}"] = np.array(all_labels, dtype=np.float64)
        out[f"local_bad_epochs_{ch_type}"] = np.array(all_bad, dtype=bool)
    timings["votes"] = time.perf_counter() - t0

    # --- per-channel thresholds, both methods -----------------------------
    for key, method in (("bayes", "bayesian_optimization"), ("random", "random_search")):
        t0 = time.perf_counter()
        threshes = autoreject.compute_thresholds(
            epochs, method=method, random_state=SEED, picks=None, augment=True,
            verbose=False, n_jobs=1,
        )  # fmt: skip
        timings[f"compute_thresholds_{key}"] = time.perf_counter() - t0
        out.update(_dict_arrays(f"thresh_{key}", threshes, pick_names))

    # --- leave-one-out interpolation (data augmentation) ------------------
    t0 = time.perf_counter()
    out["loo_n_epochs"] = np.int64(min(N_LOO_EPOCHS, len(epochs)))
    for ch_type, this_picks in picks_by_type:
        interp = clean_by_interp(epochs.copy(), picks=this_picks, verbose=False)
        out[f"loo_{ch_type}"] = interp.get_data()[:N_LOO_EPOCHS][:, this_picks]
    timings["clean_by_interp"] = time.perf_counter() - t0

    # --- RANSAC -----------------------------------------------------------
    t0 = time.perf_counter()
    ransac_params = dict(
        n_resample=50, min_channels=0.25, min_corr=0.75, unbroken_time=0.4,
        random_state=SEED,
    )  # fmt: skip
    ransac = autoreject.Ransac(picks=ransac_picks, verbose=False, n_jobs=1, **ransac_params)
    ransac.fit(epochs)
    timings["ransac_fit"] = time.perf_counter() - t0
    out["ransac_picks"] = np.array("" if ransac_picks is None else ransac_picks)
    out["ransac_params"] = np.array(json.dumps(ransac_params))
    out["ransac_corr"] = np.asarray(ransac.corr_, dtype=np.float64)
    out["ransac_bad_chs"] = np.array(ransac.bad_chs_, dtype=str)
    out["ransac_ch_subsets"] = np.array(ransac.ch_subsets_, dtype=str)

    # --- global thresholds ------------------------------------------------
    t0 = time.perf_counter()
    reject = autoreject.get_rejection_threshold(
        epochs, decim=1, random_state=SEED, cv=5, verbose=False
    )
    timings["get_rejection_threshold"] = time.perf_counter() - t0
    out["grt_keys"] = np.array(list(reject), dtype=str)
    out["grt_values"] = np.array([reject[k] for k in reject], dtype=np.float64)

    print(
        f"  consensus_={ar.consensus_} n_interpolate_={ar.n_interpolate_} "
        f"bad epochs={int(reject_log.bad_epochs.sum())}/{len(epochs)} "
        f"repaired pairs={len(pairs)} ransac bad={ransac.bad_chs_} reject={reject}"
    )
    return timings


#: data set name -> keyword arguments of :func:`generate`
DATASETS = {
    "synthetic_eeg": dict(ar_cv=10),
    "synthetic_meg": dict(ar_cv=5, ransac_picks="mag"),
    "eegmmidb": dict(ar_cv=5),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"any of {list(DATASETS)}")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(DATASETS)
    if unknown:
        parser.error(f"unknown data set(s) {sorted(unknown)}; choose from {list(DATASETS)}")
    warnings.simplefilter("ignore", FutureWarning)
    for name in args.names or list(DATASETS):
        generate(name, **DATASETS[name])


if __name__ == "__main__":
    main()
