#!/bin/sh
# Runs inside the guest's root file system at build time (see customize.sh).
set -eu

# Names. A fixed machine id keeps systemd out of its first-boot path on
# every boot of the pristine image.
echo hls-origin > /etc/hostname
printf '127.0.0.1\tlocalhost\n127.0.1.1\thls-origin\n' > /etc/hosts
tr -d '-' < /proc/sys/kernel/random/uuid > /etc/machine-id

# Users: hls writes the stream, nginx is the NixOS-shaped unit's service
# user (reads the stream through the hls group), operator logs in.
useradd --system --user-group --home-dir /var/hls --no-create-home \
    --shell /usr/sbin/nologin hls
useradd --system --user-group --groups hls --home-dir /var/empty \
    --no-create-home --shell /usr/sbin/nologin nginx
usermod --append --groups hls www-data
if getent group operator > /dev/null; then
    useradd --create-home --shell /bin/bash --gid operator operator
else
    useradd --create-home --shell /bin/bash --user-group operator
fi
install -d -m 0700 -o operator -g operator /home/operator/.ssh
install -m 0600 -o operator -g operator /tmp/testbed-authorized_keys \
    /home/operator/.ssh/authorized_keys
chmod 0440 /etc/sudoers.d/operator
passwd --lock root > /dev/null

# File systems: the root device, and the stream on a tmpfs owned by hls.
mkdir -p /var/hls
cat > /etc/fstab <<FSTAB
/dev/vda / ext4 rw,noatime 0 0
tmpfs /var/hls tmpfs size=64m,mode=0750,uid=$(id -u hls),gid=$(id -g hls),nosuid,nodev,noexec 0 0
FSTAB

# nginx: the HLS origin site replaces Debian's default one (port 80).
rm -f /etc/nginx/sites-enabled/default
ln -sf ../hls-origin.conf /etc/nginx/sites-enabled/hls-origin
chmod 0755 /usr/local/sbin/testbed-flavour /usr/local/lib/testbed/hls-generator

# Units: what serves, and nothing that burns CPU under emulation.
systemctl set-default multi-user.target
systemctl enable systemd-networkd.service hls-generator.service nginx.service \
    prometheus-nginx-exporter.service ssh.service
systemctl mask apt-daily.timer apt-daily-upgrade.timer apt-daily.service \
    apt-daily-upgrade.service dpkg-db-backup.timer e2scrub_all.timer \
    e2scrub_all.service e2scrub_reap.service fstrim.timer fstrim.service \
    logrotate.timer man-db.timer systemd-networkd-wait-online.service \
    getty@tty1.service serial-getty@ttyS0.service

# Mark /etc and /var as up to date with /usr so ConditionNeedsUpdate units
# (ldconfig, hwdb) do not run on each boot of the pristine image.
touch -r /usr /etc/.updated /var/.updated
