#!/usr/bin/env bash
# Install autoreject_cpp in a fresh virtual environment and run its test suite.
#
#   bash tools/test.sh [pytest args...]
#
# AUTOREJECT_TEST_EXTRAS=all (default) installs every optional backend
# (numba, torch CPU, jax CPU), the batch extra (dask, mne-bids) and the test
# extra, which brings the oracle autoreject==0.5.1; AUTOREJECT_TEST_EXTRAS=none installs only the test extra,
# to check the pure-numpy fallback. AUTOREJECT_VENV names the environment
# folder (default .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${AUTOREJECT_TEST_EXTRAS:-all}"
venv="${AUTOREJECT_VENV:-.venv}"
python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install --quiet --upgrade pip
case "$extras" in
  all)
    # torch first, pinned: its CPU wheel; left to resolve on its own, pip
    # would fetch a multi-GB CUDA build on Linux
    python -m pip install --quiet "torch==2.13.0"
    python -m pip install --quiet -e ".[test,parallel,gpu,gpu-cuda,batch]"
    ;;
  none)
    python -m pip install --quiet -e ".[test]"
    ;;
  *)
    echo "AUTOREJECT_TEST_EXTRAS must be 'all' or 'none', got '$extras'" >&2
    exit 2
    ;;
esac
python -m pytest "$@"
