#!/bin/sh
# Generates the benchmark host trees bench/out/hosts/cpus-N (N in $SIZES, default 16 64 256 1024)
# with the test-side HostTreeGenerator, and a profile for each (cpus-N.yaml). Skips trees that exist.
set -e
. "$(dirname "$0")/lib.sh"
cd "$REPO"
if [ ! -f orchestrator/target/test-classes/org/vfioorchestrator/testing/HostTreeGenerator.class ]; then
    mvn -B -q -o test-compile
fi
cp=orchestrator/target/test-classes:orchestrator/target/classes
for n in $SIZES; do
    dir=$(host_dir "$n")
    mkdir -p "$OUT/hosts"
    profile_for "$n" > "$dir.yaml"
    [ -d "$dir" ] && continue
    packages=$((n >= 256 ? n / 256 : 1)); numa=$packages
    # 100 IRQs per 8 CPUs, 20 tasks per CPU
    java -Xmx6g -cp "$cp" org.vfioorchestrator.testing.HostTreeGenerator --out "$dir.tmp" \
        --cpus "$n" --smt 2 --cpus-per-l3 16 --packages "$packages" --numa-nodes "$numa" \
        --irqs $((n / 8 * 100)) --tasks $((n * 20)) --threads-per-process 4 --vm win11 --seed "$n"
    mv "$dir.tmp" "$dir"
done
for n in $SIZES; do
    dir=$(host_dir "$n")
    printf 'cpus-%s: %s files, %s IRQs, %s tasks, %s\n' "$n" "$(find "$dir" -type f | wc -l)" \
        "$(ls "$dir/proc/irq" | grep -c '^[0-9]')" "$(ls -d "$dir"/proc/[0-9]*/task/[0-9]* | wc -l)" "$(du -sh "$dir" | cut -f1)"
done
