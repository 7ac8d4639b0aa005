"""autoreject_cpp against stored autoreject 0.5.1 outputs (``references/``).

The references were produced by ``references/generate_references.py`` with the
original autoreject on deterministic data (see ``references/README.md``).
Decisions (labels, bad epochs, chosen parameters, bad channels, channel
subsets) must be identical; floats must agree to ``rtol=1e-9``. Signals that
cross zero (interpolated values) additionally get an absolute tolerance of
1e-12 times their peak amplitude, far below float64 round-off of the
operands.

The stored outputs hold on machines whose BLAS picks the same kernels as the
one that made them (``blas`` in the file): autoreject's Bayesian threshold
search can turn a last-bit difference of a product into another threshold,
and everything downstream follows (seen: one of 32 thresholds of
``synthetic_eeg`` on an Intel machine with OpenBLAS's SkylakeX kernels, for
autoreject itself as for autoreject_cpp). On other kernels the tests compare
with autoreject 0.5.1 run on the stored epochs here and now, or, without
it, skip the comparisons that depend on the search. Otherwise nothing here
imports autoreject. A missing autoreject_cpp name fails the test (it does not
skip).
"""

# License: BSD-3-Clause

import functools
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from _data import core_backends

REF_DIR = Path(__file__).resolve().parents[2] / "references"  # <repo>/tests/python
NAMES = ("synthetic_eeg", "synthetic_meg", "eegmmidb")
SEED = 42
RTOL = 1e-9
#: times the peak of the reference signal. Repaired values are sums of many
#: products, and near zero crossings no elementwise rtol can hold across BLAS
#: kernels: on a 16-core Intel Xeon (numpy 2.5.2, OpenBLAS with AVX-512), 77 of
#: EEGMMIDB's 945,024 transformed values differed from autoreject run on the
#: same machine by up to 4.4e-12 of the peak, for every backend (numpy too).
SIGNAL_ATOL = 1e-10

#: BLAS kernels of the machine that made the files without a ``blas`` entry
#: (a 2-core AMD EPYC, where NumPy's OpenBLAS picked its Haswell kernels)
LEGACY_BLAS = ["Haswell"]
#: stored outputs that depend on the Bayesian threshold search (by prefix)
SEARCH_DEPENDENT = ("ar_", "thresh_bayes")

pytestmark = pytest.mark.retrocompat


def _oracle_outputs(stored):
    """autoreject's outputs on the stored epochs, computed here and now by
    the reference generator (None without autoreject)."""
    import importlib.util

    if importlib.util.find_spec("autoreject") is None:
        return None
    path = REF_DIR / "generate_references.py"
    spec = importlib.util.spec_from_file_location("_generate_references", path)
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    config = json.loads(str(stored["config"]))
    out = {key: value for key, value in stored.items() if key.startswith("epochs_")}
    generator.oracle_outputs(out, ar_cv=config["ar_cv"], ransac_picks=config["ransac_picks"])
    return {**stored, **out}


class Reference:
    """One reference file: the stored arrays plus the rebuilt epochs.

    When this machine's BLAS kernels differ from those that made the file,
    the arrays are autoreject's outputs computed here (``live``), or, without
    autoreject, the outputs that depend on the threshold search skip.
    """

    def __init__(self, name):
        from autoreject_cpp.bench import _kernel_fingerprint

        path = REF_DIR / f"{name}.npz"
        if not path.is_file():
            raise FileNotFoundError(
                f"Reference {path} is missing; regenerate it with "
                f"'python references/generate_references.py {name}'."
            )
        with np.load(path, allow_pickle=False) as npz:
            self.arrays = {key: npz[key] for key in npz.files}
        self.name = name
        self.config = json.loads(str(self.arrays["config"]))
        self.ch_types = [str(t) for t in self.arrays["ch_types_picked"]]
        made_on = {
            "blas": json.loads(str(self.arrays["blas"])) if "blas" in self.arrays else LEGACY_BLAS,
            # files from before the entry: NumPy's targets are not known
            "numpy_simd": (
                json.loads(str(self.arrays["numpy_simd"]))
                if "numpy_simd" in self.arrays
                else None
            ),
        }
        here = _kernel_fingerprint()
        self.live = False
        self.skip_reason = None
        if made_on != here:
            live = _oracle_outputs(self.arrays)
            if live is None:
                self.skip_reason = (
                    f"{name}.npz was made with BLAS kernels {made_on['blas']} and "
                    f"NumPy SIMD targets {made_on['numpy_simd']}, this machine has "
                    f"{here['blas']} and {here['numpy_simd']}: autoreject's threshold "
                    "search may differ here; install autoreject 0.5.1 to compare live"
                )
            else:
                self.arrays, self.live = live, True

    def __getitem__(self, key):
        if self.skip_reason and key.startswith(SEARCH_DEPENDENT):
            pytest.skip(self.skip_reason)
        return self.arrays[key]

    @functools.cached_property
    def epochs(self):
        from autoreject_cpp.datasets import _epochs_from_arrays

        return _epochs_from_arrays(self.arrays, prefix="epochs_")

    def picks(self, ch_type):
        return self.arrays[f"picks_{ch_type}"]

    def threshes(self, key):
        """A stored {channel name: threshold} dict (``ar_threshes`` etc.)."""
        names = [str(name) for name in self.arrays["thresh_ch_names"]]
        return dict(zip(names, self[key].tolist()))

    def expected_clean_data(self, bad_epochs):
        """Input data without the bad epochs, with the repaired values put in."""
        data = self.epochs.get_data()
        pairs = self["ar_repaired_pairs"]
        data[pairs[:, 0], pairs[:, 1]] = self["ar_repaired_values"]
        return data[~bad_epochs]


@functools.lru_cache(maxsize=None)
def _reference(name):
    return Reference(name)


@functools.lru_cache(maxsize=None)
def _fitted(name):
    """autoreject_cpp.AutoReject fitted like the oracle, with its transform."""
    import autoreject_cpp

    ref = _reference(name)
    ar = autoreject_cpp.AutoReject(cv=int(ref["ar_cv"]), random_state=SEED, verbose=False)
    ar.fit(ref.epochs)
    clean, reject_log = ar.transform(ref.epochs, return_log=True)
    return ar, clean, reject_log


@pytest.fixture(scope="module", params=NAMES)
def ref(request):
    return _reference(request.param)


def _assert_close(actual, desired, err_msg=""):
    assert_allclose(np.asarray(actual, float), desired, rtol=RTOL, atol=0, err_msg=err_msg)


def _assert_signal_close(actual, desired, err_msg=""):
    atol = SIGNAL_ATOL * np.abs(desired).max() if np.size(desired) else 0.0
    assert_allclose(actual, desired, rtol=RTOL, atol=atol, err_msg=err_msg)


def _assert_threshes(actual, expected, what):
    assert sorted(actual) == sorted(expected), f"{what}: channels differ"
    names = list(expected)
    _assert_close(
        [actual[name] for name in names],
        np.array([expected[name] for name in names]),
        err_msg=f"{what} (channels in order {names})",
    )


def _local(ref, ch_type):
    """A autoreject_cpp LocalAutoReject holding the oracle's fitted thresholds."""
    from autoreject_cpp.local_reject import LocalAutoReject

    local = LocalAutoReject(picks=ref.picks(ch_type), verbose=False)
    local.threshes_ = ref.threshes("ar_threshes")
    local.picks_ = np.array(ref.picks(ch_type))
    return local


class TestVote:
    """Per-channel votes and fixed-parameter reject logs (``_AutoReject``)."""

    def test_public_alias(self):
        import autoreject_cpp
        from autoreject_cpp.local_reject import LocalAutoReject

        assert autoreject_cpp._AutoReject is LocalAutoReject

    def test_vote_bad_epochs(self, ref):
        for ch_type in ref.ch_types:
            local = _local(ref, ch_type)
            labels, counts = local._vote_bad_epochs(ref.epochs, picks=ref.picks(ch_type))
            assert_array_equal(labels, ref[f"vote_labels_{ch_type}"], err_msg=ch_type)
            assert_array_equal(counts, ref[f"vote_counts_{ch_type}"], err_msg=ch_type)

    def test_fixed_parameter_reject_logs(self, ref):
        for ch_type in ref.ch_types:
            local = _local(ref, ch_type)
            for k, (consensus, n_interp) in enumerate(ref["local_params"]):
                local.consensus_ = {ch_type: float(consensus)}
                local.n_interpolate_ = {ch_type: int(n_interp)}
                log = local.get_reject_log(ref.epochs, picks=ref.picks(ch_type))
                msg = f"{ch_type}, consensus={consensus}, n_interpolate={n_interp}"
                assert_array_equal(
                    log.labels, ref[f"local_labels_{ch_type}"][k], err_msg=msg
                )
                assert_array_equal(
                    log.bad_epochs, ref[f"local_bad_epochs_{ch_type}"][k], err_msg=msg
                )


class TestThresholds:
    """``compute_thresholds`` with both search methods."""

    @pytest.mark.parametrize(
        "key, method",
        [("bayes", "bayesian_optimization"), ("random", "random_search")],
        ids=["bayesian_optimization", "random_search"],
    )
    def test_compute_thresholds(self, ref, key, method):
        import autoreject_cpp

        threshes = autoreject_cpp.compute_thresholds(
            ref.epochs,
            method=method,
            random_state=SEED,
            picks=None,
            augment=True,
            verbose=False,
            n_jobs=1,
        )
        _assert_threshes(threshes, ref.threshes(f"thresh_{key}"), f"{method} thresholds")


class TestRansac:
    """``Ransac`` subsets, correlations and bad channels."""

    def test_ransac(self, ref):
        import autoreject_cpp

        params = json.loads(str(ref["ransac_params"]))
        picks = str(ref["ransac_picks"]) or None
        ransac = autoreject_cpp.Ransac(picks=picks, verbose=False, n_jobs=1, **params)
        ransac.fit(ref.epochs)
        assert_array_equal(
            np.array(ransac.ch_subsets_, dtype=str), ref["ransac_ch_subsets"]
        )
        _assert_close(ransac.corr_, ref["ransac_corr"], err_msg="Ransac corr_")
        assert list(ransac.bad_chs_) == ref["ransac_bad_chs"].tolist()


class TestInterpolation:
    """Leave-one-out augmentation and the repair done by ``transform``."""

    def test_leave_one_out(self, ref):
        from autoreject_cpp.interpolation import Interpolator

        n_epochs = int(ref["loo_n_epochs"])
        data = ref.epochs.get_data()[:n_epochs]
        for ch_type in ref.ch_types:
            picks = ref.picks(ch_type)
            # as compute_thresholds (autoreject: dots=None, mode='fast')
            interp = Interpolator(ref.epochs.info, picks, dots=None, dots_mode="fast")
            out = interp.leave_one_out(data)
            _assert_signal_close(out[:, picks], ref[f"loo_{ch_type}"], err_msg=ch_type)

    def test_transform_with_reference_log(self, ref):
        """Repair exactly the oracle's label-2 entries, whatever fit decided."""
        import autoreject_cpp

        ar, _, _ = _fitted(ref.name)
        bad_epochs = ref["ar_bad_epochs"]
        log = autoreject_cpp.RejectLog(
            bad_epochs=bad_epochs.copy(),
            labels=ref["ar_labels"].copy(),
            ch_names=list(ref.epochs.ch_names),
        )
        clean = ar.transform(ref.epochs, reject_log=log)
        _assert_signal_close(clean.get_data(), ref.expected_clean_data(bad_epochs))


class TestFitTransform:
    """``AutoReject(cv=..., random_state=42)`` fit, reject log and transform."""

    def test_fitted_parameters(self, ref):
        ar, _, _ = _fitted(ref.name)
        assert_array_equal(ar.picks_, ref["ar_picks"])
        assert sorted(ar.consensus_) == sorted(ref.ch_types)
        for ch_type in ref.ch_types:
            assert ar.consensus_[ch_type] == ref[f"ar_consensus_{ch_type}"], ch_type
            assert ar.n_interpolate_[ch_type] == ref[f"ar_n_interpolate_{ch_type}"], ch_type

    def test_threshes(self, ref):
        ar, _, _ = _fitted(ref.name)
        _assert_threshes(ar.threshes_, ref.threshes("ar_threshes"), "threshes_")

    def test_loss(self, ref):
        ar, _, _ = _fitted(ref.name)
        for ch_type in ref.ch_types:
            expected = ref[f"ar_loss_{ch_type}"]
            loss = np.asarray(ar.loss_[ch_type])
            assert loss.shape == expected.shape, ch_type
            assert_array_equal(np.isinf(loss), np.isinf(expected), err_msg=ch_type)
            _assert_close(loss, expected, err_msg=f"loss_[{ch_type!r}]")

    def test_local_reject(self, ref):
        ar, _, _ = _fitted(ref.name)
        for ch_type in ref.ch_types:
            local = ar.local_reject_[ch_type]
            assert local.consensus_[ch_type] == ref[f"ar_consensus_{ch_type}"]
            assert local.n_interpolate_[ch_type] == ref[f"ar_n_interpolate_{ch_type}"]

    def test_reject_log(self, ref):
        _, _, reject_log = _fitted(ref.name)
        assert_array_equal(reject_log.labels, ref["ar_labels"])
        assert_array_equal(reject_log.bad_epochs, ref["ar_bad_epochs"])
        assert list(reject_log.ch_names) == list(ref.epochs.ch_names)

    def test_get_reject_log(self, ref):
        ar, _, _ = _fitted(ref.name)
        reject_log = ar.get_reject_log(ref.epochs)
        assert_array_equal(reject_log.labels, ref["ar_labels"])
        assert_array_equal(reject_log.bad_epochs, ref["ar_bad_epochs"])

    def test_transform(self, ref):
        _, clean, _ = _fitted(ref.name)
        expected = ref.expected_clean_data(ref["ar_bad_epochs"])
        assert clean.get_data().shape == expected.shape
        _assert_signal_close(clean.get_data(), expected)

    def test_input_not_modified(self, ref):
        _fitted(ref.name)
        assert_array_equal(ref.epochs.get_data(), np.asarray(ref["epochs_data"], float))


class TestGlobalThresholds:
    """``get_rejection_threshold`` (one threshold per channel type)."""

    def test_get_rejection_threshold(self, ref):
        import autoreject_cpp

        reject = autoreject_cpp.get_rejection_threshold(
            ref.epochs, decim=1, random_state=SEED, cv=5, verbose=False
        )
        keys = ref["grt_keys"].tolist()
        assert sorted(reject) == sorted(keys)
        _assert_close([reject[k] for k in keys], ref["grt_values"], err_msg=str(keys))


@pytest.mark.retrocompat
@pytest.mark.parametrize("backend", core_backends())
class TestEveryBackend:
    """Every installed backend reaches autoreject's decisions (float64)."""

    def test_fit_transform(self, ref, backend):
        import autoreject_cpp

        ar = autoreject_cpp.AutoReject(
            cv=int(ref["ar_cv"]), random_state=SEED, verbose=False, backend=backend
        )
        clean, reject_log = ar.fit_transform(ref.epochs, return_log=True)
        for ch_type in ref.ch_types:
            assert ar.consensus_[ch_type] == ref[f"ar_consensus_{ch_type}"], ch_type
            assert ar.n_interpolate_[ch_type] == ref[f"ar_n_interpolate_{ch_type}"], ch_type
            _assert_close(ar.loss_[ch_type], ref[f"ar_loss_{ch_type}"], err_msg=ch_type)
        _assert_threshes(ar.threshes_, ref.threshes("ar_threshes"), "threshes_")
        assert_array_equal(reject_log.labels, ref["ar_labels"])
        assert_array_equal(reject_log.bad_epochs, ref["ar_bad_epochs"])
        _assert_signal_close(
            clean.get_data(), ref.expected_clean_data(ref["ar_bad_epochs"]), "transform"
        )

    def test_ransac(self, ref, backend):
        import autoreject_cpp

        params = json.loads(str(ref["ransac_params"]))
        picks = str(ref["ransac_picks"]) or None
        ransac = autoreject_cpp.Ransac(picks=picks, verbose=False, backend=backend, **params)
        ransac.fit(ref.epochs)
        _assert_close(ransac.corr_, ref["ransac_corr"], err_msg="Ransac corr_")
        assert list(ransac.bad_chs_) == ref["ransac_bad_chs"].tolist()

    @pytest.mark.parametrize("key, method", [("bayes", "bayesian_optimization"), ("random", "random_search")])
    def test_compute_thresholds(self, ref, backend, key, method):
        import autoreject_cpp

        threshes = autoreject_cpp.compute_thresholds(
            ref.epochs, method=method, random_state=SEED, verbose=False, backend=backend
        )
        _assert_threshes(threshes, ref.threshes(f"thresh_{key}"), f"{method} thresholds")

    def test_get_rejection_threshold(self, ref, backend):
        import autoreject_cpp

        reject = autoreject_cpp.get_rejection_threshold(
            ref.epochs, random_state=SEED, cv=5, verbose=False, backend=backend
        )
        keys = ref["grt_keys"].tolist()
        assert sorted(reject) == sorted(keys)
        _assert_close([reject[k] for k in keys], ref["grt_values"], err_msg=str(keys))


class TestReferenceKernels:
    """Which outputs a reference serves, by the machine's BLAS kernels and
    NumPy SIMD targets (autoreject_cpp.bench._kernel_fingerprint)."""

    @staticmethod
    def _stored_fingerprint(name):
        with np.load(REF_DIR / f"{name}.npz", allow_pickle=False) as npz:
            return {key: json.loads(str(npz[key])) for key in ("blas", "numpy_simd")}

    def test_same_fingerprint_uses_the_stored_outputs(self, monkeypatch):
        import autoreject_cpp.bench

        stored = self._stored_fingerprint("synthetic_eeg")
        monkeypatch.setattr(autoreject_cpp.bench, "_kernel_fingerprint", lambda: stored)
        monkeypatch.setattr(
            sys.modules[__name__], "_oracle_outputs", lambda stored: pytest.fail("ran the oracle")
        )
        ref = Reference("synthetic_eeg")
        assert not ref.live and ref.skip_reason is None
        assert ref["ar_threshes"].shape == ref["thresh_ch_names"].shape

    @pytest.mark.parametrize("other", ["blas", "numpy_simd"])
    def test_another_fingerprint_without_oracle_skips_the_search_outputs(
        self, monkeypatch, other
    ):
        import autoreject_cpp.bench

        here = self._stored_fingerprint("synthetic_eeg")
        here[other] = ["Other"]
        monkeypatch.setattr(autoreject_cpp.bench, "_kernel_fingerprint", lambda: here)
        monkeypatch.setattr(sys.modules[__name__], "_oracle_outputs", lambda stored: None)
        ref = Reference("synthetic_eeg")
        assert len(ref["grt_values"]) and len(ref["ransac_corr"])  # not search outputs
        for key in ("ar_threshes", "thresh_bayes"):
            with pytest.raises(pytest.skip.Exception, match=r"this machine has .*'Other'"):
                ref[key]
