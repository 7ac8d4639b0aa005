#!/usr/bin/env bash
# Build autoreject_cpp from scratch and run every test: the C++ tests (ctest) and
# the Python tests (pytest, with the autoreject 0.5.1 oracle).
#
#   bash tools/test.sh [pytest args...]
#
# 1. system packages (Debian/Ubuntu, as root) and the virtual environment with the
#    package built from source (tools/_setup.sh; extras test and batch);
# 2. the C++ tests: CMake build in build/cpp (with examples/cpp's clean_epochs), then ctest;
# 3. pytest on tests/python (extra arguments are passed to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/_setup.sh
. tools/_setup.sh
setup_environment "test,batch"

echo "=== C++ tests (ctest)"
cmake -S . -B build/cpp -G Ninja -DAUTOREJECT_BUILD_TESTS=ON -DAUTOREJECT_BUILD_EXAMPLES=ON \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/cpp
ctest --test-dir build/cpp --output-on-failure

echo "=== Python tests (pytest)"
python -m pytest tests/python "$@"
