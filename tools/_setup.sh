# Sourced by tools/test.sh and tools/demo.sh: installs the Debian packages the build
# needs when they are missing (as root), then makes the virtual environment
# ($AUTOREJECT_VENV, default .venv) with the package built from source by
# scikit-build-core (CMake compiles the C++ core into autoreject_cpp._core).
#   setup_environment EXTRAS   e.g. "test,batch", or "" for the package alone
setup_environment() {
  local extras="$1"
  local need=()
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
      return 2
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  venv="${AUTOREJECT_VENV:-.venv}"
  echo "=== Python environment ($venv); the C++ core is compiled by scikit-build-core"
  python3 -m venv "$venv"
  # shellcheck disable=SC1091
  . "$venv/bin/activate"
  python -m pip install --quiet --upgrade pip
  # pybind11 in the environment too (the package's build gets its own): the CMake builds
  # of CI's emulated-GPU module and of tools/gpu-check.sh find it there
  python -m pip install --quiet "pybind11>=2.12"
  if [ -n "$extras" ]; then
    python -m pip install --quiet -e ".[$extras]"
  else
    python -m pip install --quiet -e .
  fi
}
