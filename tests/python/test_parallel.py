"""autoreject_cpp._parallel: thread pools and limits."""


def test_thread_map_keeps_order_and_runs_serially_on_one_core(monkeypatch):
    import threading

    from autoreject_cpp import _parallel

    seen = set()

    def square(x):
        seen.add(threading.get_ident())
        return x * x

    monkeypatch.setattr(_parallel, "n_cores", lambda: 1)
    assert _parallel.thread_map(square, range(5)) == [0, 1, 4, 9, 16]
    assert seen == {threading.get_ident()}
    monkeypatch.setattr(_parallel, "n_cores", lambda: 4)
    assert _parallel.thread_map(square, range(50)) == [x * x for x in range(50)]
    assert _parallel.thread_map(square, []) == []


def test_limit_threads_caps_thread_map(monkeypatch):
    from autoreject_cpp import _parallel

    monkeypatch.setattr(_parallel.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert _parallel.n_cores() == 8
    with _parallel.limit_threads(2):
        assert _parallel.n_cores() == 2
        with _parallel.limit_threads(1):
            assert _parallel.n_cores() == 1
        assert _parallel.n_cores() == 2
    assert _parallel.n_cores() == 8
