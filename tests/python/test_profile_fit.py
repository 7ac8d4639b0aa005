"""The part timer of ``bench/profile_fit.py`` (the README's fit profile)."""

import importlib.util
import threading
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "profile_fit.py"


@pytest.fixture(scope="module")
def profile_fit():
    spec = importlib.util.spec_from_file_location("profile_fit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Clock:
    """A clock that moves only when told to."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class _Work:
    """Two nested calls whose durations the fake clock sets."""

    def __init__(self, clock):
        self.clock = clock

    def outer(self):
        self.clock.now += 2.0
        self.inner()
        self.clock.now += 1.5
        return "outer"

    def inner(self):
        self.clock.now += 3.0
        return "inner"


def test_parts_are_exclusive_and_add_up(profile_fit):
    clock = _Clock()
    work = _Work(clock)
    parts = {"a": [(_Work, "outer")], "b": [(_Work, "inner")]}
    with profile_fit.PartTimer(parts, clock=clock) as timer:
        assert work.outer() == "outer"
        assert work.inner() == "inner"
    # outer: 2 + 1.5 of its own; inner: 3 inside outer, 3 alone
    assert timer.totals == {"a": 3.5, "b": 6.0}
    assert sum(timer.totals.values()) == clock.now


def test_same_part_nested_counts_once(profile_fit):
    clock = _Clock()
    work = _Work(clock)
    parts = {"a": [(_Work, "outer"), (_Work, "inner")]}
    with profile_fit.PartTimer(parts, clock=clock) as timer:
        work.outer()
    assert timer.totals == {"a": 6.5}


def test_worker_threads_are_not_timed(profile_fit):
    clock = _Clock()
    work = _Work(clock)
    with profile_fit.PartTimer({"b": [(_Work, "inner")]}, clock=clock) as timer:
        thread = threading.Thread(target=work.inner)
        thread.start()
        thread.join()
    assert timer.totals == {}


def test_originals_restored(profile_fit):
    outer, inner = _Work.__dict__["outer"], _Work.__dict__["inner"]
    with pytest.raises(RuntimeError, match="boom"):
        with profile_fit.PartTimer({"a": [(_Work, "outer"), (_Work, "inner")]}):
            assert _Work.__dict__["outer"] is not outer
            raise RuntimeError("boom")
    assert _Work.__dict__["outer"] is outer
    assert _Work.__dict__["inner"] is inner


def test_every_profiled_callable_exists(profile_fit):
    # a renamed function would otherwise drop out of the profile silently
    saved = {}
    for part, targets in profile_fit.PARTS.items():
        for owner, name in targets:
            found = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
            assert callable(found), f"{part}: {owner.__name__}.{name} is gone"
            saved[owner, name] = found
    with profile_fit.PartTimer():
        pass
    for (owner, name), found in saved.items():
        assert profile_fit.original(owner, name) is found


def test_surrogate_split_runs_on_the_surrogate_as_it_is(profile_fit):
    # it wraps _FlatGP's LAPACK handles; a rename breaks it here, and calls that no
    # longer go through them leave the LAPACK time at zero
    whole, lapack = profile_fit.surrogate_split(n_obs=5, n_grid=20, repeat=2)
    assert 0 < lapack < whole
