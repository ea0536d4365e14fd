# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IOMMU state of a running host: firmware tables, kernel command line, groups, interrupt remapping."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

IRQ_REMAP_ON = re.compile(r'(DMAR-IR: Enabled IRQ remapping|AMD-Vi: Interrupt remapping enabled|'
                          r'Enabled IRQ remapping in x2apic mode)')
IRQ_REMAP_OFF = re.compile(r'(IRQ remapping was disabled|DMAR-IR: .*disabled|Not enabling interrupt remapping)')
DMAR_ON = re.compile(r'DMAR: IOMMU enabled')
UNSAFE_OPTION = re.compile(r'^\s*options\s+vfio[-_]iommu[-_]type1\s.*allow_unsafe_interrupts=(1|Y|y)', re.M)
MODPROBE_DIRS = ('/etc/modprobe.d', '/usr/lib/modprobe.d', '/lib/modprobe.d')
AMDVI_ON = re.compile(r'AMD-Vi: (Found IOMMU|Interrupt remapping enabled|IOMMU performance counters)')


def interrupt_remapping(kernel_log):
    """``enabled``, ``disabled``, ``not reported`` or ``unknown`` (no kernel log to read)."""
    if kernel_log is None or kernel_log == '':
        return 'unknown'
    if IRQ_REMAP_ON.search(kernel_log):
        return 'enabled'
    if IRQ_REMAP_OFF.search(kernel_log):
        return 'disabled'
    return 'not reported'


def iommu_state(acpi_tables, units, groups, kernel_log):
    """The IOMMU as the running kernel shows it.

    ``acpi_tables``: names under /sys/firmware/acpi/tables (DMAR = Intel VT-d, IVRS = AMD-Vi
    described by the firmware); ``units``: /sys/class/iommu entries; ``groups``: number of
    /sys/kernel/iommu_groups; ``kernel_log``: dmesg text or None.
    """
    tables = set(acpi_tables or ())
    log = kernel_log or ''
    units = sorted(units or ())
    return {
        'firmware': {'dmar': 'DMAR' in tables, 'ivrs': 'IVRS' in tables,
                     'described': bool(tables & set(['DMAR', 'IVRS']))},
        'units': units,
        'groups': groups,
        'enabled': groups > 0,
        'dmar_enabled': bool(DMAR_ON.search(log)) or any(u.startswith('dmar') for u in units),
        'amd_vi_enabled': bool(AMDVI_ON.search(log)) or any(u.startswith('ivhd') for u in units),
        'interrupt_remapping': interrupt_remapping(kernel_log),
    }


def iommu_problems(state, cmdline_has_args):
    """Operator text for what keeps passthrough from working on this host (may be empty)."""
    problems = []
    if not state['enabled']:
        if not state['firmware']['described'] and cmdline_has_args:
            problems.append('the IOMMU is off although the kernel runs with the arguments: enable VT-d/AMD-Vi '
                            'in the firmware setup')
        elif cmdline_has_args:
            problems.append('the kernel runs with the arguments but there are no IOMMU groups')
    if state['enabled'] and state['interrupt_remapping'] == 'disabled':
        problems.append('interrupt remapping is disabled: vfio refuses devices unless allow_unsafe_interrupts')
    return problems


def sets_unsafe_interrupts(modprobe_text):
    """True when a modprobe.d file turns vfio's allow_unsafe_interrupts on."""
    return bool(UNSAFE_OPTION.search(modprobe_text or ''))
