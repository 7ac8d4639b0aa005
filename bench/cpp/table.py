"""Markdown tables of a Google Benchmark JSON written by bench_kernels.cpp.

    python3 bench/cpp/table.py bench/results/cpp_kernels.json

Kernel names are ``BM_<kernel>/<shape>/<backend>/<threads>/<simd>``. Each kernel row is
compared with the bounds measured in the same run, at the same thread count: bytes/s
with ``BM_memcpy/256MiB`` (DRAM copy, read + write counted) and
``BM_memcpy/L2_512KiB_per_thread`` (copy within L2); adds or comparisons per second
with the better of ``BM_peak_adds/<isa>/8acc`` and ``/12acc``, both for the kernel's own
instruction set and for the widest one the machine has (the machine's bound). ``x sse2``
is the kernel's speed-up over the same kernel, shape and backend built for SSE2 (on
scalar/1 where only that ran). Times are the median of the repetitions; cv is their
coefficient of variation.
"""

import json
import sys

ISA_ORDER = ("sse2", "avx2", "avx512")
KERNEL_ORDER = (
    "ptp",
    "median_rows",
    "kept_means",
    "threshold_scores",
    "threshold_losses",
    "prefix_sums",
    "ransac_correlations",
    "vote_bad_epochs",
)


def load(path):
    with open(path) as f:
        doc = json.load(f)
    rows = {}
    for b in doc["benchmarks"]:
        name = b["run_name"].replace("/real_time", "")
        rows.setdefault(name, {})[b.get("aggregate_name", "median")] = b
    return doc["context"], rows


def program_isa(context):
    width = str(context.get("program_vector_bytes", "16")).split()[0]
    return {"16": "sse2", "32": "avx2", "64": "avx512"}.get(width, "sse2")


def bounds_of(rows):
    isas = [i for i in ISA_ORDER if f"BM_peak_adds/{i}/8acc/1" in rows]
    bounds = {}
    for t in (1, 2):
        bounds[t] = {
            "dram": rows[f"BM_memcpy/256MiB/{t}"]["median"]["bytes_per_second"],
            "64": rows[f"BM_memcpy/64MiB/{t}"]["median"]["bytes_per_second"],
            "l2": rows[f"BM_memcpy/L2_512KiB_per_thread/{t}"]["median"]["bytes_per_second"],
        }
        for i in isas:
            bounds[t][i] = max(
                rows[f"BM_peak_adds/{i}/{a}acc/{t}"]["median"]["adds_per_second"] for a in (8, 12)
            )
    return isas, bounds


def kernel_rows(rows):
    out = []
    for name, agg in rows.items():
        parts = name.split("/")
        if parts[0] in ("BM_memcpy", "BM_peak_adds"):
            continue
        kernel, shape, backend, threads, simd = parts[0][3:], parts[1], parts[2], parts[3], parts[4]
        out.append((kernel, shape, backend, int(threads), simd, agg))

    def key(r):
        kernel, shape, backend, threads, simd, _ = r
        base = shape.replace("_exact", "")
        return (
            base,
            KERNEL_ORDER.index(kernel) if kernel in KERNEL_ORDER else 99,
            shape,
            ISA_ORDER.index(simd) if simd in ISA_ORDER else -1,
            backend != "scalar",
            threads,
        )

    return sorted(out, key=key)


def main(path):
    context, rows = load(path)
    isas, bounds = bounds_of(rows)
    widest = isas[-1]
    prog = program_isa(context)
    print(f"Run {context['date']}, load average {context.get('load_avg')}, "
          f"SIMD levels: {context.get('simd_levels', '?')}\n")
    print("| bound | 1 thread | 2 threads |")
    print("|---|---:|---:|")
    print(f"| DRAM copy (memcpy 256 MiB), GB/s | {bounds[1]['dram'] / 1e9:.1f} | "
          f"{bounds[2]['dram'] / 1e9:.1f} |")
    print(f"| memcpy 64MiB, GB/s | {bounds[1]['64'] / 1e9:.1f} | {bounds[2]['64'] / 1e9:.1f} |")
    print(f"| L2 copy (memcpy 512 KiB per thread), GB/s | {bounds[1]['l2'] / 1e9:.1f} | "
          f"{bounds[2]['l2'] / 1e9:.1f} |")
    for i in isas:
        print(f"| peak adds ({i}, independent chains), G/s | {bounds[1][i] / 1e9:.1f} | "
              f"{bounds[2][i] / 1e9:.1f} |")
    print()
    print(f"| kernel | shape | backend | simd | time ms (cv) | x sse2 | GB/s | / DRAM copy "
          f"| / L2 copy | G ops/s | ops | / peak (own ISA) | / peak ({widest}) |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for kernel, shape, backend, t, simd, agg in kernel_rows(rows):
        m = agg["median"]
        cv = agg.get("cv", {}).get("real_time", float("nan"))
        isa = prog if simd == "template" else simd
        bps = m.get("bytes_per_second", float("nan"))
        if "adds_per_second" in m:
            ops, kind = m["adds_per_second"], "adds"
        elif "comparisons_per_second" in m:
            ops, kind = m["comparisons_per_second"], "cmp"
        else:
            ops, kind = m["values_per_second"], "values"
        if kind == "values":
            own = wide = "-"
        else:
            own = f"{ops / bounds[t][isa]:.2f}"
            wide = f"{ops / bounds[t][widest]:.2f}"
        ref = rows.get(f"BM_{kernel}/{shape}/{backend}/{t}/sse2") or rows.get(
            f"BM_{kernel}/{shape}/scalar/1/sse2")
        speedup = (f"{ref['median']['real_time'] / m['real_time']:.2f}"
                   if ref is not None and simd != "template" else "-")
        print(
            f"| {kernel} | {shape} | {backend}/{t} | {simd} | {m['real_time']:.3g} "
            f"({100 * cv:.0f} %) | {speedup} | {bps / 1e9:.2f} | {bps / bounds[t]['dram']:.2f} | "
            f"{bps / bounds[t]['l2']:.2f} | {ops / 1e9:.2f} | {kind} | {own} | {wide} |"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/results/cpp_kernels.json")
