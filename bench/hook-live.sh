#!/bin/sh
# The hook's `started begin` against this machine's running kernel and a real QEMU, where the tree benchmarks
# cannot look: on a tree, thread affinities are files; here they are system calls through libc's binding.
#   bench/hook-live.sh                  N runs of the launcher (RUN, default ./vfio-orchestrator)
#   bench/hook-live.sh OLD.jar NEW.jar  N pairs, alternating, each jar with its own CDS archive
# N=20 by default. Needs root, a running libvirtd with QEMU (virtlogd -d; libvirtd -d), cgroup v1 cpusets,
# online CPUs 0 and 1, and no vfio-orchestrator installed or applied on this machine.
#
# It starts a transient TCG domain vfio-bench-live (1 vCPU, 1 iothread, boots nothing) without our hook, and
# writes /etc/vfio-orchestrator/profiles/vfio-bench-live.yaml: vCPU on CPU 1, the rest on CPU 0, cgroups.root
# a cpuset subtree of its own holding one `sleep` it started. Per run, untimed: `hook VM release end` (puts
# everything back) and `hook VM prepare begin` (the host side); timed: `hook VM started begin`, which pins
# QEMU's threads as libvirt's call would. On exit (also Ctrl-C) it puts the host back, destroys the domain,
# removes the profile and the cgroup, and stops its sleep; nothing it did not start is signalled.
set -e
. "$(dirname "$0")/lib.sh"
N=${N:-20}
VM=vfio-bench-live
CPUSET=/sys/fs/cgroup/cpuset
CG=$CPUSET/vfio-bench-live
PROFILES=/etc/vfio-orchestrator/profiles
PROFILE=$PROFILES/$VM.yaml
JOURNAL=/run/vfio-orchestrator/journal.json

die() { echo "hook-live.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (it pins QEMU's threads and moves IRQs)"
command -v virsh > /dev/null || die "needs virsh (apt-get install libvirt-clients libvirt-daemon-system qemu-system-x86)"
virsh -c qemu:///system version > /dev/null 2>&1 || die "libvirtd does not answer; start it: virtlogd -d; libvirtd -d"
[ -f $CPUSET/cpuset.cpus ] || die "needs cgroup v1 cpusets at $CPUSET"
grep -qE '^0-[1-9]|^0,1' /sys/devices/system/cpu/online || die "needs online CPUs 0 and 1"
[ ! -e /etc/vfio-orchestrator/install.manifest ] || die "vfio-orchestrator is installed here; uninstall it first"
[ ! -e $JOURNAL ] || die "$JOURNAL exists: the tool isolates a VM here right now"
[ ! -e "$PROFILE" ] || die "$PROFILE exists (a run that did not clean up?); remove it"
[ ! -e $CG ] || die "$CG exists (a run that did not clean up?); remove it"

# the launchers under test: RUN, or one per jar (a copy of the launcher with the jar and its archive beside it)
sides=a
run_a=$RUN
if [ $# -eq 2 ]; then
    sides="a b"
    for side in a b; do
        jar=$([ $side = a ] && echo "$1" || echo "$2")
        rm -rf "$TMP/live-$side"
        mkdir -p "$TMP/live-$side"
        cp "$REPO/vfio-orchestrator" "$TMP/live-$side/vfio-orchestrator"
        cp "$jar" "$TMP/live-$side/vfio-orchestrator.jar"
        "$TMP/live-$side/vfio-orchestrator" cds-archive > /dev/null
    done
    run_a=$TMP/live-a/vfio-orchestrator
elif [ $# -ne 0 ]; then
    die "usage: $0 [OLD.jar NEW.jar]"
fi
launcher() { # SIDE
    if [ "$1" = a ]; then echo "$run_a"; else echo "$TMP/live-b/vfio-orchestrator"; fi
}

sleep_pid=
cleanup() {
    set +e
    "$(launcher a)" hook $VM release end - < /dev/null > /dev/null 2>&1
    virsh -q -c qemu:///system destroy $VM > /dev/null 2>&1
    rm -f "$PROFILE"
    if [ -n "$sleep_pid" ]; then
        echo "$sleep_pid" > $CPUSET/cgroup.procs
        kill "$sleep_pid"
    fi
    rmdir $CG/vfio-host $CG 2> /dev/null
    [ ! -e $JOURNAL ] || echo "hook-live.sh: $JOURNAL is still there: run 'vfio-orchestrator revert $VM'" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir $CG
cat $CPUSET/cpuset.cpus > $CG/cpuset.cpus
cat $CPUSET/cpuset.mems > $CG/cpuset.mems
sleep 3600 < /dev/null > /dev/null 2>&1 &
sleep_pid=$!
echo $sleep_pid > $CG/cgroup.procs

mkdir -p $PROFILES
wq=$([ -e /sys/devices/virtual/workqueue/writeback/cpumask ] && echo "[writeback]" || echo "[]")
cat > "$PROFILE" <<YAML
# written by bench/hook-live.sh; removed when it ends
host_cpus: 0
vcpus:
  pin: [1]
emulator_cpus: 0
iothread_cpus: 0
irqs:
  move_to_host: true
  passthrough: host
workqueues:
  move_to_host: true
  also: $wq
governor: leave
cstates:
  method: leave
cgroups:
  mode: v1
  root: $CG
  keep: []
measure:
  after_start: false
YAML
chmod 644 "$PROFILE"

xml=$TMP/$VM.xml
cat > "$xml" <<XML
<domain type='qemu'>
  <name>$VM</name>
  <memory unit='MiB'>64</memory>
  <vcpu placement='static'>1</vcpu>
  <iothreads>1</iothreads>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <memballoon model='none'/>
  </devices>
</domain>
XML
virsh -q -c qemu:///system create "$xml" > /dev/null

res=$OUT/results/hook-live.txt
mkdir -p "$OUT/results"
: > "$res"
echo "load before: $(load)"
i=0
while [ $i -lt "$N" ]; do
    for side in $sides; do
        run=$(launcher $side)
        "$run" hook $VM release end - < /dev/null
        "$run" hook $VM prepare begin - < "$xml"
        start=$(date +%s%N)
        "$run" hook $VM started begin - < /dev/null
        end=$(date +%s%N)
        echo "$side $(( (end - start) / 1000 ))" >> "$res"
    done
    i=$((i + 1))
done
echo "load after: $(load)"
grep "$VM" /var/log/vfio-orchestrator/hook.log | tail -3
python3 - "$res" "${1:-$RUN}" "${2:-}" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for side, what in (("a", sys.argv[2]), ("b", sys.argv[3])):
    ms = [int(us) / 1000 for s, us in rows if s == side]
    if ms:
        q = statistics.quantiles(ms, n=4) if len(ms) > 1 else ms * 3
        print(f"hook started begin (live, {what}): n={len(ms)} median {statistics.median(ms):.1f} ms  IQR {q[0]:.1f}-{q[2]:.1f}")
PY
