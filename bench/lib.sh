# Shared settings for the bench/ scripts. Source it; do not run it.
# Everything generated goes under bench/out/ (git-ignored).
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
OUT=$BENCH/out
# Scratch copies of host trees: tmpfs, like /proc, /sys and /run on a real host. BENCH_TMP=DIR to change.
TMP=${BENCH_TMP:-/dev/shm/vfio-orchestrator-bench}
# The command under test. Default: the launcher, exactly as the hook shim runs it.
# To compare with an older build, use hook-ab.sh (runs alternate; the machine's speed drifts).
RUN=${RUN:-$REPO/vfio-orchestrator}
# The JVM flags the hook shim starts the hook with, read from the shim itself (hook-ab.sh, hook-where.sh).
HOOK_JVM=$(sed -n "s/^jvm='\(.*\)'$/\1/p" "$REPO/hooks/qemu")
[ -n "$HOOK_JVM" ] || { echo "bench/lib.sh: no jvm='...' line in hooks/qemu" >&2; exit 1; }
SIZES=${SIZES:-16 64 256 1024}
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
mkdir -p "$OUT" "$TMP"

# The benchmark host of N CPUs: SMT 2 (siblings n and n+N/2), 8-core L3 groups, 100 IRQs per 8 CPUs,
# 20 tasks per CPU, VM win11 (8 vCPUs, 1 iothread) running.
host_dir() { echo "$OUT/hosts/cpus-$1"; }

# A profile for the VM on the N-CPU host: vCPUs on 4 cores from core c (8, or 4 on 16 CPUs), both
# threads of each; emulator on core 0, iothread on core 1; the host keeps every other CPU.
profile_for() {
    n=$1; k=$((n / 2)); c=$((k > 8 ? 8 : k / 2))
    cat <<YAML
# bench/lib.sh: win11 on the $n-CPU benchmark host
host_cpus: 0-$((c - 1)),$((c + 4))-$((k + c - 1))$([ $((k + c + 4)) -le $((n - 1)) ] && echo ",$((k + c + 4))-$((n - 1))")
vcpus:
  pin: [$c, $((k + c)), $((c + 1)), $((k + c + 1)), $((c + 2)), $((k + c + 2)), $((c + 3)), $((k + c + 3))]
emulator_cpus: 0,$k
iothread_cpus: 1,$((k + 1))
irqs:
  move_to_host: true
  passthrough: host
workqueues:
  move_to_host: true
  also: [writeback]
governor: performance
cstates:
  method: pm_qos
  max_latency_us: 0
cgroups:
  mode: auto
measure:
  after_start: false
YAML
}

# fresh_tree SRC DEST PROFILE: DEST becomes a copy of SRC with PROFILE installed as win11's profile.
fresh_tree() {
    rm -rf "$2"
    cp -a "$1" "$2"
    mkdir -p "$2/etc/vfio-orchestrator/profiles"
    cp "$3" "$2/etc/vfio-orchestrator/profiles/win11.yaml"
    chmod 644 "$2/etc/vfio-orchestrator/profiles/win11.yaml"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
