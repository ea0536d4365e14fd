#!/bin/sh
# virtops.devices disk_rescan: make a running guest see disks added without ACPI hotplug.
# POSIX sh only (busybox, RHEL 3's bash, FreeBSD's sh): runs on guests without Python.
# Usage: disk_rescan.sh METHOD PCI_RESCAN LEGACY_MAX_ID WAIT_SECONDS EXPECT [ACPIPHP]
# Prints one JSON object: method, acpiphp, scanned, before, after, new_devices (names are plain sysfs words).
# ACPIPHP (default true): on Linux, load the acpiphp module first when the running kernel has it as a
# module and it is not loaded yet (best effort; runbook 000's `modprobe acpiphp`). The JSON's acpiphp is
# present (built in or already loaded), loaded, not-available (no such module), failed, or skipped.
set -u
# R: a prefix for /proc and /sys, empty on a real guest; tests point it at a fixture tree.
R=${DISK_RESCAN_ROOT:-}
METHOD=${1:-auto}
PCI_RESCAN=${2:-false}
MAX_ID=${3:-7}
WAIT=${4:-0}
EXPECT=${5:-0}
ACPIPHP=${6:-true}

os=$(uname -s)

list_disks() {
    if [ "$os" = FreeBSD ]; then
        sysctl -n kern.disks 2>/dev/null | tr ' ' '\n' | grep . | sort
    elif [ -d "$R/sys/block" ]; then
        for d in "$R"/sys/block/*; do
            [ -e "$d" ] || continue
            case "${d##*/}" in loop*|ram*|zram*|dm-*|sr*|fd*) ;; *) echo "${d##*/}" ;; esac
        done | sort
    else
        awk 'NR > 2 && $4 !~ /[0-9]$/ { print $4 }' "$R/proc/partitions" | sort
    fi
}

pick_method() {
    if [ "$METHOD" != auto ]; then echo "$METHOD"; return; fi
    if [ "$os" = FreeBSD ]; then echo camcontrol; return; fi
    if ls "$R"/sys/class/scsi_host/host*/scan >/dev/null 2>&1; then echo sysfs; return; fi
    if [ -e "$R/proc/scsi/scsi" ]; then echo procfs; return; fi
    echo none
}

scan_sysfs() {
    for f in "$R"/sys/class/scsi_host/host*/scan; do
        [ -e "$f" ] || continue
        echo "- - -" > "$f" && printf '%s ' "$(basename "$(dirname "$f")")"
    done
}

scan_procfs() {
    # The seed's `echo "scsi add-single-device H C I L" > /proc/scsi/scsi`, for every
    # host the kernel lists, channel 0, ids 0..MAX_ID, lun 0. Present devices are skipped.
    hosts=$(for f in "$R"/proc/scsi/*/[0-9]*; do [ -e "$f" ] && echo "${f##*/}"; done | sort -un)
    [ -n "$hosts" ] || hosts=0
    for h in $hosts; do
        id=0
        while [ "$id" -le "$MAX_ID" ]; do
            if ! grep -q "Host: scsi$h Channel: 00 Id: $(printf %02d "$id") Lun: 00" "$R/proc/scsi/scsi" 2>/dev/null; then
                echo "scsi add-single-device $h 0 $id 0" >> "$R/proc/scsi/scsi" 2>/dev/null
            fi
            id=$((id + 1))
        done
        printf 'scsi%s ' "$h"
    done
}

load_acpiphp() {
    [ "$ACPIPHP" = true ] && [ "$os" = Linux ] || { echo skipped; return; }
    if [ -d "$R/sys/module/acpiphp" ] || grep -q '^acpiphp ' "$R/proc/modules" 2>/dev/null; then
        echo present; return
    fi
    kver=$(uname -r)
    # 2.6+ modules are acpiphp.ko (maybe compressed), 2.4's acpiphp.o
    if ! find "$R/lib/modules/$kver" -name 'acpiphp.*o*' 2>/dev/null | grep -q .; then
        echo not-available; return
    fi
    probe=$(command -v modprobe 2>/dev/null || echo /sbin/modprobe)
    if "$probe" acpiphp >/dev/null 2>&1; then echo loaded; else echo failed; fi
}

scan_camcontrol() {
    camcontrol rescan all >/dev/null && printf 'all '
}

before=$(list_disks | tr '\n' ' ')
acpiphp=$(load_acpiphp)
method=$(pick_method)
if [ "$PCI_RESCAN" = true ] && [ -w "$R/sys/bus/pci/rescan" ]; then
    echo 1 > "$R/sys/bus/pci/rescan"
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
count_words() { echo $#; }
# shellcheck disable=SC2086 # word splitting of the device list is the point
while [ "$EXPECT" -gt 0 ] && [ "$(count_words $new)" -lt "$EXPECT" ] && [ "$waited" -lt "$WAIT" ]; do
    sleep 1
    waited=$((waited + 1))
    new_disks
done

json_list() {
    printf '['
    sep=
    for x in $1; do printf '%s"%s"' "$sep" "$x"; sep=', '; done
    printf ']'
}
printf '{"method": "%s", "acpiphp": "%s", "scanned": %s, "before": %s, "after": %s, "new_devices": %s}\n' \
    "$method" "$acpiphp" "$(json_list "$scanned")" "$(json_list "$before")" "$(json_list "$after")" "$(json_list "$new")"
