#!/bin/sh
# /init of the virtops tiny test guest (busybox sh, runs as PID 1 from the initramfs).
#
# Built into initrd.img by tests/lab/tiny_guest.py (`build`); any change here changes
# the build key, so the next build() makes a new initramfs.
#
# Boot: mount the pseudo file systems, insmod the virtio/SCSI modules in dependency
# order (/etc/virtops/modules.order, written by the builder), static network on eth0
# (10.0.2.15/24 inside QEMU's user-mode NAT only), dropbear on port 22, print
# VIRTOPS-GUEST-READY, then serve a line-based command channel on /dev/ttyS0:
#
#   a plain line          -> eval'd in a subshell, then "@@VIRTOPS-DONE <rc>"
#   "...@@VIRTOPS-CMD <token> <timeout-s> <base64 of a script>"
#                         -> "@@VIRTOPS-BEGIN <token>", the script's output,
#                            "\n@@VIRTOPS-DONE <rc> <token>"   (used by tiny_guest.run())
#
# Anything before "@@VIRTOPS-CMD " on a line is ignored (line noise left in the UART
# before the loop started). Commands get /dev/null as stdin; stdout and stderr go to
# the console. The tty is raw (no line-length limit, no echo, CR -> NL kept).

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
umask 022

mkdir -p /proc /sys /dev /tmp /run /var/log /root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
chmod 1777 /tmp
hostname virtops-tiny

say() { echo "virtops-init: $*" > /dev/ttyS0; }

# busybox modprobe reads the modules.dep the builder wrote; let the kernel use it too.
echo /sbin/modprobe > /proc/sys/kernel/modprobe 2>/dev/null

KVER=$(uname -r)
if [ -r /etc/virtops/modules.order ]; then
    while read -r mod; do
        [ -n "$mod" ] || continue
        insmod "/lib/modules/$KVER/$mod" || say "insmod $mod failed"
    done < /etc/virtops/modules.order
fi

# lsdisks: one line per block device: <name> <serial or -> <size in 512-byte sectors>
# virtio-blk exposes the serial in /sys/block/X/serial; SCSI disks (scsi-hd) in the
# unit serial number VPD page /sys/block/X/device/vpd_pg80 (4-byte header, then the
# serial). Only printable non-blank characters are kept, so the serial is one word.
cat > /bin/lsdisks <<'EOF'
#!/bin/sh
for d in /sys/block/*; do
    [ -e "$d" ] || continue
    n=${d##*/}
    s=
    if [ -r "$d/serial" ]; then
        s=$(tr -cd '\041-\176' < "$d/serial")
    fi
    if [ -z "$s" ] && [ -r "$d/device/vpd_pg80" ]; then
        s=$(tail -c +5 "$d/device/vpd_pg80" | tr -cd '\041-\176')
    fi
    [ -n "$s" ] || s=-
    read -r size < "$d/size" || size=0
    echo "$n $s $size"
done
EOF
chmod 0755 /bin/lsdisks

# Network: eth0 exists once virtio_net has probed (insmod is synchronous, but wait a bit).
ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt 50 ]; do usleep 100000; i=$((i + 1)); done
if [ -e /sys/class/net/eth0 ]; then
    ip addr add 10.0.2.15/24 dev eth0
    ip link set eth0 up
    ip route add default via 10.0.2.2
else
    say "no eth0"
fi

# SSH: host key baked in, root logs in with the lab key only (-s: no passwords).
if [ -x /usr/sbin/dropbear ]; then
    /usr/sbin/dropbear -r /etc/dropbear/dropbear_ed25519_host_key -p 22 -s -E \
        2>> /var/log/dropbear.log || say "dropbear failed"
else
    say "no dropbear"
fi

echo "VIRTOPS-GUEST-READY" > /dev/ttyS0
# From here on keep kernel messages off the console: they would mix with command output.
echo 1 > /proc/sys/kernel/printk

exec 0< /dev/ttyS0 1> /dev/ttyS0 2>&1
stty raw -echo icrnl

while :; do
    if ! IFS= read -r line; then
        sleep 1
        continue
    fi
    case $line in
        *'@@VIRTOPS-CMD '*)
            # shellcheck disable=SC2086  # deliberate word splitting: token timeout b64
            set -- ${line##*@@VIRTOPS-CMD }
            tok=$1
            limit=${2:-30}
            script=$(printf '%s' "${3:-}" | base64 -d 2>/dev/null)
            printf '@@VIRTOPS-BEGIN %s\n' "$tok"
            timeout "$limit" sh -c "$script" < /dev/null
            rc=$?
            printf '\n@@VIRTOPS-DONE %s %s\n' "$rc" "$tok"
            ;;
        # blank, or a fragment of a protocol line (cut before the loop ran, or by a client
        # that left before QEMU read all it sent)
        '' | @@* | *VIRTOPS-*) ;;
        *)
            (eval "$line") < /dev/null
            printf '@@VIRTOPS-DONE %s\n' "$?"
            ;;
    esac
done
