#!/usr/bin/env bash
# Builds the kernel benchmarks and runs them into bench/results/cpp_kernels.json.
#
#   bench/cpp/run_kernels.sh [extra Google Benchmark flags]
#
# On a shared machine another process on a core ruins the numbers (the OpenMP
# two-thread variants most of all: a thread that loses its core stalls the whole
# team at the barrier), so the run waits up to QUIET_WAIT_S seconds (default 600)
# for a 5-second window in which the CPUs are at least QUIET_IDLE % idle (default 90).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build/bench}
out=${OUT:-bench/results/cpp_kernels.json}

cmake -S . -B "$build" -G Ninja -DAUTOREJECT_BUILD_BENCHMARKS=ON -DAUTOREJECT_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build"

idle_percent() {  # idle share of all CPUs over 5 s, from /proc/stat
  read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ </proc/stat
  sleep 5
  read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ </proc/stat
  local busy=$(((u2 - u1) + (n2 - n1) + (s2 - s1) + (q2 - q1) + (sq2 - sq1) + (st2 - st1)))
  local idle=$(((i2 - i1) + (w2 - w1)))
  echo $((100 * idle / (busy + idle)))
}
deadline=$((SECONDS + ${QUIET_WAIT_S:-600}))
while :; do
  idle=$(idle_percent)
  if [ "$idle" -ge "${QUIET_IDLE:-90}" ]; then
    echo "CPUs ${idle}% idle: running"
    break
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "warning: CPUs only ${idle}% idle; running anyway (numbers will be pessimistic)" >&2
    break
  fi
  echo "CPUs ${idle}% idle: waiting for a quiet machine"
done

"$build/bench/cpp/autoreject_bench_kernels" \
  --benchmark_min_time=0.2 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out" --benchmark_out_format=json "$@"
