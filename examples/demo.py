"""Clean simulated EEG with known artifacts and check what was found.

Runs the whole autoreject_cpp pipeline on a recording simulated by
:func:`autoreject_cpp.datasets.make_synthetic_epochs` (no download): per-channel
thresholds, consensus and n_interpolate chosen by cross-validation, repair and
rejection, then RANSAC for bad channels. It reports how well the injected
blinks, electrode pops and muscle bursts were found and writes an HTML report
(with the injected artifacts next to what was found), the reject log and the
fitted model.

The same demo runs with ``autoreject-cpp demo --out OUTPUT_DIR``.

Usage: ``python examples/demo.py [OUTPUT_DIR]`` (default: ``autoreject-cpp-demo``;
files of an earlier run there are replaced).
"""

import sys

import matplotlib

matplotlib.use("Agg")

from autoreject_cpp._demo import run_demo, summary_lines  # noqa: E402


def main(out_dir="autoreject-cpp-demo"):
    result = run_demo(out_dir, overwrite=True)
    print("\n".join(summary_lines(result)))
    return result["recall"]


if __name__ == "__main__":
    main(*sys.argv[1:])
