#!/bin/sh
# Two builds of the hook, compared fairly on a machine whose speed drifts: runs alternate A, B, A, B...
# Per build: the median wall time and the median CPU time (user+sys, GNU time), which other load sways less.
#   bench/hook-ab.sh OLD.jar NEW.jar [prepare|started]   (N=30 pairs; HOST, PROFILE as hook-profiled.sh)
# FLAGS_A, FLAGS_B: JVM flags added to one side (its training run included), to compare flags on one jar.
# Each jar gets its own class-data-sharing archive (its own training run) and runs with the shim's
# flags and -cp. For started, each build runs its own untimed prepare first (journal formats may differ).
set -e
. "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || { echo "usage: $0 OLD.jar NEW.jar [prepare|started]" >&2; exit 2; }
PHASE=${3:-prepare}
N=${N:-30}
HOST=${HOST:-$REPO/examples/hosts/gaming-rig}
PROFILE=${PROFILE:-$OUT/win11-bench.yaml}
[ -n "${PROFILE##$OUT/win11-bench.yaml}" ] ||
    sed 's/after_start: true/after_start: false/' "$REPO/examples/profiles/win11.yaml" > "$PROFILE"
jvm="$HOOK_JVM -Xshare:auto"
main=org.vfioorchestrator.cli.Entry
for side in a b; do
    jar=$([ $side = a ] && echo "$1" || echo "$2")
    flags=$([ $side = a ] && echo "${FLAGS_A:-}" || echo "${FLAGS_B:-}")
    mkdir -p "$TMP/ab-$side"
    cp "$jar" "$TMP/ab-$side/vfio-orchestrator.jar"
    rm -f "$TMP/ab-$side/vfio-orchestrator.jsa"
    # shellcheck disable=SC2086
    java $jvm $flags "-XX:ArchiveClassesAtExit=$TMP/ab-$side/vfio-orchestrator.jsa" -Xlog:cds=error,cds+dynamic=error:stderr \
        -cp "$TMP/ab-$side/vfio-orchestrator.jar" $main cds-training > /dev/null
done
copy=$TMP/ab-tree
xml=$REPO/examples/domains/win11.xml
hook() { # SIDE PHASE [COMMAND THAT RUNS IT...]
    side=$1 phase=$2
    shift 2
    flags=$([ "$side" = a ] && echo "${FLAGS_A:-}" || echo "${FLAGS_B:-}")
    # shellcheck disable=SC2086
    "$@" java $jvm $flags "-XX:SharedArchiveFile=$TMP/ab-$side/vfio-orchestrator.jsa" -cp "$TMP/ab-$side/vfio-orchestrator.jar" \
        $main hook --host-root "$copy" win11 "$phase" begin - < "$xml"
}
res=$OUT/results/hook-ab-$PHASE${TAG:+-$TAG}.txt
mkdir -p "$OUT/results"
: > "$res"
echo "load before: $(load)"
i=0
while [ $i -lt "$N" ]; do
    for side in a b; do
        fresh_tree "$HOST" "$copy" "$PROFILE"
        [ "$PHASE" = started ] && hook $side prepare
        start=$(date +%s%N)
        hook $side "$PHASE" /usr/bin/time -f '%U %S' -o "$TMP/ab-cpu"
        end=$(date +%s%N)
        grep -q 'applied' "$copy/var/log/vfio-orchestrator/hook.log" || { echo "$side: the hook applied nothing" >&2; exit 1; }
        echo "$side $(( (end - start) / 1000 )) $(cat "$TMP/ab-cpu")" >> "$res"
    done
    i=$((i + 1))
done
echo "load after: $(load)"
python3 - "$res" "$1" "$2" "$PHASE" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for side, jar in (("a", sys.argv[2]), ("b", sys.argv[3])):
    ms = [int(r[1]) / 1000 for r in rows if r[0] == side]
    cpu = [(float(r[2]) + float(r[3])) * 1000 for r in rows if r[0] == side]
    q = statistics.quantiles(ms, n=4)
    print(f"hook {sys.argv[4]} begin, {jar}: n={len(ms)} median {statistics.median(ms):.1f} ms  IQR {q[0]:.1f}-{q[2]:.1f}"
          f"  CPU (user+sys) median {statistics.median(cpu):.0f} ms")
PY
