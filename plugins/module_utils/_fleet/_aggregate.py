# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report: rows in, counts by state per concern and the whole document out."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._fleet import _schema

# concern -> (its values in display order, how a row gives its value)
CONCERNS = (
    ('state', 'Overall', _schema.HOST_STATES, lambda r: r['state']),
    ('kvm', 'KVM ready', ('ready', 'not ready', 'unknown'),
     lambda r: 'unknown' if r['kvm_ready'] is None else ('ready' if r['kvm_ready'] else 'not ready')),
    ('iommu', 'IOMMU', ('on', 'off', 'unknown'),
     lambda r: 'unknown' if r['iommu_enabled'] is None else ('on' if r['iommu_enabled'] else 'off')),
    ('interrupt_remapping', 'Interrupt remapping', ('enabled', 'disabled', 'not reported', 'unknown'),
     lambda r: r['interrupt_remapping'] or 'unknown'),
    ('boot', 'Boot entries', ('ok', 'change needed', 'reboot owed', 'unknown'),
     lambda r: 'unknown' if r['boot_change_needed'] is None else (
         'change needed' if r['boot_change_needed'] else ('reboot owed' if r['reboot_owed'] else 'ok'))),
)
GUEST_CONCERN = ('guests', 'Guests on PV/virtio', ('pv', 'emulated', 'unknown'))


def count(values, order):
    counts = dict((value, 0) for value in order)
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def guest_values(rows):
    """PV verdicts of every guest: libvirt domains on the hosts and guest hosts of the inventory."""
    values = []
    for row in rows:
        if row['kind'] == 'guest':
            values.append('unknown' if row['pv'] is None else ('pv' if row['pv'] else 'emulated'))
        for guest in (row['details'] or {}).get('guests') or []:
            values.append('unknown' if guest.get('pv') is None else ('pv' if guest['pv'] else 'emulated'))
    return values


def summary(rows):
    """``{'hosts', 'guest_hosts', 'by_state', 'concerns': {name: {'title', 'counts'}}, 'vfs'}``."""
    hosts = [r for r in rows if r['kind'] != 'guest']
    guest_hosts = [r for r in rows if r['kind'] == 'guest']
    concerns = {}
    for name, title, order, value in CONCERNS:
        concerns[name] = {'title': title, 'counts': count([value(r) for r in hosts], order)}
    concerns[GUEST_CONCERN[0]] = {'title': GUEST_CONCERN[1], 'counts': count(guest_values(rows), GUEST_CONCERN[2])}
    return {
        'hosts': len(hosts), 'guest_hosts': len(guest_hosts),
        'by_state': count([r['state'] for r in rows], _schema.HOST_STATES + _schema.GUEST_STATES[2:]),
        'concerns': concerns,
        'vfs': {'total': sum(r['vfs_total'] or 0 for r in hosts), 'used': sum(r['vfs_used'] or 0 for r in hosts),
                'free': sum(r['vfs_free'] or 0 for r in hosts)},
    }


def report(results, meta=None):
    """The whole report from ``[(host name, registered result or None, kind)]``."""
    rows = [_schema.host_row(name, result, kind) for name, result, kind in results]
    rows.sort(key=lambda r: r['name'])
    doc = {'schema': _schema.SCHEMA, 'schema_version': _schema.SCHEMA_VERSION}
    doc.update(meta or {})
    doc['summary'] = summary(rows)
    doc['hosts'] = rows
    return doc


def stats(doc):
    """What AWX gets (set_stats): the summary and the host names by state, without the details."""
    by_state = {}
    for row in doc['hosts']:
        by_state.setdefault(row['state'], []).append(row['name'])
    return {'schema_version': doc['schema_version'], 'summary': doc['summary'], 'hosts_by_state': by_state,
            'reasons': dict((r['name'], r['reasons']) for r in doc['hosts']
                            if r['state'] in ('unreachable', 'error'))}
