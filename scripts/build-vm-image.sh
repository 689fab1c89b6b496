#!/usr/bin/env bash
# Build the local "VM" image: Debian 12 (the same release as the GCE image) with systemd as PID 1.
# No registry is needed: debootstrap pulls packages from the Debian mirror and `docker import` turns the
# root filesystem into an image. The image is rebuilt only when this script changes (its hash is the tag).
set -euo pipefail

# shellcheck source=scripts/lib/kit.sh
source "$(dirname "$0")/lib/kit.sh"
# AGK_IMAGE_REPO: another repository name builds a separate copy (make bench times a build from nothing).
repo_tag=${AGK_IMAGE_REPO:-airflow-gcp-kit/debian12-systemd}
mirror=${AGK_DEBIAN_MIRROR:-http://deb.debian.org/debian}

# The content hash covers this script and the CA certificates baked in, so either change gives a new image.
script_hash=$( (cat "$0"; cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true) | sha256sum | cut -c1-12)
image="$repo_tag:$script_hash"

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi
# One build at a time (scripts/test.sh starts one in the background while the first stages run): a second caller
# waits for it, then finds the image.
mkdir -p "$AGK_CACHE"
exec 9>"$AGK_CACHE/vm-image.lock"
flock 9
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi

# Packages a fresh GCE debian-12 image also has; everything Airflow needs is installed by the roles.
include=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,ca-certificates,iproute2,procps,curl,gnupg,less,openssl
include+=,openssh-server
rootfs="$AGK_CACHE/rootfs-$script_hash"
rm -rf "$rootfs"
mkdir -p "$AGK_CACHE"
echo "building $image with debootstrap (about a minute)" >&2
debootstrap --variant=minbase --include="$include" bookworm "$rootfs" "$mirror" >"$AGK_CACHE/debootstrap.log" 2>&1 ||
  { tail -20 "$AGK_CACHE/debootstrap.log" >&2; exit 1; }

# Extra CA certificates of this machine (TLS-intercepting proxies): without them apt and pip inside the
# VMs fail certificate verification.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" update-ca-certificates >/dev/null
fi

# Same apt sources as the host when it has deb822 sources (snapshot mirrors keep package versions stable).
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/debian.sources"
  rm -f "$rootfs/etc/apt/sources.list"
fi

# A container has no consoles, no udev and no kernel modules to load: mask what only fails or waits there.
for unit in getty@tty1.service console-getty.service systemd-udevd.service systemd-udev-trigger.service \
  systemd-modules-load.service sys-kernel-config.mount sys-kernel-debug.mount systemd-remount-fs.service \
  apt-daily.timer apt-daily-upgrade.timer; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
# sshd as on a GCE image: keys only, no root login, and host keys made at each VM's first boot (the guest
# environment does that on GCE), never baked into the image that every VM shares.
rm -f "$rootfs"/etc/ssh/ssh_host_*
printf 'PermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n' \
  >"$rootfs/etc/ssh/sshd_config.d/10-gce-like.conf"
mkdir -p "$rootfs/etc/systemd/system/ssh.service.d"
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
  >"$rootfs/etc/systemd/system/ssh.service.d/host-keys.conf"
echo 'debian12' >"$rootfs/etc/hostname"
: >"$rootfs/etc/machine-id"
# Keep apt lean inside the VMs, as on cloud images.
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$rootfs/etc/apt/apt.conf.d/99-no-recommends"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/var/lib/apt/periodic/*
# Without package lists the cache must look stale, or Ansible's apt cache_valid_time skips the update.
touch -d '2000-01-01' "$rootfs/var/lib/apt/lists"

tar -C "$rootfs" -c . | docker import \
  --change 'CMD ["/sbin/init"]' \
  --change 'ENV container=docker' \
  - "$image" >/dev/null
rm -rf "$rootfs"
echo "$image"
