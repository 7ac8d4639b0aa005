"""Interpolation matrices and repairs equal MNE/autoreject's per-epoch repairs."""

import numpy as np
import pytest

from autoreject_cpp.interpolation import Interpolator
from _data import eeg_epochs, meg_epochs, needs_shared


def _oracle_repair(epochs, bad_names, picks, dots=None):
    utils = pytest.importorskip("autoreject.utils")
    inst = epochs.copy()
    inst.info["bads"] = list(bad_names)
    utils.interpolate_bads(inst, picks=picks, dots=dots, reset_bads=True)
    return inst.get_data()


@pytest.mark.oracle
def test_eeg_repair_is_bit_identical_to_autoreject():
    epochs = eeg_epochs(n_channels=20, n_epochs=6)
    picks = np.arange(20)
    bads = [1, 7, 8]
    ref = _oracle_repair(epochs, [epochs.ch_names[b] for b in bads], picks)
    data = epochs.get_data()
    Interpolator(epochs.info, picks).repair(data, [bads] * len(epochs))
    np.testing.assert_array_equal(data, ref)


@pytest.mark.oracle
@needs_shared()
def test_meg_repair_matches_autoreject_with_shared_dots():
    import mne

    from autoreject.utils import _compute_dots

    epochs = meg_epochs(n_epochs=8, types=("grad", "mag"))
    meg = mne.pick_types(epochs.info, meg=True, exclude=[])
    dots = _compute_dots(mne.pick_info(epochs.info, meg), templates=None)
    bads = [3, 150, 250]
    ref = _oracle_repair(epochs, [epochs.ch_names[b] for b in bads], meg, dots=dots)
    data = epochs.get_data()
    Interpolator(epochs.info, meg, dots=dots).repair(data, [bads] * len(epochs))
    np.testing.assert_allclose(data, ref, rtol=1e-9, atol=0)


@pytest.mark.oracle
def test_leave_one_out_matches_autoreject_augmentation():
    utils = pytest.importorskip("autoreject.utils")
    epochs = eeg_epochs(n_channels=16, n_epochs=5)
    picks = np.arange(16)
    ref = utils._clean_by_interp(epochs.copy(), picks=picks, verbose=False).get_data()
    ours = Interpolator(epochs.info, picks).leave_one_out(epochs.get_data())
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("group", ["default", "one pair"])
@pytest.mark.parametrize("n_channels", [20, 60, 64])
def test_eeg_spline_matrices_equal_mne_bit_for_bit(n_channels, group, monkeypatch):
    """Every shape autoreject_cpp asks for (leave-one-out, RANSAC subsets to all
    channels, bad sets) gives MNE's ``_make_interpolation_matrix`` to the
    last bit, although the spline series is evaluated once per montage: the
    cosines are MNE's products (their last bit depends on the BLAS routine
    a shape gets), with the series recomputed where they differ. Computing
    the matrices in groups of one pair changes nothing."""
    from mne.channels.interpolation import _make_interpolation_matrix

    from autoreject_cpp import interpolation
    from autoreject_cpp._mne_compat import get_channel_positions
    from autoreject_cpp.interpolation import _EEGSpline

    if group == "one pair":
        monkeypatch.setattr(interpolation, "_SPLINE_GROUP_ELEMENTS", 1)

    epochs = eeg_epochs(n_channels=n_channels, n_epochs=2)
    pos = get_channel_positions(epochs.info, range(n_channels))
    rng = np.random.default_rng(n_channels)
    every = np.arange(n_channels)
    pairs = [(np.delete(every, i), [i]) for i in (0, n_channels // 2, n_channels - 1)]
    pairs += [(rng.choice(n_channels, n_channels // 4, replace=False), every) for _ in range(4)]
    for n_bad in (1, 3, n_channels // 3):
        bads = np.sort(rng.choice(n_channels, n_bad, replace=False))
        pairs.append((np.setdiff1d(every, bads), bads))
    ours = _EEGSpline(pos).matrices(pairs)
    for (frm, to), matrix in zip(pairs, ours):
        np.testing.assert_array_equal(matrix, _make_interpolation_matrix(pos[frm], pos[to]))


def test_matrices_are_cached_per_bad_set_and_groups_share_them():
    epochs = eeg_epochs(n_channels=12, n_epochs=8)
    interp = Interpolator(epochs.info, np.arange(12))
    data = epochs.get_data()
    orig = data.copy()
    sets = [[1, 2], [], [1, 2], [5], [], [2, 1], [5], []]
    interp.repair(data, sets)
    assert len(interp._cache) == 2  # two distinct bad sets
    for e, bads in enumerate(sets):
        others = np.setdiff1d(np.arange(12), bads)
        np.testing.assert_array_equal(data[e, others], orig[e, others])
        if bads:
            assert not np.allclose(data[e, bads], orig[e, bads])


def test_all_channels_of_a_kind_bad_is_left_unrepaired_with_a_warning():
    epochs = eeg_epochs(n_channels=6, n_epochs=3)
    interp = Interpolator(epochs.info, np.arange(6))
    data = epochs.get_data()
    orig = data.copy()
    with pytest.warns(RuntimeWarning, match="left unrepaired"):
        interp.repair(data, [list(range(6)), [], [1]])
    np.testing.assert_array_equal(data[:2], orig[:2])
    assert not np.allclose(data[2, 1], orig[2, 1])


@pytest.mark.parametrize(
    "with_projs, margin", [(False, None), (False, 1.0), (True, None)]
)
def test_meg_mapping_is_bit_identical_to_mne(with_projs, margin, monkeypatch):
    """MegMapping's matrices equal MNE's _compute_mapping_matrix on a picked Info,
    whether the rank comes from the single decomposition or (margin 1: every
    rank is "too close to call") from MNE's eigenvalue-only one."""
    needs_shared()
    import mne
    from mne.forward._field_interpolation import _compute_mapping_matrix, _setup_dots

    from autoreject_cpp import _mne_compat
    from autoreject_cpp._mne_compat import MegMapping, compute_meg_dots

    calls = []
    if margin is not None:
        monkeypatch.setattr(_mne_compat, "_RANK_MARGIN", margin)
    real_rank = _mne_compat._truncation_rank

    def recorded_rank(*args):
        calls.append(real_rank(*args))
        return calls[-1]

    monkeypatch.setattr(_mne_compat, "_truncation_rank", recorded_rank)

    epochs = meg_epochs(n_epochs=8, types=("mag", "grad"))
    if with_projs:
        epochs.add_proj(mne.compute_proj_epochs(epochs, n_mag=1, n_grad=1, n_eeg=0, verbose=False))
    info = epochs.info
    dots = compute_meg_dots(info)
    mapping = MegMapping(info, dots)
    rng = np.random.default_rng(0)
    n = len(info["ch_names"])
    for _ in range(3):
        bads = np.sort(rng.choice(n, rng.integers(1, 12), replace=False))
        goods = np.setdiff1d(np.arange(n), bads)
        info_from = mne.pick_info(info, goods)
        int_rad, noise, _, _ = _setup_dots("fast", info_from, None, "meg")
        fmd = dict(
            kind="meg", ch_names=info_from["ch_names"], origin=mapping.origin, noise=noise,
            self_dots=dots[0][np.ix_(goods, goods)], surface_dots=dots[1][np.ix_(bads, goods)],
            int_rad=int_rad, miss=1e-4,
        )  # fmt: skip
        expected = _compute_mapping_matrix(fmd, info_from)
        np.testing.assert_array_equal(mapping.matrix(goods, bads), expected)
    if not with_projs:
        # one rank per matrix, plus MNE's eigenvalues for every one when forced
        assert len(calls) == (6 if margin == 1.0 else 3)
        assert (None in calls) == (margin == 1.0)


def test_truncation_rank_refuses_a_rank_rounding_could_change():
    from autoreject_cpp._mne_compat import _truncation_rank

    s = np.array([5.0, 3.0, 2.0])  # explains 0.5, 0.8, 1.0
    assert _truncation_rank(s, 0.2) == 2  # 0.8 reaches 1 - 0.2 exactly
    assert _truncation_rank(s, 0.2, 1e-9) is None
    assert _truncation_rank(s, 0.25, 1e-9) == 2
    assert _truncation_rank(s, 0.55, 1e-9) == 1


@pytest.mark.oracle
@pytest.mark.parametrize("cores", [1, 3])
def test_meg_dots_equal_autoreject_on_any_number_of_cores(cores, monkeypatch):
    """The cross dots, computed in row blocks on every core, are autoreject's."""
    needs_shared()
    import mne
    from autoreject.utils import _compute_dots

    from autoreject_cpp import _parallel
    from autoreject_cpp._mne_compat import compute_meg_dots

    monkeypatch.setattr(_parallel, "n_cores", lambda: cores)
    epochs = meg_epochs(n_epochs=8, types=("mag", "grad"))
    info = mne.pick_info(epochs.info, mne.pick_types(epochs.info, meg=True))
    ours, theirs = compute_meg_dots(info), _compute_dots(info, templates=None)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])


@pytest.mark.parametrize("with_projs", [False, True])
def test_meg_matrices_prefetched_on_threads_are_the_serial_ones(with_projs, monkeypatch):
    """Matrices computed ahead on a thread per core equal those made one by
    one; with SSP projectors (MNE's path sets the global log level) they are
    left to be made serially."""
    needs_shared()
    import mne

    from autoreject_cpp import _parallel

    monkeypatch.setattr(_parallel, "n_cores", lambda: 2)
    epochs = meg_epochs(n_epochs=8, types=("mag", "grad"))
    if with_projs:
        epochs.add_proj(mne.compute_proj_epochs(epochs, n_mag=1, n_grad=1, n_eeg=0, verbose=False))
    meg = mne.pick_types(epochs.info, meg=True)
    sets = [(1,), (4, 9), (1,), (2, 30, 31)]
    serial = Interpolator(epochs.info, meg, dots_mode="fast")
    expected = {b: serial.meg_matrix(b) for b in sets}
    threaded = Interpolator(epochs.info, meg, dots=serial._dots, dots_mode="fast")
    threaded._prefetch_meg(sets)
    assert len(threaded._cache) == (0 if with_projs else 3)
    for bads, want in expected.items():
        np.testing.assert_array_equal(threaded.meg_matrix(bads), want)
    # repair and leave-one-out use the prefetched matrices: same data as serial
    data = epochs.get_data()
    bad_sets = [[1], [4, 9], [], [2, 30, 31], [1], [4, 9], [], [7]]
    np.testing.assert_array_equal(
        Interpolator(epochs.info, meg, dots=serial._dots).repair(data.copy(), bad_sets),
        serial.repair(data.copy(), bad_sets),
    )


@pytest.mark.oracle
def test_leave_one_out_in_threaded_chunks_is_bit_identical(monkeypatch):
    """Epoch chunks run on a thread per core: the same numbers as one thread,
    bit for bit, and as autoreject's augmentation."""
    utils = pytest.importorskip("autoreject.utils")
    from autoreject_cpp import _parallel, interpolation

    epochs = eeg_epochs(n_channels=16, n_epochs=9)
    picks = np.arange(16)
    monkeypatch.setattr(interpolation, "_LOO_CHUNK_BYTES", 1)  # one epoch per chunk
    runs = {}
    for cores in (1, 3):
        monkeypatch.setattr(_parallel, "n_cores", lambda cores=cores: cores)
        runs[cores] = Interpolator(epochs.info, picks).leave_one_out(epochs.get_data())
    np.testing.assert_array_equal(runs[3], runs[1])
    ref = utils._clean_by_interp(epochs.copy(), picks=picks, verbose=False).get_data()
    np.testing.assert_allclose(runs[3], ref, rtol=1e-9, atol=1e-25)


@pytest.mark.parametrize("cores", [1, 3])
def test_eeg_matrices_prefetched_on_threads_are_the_serial_ones(cores, monkeypatch):
    """The spline matrices a repair computes ahead on threads (SVDs outside
    the GIL) equal those computed one at a time on demand."""
    from autoreject_cpp import _parallel

    monkeypatch.setattr(_parallel, "n_cores", lambda: cores)
    epochs = eeg_epochs(n_channels=16, n_epochs=30)
    rng = np.random.default_rng(3)
    sets = [sorted(rng.choice(16, int(k), replace=False).tolist()) for k in rng.integers(0, 6, 30)]
    threaded = Interpolator(epochs.info, np.arange(16))
    data = epochs.get_data()
    threaded.repair(data, sets)
    serial = Interpolator(epochs.info, np.arange(16))
    for bads in {tuple(s) for s in sets if s}:
        np.testing.assert_array_equal(threaded._cache[("eeg", bads)], serial.eeg_matrix(bads))
    expected = epochs.get_data()
    for e, bads in enumerate(sets):
        if bads:
            goods = [c for c in range(16) if c not in bads]
            expected[e, bads] = serial.eeg_matrix(tuple(bads)) @ expected[e, goods]
    np.testing.assert_array_equal(data, expected)


def test_leave_one_out_fills_every_channel_of_out():
    """Picked channels get their interpolation; the others (not picked, or
    alone of their kind) keep their data, in a given ``out`` too."""
    epochs = eeg_epochs(n_channels=12, n_epochs=6)
    data = epochs.get_data()
    interp = Interpolator(epochs.info, np.arange(9))
    out = np.full_like(data, np.nan)
    assert interp.leave_one_out(data, out=out) is out
    np.testing.assert_array_equal(out[:, 9:], data[:, 9:])
    assert np.isfinite(out).all() and not np.allclose(out[:, :9], data[:, :9])
    np.testing.assert_array_equal(interp.leave_one_out(data), out)
    lone = Interpolator(epochs.info, [4])  # nothing to interpolate from
    np.testing.assert_array_equal(lone.leave_one_out(data), data)
    # only the picks, in their order at construction
    picks = [7, 2, 0, 5]
    full = Interpolator(epochs.info, picks).leave_one_out(data)
    only = Interpolator(epochs.info, picks).leave_one_out(data, picks_only=True)
    np.testing.assert_array_equal(only, full[:, picks])
    np.testing.assert_array_equal(lone.leave_one_out(data, picks_only=True), data[:, [4]])
