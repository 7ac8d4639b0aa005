#!/usr/bin/env bash
# Build autoreject_cpp from scratch and run every test: the C++ tests (ctest) and
# the Python tests (pytest, with the autoreject 0.5.1 oracle).
#
#   bash tools/test.sh [pytest args...]
#
# 1. system packages (Debian/Ubuntu, as root): compiler, CMake, Ninja, Catch2,
#    Eigen, zlib, Google Benchmark — installed only when missing;
# 2. a virtual environment (.venv, or AUTOREJECT_VENV) with the package built
#    by scikit-build-core (pip install -e ".[test,batch]");
# 3. the C++ tests: CMake build in build/cpp, then ctest;
# 4. pytest on tests/python (extra arguments are passed to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${AUTOREJECT_VENV:-.venv}"

need=()
command -v g++ >/dev/null || need+=(g++)
command -v cmake >/dev/null || need+=(cmake)
command -v ninja >/dev/null || need+=(ninja-build)
[ -f /usr/include/catch2/catch.hpp ] || need+=(catch2)
[ -d /usr/include/eigen3 ] || need+=(libeigen3-dev)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
[ -f /usr/include/benchmark/benchmark.h ] || need+=(libbenchmark-dev)
command -v python3 >/dev/null || need+=(python3 python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "=== installing system packages: ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "=== Python environment ($venv) and the package (C++ core compiled by scikit-build-core)"
python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[test,batch]"

echo "=== C++ tests (ctest)"
cmake -S . -B build/cpp -G Ninja -DAUTOREJECT_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/cpp
ctest --test-dir build/cpp --output-on-failure

echo "=== Python tests (pytest)"
python -m pytest tests/python "$@"
