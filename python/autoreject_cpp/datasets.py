"""Synthetic and real M/EEG epochs for examples, tests and benchmarks.

Two kinds of data are provided:

* :func:`make_synthetic_epochs` simulates brain-like activity with injected,
  documented artifacts (blinks, electrode pops, muscle bursts, a flat and a
  noisy channel) on a standard EEG montage or on the real Neuromag sensor
  geometry. With ``return_truth=True`` it also says where every artifact is.
* :func:`load_eegmmidb_epochs` reads the real PhysioNet EEG Motor
  Movement/Imagery recordings kept in the shared data folder.

:func:`sample_data_dir` locates that folder.
"""

# License: BSD-3-Clause

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["load_eegmmidb_epochs", "make_synthetic_epochs", "sample_data_dir"]

#: environment variable naming the shared data folder
DATA_ENV = "AUTOREJECT_DATA"

_MEG_FILE = ("mne_testing_sss", "sample_audvis_trunc_regIn_raw_sss.fif")

# A common 32-channel 10-20 layout first, so that small subsets still cover the
# frontal (blink), temporal (muscle) and posterior regions; more 10-10 and then
# 10-05 positions are appended from the montage when more channels are asked.
_EEG_CORE = (
    "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "FC5", "FC1", "FC2", "FC6",
    "T7", "C3", "Cz", "C4", "T8", "TP9", "CP5", "CP1", "CP2", "CP6", "TP10",
    "P7", "P3", "Pz", "P4", "P8", "PO9", "O1", "Oz", "O2", "PO10",
)  # fmt: skip

_KINDS = ("eeg", "meg", "mag", "grad")

# Artifact amplitudes in units of the median brain-signal standard deviation
# of the channel type, and the fraction of epochs each transient touches.
_BLINK_AMP = (10.0, 25.0)
_POP_AMP = (30.0, 60.0)
_MUSCLE_AMP = (3.0, 5.0)
_NOISY_FACTOR = 4.0
_FLAT_FACTOR = 1e-3
_BLINK_RATE, _POP_RATE, _MUSCLE_RATE = 0.15, 0.05, 0.08

_EEG_STD = 10e-6  # V, typical scalp EEG
_MAG_STD = 150e-15  # T, typical magnetometer background
_GRAD_STD = 3e-12  # T/m, typical planar gradiometer background (grad only)


def sample_data_dir():
    """Locate the folder holding the shared real recordings.

    The folder named by the ``AUTOREJECT_DATA`` environment variable is used
    when set; otherwise ``shared/data`` next to the repository checkout
    (``<repo>/../shared/data``).

    Returns
    -------
    path : pathlib.Path | None
        The data folder, or None if it cannot be found.
    """
    env = os.environ.get(DATA_ENV)
    candidates = [Path(env).expanduser()] if env else []
    repo = Path(__file__).resolve().parents[2]  # <repo>/python/autoreject_cpp
    candidates.append(repo.parent / "shared" / "data")
    for path in candidates:
        if path.is_dir():
            return path
    return None


def _default_meg_fname():
    base = sample_data_dir()
    if base is None:
        raise FileNotFoundError(
            "The MNE sample MEG file is needed for real sensor geometry but "
            "the shared data folder was not found. Set the environment "
            f"variable {DATA_ENV} to the folder holding "
            f"'{'/'.join(_MEG_FILE)}', or pass fname=<path to the .fif file>."
        )
    return base.joinpath(*_MEG_FILE)


def _fit_sphere_center(pos):
    """Centre of the least-squares sphere through points ``pos``."""
    # |p|^2 = 2 c.p + (r^2 - |c|^2) is linear in (c, r^2 - |c|^2)
    design = np.c_[2 * pos, np.ones(len(pos))]
    sol = np.linalg.lstsq(design, np.sum(pos**2, axis=1), rcond=None)[0]
    return sol[:3]


def _pink_noise(rng, shape, sfreq, fmin=1.0):
    """Unit-variance noise with a 1/f power spectrum along the last axis."""
    n_times = shape[-1]
    spec = rng.standard_normal(shape[:-1] + (n_times // 2 + 1,)) + 1j * (
        rng.standard_normal(shape[:-1] + (n_times // 2 + 1,))
    )
    freqs = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    spec *= 1.0 / np.sqrt(np.maximum(freqs, fmin))
    spec[..., 0] = 0.0
    out = np.fft.irfft(spec, n=n_times, axis=-1)
    return out / out.std(axis=-1, keepdims=True)


def _band_noise(rng, n_times, sfreq, fmin, fmax):
    """Unit-variance noise limited to ``[fmin, fmax]`` Hz."""
    spec = rng.standard_normal(n_times // 2 + 1) + 1j * rng.standard_normal(
        n_times // 2 + 1
    )
    freqs = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    spec[(freqs < fmin) | (freqs > fmax)] = 0.0
    out = np.fft.irfft(spec, n=n_times)
    return out / out.std()


def _standard_montage(system="1005"):
    """The template 10-05 (or 10-20) montage under its current MNE name.

    MNE 1.13 renamed ``standard_1005``/``standard_1020`` to ``colin27_*``
    (same positions); the old names warn and go in MNE 1.14.
    """
    import mne

    name = f"colin27_{system}"
    if name not in mne.channels.get_builtin_montages():
        name = f"standard_{system}"
    return mne.channels.make_standard_montage(name)


def _eeg_setup(n_channels, sfreq):
    """EEG info with a standard montage and a dipole projection model."""
    import mne

    montage = _standard_montage("1005")
    montage_pos = montage.get_positions()["ch_pos"]
    extra_1020 = [
        name
        for name in _standard_montage("1020").ch_names
        if name not in _EEG_CORE and name in montage_pos
    ]
    order = list(_EEG_CORE) + extra_1020
    order += [name for name in montage.ch_names if name not in order]
    if not 4 <= n_channels <= len(order):
        raise ValueError(
            f"n_channels must be between 4 and {len(order)} for kind='eeg' "
            f"(positions of the standard_1005 montage); got {n_channels}."
        )
    ch_names = order[:n_channels]
    info = mne.create_info(ch_names, sfreq, "eeg")
    info.set_montage(montage)
    pos = np.array([montage_pos[name] for name in ch_names])
    center = _fit_sphere_center(np.array(list(montage_pos.values())))
    eye = 0.5 * (montage_pos["Fp1"] + montage_pos["Fp2"])
    return info, pos, center, eye


def _dipole_gain(rng, info, center, n_sources, depth, scale, head_radius):
    """Sensor gains of random current dipoles in MNE's sphere model.

    Dipoles point in random directions and sit at ``depth`` (a range,
    times ``scale``) from ``center``; :func:`mne.make_forward_dipole`
    computes the fields or potentials (no MRI needed).
    """
    import mne

    direction = rng.standard_normal((n_sources, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    src = center + direction * rng.uniform(*depth, (n_sources, 1)) * scale
    ori = rng.standard_normal((n_sources, 3))
    ori /= np.linalg.norm(ori, axis=1, keepdims=True)
    sphere = mne.make_sphere_model(r0=tuple(center), head_radius=head_radius, verbose="error")
    dipoles = mne.Dipole(
        np.zeros(n_sources), src, np.ones(n_sources), ori, np.ones(n_sources)
    )
    fwd, _ = mne.make_forward_dipole(dipoles, sphere, info, trans=None, verbose="error")
    gain = np.asarray(fwd["sol"]["data"], dtype=np.float64)
    # make_forward_dipole follows info's channel order; check to be safe
    if list(fwd["sol"]["row_names"]) != list(info["ch_names"]):
        order = [list(fwd["sol"]["row_names"]).index(n) for n in info["ch_names"]]
        gain = gain[order]
    return gain


def _eeg_gain(rng, info, pos, center, n_sources):
    """EEG potentials of dipoles in a four-shell sphere head (MNE's default
    brain, CSF, skull and scalp radii and conductivities) centred on the
    montage's sphere, with the electrodes' median distance as head radius."""
    radius = float(np.median(np.linalg.norm(pos - center, axis=1)))
    return _dipole_gain(rng, info, center, n_sources, (0.35, 0.7), radius, radius)


def _meg_setup(kind, n_channels, sfreq, fname):
    """MEG info (real Neuromag geometry) restricted to the requested sensors."""
    import mne

    fname = _default_meg_fname() if fname is None else Path(fname)
    if not Path(fname).is_file():
        raise FileNotFoundError(
            f"MEG geometry file not found: {fname}. Pass fname=<path to "
            f"{_MEG_FILE[1]}> or set {DATA_ENV} to the shared data folder."
        )
    full = mne.io.read_info(fname, verbose="error")
    meg = {"meg": True, "mag": "mag", "grad": "grad"}[kind]
    picks = mne.pick_types(full, meg=meg, exclude=[])
    if n_channels is not None:
        group = 3 if kind == "meg" else 1  # Vectorview: grad, grad, mag
        if n_channels % group or not group <= n_channels <= len(picks):
            raise ValueError(
                f"n_channels must be a multiple of {group} between {group} and "
                f"{len(picks)} for kind={kind!r}; got {n_channels}."
            )
        n_groups = len(picks) // group
        keep = np.unique(
            np.round(np.linspace(0, n_groups - 1, n_channels // group)).astype(int)
        )
        picks = (picks.reshape(n_groups, group)[keep]).ravel()
    info = mne.pick_info(full, picks)
    with info._unlock():
        info["sfreq"] = float(sfreq)
        info["lowpass"] = float(sfreq) / 2.0
        info["highpass"] = 0.0
        info["projs"] = []
        info["comps"] = []
        info["bads"] = []
    # sensor positions in head coordinates, to place frontal/temporal sources
    dev_head = info["dev_head_t"]["trans"]
    pos = np.array([ch["loc"][:3] for ch in info["chs"]])
    pos = pos @ dev_head[:3, :3].T + dev_head[:3, 3]
    center = np.array([0.0, 0.0, 0.04])
    eye = np.array([0.0, 0.09, -0.02])
    return info, pos, center, eye


def _meg_gain(rng, info, center, n_sources):
    """MEG fields of dipoles 3-6 cm from the centre of a spherical conductor."""
    return _dipole_gain(rng, info, center, n_sources, (0.03, 0.06), 1.0, None)


def make_synthetic_epochs(
    kind="eeg",
    n_epochs=60,
    n_channels=None,
    sfreq=160.0,
    tmin=-0.2,
    tmax=1.0,
    seed=42,
    artifacts=True,
    return_truth=False,
    fname=None,
):
    """Simulate realistic epochs with documented artifacts.

    Brain-like activity comes from a few random current dipoles with 1/f
    time courses (some with alpha-band bursts), projected to the sensors, plus
    a little white sensor noise. For EEG the dipoles sit in a four-shell
    sphere head model (MNE's sphere model and dipole forward solution, no MRI)
    under a subset of the ``standard_1005`` montage; for
    MEG the fields are computed with a spherical conductor on the real
    Neuromag Vectorview geometry of the MNE sample recording.

    With ``artifacts=True`` the following are added (amplitudes are relative
    to the median brain-signal standard deviation of the channel type):

    * **blinks** (about 15 % of epochs): a 0.25-0.4 s bump, 10-25 times the
      background, largest near Fp1/Fp2 (the eyes) and decaying
      exponentially with distance (6 cm);
    * **electrode pops / SQUID jumps** (about 5 % of epochs): a step of 30-60
      times the background on one channel in one epoch, decaying with a 0.3 s
      time constant;
    * **muscle bursts** (about 8 % of epochs): 0.2-0.6 s of 20-70 Hz activity
      (capped below Nyquist), 3-5 times the background, on the most lateral
      (temporal) channels of one hemisphere;
    * one **flat channel** (all epochs, only white noise at 1/1000 of the
      background);
    * one **noisy channel** (all epochs, extra white noise 4 times the
      background).

    Parameters
    ----------
    kind : 'eeg' | 'meg' | 'mag' | 'grad'
        The sensors. ``'meg'`` gives Neuromag triplets (two planar
        gradiometers and one magnetometer per location). Defaults to ``'eeg'``.
    n_epochs : int
        Number of epochs. Defaults to 60.
    n_channels : int | None
        Number of channels. For EEG, the first ``n_channels`` of a fixed
        priority list (a 32-channel 10-20 layout, then 10-10, then 10-05
        positions); None means 32. For MEG, sensors spread evenly over the
        helmet (a multiple of 3 for ``'meg'``); None means all of them (306,
        102 or 204). Defaults to None.
    sfreq : float
        Sampling frequency in Hz. Defaults to 160.
    tmin, tmax : float
        Start and end time of each epoch in seconds (both included). Default
        to -0.2 and 1.0.
    seed : int
        Seed of the :class:`numpy.random.Generator` that draws everything;
        the same seed gives bit-identical epochs. Defaults to 42.
    artifacts : bool
        Whether to add the artifacts described above. Defaults to True.
    return_truth : bool
        Whether to also return where the artifacts are. Defaults to False.
    fname : path-like | None
        The ``.fif`` file providing the MEG sensor geometry. None uses
        ``sample_audvis_trunc_regIn_raw_sss.fif`` from the shared data folder
        (see :func:`sample_data_dir`). Ignored for EEG. Defaults to None.

    Returns
    -------
    epochs : mne.EpochsArray
        The preloaded epochs, in SI units (V, T, T/m). Their values are exactly
        representable in float32.
    truth : dict
        Only if ``return_truth`` is True. Keys:

        ``'blinks'``, ``'muscle'`` : list of dict
            One entry per event with ``'epoch'``, ``'onset'`` (sample),
            ``'duration'`` (samples) and ``'channels'`` (names of the
            channels where the artifact reaches at least a quarter of its
            peak amplitude).
        ``'pops'`` : list of dict
            One entry per pop with ``'epoch'``, ``'onset'`` and ``'channel'``.
        ``'flat_channels'``, ``'noisy_channels'`` : list of str
        ``'bad_epochs'`` : array of int
            Sorted epochs holding at least one blink, pop or muscle burst.
        ``'artifact_mask'`` : array of bool, shape (n_epochs, n_channels)
            True where a transient artifact touches a channel in an epoch.

    Raises
    ------
    FileNotFoundError
        For MEG kinds, if the geometry file cannot be found.

    Examples
    --------
    >>> from autoreject_cpp.datasets import make_synthetic_epochs
    >>> epochs, truth = make_synthetic_epochs(n_epochs=30, return_truth=True)
    >>> epochs.get_data().shape
    (30, 32, 193)
    """
    import mne

    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}; got {kind!r}.")
    if int(n_epochs) < 1:
        raise ValueError(f"n_epochs must be a positive integer; got {n_epochs}.")
    if tmax <= tmin:
        raise ValueError(f"tmax ({tmax}) must be greater than tmin ({tmin}).")
    n_epochs = int(n_epochs)
    sfreq = float(sfreq)
    rng = np.random.default_rng(seed)

    if kind == "eeg":
        info, pos, center, eye = _eeg_setup(
            32 if n_channels is None else int(n_channels), sfreq
        )
        n_sources = 8
        gain = _eeg_gain(rng, info, pos, center, n_sources)
    else:
        info, pos, center, eye = _meg_setup(kind, n_channels, sfreq, fname)
        n_sources = 12
        gain = _meg_gain(rng, info, center, n_sources)
    ch_names = list(info["ch_names"])
    ch_types = np.array(info.get_channel_types())
    n_ch = len(ch_names)
    n_times = int(round((tmax - tmin) * sfreq)) + 1
    times = np.arange(n_times) / sfreq

    # --- brain-like background -------------------------------------------
    sources = _pink_noise(rng, (n_epochs, n_sources, n_times), sfreq)
    alpha_freq = rng.uniform(8.0, 12.0, n_sources)
    alpha_amp = np.where(np.arange(n_sources) < n_sources // 3, 1.5, 0.0)
    phase = rng.uniform(0, 2 * np.pi, (n_epochs, n_sources, 1))
    envelope = 0.5 + 0.5 * np.sin(
        2 * np.pi * 0.7 * times + rng.uniform(0, 2 * np.pi, (n_epochs, 1, 1))
    )
    sources += (
        alpha_amp[None, :, None]
        * envelope
        * np.sin(2 * np.pi * alpha_freq[None, :, None] * times + phase)
    )
    data = np.einsum("cs,est->ect", gain, sources)
    # scale each channel type to a realistic level (grad follows mag physics)
    std = data.std(axis=(0, 2))
    scale = np.empty(n_ch)
    for ch_type, target in (("eeg", _EEG_STD), ("mag", _MAG_STD)):
        sel = ch_types == ch_type
        if sel.any():
            scale[sel] = target / np.median(std[sel])
    sel = ch_types == "grad"
    if sel.any():
        mags = ch_types == "mag"
        # keep the physical mag/grad ratio when both are present
        ref = (
            _MAG_STD / np.median(std[mags])
            if mags.any()
            else _GRAD_STD / np.median(std[sel])
        )
        scale[sel] = ref
    data *= scale[None, :, None]
    type_std = {t: np.median(data[:, ch_types == t].std(axis=(0, 2))) for t in set(ch_types)}
    ch_std = np.array([type_std[t] for t in ch_types])
    data += 0.05 * ch_std[None, :, None] * rng.standard_normal(data.shape)

    truth = dict(
        blinks=[],
        pops=[],
        muscle=[],
        flat_channels=[],
        noisy_channels=[],
        bad_epochs=np.zeros(0, int),
        artifact_mask=np.zeros((n_epochs, n_ch), bool),
    )
    if artifacts:
        _add_artifacts(rng, data, truth, ch_names, ch_std, pos, center, eye, sfreq)

    # round to float32 so stored references and float32 backends see the
    # very same numbers
    data = data.astype(np.float32).astype(np.float64)
    events = np.c_[
        np.arange(n_epochs) * n_times, np.zeros(n_epochs, int), np.ones(n_epochs, int)
    ]
    epochs = mne.EpochsArray(
        data, info, events=events, tmin=tmin, event_id={"synthetic": 1}, verbose="error"
    )
    if return_truth:
        return epochs, truth
    return epochs


def _add_artifacts(rng, data, truth, ch_names, ch_std, pos, center, eye, sfreq):
    """Inject artifacts into ``data`` in place and record them in ``truth``."""
    n_epochs, n_ch, n_times = data.shape
    mask = truth["artifact_mask"]
    ch_names = np.asarray(ch_names)

    def pick_epochs(rate):
        n = max(1, int(round(rate * n_epochs)))
        return np.sort(rng.choice(n_epochs, size=min(n, n_epochs), replace=False))

    # a flat and a noisy channel; transients avoid the flat one (it is dead)
    flat, noisy = rng.choice(n_ch, size=2, replace=False)
    truth["flat_channels"].append(str(ch_names[flat]))
    truth["noisy_channels"].append(str(ch_names[noisy]))
    data[:, noisy] += _NOISY_FACTOR * ch_std[noisy] * rng.standard_normal(
        (n_epochs, n_times)
    )

    # blinks: a smooth bump, largest near the eyes
    dist = np.linalg.norm(pos - eye, axis=1)
    spread = np.exp(-(dist - dist.min()) / 0.06)
    spread[flat] = 0.0
    for epoch in pick_epochs(_BLINK_RATE):
        duration = int(round(rng.uniform(0.25, 0.4) * sfreq))
        onset = int(rng.integers(0, max(1, n_times - duration)))
        stop = min(onset + duration, n_times)
        bump = np.sin(np.pi * np.arange(stop - onset) / duration) ** 2
        amp = rng.uniform(*_BLINK_AMP) * ch_std * spread
        data[epoch, :, onset:stop] += amp[:, None] * bump
        chans = spread >= 0.25
        mask[epoch, chans] = True
        truth["blinks"].append(
            dict(epoch=int(epoch), onset=onset, duration=stop - onset,
                 channels=ch_names[chans].tolist())
        )  # fmt: skip

    # electrode pops: a decaying step on one channel
    others = np.setdiff1d(np.arange(n_ch), [flat, noisy])
    for epoch in pick_epochs(_POP_RATE):
        ch = int(rng.choice(others))
        onset = int(rng.integers(n_times // 10, n_times // 2))
        decay = np.exp(-np.arange(n_times - onset) / (0.3 * sfreq))
        sign = rng.choice([-1.0, 1.0])
        data[epoch, ch, onset:] += sign * rng.uniform(*_POP_AMP) * ch_std[ch] * decay
        mask[epoch, ch] = True
        truth["pops"].append(dict(epoch=int(epoch), onset=onset, channel=str(ch_names[ch])))

    # muscle bursts: high-frequency activity on the lateral channels
    lateral = pos[:, 0] - center[0]
    reach = np.abs(lateral) / np.abs(lateral).max()
    fmax = min(70.0, 0.45 * sfreq)
    for epoch in pick_epochs(_MUSCLE_RATE):
        side = rng.choice([-1.0, 1.0])
        weight = np.where(np.sign(lateral) == side, reach, 0.0) ** 4
        weight[flat] = 0.0
        duration = int(round(rng.uniform(0.2, 0.6) * sfreq))
        duration = min(duration, n_times)
        onset = int(rng.integers(0, n_times - duration + 1))
        envelope = np.hanning(duration)
        amp = rng.uniform(*_MUSCLE_AMP)
        for ch in np.flatnonzero(weight >= 0.25):
            burst = _band_noise(rng, duration, sfreq, 20.0, fmax)
            data[epoch, ch, onset : onset + duration] += (
                amp * weight[ch] * ch_std[ch] * envelope * burst
            )
        chans = weight >= 0.25
        mask[epoch, chans] = True
        truth["muscle"].append(
            dict(epoch=int(epoch), onset=onset, duration=duration,
                 channels=ch_names[chans].tolist())
        )  # fmt: skip

    # the dead channel records (almost) nothing
    data[:, flat] = _FLAT_FACTOR * ch_std[flat] * rng.standard_normal((n_epochs, n_times))
    truth["bad_epochs"] = np.flatnonzero(mask.any(axis=1))


def load_eegmmidb_epochs(
    data_dir=None,
    subject=1,
    runs=(3, 4, 5, 6),
    tmin=-0.5,
    tmax=3.5,
    chunk_duration=2.0,
    baseline=None,
    verbose="error",
):
    """Load epochs of the PhysioNet EEG Motor Movement/Imagery recordings.

    The EDF runs are read, channel names are standardized with
    :func:`mne.datasets.eegbci.standardize`, the runs are concatenated and
    the ``standard_1005`` montage is set (64 EEG channels, 160 Hz, volts).

    Epoching: every ``T0`` (rest), ``T1`` and ``T2`` (task) annotation, which
    lasts 4.1-4.2 s, is cut into events every ``chunk_duration`` seconds with
    :func:`mne.events_from_annotations` (two events per annotation by
    default). Epochs run from ``tmin`` to ``tmax`` around each event, so with
    the defaults consecutive epochs overlap by 2 s. Epochs that cross the
    boundary between two runs or the end of the recording are dropped. With
    the defaults and the four runs of subject 1 this gives 232 epochs of 64
    channels and 641 samples (4 s at 160 Hz, both ends included). Use
    ``chunk_duration=None`` for one epoch per annotation (116 epochs with the
    defaults).

    Parameters
    ----------
    data_dir : path-like | None
        Folder with the ``S001R03.edf``-style files, or the shared data folder
        holding an ``eegmmidb`` sub-folder. None uses
        :func:`sample_data_dir`. Defaults to None.
    subject : int
        Subject number. Defaults to 1.
    runs : sequence of int
        Runs to concatenate. Defaults to ``(3, 4, 5, 6)``.
    tmin, tmax : float
        Epoch limits in seconds around each event. Default to -0.5 and 3.5.
    chunk_duration : float | None
        Spacing of the events cut from each annotation, in seconds; None for
        one event at the onset of each annotation. Defaults to 2.0.
    baseline : tuple | None
        Baseline correction passed to :class:`mne.Epochs`. Defaults to None
        (raw data).
    verbose : bool | str | int | None
        MNE verbosity while reading. Defaults to ``'error'``.

    Returns
    -------
    epochs : mne.Epochs
        The preloaded epochs with event ids ``{'T0': 1, 'T1': 2, 'T2': 3}``.

    Raises
    ------
    FileNotFoundError
        If a requested run cannot be found.
    """
    import mne

    if data_dir is None:
        data_dir = sample_data_dir()
        if data_dir is None:
            raise FileNotFoundError(
                "The EEGMMIDB recordings were not found: no shared data folder. "
                f"Set the environment variable {DATA_ENV} or pass data_dir."
            )
    data_dir = Path(data_dir)
    if (data_dir / "eegmmidb").is_dir():
        data_dir = data_dir / "eegmmidb"
    fnames = [data_dir / f"S{subject:03d}R{run:02d}.edf" for run in runs]
    missing = [str(f) for f in fnames if not f.is_file()]
    if missing:
        raise FileNotFoundError(
            f"EEGMMIDB file(s) not found: {', '.join(missing)}. Pass the folder "
            f"holding them as data_dir or set {DATA_ENV}."
        )
    raws = [mne.io.read_raw_edf(f, preload=True, verbose=verbose) for f in fnames]
    for raw in raws:
        mne.datasets.eegbci.standardize(raw)
    raw = mne.concatenate_raws(raws, verbose=verbose)
    raw.set_montage(_standard_montage("1005"), verbose=verbose)
    event_id = {"T0": 1, "T1": 2, "T2": 3}
    events, _ = mne.events_from_annotations(
        raw, event_id=event_id, chunk_duration=chunk_duration, verbose=verbose
    )
    return mne.Epochs(
        raw,
        events,
        event_id=event_id,
        tmin=tmin,
        tmax=tmax,
        baseline=baseline,
        preload=True,
        reject_by_annotation=True,
        verbose=verbose,
    )


# --- helpers to store epochs as plain arrays (used by the reference files) --


def _epochs_to_arrays(epochs, prefix=""):
    """Plain arrays from which :func:`_epochs_from_arrays` rebuilds ``epochs``.

    Stores the data, the channel names, types and the 12-element ``loc`` of
    every channel, MEG coil types, ``dev_head_t`` and timing. Data exactly
    representable in float32 are stored as float32.
    """
    data = epochs.get_data()
    if np.array_equal(data.astype(np.float32).astype(np.float64), data):
        data = data.astype(np.float32)
    info = epochs.info
    dev_head = info["dev_head_t"]
    out = dict(
        data=data,
        ch_names=np.array(info["ch_names"]),
        ch_types=np.array(epochs.get_channel_types()),
        loc=np.array([ch["loc"] for ch in info["chs"]]),
        coil_type=np.array([int(ch["coil_type"]) for ch in info["chs"]]),
        sfreq=np.float64(info["sfreq"]),
        tmin=np.float64(epochs.tmin),
        dev_head_t=(np.eye(4) if dev_head is None else np.asarray(dev_head["trans"])),
    )
    return {prefix + key: value for key, value in out.items()}


def _epochs_from_arrays(arrays, prefix=""):
    """Rebuild preloaded float64 epochs from :func:`_epochs_to_arrays` output."""
    import mne
    from mne.transforms import Transform

    def get(key):
        return arrays[prefix + key]

    ch_names = [str(name) for name in get("ch_names")]
    info = mne.create_info(ch_names, float(get("sfreq")), [str(t) for t in get("ch_types")])
    loc, coil = get("loc"), get("coil_type")
    for idx, ch in enumerate(info["chs"]):
        ch["loc"] = np.array(loc[idx], dtype=np.float64)
        ch["coil_type"] = int(coil[idx])
    has_meg = any(t in ("mag", "grad") for t in info.get_channel_types())
    with info._unlock():
        if has_meg:
            info["dev_head_t"] = Transform("meg", "head", np.asarray(get("dev_head_t")))
    data = np.asarray(get("data"), dtype=np.float64)
    return mne.EpochsArray(data, info, tmin=float(get("tmin")), verbose="error")
