#!/bin/sh
# JMH benchmarks of single functions (bench/jmh/): the planner given a snapshot, and the parse of
# /proc/interrupts given its bytes, on the benchmark hosts of bench/gen-hosts.sh (made if missing).
#   bench/jmh.sh                      all of them, every host size (about 4 minutes)
#   bench/jmh.sh -p cpus=1024 plan    more JMH options and a benchmark filter, passed to JMH
# RUNS_OPTS: forks, warm-up and measured iterations (default one fork, 3 x 1 s warm-up, 5 x 1 s measured).
# Builds the tool's jar if it is missing (JAR=... to use another) and bench/jmh/target/benchmarks.jar.
# Results: bench/out/results/jmh.txt (and the table on stdout).
set -e
. "$(dirname "$0")/lib.sh"
JAR=${JAR:-$REPO/orchestrator/target/vfio-orchestrator.jar}
[ -f "$JAR" ] || (cd "$REPO" && mvn -B -q -DskipTests package)
"$BENCH/gen-hosts.sh" > /dev/null
mvn -B -q -f "$BENCH/jmh/pom.xml" "-Dorchestrator.jar=$JAR" package
mkdir -p "$OUT/results"
echo "load before: $(load)"
# shellcheck disable=SC2086
java -cp "$BENCH/jmh/target/benchmarks.jar:$JAR" org.openjdk.jmh.Main ${RUNS_OPTS:--f 1 -wi 3 -w 1s -i 5 -r 1s} \
    -jvmArgs "-Xmx3g -Dbench.hosts=$OUT/hosts" -rf text -rff "$OUT/results/jmh.txt" "$@"
echo "load after: $(load)"
