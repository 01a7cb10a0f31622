#!/usr/bin/env bash
# Guest latency benchmark: boots the tiny guest from build-guest.sh, lets
# cyclictest measure timer wake-up latency inside it, and compares scenarios:
#
#   a  idle host, no pinning
#   b  host load (stress-ng), no isolation, no pinning
#   c  the same load, isolated by vfio-orchestrator's profile through the real
#      libvirt hook (hooks/qemu.d/vfio-orchestrator or hooks/qemu, as
#      'vfio-orchestrator install' puts it); the load runs in a cgroup subtree
#      of the benchmark's own, which the profile names as "the host"
#      (cgroups.root). Pending (skipped, and reported as such) while the hook
#      is not installed.
#   d  the same load, only libvirt <cputune> pinning (vcpupin + emulatorpin on
#      the guest's CPU), no isolation
#   e  a hand-made stand-in for c, NOT the tool: the load started with
#      `taskset -c <host CPU>` plus the <cputune> pinning of d (no IRQ,
#      workqueue or cgroup changes). It shows what c can reach here while c
#      is pending; it is kept out of the target ratios.
#
# Each scenario boots the guest --runs times. Results (console logs, a TSV of
# every run, summary.md with the table and the ratios) go to
# bench/out/results/<time>/; summary.md is also printed.
#
# Usage: bench/guest/run-bench.sh [options]
#   --scenarios LIST   comma-separated, of a,b,c,d,e (default a,b,c,d,e)
#   --runs N           boots per scenario (default 3)
#   --secs S           cyclictest duration per boot (default 10)
#   --hist-us US       cyclictest histogram size (default 20000; see BENCHMARKS.md
#                      for why not 2000 under TCG)
#   --vcpus N          guest vCPUs, 1 or 2 (default 1); all on --guest-cpu
#   --host-cpu LIST    CPUs the host keeps in c (default 0)
#   --guest-cpu N      the CPU the guest's vCPUs and emulator thread get in c, d (default 1)
#   --accel MODE       auto|tcg|kvm (default auto: KVM if a trial boot with it works)
#   --launcher MODE    auto|libvirt|qemu (default auto: libvirt if qemu:///system answers);
#                      qemu runs only a and b (c, d and e need libvirt)
#   --name NAME        libvirt domain name (default vfio-bench)
#   --profile-dir DIR  where the hook reads profiles (default: the installed shim's
#                      profiles= setting, else /etc/vfio-orchestrator/profiles)
#   --out DIR          work folder (default bench/out, or $BENCH_OUT)
#   --load "ARGS"      stress-ng stressors instead of the standard load, for
#                      diagnosis only (e.g. "--cpu 2 --vm 1 --vm-bytes 128M" to
#                      leave out --io); results with it are not the benchmark
#
# Needs root, QEMU, stress-ng, libvirtd running (for b..d through libvirt) and
# the guest (bench/guest/build-guest.sh). Never touches a process it did not
# start: it stops only its own stress-ng process group, QEMU it started, and
# the libvirt domain it defined (destroyed and undefined on any exit).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${BENCH_OUT:-$here/../out}"
scenarios="a,b,c,d,e"
runs=3
secs=10
hist=20000
vcpus=1
host_cpu="0"
guest_cpu="1"
accel=auto
launcher=auto
name=vfio-bench
profile_dir=/etc/vfio-orchestrator/profiles
profile_dir_given=0
interval=1000
prio=90
command_line="$0${*:+ $*}"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }
say() { printf 'run-bench: %s\n' "$*" >&2; }
die() { printf 'run-bench: %s\n' "$*" >&2; exit 1; }
need_value() { [[ $# -ge 2 && -n "$2" ]] || { echo "run-bench: $1 needs a value (try --help)" >&2; exit 2; }; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --scenarios)   need_value "$@"; scenarios="$2"; shift 2 ;;
        --runs)        need_value "$@"; runs="$2"; shift 2 ;;
        --secs)        need_value "$@"; secs="$2"; shift 2 ;;
        --hist-us)     need_value "$@"; hist="$2"; shift 2 ;;
        --vcpus)       need_value "$@"; vcpus="$2"; shift 2 ;;
        --host-cpu)    need_value "$@"; host_cpu="$2"; shift 2 ;;
        --guest-cpu)   need_value "$@"; guest_cpu="$2"; shift 2 ;;
        --accel)       need_value "$@"; accel="$2"; shift 2 ;;
        --launcher)    need_value "$@"; launcher="$2"; shift 2 ;;
        --name)        need_value "$@"; name="$2"; shift 2 ;;
        --profile-dir) need_value "$@"; profile_dir="$2"; profile_dir_given=1; shift 2 ;;
        --out)         need_value "$@"; out="$2"; shift 2 ;;
        --load)        need_value "$@"; load_args="$2"; shift 2 ;;
        -h|--help)     usage; exit 0 ;;
        *) echo "run-bench: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done

# --- check the options (they end up in XML, a YAML profile and a kernel command line) ---
bad() { echo "run-bench: $1" >&2; exit 2; }
[[ "$scenarios" =~ ^[a-e](,[a-e])*$ ]] || bad "--scenarios '$scenarios': give a comma-separated list of a, b, c, d, e"
[[ "$runs" =~ ^[1-9][0-9]?$ ]] || bad "--runs '$runs': give 1..99"
[[ "$secs" =~ ^[1-9][0-9]{0,3}$ ]] || bad "--secs '$secs': give a whole number of seconds"
[[ "$hist" =~ ^[1-9][0-9]{1,5}$ ]] || bad "--hist-us '$hist': give 10..999999"
[[ "$vcpus" =~ ^[12]$ ]] || bad "--vcpus '$vcpus': give 1 or 2"
[[ "$host_cpu" =~ ^[0-9]+([-,][0-9]+)*$ ]] || bad "--host-cpu '$host_cpu': give a CPU list such as 0 or 0,2-3"
[[ "$guest_cpu" =~ ^[0-9]+$ ]] || bad "--guest-cpu '$guest_cpu': give one CPU number"
[[ "$accel" =~ ^(auto|tcg|kvm)$ ]] || bad "--accel '$accel': give auto, tcg or kvm"
[[ "$launcher" =~ ^(auto|libvirt|qemu)$ ]] || bad "--launcher '$launcher': give auto, libvirt or qemu"
[[ "$name" =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,40}$ ]] || bad "--name '$name': letters, digits, _ . - only"
[[ "$profile_dir" == /* && "$profile_dir" != *$'\n'* ]] || bad "--profile-dir '$profile_dir': give an absolute path"
[[ -z "${load_args:-}" || "$load_args" =~ ^[a-zA-Z0-9\ -]+$ ]] || bad "--load '$load_args': stress-ng options only (letters, digits, -, spaces)"
[[ -d "/sys/devices/system/cpu/cpu$guest_cpu" ]] || bad "--guest-cpu $guest_cpu: this machine has no CPU $guest_cpu"

[[ $EUID -eq 0 ]] || die "run as root (libvirt's system instance, cgroups and cyclictest's priorities need it)"
for tool in qemu-system-x86_64 stress-ng awk setsid taskset; do
    command -v "$tool" >/dev/null || die "'$tool' not found (apt-get install qemu-system-x86 stress-ng)"
done
parser="$here/parse-cyclictest.awk"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
kernel="$out/guest/vmlinuz"
initrd="$out/guest/initramfs.gz"
[[ -f "$kernel" && -f "$initrd" ]] || die "no guest in $out/guest: run bench/guest/build-guest.sh first"

results="$out/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$results"
say "results in $results"

# The load: 2 CPU hogs, 1 sync() loop, 1 memory thrasher, sized for a 2-core
# machine. The timeout only guards against this script dying; each run stops it.
load_timeout=$(( secs + 300 ))
if [[ -n "${load_args:-}" ]]; then
    read -r -a stressors <<< "$load_args"   # split on spaces into an argument array, no shell evaluation
    say "--load: a diagnostic load ($load_args), not the benchmark's"
else
    stressors=(--cpu 2 --io 1 --vm 1 --vm-bytes 128M)
fi
load=(stress-ng "${stressors[@]}" --timeout "${load_timeout}s" --quiet)

virsh_=(virsh -q -c qemu:///system)

# --- clean-up of everything this script started or made ----------------------------
domain_defined=0
qemu_pid=""
load_pid=""
load_pgid=""
profile_written=""
cgroup_base=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ $rc -ne 0 ]] && say "stopping (exit $rc): cleaning up the domain, the load, the profile and the cgroup"
    stop_load || true
    if [[ -n "$qemu_pid" ]]; then
        kill -TERM "$qemu_pid" 2>/dev/null || true
        wait "$qemu_pid" 2>/dev/null || true
        qemu_pid=""
    fi
    if [[ $domain_defined -eq 1 ]]; then
        "${virsh_[@]}" destroy "$name" >/dev/null 2>&1 || true
        "${virsh_[@]}" undefine "$name" >/dev/null 2>&1 || true
        domain_defined=0
    fi
    if [[ -n "$profile_written" ]]; then
        rm -f -- "$profile_written"
        profile_written=""
    fi
    remove_cgroup || true
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the host cgroup subtree of the benchmark's own ("the host" in scenario c) ---
# v1: the profile's cgroups.root is this cpuset; the tool moves the processes
#     directly in it (the load) into <root>/vfio-host with the host CPUs.
# v2: cgroups.root is this directory; the tool sets cpuset.cpus on each child
#     (the load runs in <root>/load).
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    cgroup_version=2
    cgroup_base="/sys/fs/cgroup/$name-host"
    load_cgroup="$cgroup_base/load"
elif [[ -f /sys/fs/cgroup/cpuset/cpuset.cpus ]]; then
    cgroup_version=1
    cgroup_base="/sys/fs/cgroup/cpuset/$name-host"
    load_cgroup="$cgroup_base"
else
    die "no cgroup v2 at /sys/fs/cgroup and no cgroup v1 cpuset hierarchy at /sys/fs/cgroup/cpuset"
fi
make_cgroup() {
    if [[ -d "$cgroup_base" ]]; then
        # Left by an earlier run that was killed: reuse it only if it is empty.
        [[ -z "$(cat "$load_cgroup/cgroup.procs" 2>/dev/null)" ]] \
            || die "$load_cgroup still has processes (another benchmark running?); stop them or remove it"
    fi
    mkdir -p "$load_cgroup"
    if [[ $cgroup_version -eq 1 ]]; then
        # A v1 cpuset takes tasks only once it has cpus and mems.
        cat "$cgroup_base/../cpuset.cpus" > "$cgroup_base/cpuset.cpus"
        cat "$cgroup_base/../cpuset.mems" > "$cgroup_base/cpuset.mems"
    fi
}
remove_cgroup() {
    [[ -n "$cgroup_base" && -d "$cgroup_base" ]] || return 0
    # Depth first: our own folders, plus the host cpuset the tool may have left in ours.
    local d
    while IFS= read -r d; do
        rmdir -- "$d" 2>/dev/null || say "could not remove $d (still has tasks?)"
    done < <(find "$cgroup_base" -mindepth 0 -type d | sort -r)
}

# --- the load -----------------------------------------------------------------------
start_load() {   # start_load LOGFILE [CPUS]: stress-ng in its own session, inside $load_cgroup (on CPUS only)
    local cmd=("${load[@]}")
    [[ -n "${2:-}" ]] && cmd=(taskset -c "$2" "${load[@]}")
    make_cgroup
    # The child writes its own PID into the cgroup, then becomes stress-ng: every
    # stressor starts inside the subtree. Fixed script, arguments passed as $1.. only.
    # shellcheck disable=SC2016  # expanded by that sh, on purpose
    setsid sh -c 'echo "$$" > "$1" && shift && exec "$@"' sh "$load_cgroup/cgroup.procs" "${cmd[@]}" \
        > "$1" 2>&1 < /dev/null &
    load_pid=$!
    sleep 0.2
    load_pgid="$(ps -o pgid= -p "$load_pid" 2>/dev/null | tr -d ' ' || true)"
    kill -0 "$load_pid" 2>/dev/null || die "stress-ng did not start: $(cat "$1")"
    sleep 2   # let the stressors spin up
    # Frozen while the guest boots (a TCG boot under load takes a minute), resumed
    # when the guest says START. The processes exist before the VM starts, so in c
    # the hook finds them in "the host" and confines them.
    load_signal STOP
}
load_signal() {   # load_signal STOP|CONT|TERM: to our own stress-ng process group only
    [[ -n "$load_pid" ]] || return 0
    if [[ -n "$load_pgid" && "$load_pgid" == "$load_pid" ]]; then
        kill -"$1" -- "-$load_pgid" 2>/dev/null || true
    else
        kill -"$1" "$load_pid" 2>/dev/null || true
    fi
}
stop_load() {
    [[ -n "$load_pid" ]] || return 0
    load_signal TERM   # stress-ng stops its workers itself
    load_signal CONT   # a stopped process acts on TERM once it runs again
    wait "$load_pid" 2>/dev/null || true
    local _
    for _ in $(seq 50); do
        [[ -z "$(cat "$load_cgroup/cgroup.procs" 2>/dev/null)" ]] && break
        sleep 0.1
    done
    load_pid=""
    load_pgid=""
}

# --- per-CPU busy share while a run lasts -------------------------------------------
# "cpuN total idle steal" in ticks; busy counts steal (time the hypervisor below
# this machine, if any, gave to someone else), and steal is shown apart too.
cpu_ticks() { awk '/^cpu[0-9]+ / { idle = $5 + $6; t = 0; for (i = 2; i <= 9; i++) t += $i; printf "%s %d %d %d\n", $1, t, idle, $9 }' /proc/stat; }
cpu_busy() {   # cpu_busy BEFORE AFTER -> "cpu0=97%(st4%) cpu1=12%(st0%)"
    awk 'NR == FNR { t[$1] = $2; i[$1] = $3; s[$1] = $4; next }
         { dt = $2 - t[$1]; di = $3 - i[$1]; ds = $4 - s[$1]
           printf "%s%s=%d%%(st%d%%)", (n++ ? " " : ""), $1, (dt > 0 ? 100 * (dt - di) / dt : 0), (dt > 0 ? 100 * ds / dt : 0) }
         END { print "" }' "$1" "$2"
}

# The measurement window: from the START marker to the END marker on the console.
# mark FILE QEMU_PID: time, per-CPU ticks and the ticks QEMU's threads used so far.
mark() {
    {
        printf 'time %s\n' "$(date +%s.%N)"
        cpu_ticks
        # utime + stime of every QEMU thread (fields 14, 15; the name may hold spaces)
        cat /proc/"$2"/task/*/stat 2>/dev/null | awk '{ sub(/^.*\) /, ""); q += $12 + $13 } END { printf "qemu %d 0 0\n", q }'
    } > "$1"
}
window_busy() {   # window_busy START_MARK END_MARK -> "cpu0=97%(st3%) cpu1=40%(st2%) qemu=35%" (qemu: of one CPU)
    local hz
    hz="$(getconf CLK_TCK)"
    awk -v hz="$hz" 'NR == FNR { a[$1] = $2; b[$1] = $3; c[$1] = $4; next }
        $1 == "time" { secs = $2 - a["time"]; next }
        $1 == "qemu" { q = $2 - a["qemu"]; next }
        { dt = $2 - a[$1]; di = $3 - b[$1]; ds = $4 - c[$1]
          out = out sprintf("%s%s=%d%%(st%d%%)", (n++ ? " " : ""), $1, (dt > 0 ? 100 * (dt - di) / dt : 0), (dt > 0 ? 100 * ds / dt : 0)) }
        END { printf "%s qemu=%d%%\n", out, (secs > 0 ? 100 * q / hz / secs : 0) }' "$1" "$2"
}

# --- where QEMU's threads (and the load) may run ------------------------------------
snapshot_threads() {   # snapshot_threads QEMU_PID FILE
    local pid="$1" file="$2" t comm cpus
    {
        for t in /proc/"$pid"/task/*; do
            comm="$(cat "$t/comm" 2>/dev/null || true)"
            cpus="$(awk '/^Cpus_allowed_list:/ { print $2 }' "$t/status" 2>/dev/null || true)"
            printf 'qemu %s %-20s cpus=%s\n' "${t##*/}" "$comm" "$cpus"
        done
        if [[ -n "$load_pid" ]]; then
            for t in $(cat "$load_cgroup/cgroup.procs" 2>/dev/null) $(find "$cgroup_base" -mindepth 1 -name cgroup.procs -exec cat {} + 2>/dev/null); do
                comm="$(cat "/proc/$t/comm" 2>/dev/null || true)"
                cpus="$(awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$t/status" 2>/dev/null || true)"
                [[ -n "$comm" ]] && printf 'load %s %-20s cpus=%s\n' "$t" "$comm" "$cpus"
            done | sort -u
        fi
    } > "$file"
}

# --- booting the guest ---------------------------------------------------------------
guest_cmdline() {   # guest_cmdline TAG [SECS]
    printf 'console=ttyS0 panic=-1 loglevel=4 bench.secs=%s bench.interval=%s bench.prio=%s bench.hist=%s bench.tag=%s' \
        "${2:-$secs}" "$interval" "$prio" "$hist" "$1"
}
boot_timeout=$(( secs + 240 ))

# Direct QEMU: used to probe KVM, and as the launcher when libvirt is not used.
boot_qemu() {   # boot_qemu ACCEL LOG TAG [SECS] [TIMEOUT] [THREADS_FILE]
    local acc="$1" log="$2" tag="$3" s="${4:-$secs}" limit="${5:-$boot_timeout}" threads="${6:-}"
    local cpu=max snapped=0 ended=0 waited=0
    rm -f -- "$log"
    qemu-system-x86_64 -name "$name" -accel "$acc" -machine q35 -cpu "$cpu" -smp "$vcpus" -m 256 \
        -nodefaults -nographic -no-reboot -monitor none -serial "file:$log" \
        -kernel "$kernel" -initrd "$initrd" -append "$(guest_cmdline "$tag" "$s")" \
        > "$log.qemu" 2>&1 < /dev/null &
    qemu_pid=$!
    while kill -0 "$qemu_pid" 2>/dev/null; do
        if [[ $snapped -eq 0 && -n "$threads" ]] && grep -q 'VFIO-BENCH START' "$log" 2>/dev/null; then
            load_signal CONT
            mark "$threads.m0" "$qemu_pid"; snapshot_threads "$qemu_pid" "$threads"; snapped=1
        fi
        if [[ $snapped -eq 1 && $ended -eq 0 ]] && grep -q 'VFIO-BENCH END' "$log" 2>/dev/null; then
            mark "$threads.m1" "$qemu_pid"; ended=1
        fi
        if (( waited >= limit * 5 )); then
            say "$tag: no power-off after ${limit}s; stopping QEMU"
            kill -TERM "$qemu_pid" 2>/dev/null || true
        fi
        sleep 0.2; waited=$(( waited + 1 ))
    done
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
}

xml_escape() { local s="$1"; s="${s//&/&amp;}"; s="${s//</&lt;}"; s="${s//>/&gt;}"; s="${s//\"/&quot;}"; s="${s//\'/&apos;}"; printf '%s' "$s"; }

domain_xml() {   # domain_xml LOG TAG PIN(0|1)
    local log="$1" tag="$2" pin="$3" type=qemu v
    [[ "$accel_used" == kvm ]] && type=kvm
    cat <<EOF
<domain type='$type'>
  <name>$name</name>
  <description>vfio-orchestrator latency benchmark guest (bench/guest/run-bench.sh); safe to destroy</description>
  <memory unit='MiB'>256</memory>
  <vcpu placement='static'>$vcpus</vcpu>
EOF
    if [[ "$pin" -eq 1 ]]; then
        echo "  <cputune>"
        for (( v = 0; v < vcpus; v++ )); do echo "    <vcpupin vcpu='$v' cpuset='$guest_cpu'/>"; done
        echo "    <emulatorpin cpuset='$guest_cpu'/>"
        echo "  </cputune>"
    fi
    cat <<EOF
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$(xml_escape "$kernel")</kernel>
    <initrd>$(xml_escape "$initrd")</initrd>
    <cmdline>$(guest_cmdline "$tag")</cmdline>
  </os>
  <features><acpi/></features>
  <cpu mode='maximum' check='none'/>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$(xml_escape "$(command -v qemu-system-x86_64)")</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='$(xml_escape "$log")'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

boot_libvirt() {   # boot_libvirt LOG TAG PIN(0|1) THREADS_FILE -> 0, or 1 when the domain did not start
    local log="$1" tag="$2" pin="$3" threads="$4" xml="$1.xml" state snapped=0 ended=0 waited=0 pid=""
    rm -f -- "$log"
    domain_xml "$log" "$tag" "$pin" > "$xml"
    "${virsh_[@]}" define "$xml" > /dev/null
    domain_defined=1
    if ! "${virsh_[@]}" start "$name" > "$log.virsh" 2>&1; then
        say "$tag: virsh start failed: $(tr '\n' ' ' < "$log.virsh")"
        "${virsh_[@]}" undefine "$name" > /dev/null 2>&1 || true
        domain_defined=0
        return 1
    fi
    while :; do
        state="$("${virsh_[@]}" domstate "$name" 2>/dev/null || echo gone)"
        [[ "$state" == running || "$state" == paused ]] || break
        if [[ $snapped -eq 0 ]] && grep -q 'VFIO-BENCH START' "$log" 2>/dev/null; then
            load_signal CONT
            pid="$(cat "/run/libvirt/qemu/$name.pid" 2>/dev/null || true)"
            if [[ "$pid" =~ ^[0-9]+$ ]]; then
                mark "$threads.m0" "$pid"; snapshot_threads "$pid" "$threads"
            fi
            snapped=1
        fi
        if [[ $snapped -eq 1 && $ended -eq 0 && -n "$pid" ]] && grep -q 'VFIO-BENCH END' "$log" 2>/dev/null; then
            mark "$threads.m1" "$pid"; ended=1
        fi
        if (( waited >= boot_timeout * 5 )); then
            say "$tag: no power-off after ${boot_timeout}s; destroying the domain"
            "${virsh_[@]}" destroy "$name" > /dev/null 2>&1 || true
        fi
        sleep 0.2; waited=$(( waited + 1 ))
    done
    "${virsh_[@]}" undefine "$name" > /dev/null 2>&1 || true
    domain_defined=0
    return 0
}

# --- environment ---------------------------------------------------------------------
if [[ "$launcher" != qemu ]]; then
    if "${virsh_[@]}" version > /dev/null 2>&1; then
        launcher=libvirt
    elif [[ "$launcher" == libvirt ]]; then
        die "libvirt's qemu:///system does not answer; start libvirtd (systemctl start libvirtd, or: virtlogd -d && libvirtd -d)"
    else
        launcher=qemu
        say "libvirt's qemu:///system does not answer: booting with QEMU directly (scenarios c and d need libvirt)"
    fi
fi
if [[ "$launcher" == libvirt ]] && "${virsh_[@]}" domstate "$name" > /dev/null 2>&1; then
    die "a libvirt domain '$name' exists already; remove it (virsh destroy $name; virsh undefine $name) or pass --name"
fi

accel_used=tcg
accel_note="TCG (forced with --accel tcg)"
if [[ "$accel" != tcg ]]; then
    if [[ -r /dev/kvm && -w /dev/kvm ]]; then
        say "trying KVM: a 1 s guest boot with -accel kvm (60 s limit)"
        boot_qemu kvm "$results/kvm-probe.log" kvm-probe 1 60 2>> "$results/kvm-probe.log.stderr"
        if grep -q 'VFIO-BENCH END rc=0' "$results/kvm-probe.log" 2>/dev/null; then
            accel_used=kvm; accel_note="KVM (a trial boot with it worked)"
        else
            accel_note="TCG (a trial boot with KVM did not finish: $(grep -m1 -iE 'error|fail' "$results/kvm-probe.log.qemu" 2>/dev/null || echo 'no END marker on the console within 60 s'))"
        fi
    else
        accel_note="TCG (no usable /dev/kvm)"
    fi
    [[ "$accel" == kvm && "$accel_used" != kvm ]] && die "--accel kvm: $accel_note"
fi
say "accelerator: $accel_note; launcher: $launcher"

# 'vfio-orchestrator install' puts its shim in hooks/qemu.d/ (libvirt >= 6.5) or
# as hooks/qemu; the shim names the profiles folder it reads (profiles=...).
hook=""
for f in /etc/libvirt/hooks/qemu.d/vfio-orchestrator /etc/libvirt/hooks/qemu; do
    if [[ -x "$f" ]] && grep -aq 'vfio-orchestrator' "$f" 2>/dev/null; then hook="$f"; break; fi
done
hook_state=""
if [[ -z "$hook" ]]; then
    hook_state="pending: vfio-orchestrator's hook is not installed (no /etc/libvirt/hooks/qemu.d/vfio-orchestrator or /etc/libvirt/hooks/qemu of its own; run 'vfio-orchestrator install', then restart libvirtd)"
elif [[ "$launcher" != libvirt ]]; then
    hook_state="skipped: needs libvirt"
else
    if [[ $profile_dir_given -eq 0 ]]; then
        from_shim="$(sed -n 's/^profiles=\(\/[^ ]*\)$/\1/p' "$hook" | head -n 1)"
        [[ -n "$from_shim" ]] && profile_dir="$from_shim"
    fi
    # libvirt looks for hooks when it starts: one installed later is not run.
    daemon="$(pgrep -o -x libvirtd || pgrep -o -x virtqemud || true)"
    started_at="$(date -d "$(ps -o lstart= -p "${daemon:-1}" 2>/dev/null || echo now)" +%s 2>/dev/null || echo 0)"
    if [[ -n "$daemon" ]] && (( $(stat -c %Y "$hook") > started_at )); then
        say "warning: $hook is newer than libvirt's daemon (pid $daemon): restart it, or the hook may not run"
    fi
    say "scenario c: hook $hook, profile $profile_dir/$name.yaml"
fi

# What the machine does without us (other users, builds): the "idle" of a is only this idle.
cpu_ticks > "$results/bg.0"; sleep 5; cpu_ticks > "$results/bg.1"
background="$(cpu_busy "$results/bg.0" "$results/bg.1")"
rm -f -- "$results/bg.0" "$results/bg.1"
say "host CPUs busy before the benchmark (5 s, without it): $background"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "command: $command_line"
    echo "nproc: $(nproc)"
    echo "kernel: $(uname -sr)"
    echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "qemu: $(qemu-system-x86_64 --version | head -n 1)"
    echo "libvirt: $(libvirtd --version 2>/dev/null || echo none)"
    echo "stress-ng: $(stress-ng --version 2>/dev/null | head -n 1)"
    echo "guest: $(awk '{ print $1 }' "$out/guest/manifest.txt" 2>/dev/null | tr '\n' ' ')"
    echo "accelerator: $accel_note"
    echo "launcher: $launcher"
    echo "cgroups: v$cgroup_version, load in $load_cgroup"
    echo "load: ${load[*]}"
    echo "guest cyclictest: -m -q -p $prio -i $interval -h $hist -D $secs -t -a (vcpus=$vcpus)"
    echo "host cpu: $host_cpu, guest cpu: $guest_cpu"
    echo "loadavg at start: $(cat /proc/loadavg)"
    echo "host CPUs busy before the benchmark (5 s, without it): $background"
} > "$results/env.txt"

# --- scenario c: the profile the hook applies -----------------------------------------
write_profile() {
    local file="$profile_dir/$name.yaml" pins="" v
    if [[ -e "$file" ]] && ! grep -q 'run-bench.sh' "$file"; then
        die "$file exists and was not written by this benchmark; move it away or pass --name"
    fi
    for (( v = 0; v < vcpus; v++ )); do pins+="${pins:+, }$guest_cpu"; done
    # The tool refuses a governor or C-state method the host cannot do (a VM has often neither).
    local governor=leave cstates=leave
    [[ -e "/sys/devices/system/cpu/cpu$guest_cpu/cpufreq/scaling_governor" ]] && governor=performance
    [[ -e "/sys/devices/system/cpu/cpu$guest_cpu/power/pm_qos_resume_latency_us" ]] && cstates=pm_qos
    mkdir -p "$profile_dir"
    cat > "$file" <<EOF
# Written by bench/guest/run-bench.sh for scenario c; removed when it ends.
vm: $name
host_cpus: $host_cpu
vcpus:
  pin: [$pins]
# Under TCG the guest's timers run on the emulator thread: it gets the guest's CPU.
emulator_cpus: $guest_cpu
iothread_cpus: $host_cpu
irqs:
  move_to_host: true
  passthrough: leave
workqueues:
  move_to_host: true
  also: [writeback]
governor: $governor
cstates:
  method: $cstates
  max_latency_us: 0
cgroups:
  mode: v$cgroup_version
  root: $cgroup_base
measure:
  after_start: false
EOF
    profile_written="$file"
}

# --- the runs -----------------------------------------------------------------------
printf 'scenario\trun\tsamples\tmin\tavg\tp50\tp99\tp999\tmax\toverflows\tcpu_busy\tloadavg\tstatus\tbusy_before\n' > "$results/runs.tsv"
declare -A status_of=()
scenario_title() {
    case "$1" in
        a) echo "a: idle host" ;;
        b) echo "b: load, no isolation" ;;
        c) echo "c: load, vfio-orchestrator profile (hook)" ;;
        d) echo "d: load, <cputune> pinning only" ;;
        e) echo "e: load on CPU ${host_cpu} by taskset + <cputune> (stand-in for c, not the tool)" ;;
    esac
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

check_isolation() {   # check_isolation SCENARIO THREADS_FILE -> "" or what is wrong
    local sc="$1" f="$2" problems=""
    [[ -s "$f" ]] || { echo "no thread snapshot"; return; }
    case "$sc" in
        c|d|e)
            # every QEMU thread on the guest's CPU only would be the pinning; the
            # vCPU threads at least must be there.
            if awk -v g="$guest_cpu" '$1 == "qemu" && $3 == "CPU" && $0 !~ ("cpus=" g "$") { bad = 1 } END { exit !bad }' "$f"; then
                problems+="vCPU not pinned to $guest_cpu; "
            fi
            ;;
    esac
    if [[ "$sc" == c || "$sc" == e ]] && awk -v h="$host_cpu" '$1 == "load" && $0 !~ ("cpus=" h "$") { bad = 1 } END { exit !bad }' "$f"; then
        problems+="load not confined to $host_cpu; "
    fi
    printf '%s' "${problems%; }"
}

IFS=',' read -r -a wanted <<<"$scenarios"
for sc in "${wanted[@]}"; do
    title="$(scenario_title "$sc")"
    if [[ "$sc" == c && -n "$hook_state" ]]; then
        say "scenario $title: $hook_state"
        status_of[$sc]="$hook_state"
        continue
    fi
    if [[ ( "$sc" == d || "$sc" == e ) && "$launcher" != libvirt ]]; then
        say "scenario $title: skipped: needs libvirt"
        status_of[$sc]="skipped: needs libvirt"
        continue
    fi
    [[ "$sc" == c ]] && write_profile
    for (( r = 1; r <= runs; r++ )); do
        tag="$sc$r"
        log="$results/$tag.console.log"
        threads="$results/$tag.threads.txt"
        # What the rest of the machine does right before this run (2 s, without our load or guest).
        cpu_ticks > "$results/$tag.bg0"; sleep 2; cpu_ticks > "$results/$tag.bg1"
        before="$(cpu_busy "$results/$tag.bg0" "$results/$tag.bg1")"
        rm -f -- "$results/$tag.bg0" "$results/$tag.bg1"
        say "scenario $title, run $r/$runs ($secs s of cyclictest; busy before: $before)"
        case "$sc" in
            a) ;;
            e) start_load "$results/$tag.stress.log" "$host_cpu" ;;
            *) start_load "$results/$tag.stress.log" ;;
        esac
        started=$SECONDS
        ok=1
        if [[ "$launcher" == libvirt ]]; then
            pin=0; [[ "$sc" == d || "$sc" == e ]] && pin=1
            boot_libvirt "$log" "$tag" "$pin" "$threads" || ok=0
        else
            boot_qemu "$accel_used" "$log" "$tag" "$secs" "$boot_timeout" "$threads"
        fi
        stop_load
        busy="n/a"
        if [[ -f "$threads.m0" && -f "$threads.m1" ]]; then
            busy="$(window_busy "$threads.m0" "$threads.m1")"
        fi
        rm -f -- "$threads.m0" "$threads.m1"
        loadavg="$(cut -d' ' -f1-3 /proc/loadavg)"
        if [[ $ok -eq 0 ]]; then
            printf '%s\t%d\t-\t-\t-\t-\t-\t-\t-\t-\t%s\t%s\t%s\t%s\n' "$sc" "$r" "$busy" "$loadavg" "domain did not start" "$before" >> "$results/runs.tsv"
            [[ "$sc" == c ]] && { status_of[$sc]="failed: the domain did not start (see $log.virsh)"; break; }
            continue
        fi
        p="$(awk -f "$parser" "$log")"
        status=ok
        [[ "$(field complete "$p")" == 1 ]] || status="no END marker (see $log)"
        [[ "$(field rc "$p")" == 0 ]] || status="cyclictest rc=$(field rc "$p")"
        problems="$(check_isolation "$sc" "$threads")"
        [[ -n "$problems" ]] && status="$status; $problems"
        printf '%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sc" "$r" \
            "$(field samples "$p")" "$(field min "$p")" "$(field avg "$p")" "$(field p50 "$p")" \
            "$(field p99 "$p")" "$(field p999 "$p")" "$(field max "$p")" "$(field overflows "$p")" \
            "$busy" "$loadavg" "$status" "$before" >> "$results/runs.tsv"
        say "  $tag: $p ($busy, $(( SECONDS - started )) s, $status)"
    done
    if [[ "$sc" == c && -n "$profile_written" ]]; then
        rm -f -- "$profile_written"; profile_written=""
    fi
    remove_cgroup
done

# --- summary ------------------------------------------------------------------------
declare -A p99_of=()
{
    echo "Guest: $vcpus vCPU, cyclictest -m -q -p $prio -i $interval -h $hist -D $secs -t -a; $runs runs per scenario; $accel_note; launcher $launcher."
    echo "Host CPUs busy before the benchmark (5 s, other users): $background."
    echo "Latencies in µs, pooled over the runs (all samples of all runs in one histogram); p99 per run in the last column."
    echo
    echo "| scenario | samples | min | avg | p99 | p99.9 | max | p99 per run | CPUs busy per run: before it -> while cyclictest ran (qemu: QEMU's share of one CPU) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|---|"
    for sc in "${wanted[@]}"; do
        title="$(scenario_title "$sc")"
        logs=()
        for (( r = 1; r <= runs; r++ )); do
            [[ -s "$results/$sc$r.console.log" ]] && logs+=("$results/$sc$r.console.log")
        done
        if [[ -n "${status_of[$sc]:-}" || ${#logs[@]} -eq 0 ]]; then
            echo "| $title | ${status_of[$sc]:-no results} | | | | | | | |"
            continue
        fi
        p="$(awk -f "$parser" "${logs[@]}")"
        p99_of[$sc]="$(field p99 "$p")"
        per_run="$(awk -F'\t' -v s="$sc" '$1 == s { printf "%s%s", (n++ ? ", " : ""), $7 }' "$results/runs.tsv")"
        busy="$(awk -F'\t' -v s="$sc" '$1 == s { printf "%s%s -> %s", (n++ ? "; " : ""), $14, $11 }' "$results/runs.tsv")"
        problems="$(awk -F'\t' -v s="$sc" '$1 == s && $13 != "ok" { printf " (run %s: %s)", $2, $13 }' "$results/runs.tsv")"
        echo "| $title$problems | $(field samples "$p") | $(field min "$p") | $(field avg "$p") | $(field p99 "$p") | $(field p999 "$p") | $(field max "$p") | $per_run | $busy |"
    done
    echo
    ratio() {   # ratio NUM DEN -> "x.xx" (a ">=" value is a lower bound)
        local n="$1" d="$2" pre=""
        [[ -n "$n" && -n "$d" && "$n" != - && "$d" != - ]] || { echo "n/a"; return; }
        if [[ "$n" == ">="* && "$d" == ">="* ]]; then echo "n/a (both overflow)"; return; fi
        [[ "$n" == ">="* ]] && { pre=">="; n="${n#>=}"; }
        [[ "$d" == ">="* ]] && { pre="<="; d="${d#>=}"; }
        awk -v n="$n" -v d="$d" -v pre="$pre" 'BEGIN { if (d + 0 == 0) print "n/a"; else printf "%s%.2f\n", pre, n / d }'
    }
    target() {   # target RATIO OP LIMIT -> met / not met / n/a
        local r="$1" re='^(>=|<=)?[0-9.]+$'
        [[ "$r" =~ $re ]] || { echo "n/a"; return; }
        awk -v r="${r#[<>]=}" -v op="$2" -v lim="$3" 'BEGIN { ok = (op == "<=") ? (r <= lim) : (r >= lim); print ok ? "met" : "not met" }'
    }
    c_note=""
    c_state="${status_of[c]:-not run}"
    [[ -z "${p99_of[c]:-}" ]] && c_note=" (c ${c_state%%:*})"
    r_ca="$(ratio "${p99_of[c]:-}" "${p99_of[a]:-}")"
    r_bc="$(ratio "${p99_of[b]:-}" "${p99_of[c]:-}")"
    r_dc="$(ratio "${p99_of[d]:-}" "${p99_of[c]:-}")"
    echo "| p99 ratio | value | target | |"
    echo "|---|---:|---|---|"
    echo "| (c)/(a) | $r_ca$c_note | <= 1.5 | $(target "$r_ca" '<=' 1.5) |"
    echo "| (b)/(c) | $r_bc$c_note | >= 10 | $(target "$r_bc" '>=' 10) |"
    echo "| (d)/(c) | $r_dc$c_note | >= 10 | $(target "$r_dc" '>=' 10) |"
    echo "| (b)/(a) | $(ratio "${p99_of[b]:-}" "${p99_of[a]:-}") | (what the load costs) | |"
    echo "| (d)/(a) | $(ratio "${p99_of[d]:-}" "${p99_of[a]:-}") | (what pinning alone leaves) | |"
    echo "| (b)/(d) | $(ratio "${p99_of[b]:-}" "${p99_of[d]:-}") | (what pinning alone buys) | |"
    echo "| (e)/(a) | $(ratio "${p99_of[e]:-}" "${p99_of[a]:-}") | (stand-in for c: compare with 1.5) | |"
    echo "| (b)/(e) | $(ratio "${p99_of[b]:-}" "${p99_of[e]:-}") | (stand-in for c: compare with 10) | |"
    echo "| (d)/(e) | $(ratio "${p99_of[d]:-}" "${p99_of[e]:-}") | (stand-in for c: compare with 10) | |"
} > "$results/summary.md"
cat "$results/summary.md"
say "done: $results/summary.md, every run in $results/runs.tsv, console logs $results/*.console.log"
