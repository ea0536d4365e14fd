# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SR-IOV VF pools: libvirt networks of ``<forward mode='hostdev'>`` that hand out the VFs of a
PF; the network XML, the PF checks and the define/start/autostart actions. Pure.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._pci import _nodedev, _pci_address
from ansible_collections.virtops.devices.plugins.module_utils._pci._hostdev_xml import PlanError, yes_no
from ansible_collections.virtops.devices.plugins.module_utils._pci._pci_address import AddressError


def build_vf_pool_network(name, pf, managed=True, driver='vfio'):
    """``<network>`` whose ``<forward mode='hostdev'>`` hands out the VFs of the PF ``pf``."""
    name_node = _domain_xml.element('name')
    name_node.text = name
    forward = _domain_xml.element(
        'forward', {'mode': 'hostdev', 'managed': yes_no(managed)},
        _domain_xml.element('driver', {'name': driver}),
        _domain_xml.element('pf', {'dev': pf}))
    return _domain_xml.element('network', None, name_node, forward)


def resolve_pf(devices, pf, uri):
    """``(netdev name, PF inventory entry or None)`` for ``pf`` given as an interface name or a PCI address."""
    try:
        address = _pci_address.normalize(pf)
    except AddressError:
        address = None
    if address is not None:
        dev = _nodedev.by_address(devices).get(address)
        if dev is None:
            raise PlanError(_nodedev.unknown_addresses_message([address], devices, uri))
        if not dev['netdev']:
            raise PlanError('PCI device %s has no network interface on the host (driver %s): a VF pool needs '
                            'the PF bound to its NIC driver; give pf as an interface name' % (address, dev['driver']))
        return dev['netdev'], dev
    for dev in devices:
        if dev['netdev'] == pf:
            return pf, dev
    return pf, None


def pf_problem(pf, dev, devices):
    """Why ``pf`` cannot serve VFs (None when it can)."""
    nics = sorted(d['netdev'] for d in devices if d['netdev'])
    if dev is None:
        return 'no host NIC called %r; the host has: %s (option pf)' % (pf, ', '.join(nics) or 'none')
    if dev['sriov']['physical_function']:
        return '%s (%s) is itself a VF of %s; give the PF' % (pf, dev['address'], dev['sriov']['physical_function'])
    if not dev['sriov']['max_vfs'] and not dev['sriov']['virtual_functions']:
        return '%s (%s) is not an SR-IOV physical function (no VFs); enable VFs first (sriov_numvfs)' % (
            pf, dev['address'])
    return None


def vf_pool_actions(current, wanted_xml, state, active, autostart):
    """libvirt actions that bring the network to the wanted state, in order.

    ``current`` is None (no such network) or ``{'xml': persistent XML root or None,
    'active': bool, 'autostart': bool}``. Actions: define, start, autostart on/off, stop, undefine.
    """
    if state == 'absent':
        if current is None:
            return []
        return (['stop'] if current['active'] else []) + (['undefine'] if current['xml'] is not None else [])
    actions = []
    if current is None or current['xml'] is None or not same_vf_pool(current['xml'], wanted_xml):
        actions.append('define')
    if active and (current is None or not current['active']):
        actions.append('start')
    if autostart != bool(current and current['autostart']):
        actions.append('autostart on' if autostart else 'autostart off')
    return actions


def same_vf_pool(have, want):
    """True when two network definitions have the same forward (mode, managed, driver, pf)."""
    def forward(root):
        node = root.find('forward')
        return _domain_xml.canonical(node, ('address', 'interface')) if node is not None else None
    return forward(have) == forward(want)


def check_existing_network(current, name):
    """Refuse to turn an existing non-hostdev network (a bridge, NAT ...) into a VF pool."""
    if current is None or current['xml'] is None:
        return
    forward = current['xml'].find('forward')
    mode = forward.get('mode') if forward is not None else 'none (isolated)'
    if mode != 'hostdev':
        raise PlanError('network %r exists with forward mode %s, not a VF pool (hostdev); choose another name'
                        % (name, mode))


def pool_vfs(live_root, pf_dev):
    """VF addresses of the pool: those libvirt listed in the running network, else the PF's VFs."""
    if live_root is not None:
        forward = live_root.find('forward')
        found = [_pci_address.address_text(_pci_address.address_from_element(a))
                 for a in (forward.findall('address') if forward is not None else [])
                 if a.get('type', 'pci') == 'pci']
        if found:
            return found, 'network'
    if pf_dev is not None:
        return list(pf_dev['sriov']['virtual_functions']), 'nodedev'
    return [], 'none'


def vf_pool_after(have, want):
    """The network definition after a redefine: ``have`` (uuid, bridge name ...) with ``want``'s forward."""
    if have is None:
        return want
    after = _domain_xml.domain_copy(have)
    old = after.find('forward')
    new = _domain_xml.domain_copy(want.find('forward'))
    if old is not None:
        old.addprevious(new)
        after.remove(old)
    else:
        after.append(new)
    return after


def check_pool_network(name, forward_mode, known):
    """Refuse an ``<interface type='network'>`` from a network that is missing or no VF pool."""
    if forward_mode is None:
        raise PlanError('network %r not found; known networks: %s. Create the VF pool first '
                        '(virtops.devices.virt_hostdev_network)' % (name, ', '.join(known) or 'none'))
    if forward_mode != 'hostdev':
        raise PlanError('network %r forwards in mode %s, it is no SR-IOV VF pool (hostdev); give the VF '
                        'itself in devices, or a pool made by virtops.devices.virt_hostdev_network'
                        % (name, forward_mode))
