#!/usr/bin/env bash
# The one prepared check for a machine with an NVIDIA GPU (a budget of about 8 minutes
# on one H100, build included):
#
#   1. configure and build the library, the Catch2 tests and the Python module with
#      -DAUTOREJECT_WITH_CUDA=ON (one build directory);
#   2. run the CUDA Catch2 tests ([cuda]: registry, every kernel on cuda against scalar,
#      with and without forced chunking);
#   3. run pytest's CUDA tests (tests/python/test_cuda_backend.py, and test_backends.py and
#      test_float32.py, whose kernel tests include cuda where it is available), then the
#      stored autoreject 0.5.1 references (test_retrocompat.py) with AUTOREJECT_BACKEND=cuda,
#      on a copy of python/ with the fresh module;
#   4. time the scalar, openmp and cuda kernels on the EEGMMIDB recordings of the shared
#      data (232 x 64 x 641) and on a simulated recording (1000 epochs x 128 channels x
#      1000 samples), checking cuda's results against scalar's, into a JSON file:
#      $OUT/gpu_check.json, or bench/results/gpu_check.json when OUT is unset.
#
#   bash tools/gpu-check.sh
#
# Environment: AUTOREJECT_GPU_CHECK_CUDA=OFF builds without CUDA (a dry run of the CPU
# part on a machine without a GPU; the CUDA tests then skip), =EMULATE builds the CUDA
# backend on the emulated GPU (src/cuda/emulation: a dry run of every CUDA step without a
# GPU; its timings are the host's, serial, and mean nothing; use a small SIM_SHAPE and
# SHARED_DATA=/nonexistent to keep it short); PYTHON (default
# .venv/bin/python, else python3); BUILD_DIR (default build/gpu-check); JOBS (default:
# every core); SIM_SHAPE (default 1000x128x1000) and SHARED_DATA (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."

cuda=${AUTOREJECT_GPU_CHECK_CUDA:-ON}
build=${BUILD_DIR:-build/gpu-check}
jobs=${JOBS:-$(nproc)}
out_dir=${OUT:-bench/results}
sim_shape=${SIM_SHAPE:-1000x128x1000}
shared=${SHARED_DATA:-../shared/data}
if [ -n "${PYTHON:-}" ]; then
  py=$PYTHON
elif [ -x .venv/bin/python ]; then
  py=.venv/bin/python
else
  py=python3
fi
py=$(command -v "$py")
mkdir -p "$out_dir"
status=0
step() { echo "=== $* (${SECONDS} s)"; }

step "configure (AUTOREJECT_WITH_CUDA=$cuda)"
have_python=1
pybind_dir=$("$py" -m pybind11 --cmakedir 2>/dev/null) || have_python=0
python_args=()
if [ "$have_python" = 1 ]; then
  python_args=(-DAUTOREJECT_BUILD_PYTHON=ON "-Dpybind11_DIR=$pybind_dir" "-DPython_EXECUTABLE=$py")
else
  echo "warning: $py has no pybind11: the Python module, pytest and the benchmark are skipped" >&2
fi
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAUTOREJECT_WITH_CUDA="$cuda" \
  -DAUTOREJECT_BUILD_TESTS=ON "${python_args[@]}" >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
grep "autoreject_cpp:" "$build.configure.log" || true

step "build"
targets=(autoreject_tests)
[ "$have_python" = 1 ] && targets+=(_core)
build_start=$SECONDS
cmake --build "$build" -j "$jobs" --target "${targets[@]}"
build_s=$((SECONDS - build_start))

step "Catch2 [cuda] tests"
"$build/tests/cpp/autoreject_tests" "[cuda]" --success --reporter compact | tail -n 25 || status=1

if [ "$have_python" = 0 ]; then
  exit "$status"
fi

# the package with the fresh module, in a scratch copy (python/ itself is left alone)
pkg=$(mktemp -d)
trap 'rm -rf "$pkg"' EXIT
cp -r python/autoreject_cpp "$pkg/"
rm -f "$pkg"/autoreject_cpp/_core*.so
cp "$build"/_core*.so "$pkg/autoreject_cpp/"
# an editable install's import hook would otherwise answer for autoreject_cpp first
cp tools/fresh_module_site.py "$pkg/sitecustomize.py"
PYTHONPATH="$pkg" "$py" -c "import autoreject_cpp._core as c, sys
assert c.__file__.startswith(sys.argv[1]), 'not the fresh module: ' + c.__file__" "$pkg" ||
  { echo "error: the tests would not import the module just built" >&2; exit 1; }
expect=0
gpu_backend=auto
if [ "$cuda" = ON ] || [ "$cuda" = EMULATE ]; then
  expect=1
  gpu_backend=cuda
fi

step "pytest: CUDA tests, the backends' kernel tests and float32 (cuda included)"
AUTOREJECT_EXPECT_CUDA=$expect PYTHONPATH="$pkg" "$py" -m pytest -q -p no:cacheprovider \
  -rs tests/python/test_cuda_backend.py tests/python/test_backends.py \
  tests/python/test_float32.py || status=1

step "pytest: autoreject 0.5.1's stored decisions with AUTOREJECT_BACKEND=$gpu_backend"
AUTOREJECT_BACKEND=$gpu_backend PYTHONPATH="$pkg" "$py" -m pytest -q \
  -p no:cacheprovider -rs tests/python/test_retrocompat.py || status=1

step "benchmark: scalar, openmp and cuda kernels"
PYTHONPATH="$pkg" OUT_JSON="$out_dir/gpu_check.json" SIM_SHAPE="$sim_shape" \
  SHARED_DATA="$shared" BUILD_S="$build_s" CUDA_MODE="$cuda" "$py" - <<'PY' || status=1
import json, os, platform, subprocess, time
from pathlib import Path

import numpy as np

import autoreject_cpp
from autoreject_cpp import _core

backends = [row["name"] for row in autoreject_cpp.backends() if row["available"]]
cuda_row = [row for row in autoreject_cpp.backends() if row["name"] == "cuda"][0]


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return bool(np.array_equal(a, b, equal_nan=True))


def problems(x, rng):
    """The kernels' inputs for epochs x (n_epochs, n_channels, n_times)."""
    n_epochs, n_channels, n_times = x.shape
    flat = x.reshape(n_epochs, -1)
    rows = x.reshape(-1, n_times)
    test = rng.permutation(n_epochs)[: max(1, n_epochs // 10)]
    order = rng.permutation(n_epochs)
    cuts = np.unique(np.linspace(1, n_epochs, 20).astype(np.int64))
    channel = np.ascontiguousarray(x[:, 0, :])
    n_folds, n_train = 10, n_epochs - n_epochs // 10
    train_idx = np.array([rng.permutation(n_epochs)[:n_train] for _ in range(n_folds)])
    peaks = np.ptp(channel, axis=1)
    train_keys = peaks[train_idx]
    bounds = np.repeat(np.sort(peaks)[:, None], n_folds, axis=1)
    medians = np.array([np.median(channel[rng.permutation(n_epochs)[:20]], axis=0)
                        for _ in range(n_folds)])
    n_resample, k = 50, max(1, int(np.ceil(0.25 * n_channels)))
    cols = np.array([np.sort(rng.permutation(n_channels)[:k]) for _ in range(n_resample)])
    counts = np.full(n_resample, k, dtype=np.int64)
    weights = rng.standard_normal((n_resample, n_channels, k)) / k
    return {
        "ptp": lambda kw: _core.ptp(rows, **kw),
        "median_rows": lambda kw: _core.median_rows(flat, test, **kw),
        "prefix_sums": lambda kw: _core.prefix_sums(flat, order, cuts, **kw),
        "threshold_losses": lambda kw: _core.threshold_losses(
            channel, train_idx, train_keys, bounds, medians, **kw),
        "ransac_correlations": lambda kw: _core.ransac_correlations(
            x, cols, counts, weights, **kw),
    }


def run(label, x, repeat):
    rng = np.random.default_rng(0)
    result = {"shape": list(x.shape), "kernels": {}}
    for name, fn in problems(x, rng).items():
        entry = {}
        ref = None
        for backend in backends:
            kw = dict(backend=backend, n_threads=0 if backend != "scalar" else 1)
            if repeat > 1:
                fn(kw)  # warm-up
            seconds, out = best(lambda: fn(kw), repeat)
            entry[backend] = {"seconds": seconds}
            if backend == "scalar":
                ref = out
            else:
                entry[backend]["equals_scalar"] = same(out, ref)
        result["kernels"][name] = entry
        print(f"{label:9s} {name:20s} " + "  ".join(
            f"{b} {entry[b]['seconds'] * 1e3:9.2f} ms" for b in backends), flush=True)
    return result


report = {
    "machine": platform.node(),
    "cpu_count": os.cpu_count(),
    "cuda_mode": os.environ["CUDA_MODE"],
    "cuda": cuda_row,
    "backends": backends,
    "build_seconds": int(os.environ["BUILD_S"]),
    "gpu": None,
    "datasets": {},
}
try:
    report["gpu"] = subprocess.run(
        ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
        capture_output=True, text=True, timeout=30).stdout.strip() or None
except (OSError, subprocess.SubprocessError):
    pass

if "cuda" in backends:  # the CUDA context, created once outside the timings
    _core.ptp(np.zeros((1, 1)), backend="cuda", n_threads=0)

shared = Path(os.environ["SHARED_DATA"])
if (shared / "eegmmidb").is_dir():
    from autoreject_cpp.datasets import load_eegmmidb_epochs

    epochs = load_eegmmidb_epochs(shared / "eegmmidb")
    x = np.ascontiguousarray(epochs.get_data(picks="eeg"))
    report["datasets"]["eegmmidb"] = run("eegmmidb", x, repeat=3)
else:
    print(f"{shared}/eegmmidb is absent: the EEGMMIDB benchmark is skipped")
    report["datasets"]["eegmmidb"] = {"skipped": f"{shared}/eegmmidb is absent"}

shape = tuple(int(v) for v in os.environ["SIM_SHAPE"].split("x"))
x = np.random.default_rng(1).standard_normal(shape) * 1e-5
report["datasets"]["simulated"] = run("simulated", x, repeat=1)

mismatch = [
    (d, k, b)
    for d, res in report["datasets"].items()
    for k, entry in res.get("kernels", {}).items()
    for b, row in entry.items()
    if row.get("equals_scalar") is False
]
report["all_equal_scalar"] = not mismatch
path = Path(os.environ["OUT_JSON"])
path.write_text(json.dumps(report, indent=2) + "\n")
print(f"wrote {path}")
if mismatch:
    raise SystemExit(f"results differ from scalar: {mismatch}")
PY

step "done (status $status)"
exit "$status"
