#!/bin/sh
# The hook for a VM without a profile, as libvirt runs it: hooks/qemu (the shim) with its settings
# pointed at an empty profiles folder and no state, the domain XML on stdin. No JVM may start.
# bench/hook-budget.sh measures the same against the budget, and the stop while a journal exists.
# For comparison, the JVM path for the same call (what every VM would cost if the shim started Java):
# $RUN hook ... for a VM without a profile.
set -e
. "$(dirname "$0")/lib.sh"
SHIM=${SHIM:-$REPO/hooks/qemu}
mkdir -p "$OUT/results" "$TMP/noprofile/profiles"
sed -e "s|^profiles=.*|profiles=$TMP/noprofile/profiles|" -e "s|^state=.*|state=$TMP/noprofile/state|" \
    -e "s|^jar=.*|jar=$TMP/noprofile/no-such.jar|" "$SHIM" > "$TMP/noprofile/qemu"
chmod +x "$TMP/noprofile/qemu"
xml=$REPO/examples/domains/win11.xml
echo "load before: $(load)"
# -N: no shell around it (a few ms of shell would be most of what is measured). The shim leaves the
# XML unread for a VM that is not ours, so stdin does not matter here (hyperfine gives it /dev/null).
hyperfine -N --runs "${NOPROFILE_RUNS:-200}" --warmup 10 --export-json "$OUT/results/hook-noprofile-shim${TAG:+-$TAG}.json" \
    --command-name "shim, VM without a profile${TAG:+ [$TAG]}" "$TMP/noprofile/qemu other-vm prepare begin -"
hyperfine --runs "$RUNS" --warmup "$WARMUP" --export-json "$OUT/results/hook-noprofile-jvm${TAG:+-$TAG}.json" \
    --command-name "JVM hook, VM without a profile${TAG:+ [$TAG]}" \
    "$RUN hook --host-root '$REPO/examples/hosts/gaming-rig' other-vm prepare begin - < '$xml'"
echo "load after: $(load)"
python3 "$BENCH/summary.py" "$OUT/results/hook-noprofile-shim${TAG:+-$TAG}.json" "$OUT/results/hook-noprofile-jvm${TAG:+-$TAG}.json"
