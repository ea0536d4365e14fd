# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's rows: one per inventory host, from its fleet_host_info result (or failure).

The report's shape is versioned (``SCHEMA_VERSION``) and documented in docs/fleet_report.md;
a change that removes or renames a field raises the version.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

SCHEMA = 'virtops.devices/fleet-report'
SCHEMA_VERSION = 1
HOST_STATES = ('unreachable', 'error', 'change_needed', 'reboot_owed', 'not_ready', 'ready')
GUEST_STATES = ('unreachable', 'error', 'emulated', 'pv')


def _failure_text(result):
    msg = result.get('msg') or result.get('module_stderr') or result.get('stderr') or 'failed'
    return ' '.join(str(msg).split())[:2000]


def empty_row(name, kind):
    return {'name': name, 'kind': kind, 'state': None, 'reasons': [], 'reachable': True,
            'os': None, 'kvm_ready': None, 'iommu_enabled': None, 'iommu_groups': None,
            'interrupt_remapping': None, 'boot_setup': None, 'boot_change_needed': None,
            'reboot_owed': None, 'entries_lacking_args': None, 'devices': None,
            'assignable_devices': None, 'vfs_total': None, 'vfs_used': None, 'vfs_free': None,
            'guests': None, 'guests_emulated': None, 'pv': None, 'details': None}


def host_row(name, result, kind='host'):
    """One row from a host's registered fleet_host_info result (``None``: the host never ran it)."""
    row = empty_row(name, kind)
    if result is None:
        row.update(state='error', reasons=['no result: the host did not run the report task'])
        return row
    if result.get('unreachable'):
        row.update(state='unreachable', reachable=False, reasons=[_failure_text(result)])
        return row
    facts = result.get('host')
    if result.get('failed') or not isinstance(facts, dict):
        row.update(state='error', reasons=[_failure_text(result)])
        return row
    row.update(kind=facts.get('kind', kind), state=facts.get('state'), reasons=list(facts.get('reasons') or []),
               details=facts)
    if row['kind'] == 'guest':
        pv = facts.get('pv') or {}
        row['pv'] = pv.get('pv_active')
        return row
    os_facts = facts.get('os') or {}
    row['os'] = ' '.join(str(v) for v in (os_facts.get('name'), os_facts.get('version')) if v) or None
    kvm, iommu, boot = facts.get('kvm') or {}, facts.get('iommu') or {}, facts.get('boot')
    devices = (facts.get('pci') or {}).get('devices') or []
    pfs = (facts.get('sriov') or {}).get('pfs') or []
    guests = facts.get('guests') or []
    row.update(kvm_ready=kvm.get('ready'), iommu_enabled=iommu.get('enabled'), iommu_groups=iommu.get('groups'),
               interrupt_remapping=iommu.get('interrupt_remapping'),
               devices=len(devices), assignable_devices=len([d for d in devices if d.get('assignable')]),
               vfs_total=sum(pf['vfs'] for pf in pfs), vfs_used=sum(pf['used'] for pf in pfs),
               vfs_free=sum(pf['free'] for pf in pfs), guests=len(guests),
               guests_emulated=len([g for g in guests if g.get('pv') is False]))
    if boot:
        row.update(boot_setup=boot.get('setup'), boot_change_needed=boot.get('change_needed'),
                   reboot_owed=boot.get('reboot_owed'), entries_lacking_args=len(boot.get('entries_lacking_args') or []))
    return row
