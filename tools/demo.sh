#!/usr/bin/env bash
# Install what is missing (system packages as root, a virtual environment with the
# package built from source) and run the demo: a simulated recording with known
# artifacts is cleaned, what was found is printed and an HTML report is written to
# autoreject-cpp-demo/report.html.
#
#   bash tools/demo.sh [demo args...]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/_setup.sh
. tools/_setup.sh
setup_environment ""
python examples/demo.py "$@"
