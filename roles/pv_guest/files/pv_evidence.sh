#!/bin/sh
# Prints what virtops.devices.pv_driver_info needs to verify a guest whose Python is too
# old for Ansible modules (CentOS 5, RHEL 3). POSIX sh, reads only. Sections:
#   ==mounts / ==swaps / ==modules   followed by the text of the /proc file
#   ==nic <name> <device link> [<driver link>]   one line per NIC backed by a device
#   ==link <path> <target>           /dev/mapper links
#   ==slaves <dm name> <slave>...    device-mapper slaves
echo "==mounts"
cat /proc/mounts
echo "==swaps"
cat /proc/swaps
echo "==modules"
cat /proc/modules 2>/dev/null
for dir in /sys/class/net/*; do
    [ -e "$dir/device" ] || [ -L "$dir/device" ] || continue
    echo "==nic ${dir##*/} $(readlink "$dir/device") $(readlink "$dir/device/driver" 2>/dev/null)"
done
for dev in /dev/mapper/*; do
    [ -L "$dev" ] && echo "==link $dev $(readlink "$dev")"
done
for dir in /sys/class/block/*/slaves; do
    [ -d "$dir" ] || continue
    name=${dir%/slaves}
    slaves=""
    for slave in "$dir"/*; do
        [ -e "$slave" ] && slaves="$slaves ${slave##*/}"
    done
    echo "==slaves ${name##*/}$slaves"
done
echo "==end"
exit 0
