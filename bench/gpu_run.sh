#!/usr/bin/env bash
# Check and time the GPU backends on a machine with an NVIDIA GPU.
#
#   bash benchmarks/gpu_run.sh tests|oracle|bench|meg [OUTDIR]
#
# tests: the backend-parametrised test modules with their GPU devices
#        (torch:cuda, jax:gpu), i.e. the oracle comparisons in float64 and the
#        device-memory chunking, plus the GPU kernel checks.
# oracle: regenerate tests/references with autoreject 0.5.1 on this machine
#        (copies go to OUTDIR), then run the oracle comparisons for every
#        backend, CPU and GPU: BLAS and LAPACK round differently on another
#        CPU, and autoreject's own results move with them.
# bench: `autoreject_cpp bench` on the EEGMMIDB runs for numba (CPU), torch:cuda
#        and jax:gpu, each against autoreject 0.5.1 in the same process.
# meg:   the same on MEG-sized synthetic data (torch:cuda and jax:gpu).
#
# BENCH_BACKENDS overrides the backends timed by bench and meg.
# Wheels the machine lacks (mne, autoreject, ...) may be placed in .whl/ and
# the shared recordings in .devdata/data (for machines without network or
# without ../shared beside the checkout). Results go to OUTDIR (default
# benchmarks/results).
set -uo pipefail
cd "$(dirname "$0")/.."
what="${1:?say tests, oracle, bench or meg}"
out="${2:-benchmarks/results}"
mkdir -p "$out"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir .whl/*.whl || exit 1
fi
python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-cache-dir -e . || exit 1
[ -d .devdata/data ] && export AUTOREJECT_DATA="$PWD/.devdata/data"
# several test processes may share the GPU: JAX must not grab 75% of it up front
export XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import autoreject_cpp.backends as b; print(b.available_backends())"
tag=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | awk '{print tolower($2)}')
case "$what" in
  tests)
    python3 -m pytest -p no:cacheprovider -q -rs \
      tests/test_backends.py tests/test_backend_memory.py tests/test_retrocompat.py \
      tests/test_invariants.py -k "cuda or gpu" 2>&1 | tee "$out/gpu_tests_${tag}.log"
    ;;
  oracle)
    python3 tools/generate_references.py && cp tests/references/*.npz "$out"/
    python3 -m pytest -p no:cacheprovider -q -rs tests/test_retrocompat.py \
      tests/test_backend_memory.py 2>&1 | tee "$out/oracle_tests_${tag}.log"
    ;;
  bench)
    for be in ${BENCH_BACKENDS:-torch:cuda jax:gpu numba}; do
      python3 -m autoreject_cpp bench --data eegmmidb --backend "$be" --repeat 3 --no-memory \
        --json "$out/bench_eegmmidb_${tag}_${be/:/_}.json"
    done
    ;;
  meg)
    for be in ${BENCH_BACKENDS:-torch:cuda jax:gpu}; do
      python3 -m autoreject_cpp bench --data meg --backend "$be" --repeat 2 --no-memory \
        --json "$out/bench_meg_${tag}_${be/:/_}.json"
    done
    ;;
  *) echo "unknown step '$what'" >&2; exit 2 ;;
esac
