# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What virt_hostdev must do: the request (addresses, MAC, VLAN, port profile) checked, and the
domain steps (attach/detach, see _libvirt._hotplug) that bring the domain to the wanted state.

The XML is built in ``_hostdev_xml``, the group safety and host detach/reattach decisions are in
``_hostdev_groups``, VF pools in ``_vf_pool``; this module names them all (``__all__``) as the one
face the modules use. Pure functions; a request that cannot be carried out raises PlanError
before anything changes. Devices are identified by their host PCI address.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.virtops.devices.plugins.module_utils._pci import _pci_address
from ansible_collections.virtops.devices.plugins.module_utils._pci._pci_address import AddressError
from ansible_collections.virtops.devices.plugins.module_utils._pci._hostdev_groups import (
    attached_addresses, check_devices, check_iommu, check_live_slots, group_peers_to_detach, held_addresses,
    host_detaches, host_reattaches)
from ansible_collections.virtops.devices.plugins.module_utils._pci._hostdev_xml import (
    PlanError, assigned_index, build_device, build_hostdev, build_hostdev_interface, build_network_interface,
    build_vlan, check_matches, find_assigned, find_network_interface, kind_of, mac_of)
from ansible_collections.virtops.devices.plugins.module_utils._pci._vf_pool import (
    build_vf_pool_network, check_existing_network, check_pool_network, pf_problem, pool_vfs, resolve_pf,
    vf_pool_actions, vf_pool_after)

__all__ = [
    'PlanError', 'SCOPES', 'assigned_index', 'attached_addresses', 'build_device', 'build_hostdev',
    'build_hostdev_interface',
    'build_network_interface', 'build_vf_pool_network', 'build_vlan', 'check_devices', 'check_existing_network',
    'check_iommu', 'check_live_slots', 'check_pool_network', 'device_results', 'find_assigned',
    'group_peers_to_detach', 'held_addresses', 'host_detaches', 'host_reattaches', 'normalize_mac',
    'normalize_request', 'normalize_vlan', 'pf_problem', 'plan', 'pool_vfs', 'resolve_pf', 'vf_pool_actions',
    'vf_pool_after',
]

SCOPES = ('live', 'config')
_MAC = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')


# --- input --------------------------------------------------------------------------------------

def normalize_mac(mac):
    """``mac`` in lower case; PlanError for anything but a unicast Ethernet address."""
    value = (mac or '').strip().lower().replace('-', ':')
    if not _MAC.match(value):
        hint = ('; YAML reads an unquoted MAC of digits as a number: quote it'
                if str(mac).strip().isdigit() else '')
        raise PlanError('bad MAC address %r: write six hex octets like 52:54:00:6d:90:02 (option mac)%s'
                        % (mac, hint))
    if int(value[:2], 16) & 1:
        raise PlanError('bad MAC address %r: it is a multicast address (the first octet is odd); a NIC '
                        'needs a unicast one like 52:54:00:6d:90:02 (option mac)' % mac)
    if value == '00:00:00:00:00:00':
        raise PlanError('bad MAC address %r: all zeros (option mac)' % mac)
    return value


def _vlan_id(value, what):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise PlanError('VLAN %s %r is not a number; VLAN ids are 0-4095 (option vlan)' % (what, value))
    if not 0 <= number <= 4095:
        raise PlanError('VLAN %s %s is out of range: VLAN ids are 0-4095 (option vlan)' % (what, number))
    return number


def normalize_vlan(vlan):
    """``{'tags': [ids], 'trunk': bool, 'native': id or None, 'native_mode': str}``, or None."""
    if not vlan:
        return None
    tags = [_vlan_id(tag, 'tag') for tag in (vlan.get('tags') or [])]
    if not tags:
        raise PlanError('vlan needs at least one tag id in vlan.tags (0-4095)')
    native = vlan.get('native')
    if native is not None:
        native = _vlan_id(native, 'native tag')
        if native not in tags:
            tags.append(native)
    trunk = vlan.get('trunk')
    trunk = len(tags) > 1 if trunk is None else bool(trunk)
    if len(tags) > 1 and not trunk:
        raise PlanError('vlan lists %d tags (%s) but trunk is false; a port without trunking carries '
                        'one VLAN' % (len(tags), ', '.join(str(t) for t in tags)))
    return {'tags': tags, 'trunk': trunk, 'native': native, 'native_mode': vlan.get('native_mode') or 'untagged'}


def normalize_virtualport(virtualport):
    """``{'type': '802.1Qbh', 'profileid': str}`` or None."""
    if not virtualport:
        return None
    kind = virtualport.get('type') or '802.1Qbh'
    if kind != '802.1Qbh':
        raise PlanError('virtualport type %r is not supported for a passed-through NIC; use 802.1Qbh' % kind)
    profile = (virtualport.get('profileid') or '').strip()
    if not profile:
        raise PlanError('virtualport type 802.1Qbh needs a profileid (the port profile on the switch)')
    return {'type': kind, 'profileid': profile}


def normalize_request(params):
    """The request with addresses in ``0000:01:00.0`` form and checked MAC/VLAN/virtualport."""
    try:
        addresses = [_pci_address.normalize(a) for a in params.get('devices') or []]
    except AddressError as exc:
        raise PlanError('%s (option devices)' % exc)
    seen = set()
    for addr in addresses:
        if addr in seen:
            raise PlanError('PCI device %s is listed twice in devices (in either address form)' % addr)
        seen.add(addr)
    network = params.get('network')
    as_interface = bool(params.get('as_interface'))
    if network and addresses:
        raise PlanError('give either devices or network (a VF pool), not both')
    if not network and not addresses:
        raise PlanError('nothing to assign: give devices (PCI addresses) or network (a VF pool)')
    nic_options = [k for k in ('mac', 'vlan', 'virtualport') if params.get(k)]
    if nic_options and not (as_interface or network):
        raise PlanError('%s only apply to a NIC given as <interface>: set as_interface: true'
                        % ' and '.join(nic_options))
    if network and (params.get('vlan') or params.get('virtualport')):
        raise PlanError('vlan and virtualport of a VF pool come from the network %r (its <vlan>/<portgroup>); '
                        'give only mac with network' % network)
    if params.get('mac') and len(addresses) > 1:
        raise PlanError('mac given for %d devices: a MAC belongs to one NIC, list one device per task'
                        % len(addresses))
    return {
        'addresses': addresses,
        'network': network,
        'as_interface': as_interface,
        'mac': normalize_mac(params['mac']) if params.get('mac') else None,
        'vlan': normalize_vlan(params.get('vlan')),
        'virtualport': normalize_virtualport(params.get('virtualport')),
        'managed': bool(params.get('managed', True)),
        'driver': params.get('driver') or 'vfio',
    }


# --- planning -----------------------------------------------------------------------------------

def _step(action, scope, device, label):
    return {'action': action, 'scope': scope, 'device': device, 'label': label}


def device_label(request, address):
    return ('interface hostdev %s' % address) if request['as_interface'] else ('hostdev %s' % address)


def network_label(request):
    return 'interface network %s%s' % (request['network'], ' (%s)' % request['mac'] if request['mac'] else '')


def plan_present(request, trees):
    steps = []
    for scope, root in trees.items():
        if request['network']:
            if find_network_interface(root, request['network'], request['mac']) is None:
                steps.append(_step('attach', scope, build_network_interface(request['network'], request['mac']),
                                   network_label(request)))
            continue
        assigned = assigned_index(root)
        for addr in request['addresses']:
            existing = assigned.get(addr)
            if existing is None:
                steps.append(_step('attach', scope, build_device(request, addr), device_label(request, addr)))
            else:
                check_matches(request, existing, addr, scope)
    return steps


def plan_absent(request, trees):
    steps = []
    for scope, root in trees.items():
        if request['network']:
            existing = find_network_interface(root, request['network'], request['mac'])
            if existing is not None:
                steps.append(_step('detach', scope, existing, network_label(request)))
            continue
        assigned = assigned_index(root)
        for addr in request['addresses']:
            existing = assigned.get(addr)
            if existing is not None:
                label = ('interface hostdev %s' if kind_of(existing) == 'interface' else 'hostdev %s') % addr
                steps.append(_step('detach', scope, existing, label))
    return steps


def plan(request, state, trees):
    """Domain steps for ``state`` over ``trees`` (``{scope: root}``, only the scopes to change), live first."""
    ordered = dict((scope, trees[scope]) for scope in SCOPES if scope in trees)
    if state == 'present':
        return plan_present(request, ordered)
    return plan_absent(request, ordered)


def device_results(request, root):
    """Per requested device (or the pool interface), whether ``root`` has it after the run."""
    if request['network']:
        node = find_network_interface(root, request['network'], request['mac'])
        return [{'network': request['network'], 'present': node is not None,
                 'mac': mac_of(node) if node is not None else request['mac']}]
    results = []
    assigned = assigned_index(root)
    for addr in request['addresses']:
        node = assigned.get(addr)
        results.append({'address': addr, 'name': _pci_address.nodedev_name(_pci_address.parse_pci_address(addr)),
                        'present': node is not None, 'as': kind_of(node) if node is not None else None,
                        'mac': mac_of(node) if node is not None else None})
    return results
