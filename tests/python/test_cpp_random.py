# Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
"""The C++ legacy RandomState stream and splitters against NumPy, scikit-learn and SciPy.

Every expected value is computed here, live, by the library the C++ code reproduces
(``np.random.RandomState``, ``KFold``, ``StratifiedShuffleSplit``, ``ParameterSampler``
over ``scipy.stats.uniform``), and compared bit for bit with ``np.array_equal``.
"""

import numpy as np
import pytest
from scipy.stats import uniform
from sklearn.model_selection import KFold, ParameterSampler, StratifiedShuffleSplit

from autoreject_cpp import _core

SEEDS = [0, 1, 7, 42, 1234, 987654321, 2**31, 2**32 - 1]


def _require(name):
    if not hasattr(_core, name):
        pytest.fail(
            f"_core.{name} is missing: rebuild the module and copy it into python/autoreject_cpp"
        )
    return getattr(_core, name)


@pytest.mark.parametrize("seed", SEEDS)
def test_permutation_matches_numpy_for_n_up_to_300(seed):
    legacy_permutation = _require("legacy_permutation")
    for n in range(0, 301):
        got = legacy_permutation(seed, n)
        assert got.dtype == np.int64
        assert np.array_equal(got, np.random.RandomState(seed).permutation(n)), n


@pytest.mark.parametrize("seed", SEEDS)
def test_random_sample_matches_numpy(seed):
    got = _require("legacy_uniform")(seed, 5000)
    want = np.random.RandomState(seed).random_sample(5000)
    assert got.dtype == np.float64
    assert np.array_equal(got, want)


@pytest.mark.parametrize("seed", [0, 42, 2**32 - 1])
@pytest.mark.parametrize(
    "maximum",
    [1, 2, 3, 6, 100, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**33 + 7, 2**40, 2**63 + 5, 2**64 - 1],
)
def test_bounded_matches_legacy_randint(seed, maximum):
    # RandomState.randint with dtype uint64 draws by the same masked rejection as the
    # legacy shuffle (32-bit outputs up to 2**32 - 1, 64-bit outputs above)
    rng = np.random.RandomState(seed)
    want = np.array([rng.randint(0, maximum + 1, dtype=np.uint64) for _ in range(200)])
    got = _require("legacy_bounded")(seed, maximum, 200)
    assert np.array_equal(got, want.astype(np.uint64))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n,size", [(1, 1), (5, 0), (10, 3), (64, 16), (300, 299), (300, 300)])
def test_choice_without_replacement_matches_numpy(seed, n, size):
    got = _require("legacy_choice")(seed, n, size)
    want = np.random.RandomState(seed).choice(n, size=size, replace=False)
    assert np.array_equal(got, want)


def test_choice_rejects_a_sample_larger_than_the_population():
    with pytest.raises(ValueError, match="size"):
        _require("legacy_choice")(0, 3, 4)


@pytest.mark.parametrize("n", [10, 23, 232])
@pytest.mark.parametrize("k", [2, 5, 10])
def test_kfold_matches_sklearn(n, k):
    got = _require("kfold_splits")(n, k)
    want = list(KFold(n_splits=k).split(np.zeros((n, 1))))
    assert len(got) == len(want) == k
    for (train, test), (w_train, w_test) in zip(got, want):
        assert train.dtype == np.int64 and test.dtype == np.int64
        assert np.array_equal(train, w_train)
        assert np.array_equal(test, w_test)


@pytest.mark.parametrize("n,k", [(10, 1), (10, 0), (4, 5)])
def test_kfold_rejects_bad_n_splits(n, k):
    with pytest.raises(ValueError, match="n_splits"):
        _require("kfold_splits")(n, k)


def _assert_same_splits(y, n_splits, test_size, seed):
    got = _require("stratified_shuffle_splits")(np.asarray(y), n_splits, test_size, seed)
    sss = StratifiedShuffleSplit(n_splits=n_splits, test_size=test_size, random_state=seed)
    want = list(sss.split(np.zeros((len(y), 1)), y))
    assert len(got) == len(want) == n_splits
    for i, ((train, test), (w_train, w_test)) in enumerate(zip(got, want)):
        assert np.array_equal(train, w_train), i
        assert np.array_equal(test, w_test), i


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("per_class", [10, 11, 57, 232, 300])
def test_stratified_two_equal_classes_matches_sklearn(seed, per_class):
    y = np.r_[np.zeros(per_class, dtype=np.int64), np.ones(per_class, dtype=np.int64)]
    _assert_same_splits(y, 10, 0.2, seed)


UNEQUAL = [
    np.r_[[0] * 7, [1] * 13],
    np.r_[[0] * 3, [1] * 40, [2] * 9, [5] * 4],
    np.r_[[1] * 5, [0] * 5, [2] * 5],  # three-way ties in the allocation
    np.r_[[-4] * 2, [9] * 2, [3] * 2, [0] * 2, [7] * 30],
    np.random.RandomState(3).randint(0, 6, 97),  # interleaved labels
    np.random.RandomState(4).randint(0, 2, 232),
]


@pytest.mark.parametrize("seed", [0, 1, 42, 2**32 - 1])
@pytest.mark.parametrize("test_size", [0.2, 0.25, 0.33, 0.5])
@pytest.mark.parametrize("case", range(len(UNEQUAL)))
def test_stratified_general_labels_matches_sklearn(seed, test_size, case):
    _assert_same_splits(UNEQUAL[case], 10, test_size, seed)


@pytest.mark.parametrize(
    "y,test_size,word",
    [
        (np.r_[[0] * 10, [1] * 10], 0.0, "test_size"),
        (np.r_[[0] * 10, [1] * 10], 1.0, "test_size"),
        (np.r_[[0] * 10, [1] * 10, [2]], 0.2, "class 2"),
        (np.array([0, 0, 1, 1, 2, 2]), 0.1, "test size"),
        (np.array([0, 0, 1, 1, 2, 2]), 0.8, "training size"),
    ],
)
def test_stratified_rejects_what_sklearn_rejects(y, test_size, word):
    with pytest.raises(ValueError):
        sss = StratifiedShuffleSplit(n_splits=2, test_size=test_size, random_state=0)
        list(sss.split(np.zeros((len(y), 1)), y))
    with pytest.raises(ValueError, match=word):
        _require("stratified_shuffle_splits")(y, 2, test_size, 0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "loc,scale",
    [(0.0, 1.0), (1e-6, 3e-4), (2.5e-5, 1.7e-4), (5.5, 100.25), (-3.0, 0.5), (2.0, 0.0)],
)
def test_random_search_matches_parameter_sampler(seed, loc, scale):
    sampler = ParameterSampler({"thresh": uniform(loc, scale)}, n_iter=20, random_state=seed)
    want = np.array([float(p["thresh"]) for p in sampler])
    got = _require("random_search_draws")(loc, scale, 20, seed)
    assert np.array_equal(got, want)


def test_random_search_rejects_a_negative_scale():
    with pytest.raises(ValueError, match="scale"):
        _require("random_search_draws")(0.0, -1.0, 20, 0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_good,n_pick,n_resample", [(64, 16, 50), (32, 8, 50), (306, 76, 50)])
def test_ransac_subsets_match_numpy_choice(seed, n_good, n_pick, n_resample):
    names = np.array([f"EEG {i:03d}" for i in range(n_good)])
    rng = np.random.RandomState(seed)
    want = [rng.choice(names, size=n_pick, replace=False) for _ in range(n_resample)]
    got = _require("ransac_subsets")(n_good, n_pick, n_resample, seed)
    assert got.shape == (n_resample, n_pick)
    for row, w in zip(got, want):
        assert np.array_equal(names[row], w)


def test_ransac_rejects_more_picks_than_good_channels():
    with pytest.raises(ValueError, match="n_pick"):
        _require("ransac_subsets")(8, 9, 5, 0)


def test_seeds_outside_32_bits_are_refused():
    with pytest.raises(TypeError):
        _require("legacy_permutation")(2**32, 5)
    with pytest.raises(TypeError):
        _require("legacy_permutation")(-1, 5)
