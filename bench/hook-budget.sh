#!/bin/sh
# The hook's budget (issue 17), measured in one run through the shim as libvirt runs it:
#   a profiled prepare or started call     at most 4x a JVM "hello world" with the shim's flags
#   a VM without a profile (prepare)       at most 15 ms
#   a VM without a profile at its stop     no JVM at all (stopped, release), also while the journal holds another VM
#
#   bench/hook-budget.sh NEW.jar [OLD.jar]      (N=20 rounds; HOST, PROFILE as hook-profiled.sh)
#
# Every round runs, one after the other so that all see the same load: the hello world, an empty
# 'sh -c :' (what starting any program costs at this moment), then for each build its calls. With
# OLD.jar each round runs both builds, each with its own shim (the one inside its jar), its own
# class-data-sharing archive and its own host tree. The shims run the JVM through a stand-in 'java'
# first on PATH that counts the starts and adds --host-root TREE, so nothing touches this machine's
# /etc, /run or kernel settings. Each call's wall time and CPU time (its own and its children's)
# land in bench/out/results/hook-budget[-TAG].tsv; the summary and the verdicts are printed.
set -e
. "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] || { echo "usage: $0 NEW.jar [OLD.jar]" >&2; exit 2; }
N=${N:-20}
[ "$N" -ge 20 ] || echo "hook-budget.sh: N=$N rounds; the budget is judged on 20 or more" >&2
HOST=${HOST:-$REPO/examples/hosts/gaming-rig}
PROFILE=${PROFILE:-$OUT/win11-bench.yaml}
[ -n "${PROFILE##$OUT/win11-bench.yaml}" ] ||
    sed 's/after_start: true/after_start: false/' "$REPO/examples/profiles/win11.yaml" > "$PROFILE"
xml=$REPO/examples/domains/win11.xml
real_java=$(command -v java)
sides="new"
[ $# -ge 2 ] && sides="new old"
work=$TMP/budget
rm -rf "$work"
mkdir -p "$work/hello" "$OUT/results"

# the JVM "hello world", with the flags the shim gives the hook and the JDK's own class-data archive
cat > "$work/hello/Hello.java" <<'JAVA'
public class Hello {
    public static void main(String[] args) {
        System.out.println("hello world");
    }
}
JAVA
javac -d "$work/hello" "$work/hello/Hello.java"

for side in $sides; do
    d=$work/$side
    mkdir -p "$d/bin" "$d/empty-profiles"
    cp "$([ $side = new ] && echo "$1" || echo "$2")" "$d/vfio-orchestrator.jar"
    # shellcheck disable=SC2086
    java $HOOK_JVM -Xshare:auto "-XX:ArchiveClassesAtExit=$d/vfio-orchestrator.jsa" -Xlog:cds=error,cds+dynamic=error:stderr \
        -cp "$d/vfio-orchestrator.jar" org.vfioorchestrator.cli.Entry cds-training > /dev/null
    touch "$d/vfio-orchestrator.jsa" # newer than the jar: the shim uses it
    # java as the shim finds it (/usr/bin/env java): counts the start, runs the real one on this side's tree
    cat > "$d/bin/java" <<SH
#!/bin/sh
echo start >> "$d/java-starts"
n=\$#
for a do
    if [ "\$a" = hook ]; then set -- "\$@" hook --host-root "\$TREE"; else set -- "\$@" "\$a"; fi
done
shift \$n
exec "$real_java" "\$@"
SH
    chmod +x "$d/bin/java"
    python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("org/vfioorchestrator/install/hooks/qemu"))' \
        "$d/vfio-orchestrator.jar" > "$d/qemu.in"
    # the profiled VM's shim reads the tree's profiles; the other one an empty folder (as on a host
    # where only win11 has a profile); both see the tree's state: a journal holding win11
    for kind in profiled unprofiled; do
        profiles=$([ $kind = profiled ] && echo "$d/tree/etc/vfio-orchestrator/profiles" || echo "$d/empty-profiles")
        sed -e "s|^profiles=.*|profiles=$profiles|" -e "s|^jar=.*|jar=$d/vfio-orchestrator.jar|" \
            -e "s|^state=.*|state=$d/tree/run/vfio-orchestrator|" \
            -e "s|^journal=.*|journal=$d/tree/run/vfio-orchestrator/journal.json|" "$d/qemu.in" > "$d/qemu-$kind"
        chmod +x "$d/qemu-$kind"
    done
done

res=$OUT/results/hook-budget${TAG:+-$TAG}.tsv
echo "load before: $(load)"
# shellcheck disable=SC2086
python3 - "$res" "$N" "$work" "$xml" "$HOST" "$PROFILE" "$sides" $HOOK_JVM <<'PY'
import os, re, resource, subprocess, sys, time

res, n, work, xml_file, host, profile, sides = sys.argv[1:8]
jvm_flags = sys.argv[8:]
xml = open(xml_file, "rb").read()

def timed(argv, env=None, stdin=b""):
    """(wall ms, CPU ms of the process and everything it waited for), or an exit on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(argv, input=stdin, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = (time.perf_counter() - t) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"hook-budget.sh: {' '.join(argv)} exited {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
    return wall, (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000

def starts(d):
    try:
        return sum(1 for _ in open(d + "/java-starts"))
    except FileNotFoundError:
        return 0

with open(res, "w") as out:
    out.write("round\tside\tcall\twall_ms\tcpu_ms\tjvms\n")
    for r in range(int(n)):
        def row(side, call, m, jvms=""):
            out.write(f"{r}\t{side}\t{call}\t{m[0]:.2f}\t{m[1]:.2f}\t{jvms}\n")
        row("-", "hello", timed(["java", *jvm_flags, "-Xshare:auto", "-cp", work + "/hello", "Hello"]))
        row("-", "sh", timed(["sh", "-c", ":"]))
        # the builds take turns at going first, so neither always runs right after the hello world
        for side in (sides.split() if r % 2 == 0 else reversed(sides.split())):
            d = f"{work}/{side}"
            env = dict(os.environ, PATH=d + "/bin:" + os.environ["PATH"], TREE=d + "/tree")
            subprocess.run(["rm", "-rf", d + "/tree"], check=True)
            subprocess.run(["cp", "-a", host, d + "/tree"], check=True)
            os.makedirs(d + "/tree/etc/vfio-orchestrator/profiles", exist_ok=True)
            subprocess.run(["install", "-m", "644", profile, d + "/tree/etc/vfio-orchestrator/profiles/win11.yaml"], check=True)
            for op, sub in (("prepare", "begin"), ("started", "begin")):
                row(side, op, timed([d + "/qemu-profiled", "win11", op, sub, "-"], env, xml))
            if not re.search(r"applied [1-9][0-9]* changes", open(d + "/tree/var/log/vfio-orchestrator/hook.log").read()):
                sys.exit(f"hook-budget.sh: {side}: the hook applied nothing; see {d}/tree/var/log/vfio-orchestrator/hook.log")
            for op, sub in (("prepare", "begin"), ("stopped", "end"), ("release", "end")):
                before = starts(d)
                m = timed([d + "/qemu-unprofiled", "other-vm", op, sub, "-"], env, xml)
                row(side, "unprofiled-" + op, m, starts(d) - before)
        out.flush()
PY
echo "load after: $(load)"
python3 - "$res" "$sides" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])][1:]
def col(side, call, i):
    return [float(x[i]) for x in rows if x[1] == side and x[2] == call]
def stats(side, call, i=3):
    v = col(side, call, i)
    q = statistics.quantiles(v, n=4)
    return statistics.median(v), q[0], q[2], len(v)
hello, *_ = stats("-", "hello")
sh, sh_lo, sh_hi, count = stats("-", "sh")
print(f"rounds: {count}; JVM hello world: median {hello:.1f} ms (IQR {stats('-', 'hello')[1]:.1f}-{stats('-', 'hello')[2]:.1f}),"
      f" CPU {stats('-', 'hello', 4)[0]:.1f} ms; sh -c ':' median {sh:.1f} ms (IQR {sh_lo:.1f}-{sh_hi:.1f})")
print(f"budget: profiled prepare/started <= 4 x {hello:.1f} = {4 * hello:.0f} ms; VM without a profile <= 15 ms;"
      " no JVM at its stop")
for side in sys.argv[2].split():
    print(f"[{side}]")
    for call in ("prepare", "started"):
        m, lo, hi, k = stats(side, call)
        verdict = "met" if m <= 4 * hello else f"MISSED by {m - 4 * hello:.0f} ms"
        print(f"  {call:20s} wall median {m:7.1f} ms (IQR {lo:.1f}-{hi:.1f}) = {m / hello:.2f}x hello,"
              f" CPU {stats(side, call, 4)[0]:.1f} ms: {verdict}")
    m, lo, hi, k = stats(side, "unprofiled-prepare")
    cpu = stats(side, "unprofiled-prepare", 4)[0]
    verdict = "met" if m <= 15 else f"MISSED by {m - 15:.1f} ms (sh -c ':' took {sh:.1f} ms at the same time)"
    print(f"  {'unprofiled prepare':20s} wall median {m:7.1f} ms (IQR {lo:.1f}-{hi:.1f}), CPU {cpu:.1f} ms: {verdict}")
    for call in ("unprofiled-stopped", "unprofiled-release"):
        m, lo, hi, k = stats(side, call)
        jvms = sum(int(x[5]) for x in rows if x[1] == side and x[2] == call)
        verdict = "met" if jvms == 0 else f"MISSED: {jvms} JVMs"
        print(f"  {call.replace('-', ' '):20s} wall median {m:7.1f} ms (IQR {lo:.1f}-{hi:.1f}), CPU"
              f" {stats(side, call, 4)[0]:.1f} ms, JVMs started {jvms} of {k}: {verdict}")
PY
