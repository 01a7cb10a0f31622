#!/usr/bin/env bash
# What the guest itself sees, scenario by scenario: boots the real-kernel lab's Debian guest
# (orchestrator/src/test/lab/build-image.sh: systemd, qemu-guest-agent, rt-tests) through libvirt
# under TCG, 1 vCPU, and reads the guest's cyclictest figures through the tool's own
# 'measure VM --in-guest' (guest agent), with the host loaded or not:
#
#   a  idle host, no pinning
#   b  the load, no isolation
#   c  the load, the profile 'suggest' writes for the domain, untouched, applied by the installed hook
#   d  the load, only libvirt <cputune> (vCPU and emulator on --guest-cpu)
#   e  the load, the seed's recipe by hand (seeds/003): the load confined to --host-cpu (taskset,
#      standing in for the recipe's host cpuset: only our own processes), every movable IRQ and the
#      unbound workqueues' cpumask on --host-cpu (put back after the run), vCPU and emulator pinned
#      to --guest-cpu with <cputune>
#
# The load is frozen (SIGSTOP) while the guest boots and its agent comes up, and runs while
# cyclictest does. Results (each run's report JSON, runs.tsv, summary.md) go to
# bench/out/in-guest/<time>/; summary.md is also printed.
#
# Usage: bench/guest/in-guest.sh [options]
#   --scenarios LIST   comma-separated, of a,b,c,d,e (default a,b,c,d,e)
#   --runs N           boots per scenario (default 2)
#   --secs S           cyclictest inside the guest per boot (default 20)
#   --load "ARGS"      stress-ng stressors (default "--cpu 2")
#   --jar FILE         the tool's jar (default orchestrator/target/vfio-orchestrator.jar)
#   --name NAME        libvirt domain name (default vfio-ig)
#   --out DIR          work folder (default bench/out, or $BENCH_OUT)
#
# Needs root, libvirtd, stress-ng, qemu-img, the lab image, and for c the tool installed
# ('vfio-orchestrator install', libvirtd restarted or sent SIGHUP). Never touches a process it did
# not start except what c's profile does by design (the hook confines the host's processes while
# the VM runs and puts them back at its stop).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${BENCH_OUT:-$repo/bench/out}"
scenarios="a,b,c,d,e"
runs=2
secs=20
load_args="--cpu 2"
jar="$repo/orchestrator/target/vfio-orchestrator.jar"
name=vfio-ig
host_cpu=0
guest_cpu=1
command_line="$0${*:+ $*}"

say() { printf 'in-guest: %s\n' "$*" >&2; }
die() { printf 'in-guest: %s\n' "$*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scenarios) scenarios="${2:?}"; shift 2 ;;
        --runs) runs="${2:?}"; shift 2 ;;
        --secs) secs="${2:?}"; shift 2 ;;
        --load) load_args="${2:?}"; shift 2 ;;
        --jar) jar="${2:?}"; shift 2 ;;
        --name) name="${2:?}"; shift 2 ;;
        --out) out="${2:?}"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "in-guest: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done
[[ "$scenarios" =~ ^[a-e](,[a-e])*$ ]] || die "--scenarios: a comma-separated list of a..e"
[[ "$runs" =~ ^[1-9]$ && "$secs" =~ ^[1-9][0-9]{0,3}$ ]] || die "--runs 1..9, --secs a whole number"
[[ "$load_args" =~ ^[a-zA-Z0-9\ -]+$ ]] || die "--load: stress-ng options only"
[[ "$name" =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,40}$ ]] || die "--name: letters, digits, _ . - only"
[[ $EUID -eq 0 ]] || die "run as root"
[[ -f "$jar" ]] || die "no $jar: mvn -B -DskipTests package"
image="$("$repo/orchestrator/src/test/lab/build-image.sh" --print-dir)" || die "no lab image: run orchestrator/src/test/lab/build-image.sh"
virsh_=(virsh -q -c qemu:///system)
tool=(java -jar "$jar")
"${virsh_[@]}" domstate "$name" >/dev/null 2>&1 && die "a domain '$name' exists; remove it or pass --name"
read -r -a stressors <<< "$load_args"

results="$out/in-guest/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$results"
say "results in $results"

load_pid=""
profile_written=""
irqs_saved=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_load
    "${virsh_[@]}" destroy "$name" >/dev/null 2>&1 || true
    [[ -n "$profile_written" ]] && rm -f -- "$profile_written"
    put_back_recipe
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_load() {   # start_load [CPUS]: stress-ng in its own session, frozen until thaw
    local cmd=(stress-ng "${stressors[@]}" --timeout 900s --quiet)
    [[ -n "${1:-}" ]] && cmd=(taskset -c "$1" "${cmd[@]}")
    setsid "${cmd[@]}" >/dev/null 2>&1 </dev/null &
    load_pid=$!
    sleep 2
    kill -STOP -- "-$load_pid"
}
stop_load() {
    [[ -n "$load_pid" ]] || return 0
    kill -TERM -- "-$load_pid" 2>/dev/null || true
    kill -CONT -- "-$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
    load_pid=""
}

# e: the seed's recipe by hand; every value it changes is saved first and put back
apply_recipe() {
    irqs_saved="$results/recipe.saved"
    : > "$irqs_saved"
    local f mask
    mask="$(printf '%x' $((1 << host_cpu)))"
    for f in /proc/irq/[0-9]*/smp_affinity_list; do
        printf '%s %s\n' "$f" "$(cat "$f")" >> "$irqs_saved"
        echo "$host_cpu" > "$f" 2>/dev/null || true   # managed IRQs refuse
    done
    printf '%s %s\n' /sys/devices/virtual/workqueue/cpumask "$(cat /sys/devices/virtual/workqueue/cpumask)" >> "$irqs_saved"
    echo "$mask" > /sys/devices/virtual/workqueue/cpumask
}
put_back_recipe() {
    [[ -n "$irqs_saved" && -f "$irqs_saved" ]] || return 0
    local f v
    while read -r f v; do echo "$v" > "$f" 2>/dev/null || true; done < "$irqs_saved"
    irqs_saved=""
}

# ACPI gives the guest the PM timer and HPET: without a reference, a busy TCG host makes its TSC
# calibration fail and the guest falls back to jiffies (4 ms steps; seen in a first run)
domain_xml() {   # domain_xml OVERLAY CONSOLE PIN(0|1)
    cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>1024</memory>
  <vcpu placement='static'>1</vcpu>
EOF
    [[ "$3" -eq 1 ]] && printf "  <cputune><vcpupin vcpu='0' cpuset='%s'/><emulatorpin cpuset='%s'/></cputune>\n" "$guest_cpu" "$guest_cpu"
    cat <<EOF
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$image/vmlinuz-6.1</kernel>
    <initrd>$image/initrd.img-6.1</initrd>
    <cmdline>root=/dev/vda rw console=ttyS0</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$1'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'><source path='$2'/></serial>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <memballoon model='none'/>
  </devices>
  <seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>
</domain>
EOF
}

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "command: $command_line"
    echo "nproc: $(nproc); kernel: $(uname -sr)"
    echo "qemu: $(qemu-system-x86_64 --version | head -n 1); libvirt: $(libvirtd --version)"
    echo "guest image: $image ($(head -n 3 "$image/manifest.txt" | tr '\n' ' '))"
    echo "load: stress-ng ${stressors[*]}"
    echo "loadavg at start: $(cat /proc/loadavg)"
} > "$results/env.txt"

printf 'scenario\trun\tsamples\tp99\tp999\tmax\twait_p99_us_per_s\tjson\n' > "$results/runs.tsv"
IFS=',' read -r -a wanted <<<"$scenarios"
for sc in "${wanted[@]}"; do
    for (( r = 1; r <= runs; r++ )); do
        tag="$sc$r"
        overlay="$results/$tag.qcow2"
        qemu-img create -q -f qcow2 -F raw -b "$image/rootfs.img" "$overlay"
        pin=0; [[ "$sc" == d || "$sc" == e ]] && pin=1
        domain_xml "$overlay" "$results/$tag.console.log" "$pin" > "$results/$tag.xml"
        if [[ "$sc" == c ]]; then
            profile_written="/etc/vfio-orchestrator/profiles/$name.yaml"
            "${tool[@]}" suggest --domain "$results/$tag.xml" --output "$profile_written" --force >/dev/null
            cp "$profile_written" "$results/$tag.profile.yaml"
        fi
        case "$sc" in
            a) ;;
            e) start_load "$host_cpu"; apply_recipe ;;
            *) start_load ;;
        esac
        say "$tag: starting the guest (load frozen while it boots)"
        "${virsh_[@]}" create "$results/$tag.xml" >/dev/null
        # the agent answers once systemd is up; a short first run lets the guest settle
        "${tool[@]}" measure "$name" --in-guest --agent-wait 5m --duration 10s --no-save >/dev/null 2>"$results/$tag.warmup.err" \
            || say "$tag: warm-up: $(tail -n 1 "$results/$tag.warmup.err")"
        [[ -n "$load_pid" ]] && kill -CONT -- "-$load_pid"
        sleep 2
        say "$tag: measuring ${secs}s in the guest"
        "${tool[@]}" measure "$name" --in-guest --duration "${secs}s" --json --no-save > "$results/$tag.json" 2>"$results/$tag.err" \
            || say "$tag: measure failed: $(tail -n 1 "$results/$tag.err")"
        stop_load
        [[ "$sc" == e ]] && put_back_recipe
        "${virsh_[@]}" destroy "$name" >/dev/null 2>&1 || true
        rm -f -- "$overlay"
        if [[ -n "$profile_written" ]]; then rm -f -- "$profile_written"; profile_written=""; fi
        python3 - "$sc" "$r" "$results/$tag.json" >> "$results/runs.tsv" <<'EOF'
import json, sys
sc, r, path = sys.argv[1:]
try:
    j = json.load(open(path))
    c = j["guest"]["per_cpu"][0]
    print("\t".join([sc, r, str(c["samples"]), str(c["p99_us"]), str(c["p999_us"]), str(c["max_us"]),
                     str(j["metrics"].get("runqueue_wait_p99_us_per_s", "")), path]))
except Exception as e:
    print("\t".join([sc, r, "-", "-", "-", "-", "-", "failed: %s" % e]))
EOF
        say "$tag: $(tail -n 1 "$results/runs.tsv" | cut -f3-7)"
    done
done

# pooled histograms per scenario (every run's guest histogram summed), percentiles as measure computes them
python3 - "$results" "${wanted[@]}" > "$results/summary.md" <<'EOF'
import json, sys, glob, os
results, wanted = sys.argv[1], sys.argv[2:]
titles = {"a": "a: idle host", "b": "b: load, no isolation", "c": "c: load, the profile suggest writes, via the hook",
          "d": "d: load, <cputune> only", "e": "e: load, the seed's recipe by hand"}
def pct(hist, total, q):
    need, seen = q * total, 0
    for us in sorted(hist):
        seen += hist[us]
        if seen >= need:
            return us
    return None
p99 = {}
print("| scenario | samples | p99 | p99.9 | max | p99 per boot |")
print("|---|---:|---:|---:|---:|---|")
for sc in wanted:
    hist, over, mx, per = {}, 0, 0, []
    for path in sorted(glob.glob(os.path.join(results, sc + "[0-9].json"))):
        try:
            c = json.load(open(path))["guest"]["per_cpu"][0]
        except Exception:
            continue
        for k, v in c["histogram_us"].items():
            hist[float(k)] = hist.get(float(k), 0) + v
        over += c["overflows"]; mx = max(mx, c["max_us"]); per.append("%g" % c["p99_us"])
    total = sum(hist.values()) + over
    if not total:
        print("| %s | no results | | | | |" % titles[sc]); continue
    q = [pct(hist, total, x) for x in (0.99, 0.999)]
    show = ["%g" % v if v is not None else ">=%g" % max(hist) for v in q]
    if q[0] is not None:
        p99[sc] = q[0]  # a p99 beyond the histogram has no value to divide: its ratios print n/a
    print("| %s | %d | %s | %s | %g | %s |" % (titles[sc], total, show[0], show[1], mx, ", ".join(per)))
print()
def ratio(n, d):
    return "%.2f" % (p99[n] / p99[d]) if n in p99 and d in p99 and p99[d] else "n/a"
print("| p99 ratio | value | target |")
print("|---|---:|---|")
for n, d, t in (("c", "a", "<= 1.2"), ("c", "e", "<= 1.1"), ("b", "c", ">= 10"), ("d", "c", ">= 10")):
    print("| (%s)/(%s) | %s | %s |" % (n, d, ratio(n, d), t))
EOF
cat "$results/summary.md"
say "done: $results/summary.md, every run in $results/runs.tsv"
