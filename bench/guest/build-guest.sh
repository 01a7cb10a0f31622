#!/usr/bin/env bash
# Builds the latency-benchmark guest from Debian packages only:
#   bench/out/guest/vmlinuz          Debian's kernel (linux-image-amd64)
#   bench/out/guest/initramfs.gz     busybox-static + cyclictest (rt-tests) and the
#                                    shared libraries it needs, with an /init that
#                                    runs cyclictest and powers off
#   bench/out/guest/manifest.txt     the packages, versions and checksums used
#
# Every file comes from a .deb fetched with `apt-get download` and unpacked with
# `dpkg-deb -x`; before fetching, each download URI is checked against the apt
# sources whose Release file says Origin: Debian. Nothing else is downloaded.
# Idempotent: .debs already present with the right SHA256 are not fetched again,
# unpacked trees are reused, and the initramfs is only replaced when it changed.
#
# Usage: bench/guest/build-guest.sh [--out DIR] [--clean]
#   --out DIR   work folder (default: bench/out beside this script, git-ignored;
#               or $BENCH_OUT)
#   --clean     remove DIR/guest first (downloads included)
#
# The guest's /init reads its settings from the kernel command line:
#   bench.secs=N       cyclictest duration in seconds (default 20)
#   bench.interval=US  cyclictest -i (default 1000)
#   bench.prio=P       cyclictest -p (default 90)
#   bench.hist=US      cyclictest -h (default 2000)
#   bench.opts=A,B     extra cyclictest options, commas for spaces
#                      (default: -t,-a = one thread per guest CPU, each pinned)
#   bench.tag=WORD     echoed in the START marker (the run's name)
# and prints, on the serial console:
#   === VFIO-BENCH START tag=... cpus=... ===
#   <cyclictest output: histogram rows that are not all zero, # Total/Min/Avg/
#    Max/Overflows lines>
#   === VFIO-BENCH END rc=<cyclictest exit code> ===
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${BENCH_OUT:-$here/../out}"
clean=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) out="${2:?--out needs a folder}"; shift 2 ;;
        --clean) clean=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-guest: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done

say() { printf 'build-guest: %s\n' "$*" >&2; }
die() { printf 'build-guest: %s\n' "$*" >&2; exit 1; }

for tool in apt-get apt-cache dpkg-deb readelf sha256sum gzip; do
    command -v "$tool" >/dev/null || die "'$tool' not found; this script needs a Debian/Ubuntu host with apt, dpkg and binutils (apt-get install binutils)"
done
[[ "$(dpkg --print-architecture)" == amd64 ]] || die "only amd64 hosts are supported (this is $(dpkg --print-architecture))"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
guest="$out/guest"
if [[ $clean -eq 1 && -d "$guest" ]]; then
    say "removing $guest"
    rm -rf -- "$guest"
fi
debs="$guest/debs"
unpacked="$guest/unpacked"
mkdir -p "$debs" "$unpacked"

# --- which packages -------------------------------------------------------------
# linux-image-amd64 is a meta package: the real one is its linux-image-* dependency.
kernel_pkg="$(apt-cache depends linux-image-amd64 2>/dev/null \
    | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')"
[[ -n "$kernel_pkg" ]] || die "cannot resolve linux-image-amd64 to a kernel package; run 'apt-get update' first"
# cyclictest's shared libraries come from rt-tests' library dependencies (libc6, libnuma1).
mapfile -t lib_pkgs < <(apt-cache depends rt-tests 2>/dev/null \
    | awk '$1 == "Depends:" && $2 ~ /^lib/ { print $2 }' | sort -u)
[[ ${#lib_pkgs[@]} -gt 0 ]] || die "cannot read rt-tests' dependencies; run 'apt-get update' first"
pkgs=("$kernel_pkg" busybox-static rt-tests "${lib_pkgs[@]}")
say "packages: ${pkgs[*]}"

# --- only Debian's archives -----------------------------------------------------
# The base URIs of the apt sources whose Release file says o=Debian.
mapfile -t debian_bases < <(apt-cache policy 2>/dev/null | awk '
    /^ *[0-9-]+ [a-z]+:\/\// { uri = $2; next }
    /^ *release / { if (uri != "" && $0 ~ /(^|[ ,])o=Debian(,|$)/) print uri; uri = ""; next }' | sort -u)
[[ ${#debian_bases[@]} -gt 0 ]] || die "apt knows no source with Origin: Debian; add Debian's archive to /etc/apt/sources.list and run 'apt-get update'"

from_debian() {
    local uri="$1" base
    for base in "${debian_bases[@]}"; do
        [[ "$uri" == "${base%/}/"* ]] && return 0
    done
    return 1
}

# --- download -------------------------------------------------------------------
# `apt-get download --print-uris` gives: 'URI' FILE SIZE SHA256:HEX
declare -A deb_file=()
manifest="$guest/manifest.txt.new"
: > "$manifest"
# apt-get download prints nothing for a file already in the current folder: ask from an empty one.
ask="$guest/.uris"
rm -rf -- "$ask"; mkdir -p "$ask"
for pkg in "${pkgs[@]}"; do
    line="$(cd "$ask" && apt-get download --print-uris "$pkg" 2>/dev/null | head -n 1)"
    [[ -n "$line" ]] || die "apt-get cannot download '$pkg'; run 'apt-get update' first"
    read -r quoted_uri file _size hash <<<"$line"
    uri="${quoted_uri#\'}"; uri="${uri%\'}"
    from_debian "$uri" || die "'$pkg' would come from $uri, which is not a Debian archive; refusing"
    want="${hash#SHA256:}"
    [[ "$want" =~ ^[0-9a-f]{64}$ ]] || die "apt gave no SHA256 for '$pkg' ($hash)"
    if [[ -f "$debs/$file" ]] && [[ "$(sha256sum "$debs/$file" | cut -d' ' -f1)" == "$want" ]]; then
        say "have     $file"
    else
        say "download $file  <- $uri"
        rm -f -- "$debs/$file"
        (cd "$debs" && apt-get download -q=2 -o APT::Sandbox::User=root "$pkg" >/dev/null)
        [[ -f "$debs/$file" ]] || die "apt-get download '$pkg' did not produce $file"
        [[ "$(sha256sum "$debs/$file" | cut -d' ' -f1)" == "$want" ]] || die "$file: SHA256 mismatch"
    fi
    deb_file[$pkg]="$debs/$file"
    printf '%s %s %s\n' "$file" "$want" "$uri" >> "$manifest"
done

# --- unpack ---------------------------------------------------------------------
unpack() {   # unpack PKG -> prints the folder
    local pkg="$1" deb="${deb_file[$1]}" dir
    dir="$unpacked/$(basename "$deb" .deb)"
    if [[ ! -f "$dir/.unpacked" ]]; then
        say "unpack   $(basename "$deb")"
        rm -rf -- "$dir"
        mkdir -p "$dir"
        dpkg-deb -x "$deb" "$dir"
        touch "$dir/.unpacked"
    fi
    printf '%s\n' "$dir"
}
kernel_dir="$(unpack "$kernel_pkg")"
busybox_dir="$(unpack busybox-static)"
rt_dir="$(unpack rt-tests)"
lib_dirs=()
for p in "${lib_pkgs[@]}"; do lib_dirs+=("$(unpack "$p")"); done

# --- kernel ---------------------------------------------------------------------
vmlinuz_src="$(find "$kernel_dir/boot" -maxdepth 1 -name 'vmlinuz-*' -type f | sort | head -n 1)"
[[ -n "$vmlinuz_src" ]] || die "no boot/vmlinuz-* in $kernel_pkg"
if ! cmp -s "$vmlinuz_src" "$guest/vmlinuz" 2>/dev/null; then
    say "kernel   $(basename "$vmlinuz_src") -> $guest/vmlinuz"
    cp -- "$vmlinuz_src" "$guest/vmlinuz.new"
    mv -f -- "$guest/vmlinuz.new" "$guest/vmlinuz"
else
    say "kernel   $guest/vmlinuz is up to date ($(basename "$vmlinuz_src"))"
fi

# --- root file system -----------------------------------------------------------
rootfs="$guest/rootfs"
say "rootfs   $rootfs"
rm -rf -- "$rootfs"
mkdir -p "$rootfs"/{bin,sbin,usr/bin,lib/x86_64-linux-gnu,lib64,proc,sys,dev,tmp,run}

busybox="$busybox_dir/bin/busybox"
[[ -x "$busybox" ]] || die "no bin/busybox in busybox-static"
cp -- "$busybox" "$rootfs/bin/busybox"
# One symlink per applet (the static busybox runs on the host too, to list them).
while read -r applet; do
    [[ "$applet" =~ ^[a-z0-9_.\[-]+$ && "$applet" != busybox ]] || continue
    ln -sf busybox "$rootfs/bin/$applet"
done < <("$busybox" --list)

cyclictest_src="$rt_dir/usr/bin/cyclictest"
[[ -x "$cyclictest_src" ]] || die "no usr/bin/cyclictest in rt-tests"
cp -- "$cyclictest_src" "$rootfs/usr/bin/cyclictest"

# The shared libraries cyclictest needs (NEEDED entries, recursively) and its
# program interpreter, taken from the unpacked library packages.
find_lib() {   # find_lib SONAME -> path inside an unpacked library package
    local name="$1" d sub
    for d in "${lib_dirs[@]}"; do
        for sub in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64 lib usr/lib; do
            if [[ -e "$d/$sub/$name" ]]; then printf '%s\n' "$d/$sub/$name"; return 0; fi
        done
    done
    return 1
}
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*Shared library: \[\(.*\)\]/\1/p'; }
interp="$(readelf -l "$cyclictest_src" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')"
[[ "$interp" == /lib64/ld-linux-x86-64.so.2 ]] || die "unexpected program interpreter '$interp' in cyclictest"
declare -A copied=()
queue=("$(basename "$interp")")
mapfile -t -O 1 queue < <(needed "$cyclictest_src")
while [[ ${#queue[@]} -gt 0 ]]; do
    lib="${queue[0]}"; queue=("${queue[@]:1}")
    [[ -n "${copied[$lib]:-}" ]] && continue
    src="$(find_lib "$lib")" || die "cyclictest needs $lib, which none of ${lib_pkgs[*]} contains"
    cp -L -- "$src" "$rootfs/lib/x86_64-linux-gnu/$lib"
    copied[$lib]=1
    say "library  $lib  <- ${src#"$unpacked/"}"
    mapfile -t more < <(needed "$src")
    queue+=("${more[@]}")
done
ln -sf ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$rootfs/lib64/ld-linux-x86-64.so.2"

cat > "$rootfs/init" <<'INIT'
#!/bin/sh
# vfio-orchestrator latency-benchmark guest (generated by bench/guest/build-guest.sh)
export PATH=/bin:/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mount -t tmpfs tmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm

secs=20; interval=1000; prio=90; hist=2000; opts="-t,-a"; tag=run
for word in $(cat /proc/cmdline); do
    case "$word" in
        bench.secs=*)     v="${word#*=}"; case "$v" in ''|*[!0-9]*) ;; *) secs="$v" ;; esac ;;
        bench.interval=*) v="${word#*=}"; case "$v" in ''|*[!0-9]*) ;; *) interval="$v" ;; esac ;;
        bench.prio=*)     v="${word#*=}"; case "$v" in ''|*[!0-9]*) ;; *) prio="$v" ;; esac ;;
        bench.hist=*)     v="${word#*=}"; case "$v" in ''|*[!0-9]*) ;; *) hist="$v" ;; esac ;;
        bench.opts=*)     v="${word#*=}"; case "$v" in *[!a-zA-Z0-9,=_.-]*) ;; *) opts="$v" ;; esac ;;
        bench.tag=*)      v="${word#*=}"; case "$v" in ''|*[!a-zA-Z0-9_.-]*) ;; *) tag="$v" ;; esac ;;
    esac
done
extra=$(echo "$opts" | tr ',' ' ')

# Keep the console quiet while measuring: kernel messages would land in the output.
echo 1 > /proc/sys/kernel/printk
cpus=$(grep -c '^processor' /proc/cpuinfo)
cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)
echo; echo "=== VFIO-BENCH START tag=$tag cpus=$cpus kernel=$(uname -r) clocksource=$cs uptime=$(cut -d' ' -f1 /proc/uptime) cmd=cyclictest -m -q -p $prio -i $interval -h $hist -D $secs $extra ==="
# A second for the host to see START (it resumes its load then), then measure.
sleep 1
# The output goes to a file first, so that nothing is written to the (emulated)
# serial port while cyclictest measures.
# shellcheck disable=SC2086  # $extra is split on purpose; it is [a-zA-Z0-9=_.-] words only
cyclictest -m -q -p "$prio" -i "$interval" -h "$hist" -D "$secs" $extra > /tmp/cyclictest.out 2>&1
rc=$?
# Histogram rows that are all zero are left out (a -h 20000 histogram is mostly
# zeros); a parser treats a missing row as zero.
awk '/^[0-9]+ / { for (i = 2; i <= NF; i++) if ($i + 0 > 0) { print; next }; next } { print }' /tmp/cyclictest.out
echo "=== VFIO-BENCH END rc=$rc ==="
# A moment for the host side to notice the END marker while QEMU still runs.
sleep 1
sync
poweroff -f
# If power-off did not work, halting lets QEMU's -no-reboot / libvirt's on_crash end the VM.
sleep 5
echo o > /proc/sysrq-trigger
INIT
chmod 0755 "$rootfs/init"

# Check that cyclictest finds its libraries in the tree (runs it on the host, chrooted).
if [[ $EUID -eq 0 ]] && command -v chroot >/dev/null; then
    usage="$(chroot "$rootfs" /usr/bin/cyclictest --help 2>&1 || true)"
    if [[ "$usage" == *"cyclictest V"* ]]; then
        say "check    cyclictest runs inside the rootfs (chroot): ${usage%%$'\n'*}"
    else
        die "cyclictest does not run inside $rootfs: ${usage:0:300}"
    fi
fi

# --- initramfs ------------------------------------------------------------------
# newc cpio made by the guest's own busybox (no host cpio needed), files in a
# fixed order. cpio records inode numbers and times, so "changed" is decided on
# a fingerprint of the tree's names, modes, link targets and contents instead.
fingerprint="$(cd "$rootfs" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r f; do
    if [[ -L "$f" ]]; then printf '%s l %s\n' "$f" "$(readlink "$f")"
    elif [[ -d "$f" ]]; then printf '%s d %s\n' "$f" "$(stat -c %a "$f")"
    else printf '%s f %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum < "$f" | cut -d' ' -f1)"
    fi
done | sha256sum | cut -d' ' -f1)"
if [[ -f "$guest/initramfs.gz" && "$(cat "$guest/initramfs.fingerprint" 2>/dev/null)" == "$fingerprint" ]]; then
    say "initrd   $guest/initramfs.gz is up to date"
else
    new="$guest/initramfs.gz.new"
    (cd "$rootfs" && find . -mindepth 1 | LC_ALL=C sort | "$rootfs/bin/busybox" cpio -o -H newc 2>/dev/null) \
        | gzip -n -9 > "$new"
    mv -f -- "$new" "$guest/initramfs.gz"
    printf '%s\n' "$fingerprint" > "$guest/initramfs.fingerprint"
    say "initrd   $guest/initramfs.gz ($(du -h "$guest/initramfs.gz" | cut -f1))"
fi
mv -f -- "$manifest" "$guest/manifest.txt"
rmdir -- "$ask" 2>/dev/null || true
say "done: kernel $guest/vmlinuz, initrd $guest/initramfs.gz, packages in $guest/manifest.txt"
