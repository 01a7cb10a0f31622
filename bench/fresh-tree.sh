#!/bin/sh
# fresh-tree.sh SRC DEST PROFILE [PHASE...]: DEST becomes a pristine copy of the host tree SRC with
# PROFILE installed as win11's profile; then the hook runs each PHASE ("prepare", ...) on it, untimed,
# so that a benchmark of the next phase starts where libvirt would. Used as hyperfine's --prepare.
set -e
. "$(dirname "$0")/lib.sh"
src=$1 dest=$2 profile=$3
shift 3
fresh_tree "$src" "$dest" "$profile"
for phase in "$@"; do
    $RUN hook --host-root "$dest" win11 "$phase" begin - < "$REPO/examples/domains/win11.xml" >&2
done
