"""Sums async-profiler's collapsed stacks of the JVM's main thread (bench/hook-where.sh)."""
import collections
import sys

INTERVAL_MS = 0.5
# the deepest frame of the stack that matches decides; checked from the leaf up
KINDS = [
    ("linking lambdas, method handles, string concatenation", ["java/lang/invoke/", "MethodHandleNatives", "LinkResolver",
                                                               "InterpreterRuntime::resolve"]),
    ("loading and linking classes", ["SystemDictionary", "ClassLoader.loadClass", "InstanceKlass::", "ConstantPool::klass_at",
                                     "LauncherHelper"]),
    ("SnakeYAML", ["org/yaml/snakeyaml"]),
    ("JDK XML", ["xerces", "javax/xml", "jdk/xml"]),
    ("jackson-jr", ["com/fasterxml"]),
    ("java.security", ["java/security", "sun/security"]),
    ("java.util.regex", ["java/util/regex"]),
    ("java.util.stream", ["java/util/stream"]),
    ("java.nio", ["sun/nio", "java/nio"]),
    ("java.io", ["java/io/"]),
    ("jar files", ["java/util/zip", "java/util/jar"]),
    ("java.time", ["java/time"]),
    ("the kernel (system calls, page faults)", ["_[k]"]),
]
STEPS = {"plan/PlanService.<init>": "read the topology", "plan/PlanService.load": "load the profile",
         "domain/DomainXml.parse": "parse the domain XML", "apply/JournalStore.load": "read the journal",
         "plan/PlanService.plan": "read the host (IRQs, tasks, cgroups, power) and plan",
         "apply/ChangeRunner.run": "write the journal, make the changes, log them"}


def main(phase, runs, files):
    kinds, steps, total = collections.Counter(), collections.Counter(), 0
    for name in files:
        for line in open(name):
            stack, n = line.rsplit(" ", 1)
            frames = stack.split(";")
            if not frames[0].startswith("[main"):
                continue
            n = int(n)
            total += n
            kinds[kind(frames)] += n
            for step in STEPS:
                if any(f.endswith(step) for f in frames):
                    steps[step] += n
                    break
    per_call = lambda n: n * INTERVAL_MS / runs
    print(f"hook {phase} begin: main thread {per_call(total):.0f} ms per call (mean of {runs}, sampled;"
          " JVM start before the agent not included)")
    print("\nby what the code was doing:")
    for k, n in kinds.most_common(16):
        print(f"  {per_call(n):6.1f} ms  {k}")
    print("\nby step:")
    for step, label in STEPS.items():
        print(f"  {per_call(steps[step]):6.1f} ms  {label} ({step})")


def kind(frames):
    for f in reversed(frames):
        for label, keys in KINDS:
            if any(k in f for k in keys):
                return label
        if "org/vfioorchestrator/" in f:
            return "our code: " + f.split("/")[2]
    return "the JVM itself"


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
