#!/usr/bin/env bash
# Idempotent set-up of a Debian 12 machine (as root) for virtops.devices:
# system packages, the Python venv, and running virtlogd/libvirtd (no systemd needed).
# Sourced by demo.sh and test.sh; safe to run again: it only does what is missing.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VIRTOPS_VENV:-$TOP/.venv}
APT_PACKAGES=(libvirt-daemon-system qemu-system-x86 qemu-utils libvirt-dev pkg-config
              busybox-static cpio dropbear-bin openssh-client zstd git debootstrap grub2-common
              python3-venv python3-dev gcc fdisk chromium)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

install_packages() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >/dev/null
        apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

make_venv() {
    local stamp="$VENV/.requirements.sha256"
    local want
    want=$(cat "$TOP/requirements.txt" "$TOP/requirements-test.txt" "$TOP/requirements-lock.txt" | sha256sum | cut -d' ' -f1)
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    log "creating the Python venv in $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -U pip 2>&1 | grep -v "^WARNING: Location" || true
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$TOP/requirements-test.txt" -c "$TOP/requirements-lock.txt" 2>&1 | grep -v "^WARNING: Location" || true
    "$VENV/bin/python" -c "import ansible, libvirt, lxml, pytest, molecule"
    echo "$want" > "$stamp"
}

# /dev/kvm as Debian's udev rules make it (50-udev-default.rules: GROUP="kvm", MODE="0660").
# Without udev the node keeps whatever group it was made with; then QEMU, probed by libvirtd,
# reports KVM while the libvirt-qemu user cannot open it, libvirtd takes its cached QEMU
# capabilities for stale, and it probes QEMU again on every lookup: a defineXML took 99 s here.
kvm_node() {
    [ -c /dev/kvm ] && getent group kvm >/dev/null || return 0
    if [ "$(stat -c '%G %a' /dev/kvm)" != "kvm 660" ]; then
        log "/dev/kvm: group kvm, mode 0660 (as udev would)"
        chgrp kvm /dev/kvm
        chmod 0660 /dev/kvm
    fi
}

start_daemons() {
    if ! pgrep -x virtlogd >/dev/null; then log "starting virtlogd"; virtlogd -d; fi
    if ! pgrep -x libvirtd >/dev/null; then log "starting libvirtd"; libvirtd -d; fi
    local _
    for _ in $(seq 1 50); do
        "$VENV/bin/python" -c "import libvirt,sys; libvirt.registerErrorHandler(lambda *a: None, None); libvirt.open('qemu:///system').close()" 2>/dev/null && return 0
        sleep 0.2
    done
    echo "libvirtd did not answer on qemu:///system" >&2
    return 1
}

install_packages
make_venv
kvm_node
start_daemons
export PATH="$VENV/bin:$PATH"
