#!/usr/bin/env bash
# Builds the real-kernel lab's guest image from Debian's packages only, and caches it outside the
# checkout, keyed by a hash of this recipe (this script and guest/): an unchanged recipe is not
# rebuilt. The image boots under QEMU (-kernel/-initrd from the same cache folder):
#
#   CACHE/<key>/rootfs.img        ext4 root file system (Debian 12: systemd, a Java 17 runtime,
#                                 libvirt and QEMU, rt-tests, stress-ng, qemu-guest-agent, the lab's
#                                 boot service)
#   CACHE/<key>/vmlinuz-6.1       Debian 12's kernel, and its initrd.img-6.1
#   CACHE/<key>/vmlinuz-new       the newest kernel of bookworm-backports, and its initrd.img-new
#   CACHE/<key>/manifest.txt      kernels and package versions, for reports
#
# Usage: build-image.sh [--cache DIR] [--print-dir]
#   --cache DIR    cache folder (default: $VFIO_LAB_CACHE, else /var/cache/vfio-orchestrator-lab)
#   --print-dir    print CACHE/<key> and exit 0 if it is complete, exit 1 if it is not; builds nothing
# Needs root (mmdebstrap in root mode, mkfs.ext4 -d) and about 3 GiB of free disk in CACHE.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${VFIO_LAB_CACHE:-/var/cache/vfio-orchestrator-lab}"
print_dir=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --cache) cache="${2:?--cache needs a folder}"; shift 2 ;;
        --print-dir) print_dir=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-image: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done
say() { printf 'build-image: %s\n' "$*" >&2; }
die() { printf 'build-image: %s\n' "$*" >&2; exit 1; }

# the recipe: this script and every file under guest/, by name and content
key="$(cd "$here" && find build-image.sh guest -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
out="$cache/$key"
complete() { [[ -f "$out/rootfs.img" && -f "$out/vmlinuz-6.1" && -f "$out/initrd.img-6.1" && -f "$out/vmlinuz-new" && -f "$out/initrd.img-new" && -f "$out/manifest.txt" ]]; }
if [[ $print_dir -eq 1 ]]; then
    echo "$out"
    complete
    exit $?
fi
if complete; then
    say "up to date: $out"
    echo "$out"
    exit 0
fi

[[ "$(id -u)" -eq 0 ]] || die "needs root (mmdebstrap in root mode, mkfs.ext4 -d)"
for tool in mmdebstrap mkfs.ext4 sha256sum flock; do
    command -v "$tool" >/dev/null || die "'$tool' not found: apt-get install mmdebstrap e2fsprogs util-linux"
done

mkdir -p "$cache"
# one build at a time: CI starts one early, and the lab's own call waits for it and then finds it complete
exec 9>>"$cache/.build.lock"
if ! flock -n 9; then
    say "another build of the image runs; waiting for it"
    flock 9
fi
if complete; then
    say "up to date: $out"
    echo "$out"
    exit 0
fi
work="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
root="$work/root"
mirror="http://deb.debian.org/debian"
packages=systemd,systemd-sysv,dbus,udev,libpam-systemd,procps,kmod,util-linux,linux-image-amd64,openjdk-17-jre-headless,rt-tests,stress-ng,qemu-guest-agent
# libvirt and QEMU inside the guest: the hook is tested there as users run it, with libvirtd under systemd
packages+=,libvirt-daemon-system,libvirt-daemon-driver-qemu,libvirt-clients,qemu-system-x86

say "debootstrapping Debian 12 into $root (about 4 minutes)"
start=$SECONDS
mmdebstrap --variant=apt --include="$packages" \
    --aptopt='Acquire::Retries "3"' \
    --customize-hook='chroot "$1" apt-get install -y -q -t bookworm-backports linux-image-amd64' \
    bookworm "$root" \
    "deb $mirror bookworm main" \
    "deb $mirror bookworm-updates main" \
    "deb $mirror bookworm-backports main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" >&2
say "debootstrap took $((SECONDS - start)) s"

# the guest's configuration: boot service, fstab, no password for root's console login
install -m 0644 "$here/guest/vfio-lab.service" "$root/etc/systemd/system/vfio-lab.service"
install -m 0755 "$here/guest/vfio-lab-boot" "$root/usr/local/sbin/vfio-lab-boot"
install -m 0644 "$here/guest/lab-noise.service" "$root/etc/systemd/system/lab-noise.service"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' > "$root/etc/fstab"
echo vfio-lab > "$root/etc/hostname"
chroot "$root" passwd -d root >/dev/null
chroot "$root" useradd --create-home --uid 1000 --shell /bin/bash lab
chroot "$root" systemctl enable vfio-lab.service lab-noise.service >/dev/null 2>&1
# timers that would wake up in the middle of a scenario
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer; do
    chroot "$root" systemctl mask "$unit" >/dev/null 2>&1 || true
done

old="$(cd "$root/boot" && ls vmlinuz-6.1.* | sort -V | tail -1)"
new="$(cd "$root/boot" && ls vmlinuz-* | sort -V | tail -1)"
[[ "$old" != "$new" ]] || die "bookworm-backports brought no newer kernel than $old"
cp "$root/boot/$old" "$work/vmlinuz-6.1"
cp "$root/boot/${old/vmlinuz/initrd.img}" "$work/initrd.img-6.1"
cp "$root/boot/$new" "$work/vmlinuz-new"
cp "$root/boot/${new/vmlinuz/initrd.img}" "$work/initrd.img-new"
{
    echo "recipe $key, built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "kernel-6.1 ${old#vmlinuz-}"
    echo "kernel-new ${new#vmlinuz-}"
    chroot "$root" dpkg-query -W -f='${Package} ${Version}\n'
} > "$work/manifest.txt"

say "making the ext4 image"
size_mb=$(( $(du -sm "$root" | cut -f1) + 768 ))
mkfs.ext4 -q -L vfio-lab -d "$root" "$work/rootfs.img" "${size_mb}M"
rm -rf -- "$root"
rm -rf -- "$out"
mv "$work" "$out"
trap - EXIT
say "done in $((SECONDS - start)) s: $out"
echo "$out"
