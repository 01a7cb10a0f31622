#!/bin/sh
# Where a hook call's time goes: samples the JVM's main thread (async-profiler, CPU clock, every 0.5 ms)
# over N calls (default 5) of PHASE (prepare or started) on the bundled example host, and prints the
# time per call by what the code was doing (linking lambdas, loading classes, kernel, our packages...)
# and by the hook's own steps. Build and write the archive first: mvn -DskipTests package &&
# ./vfio-orchestrator cds-archive. async-profiler comes from Maven Central (tools.profiler:async-profiler).
set -e
. "$(dirname "$0")/lib.sh"
PHASE=${1:-prepare}
N=${N:-5}
AP_VERSION=3.0
lib=$OUT/async-profiler-$AP_VERSION/linux-x64/libasyncProfiler.so
if [ ! -f "$lib" ]; then
    mvn -B -q dependency:get "-Dartifact=tools.profiler:async-profiler:$AP_VERSION" >&2
    unzip -q -o "$HOME/.m2/repository/tools/profiler/async-profiler/$AP_VERSION/async-profiler-$AP_VERSION.jar" \
        'linux-x64/*' -d "$OUT/async-profiler-$AP_VERSION"
fi
jar=$REPO/orchestrator/target/vfio-orchestrator.jar
profile=$OUT/win11-bench.yaml
sed 's/after_start: true/after_start: false/' "$REPO/examples/profiles/win11.yaml" > "$profile"
copy=$TMP/where
samples=$OUT/results/where-$PHASE
rm -rf "$samples"
mkdir -p "$samples"
i=0
while [ $i -lt "$N" ]; do
    i=$((i + 1))
    fresh_tree "$REPO/examples/hosts/gaming-rig" "$copy" "$profile"
    [ "$PHASE" = started ] && $RUN hook --host-root "$copy" win11 prepare begin - < "$REPO/examples/domains/win11.xml"
    # shellcheck disable=SC2086
    java $HOOK_JVM "-XX:SharedArchiveFile=${jar%.jar}.jsa" \
        "-agentpath:$lib=start,event=cpu,interval=500us,threads,file=$samples/$i.txt,collapsed" \
        -cp "$jar" org.vfioorchestrator.cli.Entry hook --host-root "$copy" win11 "$PHASE" begin - \
        < "$REPO/examples/domains/win11.xml" 2>/dev/null
done
python3 "$BENCH/where.py" "$PHASE" "$N" "$samples"/*.txt
