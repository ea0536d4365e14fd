# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Group safety of a PCI assignment: the host checks (unknown devices, bridges, holders, NICs,
IOMMU off) and the IOMMU group peers that must leave the host, and which devices to detach
from or give back to their host driver around the domain steps. Pure; PlanError refuses.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._common import _pci_slots
from ansible_collections.virtops.devices.plugins.module_utils._pci import _nodedev
from ansible_collections.virtops.devices.plugins.module_utils._pci._hostdev_xml import PlanError, source_address


def attached_addresses(steps):
    """Host PCI addresses that the attach steps give to the domain (no duplicates, in order)."""
    found = []
    for step in steps:
        addr = source_address(step['device']) if step['action'] == 'attach' else None
        if addr and addr not in found:
            found.append(addr)
    return found


def check_devices(devices, request, name, uri):
    """Refuse unknown addresses, bridges, devices a running domain holds, and non-NICs given
    as interfaces. Returns notes (devices held by shut-off domains)."""
    index = _nodedev.by_address(devices)
    unknown = [a for a in request['addresses'] if a not in index]
    if unknown:
        raise PlanError(_nodedev.unknown_addresses_message(unknown, devices, uri))
    notes = []
    for addr in request['addresses']:
        dev = index[addr]
        if _nodedev.is_any_bridge(dev):
            raise PlanError('PCI device %s is a %s (class %s): bridges and root ports stay with the host; '
                            'assign the endpoints behind it' % (addr, 'PCI bridge/root port' if dev['bridge']
                                                                else 'host bridge', dev['class']))
        for holder in dev['held_by']:
            if holder['domain'] == name:
                continue
            if holder['running']:
                raise PlanError('PCI device %s is held by the running domain %r (as <%s>); detach it there '
                                'first (virt_hostdev name=%s state=absent)'
                                % (addr, holder['domain'], holder['as'], holder['domain']))
            notes.append('PCI device %s is also in the definition of the shut-off domain %r: only one of '
                         'them can run at a time' % (addr, holder['domain']))
        if request['as_interface'] and dev['class_name'] != 'network':
            raise PlanError('PCI device %s is not a NIC (class %s, %s): as_interface needs a network '
                            'device or SR-IOV VF; give it as a plain <hostdev> (as_interface: false)'
                            % (addr, dev['class'], dev['class_name']))
    return notes


def check_iommu(enabled, steps, managed, name, uri):
    """Without an IOMMU refuse live assignment and host driver changes; notes for config-only."""
    attaching = [s for s in steps if s['action'] == 'attach']
    if enabled or not attaching:
        return []
    if any(s['scope'] == 'live' for s in attaching):
        raise PlanError('cannot assign %s to the running domain %r: %s. To change only the persistent '
                        'definition set live: false'
                        % (', '.join(s['label'] for s in attaching if s['scope'] == 'live'), name,
                           _nodedev.iommu_off_note(uri)))
    if not managed:
        raise PlanError('managed: false needs the device bound to vfio-pci now, and vfio-pci needs an IOMMU: '
                        '%s. Or keep managed: true (libvirt binds it when the domain starts)'
                        % _nodedev.iommu_off_note(uri))
    return ['only the persistent definition of %r was changed; it cannot start with this device until the '
            'IOMMU is on: %s' % (name, _nodedev.iommu_off_note(uri))]


def _blocked_verb(blockers, unknown):
    one = len(blockers) == 1
    if not unknown:
        return 'is still bound to a host driver' if one else 'are still bound to host drivers'
    if len(unknown) == len(blockers):
        return 'cannot be shown to be free'
    return 'are still bound to host drivers or cannot be shown to be free'


def group_peers_to_detach(devices, addresses, detach_group_peers, allow_unknown_group_peers=False):
    """Endpoints that must leave their host driver for ``addresses``' groups to be assignable.

    PlanError naming them (and their drivers, or why their driver is unknown) unless
    ``detach_group_peers``. A peer libvirt does not list cannot be detached through libvirt:
    PlanError for it even with ``detach_group_peers``, unless ``allow_unknown_group_peers``
    (then it, and peers whose driver is unknown, are taken as free).
    """
    blockers = _nodedev.blocking_group_peers(devices, addresses, allow_unknown_group_peers)
    of = ', '.join(sorted(set(b['of'] for b in blockers)))
    unlisted = [b for b in blockers if b['reason'] == _nodedev.NOT_LISTED]
    if unlisted:
        raise PlanError('the IOMMU group of %s is not viable: %s cannot be shown to be free (libvirt does not '
                        'list %s, so neither its driver can be checked nor can it be detached from the host). '
                        'Every endpoint of a group goes to the guest or leaves the host: %s'
                        % (of, _nodedev.blockers_message(unlisted), 'it' if len(unlisted) == 1 else 'them',
                           _nodedev.UNKNOWN_PEERS_HINT))
    if blockers and not detach_group_peers:
        unknown = [b for b in blockers if b['reason'] == _nodedev.DRIVER_UNKNOWN]
        raise PlanError('the IOMMU group of %s is not viable: %s %s. Every endpoint of a group goes to the '
                        'guest or leaves the host: add them to devices, or set detach_group_peers: true to '
                        'detach them from the host too%s'
                        % (of, _nodedev.blockers_message(blockers), _blocked_verb(blockers, unknown),
                           _unknown_hint(unknown)))
    return [b['address'] for b in blockers]


def _unknown_hint(unknown):
    """Return the hint for peers whose driver is unknown, or '' when there are none."""
    if not unknown:
        return ''
    return '; for %s (driver unknown): %s' % (', '.join(b['address'] for b in unknown), _nodedev.UNKNOWN_PEERS_HINT)


def check_live_slots(name, steps, live_root):
    """Refuse live attaches that need more PCI hotplug slots than the running domain has free."""
    needed = len([s for s in steps if s['scope'] == 'live' and s['action'] == 'attach'])
    if needed and live_root is not None:
        free = _pci_slots.free_hotplug_slots(live_root)
        if needed > free:
            raise PlanError(_pci_slots.no_slot_message(name, needed, free, _domain_xml.is_q35(live_root)))


def host_detaches(devices, request, steps, peers):
    """Addresses to take from their host driver before the domain steps: group peers asked for,
    and with managed: false the attached devices not already on vfio."""
    index = _nodedev.by_address(devices)
    todo = list(peers)
    if not request['managed']:
        for addr in attached_addresses(steps):
            if addr not in todo and not _nodedev.driver_keeps_group_assignable(index[addr]['driver']):
                todo.append(addr)
    return todo


def host_reattaches(devices, request, steps, name, held_after):
    """With managed: false, the detached addresses no domain holds any more and that sit on
    vfio-pci/pci-stub: give them back to the host (a device on its own driver is left alone).

    ``held_after`` is the set of addresses this domain still holds in any scope after the steps.
    """
    if request['managed']:
        return []
    index = _nodedev.by_address(devices)
    todo = []
    for step in steps:
        addr = source_address(step['device']) if step['action'] == 'detach' else None
        if not addr or addr in todo or addr in held_after or addr not in index:
            continue
        if not index[addr]['driver'] or not _nodedev.driver_keeps_group_assignable(index[addr]['driver']):
            continue  # still on its host driver (or none): nothing to give back
        if any(h['domain'] != name for h in index[addr]['held_by']):
            continue
        todo.append(addr)
    return todo


def held_addresses(trees):
    """Every host PCI address the given domain trees hold."""
    found = set()
    for root in trees.values():
        found |= set(addr for addr, _kind in _nodedev.hostdev_sources(root))
    return found
