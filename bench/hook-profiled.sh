#!/bin/sh
# The hook for a VM with a profile, JVM start included, each run on a fresh copy of a host tree:
#   prepare begin  (host side: cgroups, IRQs, workqueues, governor, C-states)
#   started begin  (after an untimed prepare on the same copy: pin QEMU's threads)
# HOST=DIR (default examples/hosts/gaming-rig), PROFILE=FILE (default examples/profiles/win11.yaml with
# measure.after_start off: otherwise every started run would leave a 30 s measurement JVM running
# in the background and load the machine for the next runs).
set -e
. "$(dirname "$0")/lib.sh"
HOST=${HOST:-$REPO/examples/hosts/gaming-rig}
PROFILE=${PROFILE:-$OUT/win11-bench.yaml}
NAME=${NAME:-$(basename "$HOST")}
[ -n "${PROFILE##$OUT/win11-bench.yaml}" ] ||
    sed 's/after_start: true/after_start: false/' "$REPO/examples/profiles/win11.yaml" > "$PROFILE"
mkdir -p "$OUT/results"
copy=$TMP/hook-$NAME
xml=$REPO/examples/domains/win11.xml
# one checked run of each phase first: the benchmark must do the real work
"$BENCH/fresh-tree.sh" "$HOST" "$copy" "$PROFILE" prepare started
grep -q 'applied [1-9][0-9]* changes' "$copy/var/log/vfio-orchestrator/hook.log" || { echo "no changes applied" >&2; exit 1; }
echo "load before: $(load)"
for phase in prepare started; do
    before=$([ $phase = started ] && echo prepare || true)
    hyperfine --runs "$RUNS" --warmup "$WARMUP" --export-json "$OUT/results/hook-$phase-$NAME${TAG:+-$TAG}.json" \
        --prepare "'$BENCH/fresh-tree.sh' '$HOST' '$copy' '$PROFILE' $before" \
        --command-name "hook $phase begin ($NAME)${TAG:+ [$TAG]}" \
        "$RUN hook --host-root '$copy' win11 $phase begin - < '$xml'"
done
echo "load after: $(load)"
python3 "$BENCH/summary.py" "$OUT/results/hook-prepare-$NAME${TAG:+-$TAG}.json" "$OUT/results/hook-started-$NAME${TAG:+-$TAG}.json"
