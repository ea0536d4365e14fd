#!/bin/sh
# virtops.devices disk_rescan: make a running guest see disks added without ACPI hotplug.
# POSIX sh only (busybox, RHEL 3's bash, FreeBSD's sh): runs on guests without Python.
# Usage: disk_rescan.sh METHOD PCI_RESCAN LEGACY_MAX_ID WAIT_SECONDS EXPECT
# Prints key=value lines: method, scanned, before, after, new.
set -u
METHOD=${1:-auto}
PCI_RESCAN=${2:-false}
MAX_ID=${3:-7}
WAIT=${4:-0}
EXPECT=${5:-0}

os=$(uname -s)

list_disks() {
    if [ "$os" = FreeBSD ]; then
        sysctl -n kern.disks 2>/dev/null | tr ' ' '\n' | grep . | sort
    elif [ -d /sys/block ]; then
        ls /sys/block | grep -v -e '^loop' -e '^ram' -e '^dm-' -e '^sr' -e '^fd' | sort
    else
        awk 'NR > 2 && $4 !~ /[0-9]$/ { print $4 }' /proc/partitions | sort
    fi
}

pick_method() {
    if [ "$METHOD" != auto ]; then echo "$METHOD"; return; fi
    if [ "$os" = FreeBSD ]; then echo camcontrol; return; fi
    if ls /sys/class/scsi_host/host*/scan >/dev/null 2>&1; then echo sysfs; return; fi
    if [ -e /proc/scsi/scsi ]; then echo procfs; return; fi
    echo none
}

scan_sysfs() {
    for f in /sys/class/scsi_host/host*/scan; do
        [ -e "$f" ] || continue
        echo "- - -" > "$f" && printf '%s ' "$(basename "$(dirname "$f")")"
    done
}

scan_procfs() {
    # The seed's `echo "scsi add-single-device H C I L" > /proc/scsi/scsi`, for every
    # host the kernel lists, channel 0, ids 0..MAX_ID, lun 0. Present devices are skipped.
    hosts=$(ls -d /proc/scsi/*/[0-9]* 2>/dev/null | sed 's,.*/,,' | sort -un)
    [ -n "$hosts" ] || hosts=0
    for h in $hosts; do
        id=0
        while [ "$id" -le "$MAX_ID" ]; do
            if ! grep -q "Host: scsi$h Channel: 00 Id: $(printf %02d "$id") Lun: 00" /proc/scsi/scsi 2>/dev/null; then
                echo "scsi add-single-device $h 0 $id 0" > /proc/scsi/scsi 2>/dev/null
            fi
            id=$((id + 1))
        done
        printf 'scsi%s ' "$h"
    done
}

scan_camcontrol() {
    camcontrol rescan all >/dev/null && printf 'all '
}

before=$(list_disks | tr '\n' ' ')
method=$(pick_method)
if [ "$PCI_RESCAN" = true ] && [ -w /sys/bus/pci/rescan ]; then
    echo 1 > /sys/bus/pci/rescan
fi
case "$method" in
    sysfs) scanned=$(scan_sysfs) ;;
    procfs) scanned=$(scan_procfs) ;;
    camcontrol) scanned=$(scan_camcontrol) || { echo "camcontrol rescan all failed" >&2; exit 3; } ;;
    none) scanned= ;;
    *) echo "unknown method: $method" >&2; exit 2 ;;
esac
command -v udevadm >/dev/null 2>&1 && udevadm settle --timeout=10 >/dev/null 2>&1

new_disks() {
    after=$(list_disks | tr '\n' ' ')
    new=
    for d in $after; do
        case " $before " in *" $d "*) ;; *) new="$new$d " ;; esac
    done
}
new_disks
waited=0
while [ "$EXPECT" -gt 0 ] && [ "$(echo $new | wc -w)" -lt "$EXPECT" ] && [ "$waited" -lt "$WAIT" ]; do
    sleep 1
    waited=$((waited + 1))
    new_disks
done

echo "method=$method"
echo "scanned=$scanned"
echo "before=$before"
echo "after=$after"
echo "new=$new"
