#!/bin/sh
# Peak memory (maximum resident set size, /usr/bin/time -v) of the hook at N CPUs (default 1024) with the
# launcher's JVM flags: prepare begin, then started begin, each on a fresh copy of the benchmark host,
# $MEM_RUNS times (default 3). Also reports the wall and CPU time of each run.
set -e
. "$(dirname "$0")/lib.sh"
N=${N:-1024}
"$BENCH/gen-hosts.sh" >/dev/null
copy=$TMP/mem-$N
xml=$REPO/examples/domains/win11.xml
mkdir -p "$OUT/results"
res=$OUT/results/hook-memory-$N${TAG:+-$TAG}.txt
: > "$res"
echo "load before: $(load)" | tee -a "$res"
for i in $(seq "${MEM_RUNS:-3}"); do
    fresh_tree "$(host_dir "$N")" "$copy" "$(host_dir "$N").yaml"
    for phase in prepare started; do
        /usr/bin/time -v -o "$TMP/time.txt" $RUN hook --host-root "$copy" win11 $phase begin - < "$xml"
        printf '%s begin, %s CPUs, run %s: max RSS %s MiB, wall %s, CPU %s+%s s\n' "$phase" "$N" "$i" \
            "$(awk '/Maximum resident/ {printf "%.1f", $6/1024}' "$TMP/time.txt")" \
            "$(awk -F': ' '/Elapsed/ {print $2}' "$TMP/time.txt")" \
            "$(awk -F': ' '/User time/ {print $2}' "$TMP/time.txt")" \
            "$(awk -F': ' '/System time/ {print $2}' "$TMP/time.txt")" | tee -a "$res"
    done
    grep -q 'applied [1-9][0-9]* changes' "$copy/var/log/vfio-orchestrator/hook.log" || { echo "no changes applied" >&2; exit 1; }
done
echo "load after: $(load)" | tee -a "$res"
rm -rf "$copy"
