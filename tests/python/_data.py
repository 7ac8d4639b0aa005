"""Small deterministic epochs for unit tests (no files needed)."""

from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"  # <repo>/tests/python
MEG_FILE = SHARED / "mne_testing_sss" / "sample_audvis_trunc_regIn_raw_sss.fif"


def montage(system="1020"):
    """The 10-20/10-05 montage under its MNE >= 1.13 name, else the old one."""
    import mne

    name = f"colin27_{system}"
    if name not in mne.channels.get_builtin_montages():
        name = f"standard_{system}"
    return mne.channels.make_standard_montage(name)


def eeg_epochs(n_epochs=60, n_channels=32, n_times=101, seed=42, bads=()):
    """Spatially smooth EEG on a 10-20 montage with a few large artifacts."""
    import mne

    rng = np.random.default_rng(seed)
    mont = montage("1020")
    names = [n for n in mont.ch_names if not n.startswith(("A", "M"))][:n_channels]
    info = mne.create_info(names, 100.0, "eeg")
    info.set_montage(mont)
    pos = np.array([info["chs"][i]["loc"][:3] for i in range(n_channels)])
    dist = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    mixing = np.exp(-((dist / 0.05) ** 2))
    sources = rng.standard_normal((n_epochs, n_channels, n_times)).cumsum(-1)
    X = np.einsum("ij,ejt->eit", mixing, sources) * 2e-6
    X += rng.standard_normal(X.shape) * 1e-6
    for e in rng.choice(n_epochs, max(1, n_epochs // 7), replace=False):
        chs = rng.choice(n_channels, rng.integers(1, 6), replace=False)
        X[e, chs] += rng.standard_normal((len(chs), n_times)) * 5e-5
    X[:, 3] *= 1.5
    epochs = mne.EpochsArray(X, info, verbose=False)
    epochs.info["bads"] = list(bads)
    return epochs


def meg_epochs(n_epochs=12, n_times=60, types=("mag", "eeg"), seed=0):
    """Epochs on the real Neuromag geometry of the shared sample file."""
    import mne

    fname = MEG_FILE
    if not fname.is_file():
        import pytest

        pytest.skip(f"{fname.name} is absent (not in ../shared/data)")
    raw = mne.io.read_raw_fif(fname, preload=True, verbose=False).pick(list(types))
    X = raw.get_data()
    rng = np.random.default_rng(seed)
    data = np.stack([X[:, i * 20 : i * 20 + n_times] for i in range(n_epochs)])
    data = data + rng.standard_normal(data.shape) * data.std(axis=(0, 2), keepdims=True) * 0.3
    data[3, 5] *= 8
    data[7, 40:44] *= 5
    return mne.EpochsArray(data, raw.info, verbose=False)


def eegmmidb_epochs(run=4):
    """One EEGMMIDB run epoched on its annotations (29 epochs x 64 ch)."""
    import mne

    raw = mne.io.read_raw_edf(SHARED / "eegmmidb" / f"S001R{run:02d}.edf", preload=True, verbose=False)
    mne.datasets.eegbci.standardize(raw)
    raw.set_montage(montage("1005"))
    events, _ = mne.events_from_annotations(raw, verbose=False)
    return mne.Epochs(raw, events, tmin=-0.5, tmax=3.5, baseline=None, preload=True, verbose=False)


def needs_shared():
    import pytest

    return pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is absent")


def core_backends():
    """The core's backends that can run here (``'scalar'``, ``'openmp'``, and
    ``'cuda'`` with a GPU build and a device)."""
    from autoreject_cpp.backends import available_backends

    return available_backends()
