#!/bin/sh
# `plan` on the benchmark hosts (bench/gen-hosts.sh): whole process (hyperfine), and warm in-process
# (bench/PlanBench.java: steady state after warm-up, JIT on as in a long-running JVM).
set -e
. "$(dirname "$0")/lib.sh"
JAR=${JAR:-$REPO/orchestrator/target/vfio-orchestrator.jar}
"$BENCH/gen-hosts.sh" >/dev/null
mkdir -p "$OUT/results"
echo "load before: $(load)"
args=""
for n in $SIZES; do
    args="$args $(host_dir "$n") $(host_dir "$n").yaml"
done
# in-process, steady state
java -Xmx2g -cp "$JAR" "$BENCH/PlanBench.java" "${PLAN_WARMUP:-5}" "${PLAN_RUNS:-15}" $args | tee "$OUT/results/plan-warm${TAG:+-$TAG}.txt"
# whole process
for n in $SIZES; do
    hyperfine --runs "$([ "$n" -ge 1024 ] && echo 10 || echo "$RUNS")" --warmup 1 \
        --export-json "$OUT/results/plan-process-$n${TAG:+-$TAG}.json" --command-name "plan cpus-$n${TAG:+ [$TAG]}" \
        "$RUN plan '$(host_dir "$n").yaml' --host-root '$(host_dir "$n")' > /dev/null" 2>&1 | grep -v '^ *$'
done
echo "load after: $(load)"
for n in $SIZES; do python3 "$BENCH/summary.py" "$OUT/results/plan-process-$n${TAG:+-$TAG}.json"; done
