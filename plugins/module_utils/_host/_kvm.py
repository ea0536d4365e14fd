# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KVM readiness from what a host shows: CPU flags, /dev/kvm, kvm modules, packages, libvirt."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

VENDORS = {'GenuineIntel': 'intel', 'AuthenticAMD': 'amd', 'HygonGenuine': 'amd'}
VIRT_FLAGS = ('vmx', 'svm')

# what a KVM host needs installed, by OS family (the kvm_host role's defaults)
PACKAGES = {
    'redhat': ['qemu-kvm', 'libvirt'],
    'debian': ['qemu-system-x86', 'libvirt-daemon-system', 'libvirt-clients'],
    'suse': ['qemu-kvm', 'libvirt'],
}


def cpu_facts(cpuinfo_text):
    """``{'vendor': 'intel'|'amd'|raw id|None, 'virt_flags': ['vmx'|'svm']}`` from /proc/cpuinfo."""
    text = cpuinfo_text or ''
    vendor = re.search(r'^vendor_id\s*:\s*(\S+)', text, re.M)
    flags = re.search(r'^flags\s*:(.*)$', text, re.M)
    words = flags.group(1).split() if flags else []
    raw = vendor.group(1) if vendor else None
    return {'vendor': VENDORS.get(raw, raw), 'virt_flags': [f for f in VIRT_FLAGS if f in words]}


def nested_enabled(text):
    """The kvm_intel/kvm_amd ``nested`` parameter as a bool, None when unknown."""
    value = (text or '').strip()
    if not value:
        return None
    return value in ('Y', 'y', '1')


def installed_from_dpkg_status(text):
    """Names of the packages dpkg's status file lists as ``install ok installed``."""
    installed = set()
    for stanza in re.split(r'\n\s*\n', text or ''):
        name = re.search(r'^Package:\s*(\S+)', stanza, re.M)
        status = re.search(r'^Status:\s*(.+)$', stanza, re.M)
        if name and status and status.group(1).strip() == 'install ok installed':
            installed.add(name.group(1))
    return installed


def packages_missing(family, installed, wanted=None):
    """The wanted packages of ``family`` not in ``installed``; None when ``installed`` is unknown."""
    wanted = PACKAGES.get(family, []) if wanted is None else wanted
    if installed is None:
        return None
    return [name for name in wanted if name not in installed]


def readiness(cpu, dev_kvm, kvm_modules, libvirt, missing):
    """``(ready, reasons)``: KVM is ready when the CPU has vmx/svm, /dev/kvm exists, a kvm module is
    loaded, libvirt answers and offers kvm (libvirt's test driver stands in for a hypervisor), and no
    wanted package is known to be missing."""
    reasons = []
    if not cpu['virt_flags']:
        reasons.append('the CPU shows neither vmx nor svm (virtualization off in the firmware, or no support)')
    if not dev_kvm:
        reasons.append('/dev/kvm does not exist (kvm module not loaded, or refused by the firmware)')
    if not kvm_modules:
        reasons.append('no kvm module is loaded')
    if not libvirt.get('reachable'):
        reasons.append('libvirt does not answer: %s' % (libvirt.get('error') or 'unreachable'))
    elif 'kvm' not in libvirt.get('domain_types', []) and (libvirt.get('hypervisor') or '').lower() != 'test':
        reasons.append('libvirt offers no kvm domain type (only %s)' % ', '.join(libvirt.get('domain_types') or ['none']))
    if missing:
        reasons.append('packages missing: %s' % ', '.join(missing))
    return not reasons, reasons
