#!/bin/sh
# mmdebstrap customize hook, run on the build host once every package is in.
#
#   $1  the guest's root file system
#   $2  a directory with this image's generated keys:
#       ssh_host_ed25519_key, ssh_host_ed25519_key.pub, authorized_keys
#
# Copies the files under rootfs/ into the guest, installs the keys, then runs
# setup.sh inside the guest to create users and enable or mask units.
set -eu
root=$1
keys=$2
recipe=$(cd "$(dirname "$0")" && pwd)

cp -R "$recipe/rootfs/." "$root/"

rm -f "$root"/etc/ssh/ssh_host_*
install -m 0600 "$keys/ssh_host_ed25519_key" "$root/etc/ssh/ssh_host_ed25519_key"
install -m 0644 "$keys/ssh_host_ed25519_key.pub" \
    "$root/etc/ssh/ssh_host_ed25519_key.pub"
install -m 0644 "$keys/authorized_keys" "$root/tmp/testbed-authorized_keys"

install -m 0755 "$recipe/setup.sh" "$root/tmp/testbed-setup.sh"
chroot "$root" /tmp/testbed-setup.sh
rm -f "$root/tmp/testbed-setup.sh" "$root/tmp/testbed-authorized_keys"
