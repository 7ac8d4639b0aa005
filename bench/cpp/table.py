"""Markdown table of a Google Benchmark JSON written by bench_kernels.cpp.

    python3 bench/cpp/table.py bench/results/cpp_kernels.json

Each kernel row is compared with the bounds measured in the same run, at the same
thread count: bytes/s with ``BM_memcpy/256MiB`` (DRAM copy, read + write counted)
and ``BM_memcpy/L2_512KiB_per_thread`` (copy within L2), adds or comparisons per
second with the better of ``BM_peak_adds/8acc`` and ``/12acc``. Times are the median
of the repetitions; cv is their coefficient of variation.
"""

import json
import sys


def load(path):
    with open(path) as f:
        doc = json.load(f)
    rows = {}
    for b in doc["benchmarks"]:
        name = b["run_name"].replace("/real_time", "")
        rows.setdefault(name, {})[b.get("aggregate_name", "median")] = b
    return doc["context"], rows


def threads_of(parts):
    if parts[-1].isdigit():
        return int(parts[-1])
    return 1  # scalar


def main(path):
    context, rows = load(path)
    bounds = {}
    for t in (1, 2):
        bounds[t] = {
            "dram": rows[f"BM_memcpy/256MiB/{t}"]["median"]["bytes_per_second"],
            "l2": rows[f"BM_memcpy/L2_512KiB_per_thread/{t}"]["median"]["bytes_per_second"],
            "adds": max(
                rows[f"BM_peak_adds/{a}acc/{t}"]["median"]["adds_per_second"] for a in (8, 12)
            ),
        }
    print(f"Run {context['date']}, load average {context.get('load_avg')}\n")
    print("| bound | 1 thread | 2 threads |")
    print("|---|---:|---:|")
    print(f"| DRAM copy (memcpy 256 MiB), GB/s | {bounds[1]['dram'] / 1e9:.1f} | "
          f"{bounds[2]['dram'] / 1e9:.1f} |")
    for size in ("64MiB",):
        a, b = (rows[f"BM_memcpy/{size}/{t}"]["median"]["bytes_per_second"] for t in (1, 2))
        print(f"| memcpy {size}, GB/s | {a / 1e9:.1f} | {b / 1e9:.1f} |")
    print(f"| L2 copy (memcpy 512 KiB per thread), GB/s | {bounds[1]['l2'] / 1e9:.1f} | "
          f"{bounds[2]['l2'] / 1e9:.1f} |")
    print(f"| peak adds (SSE2, independent chains), G/s | {bounds[1]['adds'] / 1e9:.1f} | "
          f"{bounds[2]['adds'] / 1e9:.1f} |")
    print()
    print("| kernel | shape | backend | time ms (cv) | GB/s | / DRAM copy | / L2 copy "
          "| G ops/s | ops | / peak adds |")
    print("|---|---|---|---:|---:|---:|---:|---:|---|---:|")
    for name, agg in rows.items():
        parts = name.split("/")
        if parts[0] in ("BM_memcpy", "BM_peak_adds"):
            continue
        m = agg["median"]
        cv = agg.get("cv", {}).get("real_time", float("nan"))
        t = threads_of(parts)
        backend = "/".join(parts[2:])
        bps = m.get("bytes_per_second", float("nan"))
        if "adds_per_second" in m:
            ops, kind = m["adds_per_second"], "adds"
        elif "comparisons_per_second" in m:
            ops, kind = m["comparisons_per_second"], "cmp"
        else:
            ops, kind = m["values_per_second"], "values"
        peak = f"{ops / bounds[t]['adds']:.2f}" if kind != "values" else "-"
        print(
            f"| {parts[0][3:]} | {parts[1]} | {backend} | {m['real_time']:.3g} "
            f"({100 * cv:.0f} %) | {bps / 1e9:.2f} | {bps / bounds[t]['dram']:.2f} | "
            f"{bps / bounds[t]['l2']:.2f} | {ops / 1e9:.2f} | {kind} | {peak} |"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/results/cpp_kernels.json")
