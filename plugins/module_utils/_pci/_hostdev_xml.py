# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The XML of a host PCI device in a domain: build ``<hostdev>``, ``<interface type='hostdev'>``
and ``<interface type='network'>`` (with MAC, VLAN, port profile), find them in a domain, and
check that one already there is the one asked for. Pure; PlanError says what is wrong.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._pci import _pci_address


class PlanError(Exception):
    """The request cannot be carried out; the message says why and what to do."""


def yes_no(value):
    return 'yes' if value else 'no'


def build_hostdev(address, managed=True, driver='vfio'):
    """``<hostdev mode='subsystem' type='pci'>`` for the host device at ``address``."""
    attrs = _pci_address.address_attributes(_pci_address.parse_pci_address(address))
    return _domain_xml.element(
        'hostdev', {'mode': 'subsystem', 'type': 'pci', 'managed': yes_no(managed)},
        _domain_xml.element('driver', {'name': driver}),
        _domain_xml.element('source', None, _domain_xml.element('address', attrs)))


def build_vlan(vlan):
    """``<vlan [trunk='yes']><tag id= [nativeMode=]/>...</vlan>``."""
    node = _domain_xml.element('vlan', {'trunk': 'yes' if vlan['trunk'] else None})
    for tag in vlan['tags']:
        native = vlan['native_mode'] if vlan['native'] == tag else None
        _domain_xml.sub(node, 'tag', {'id': tag, 'nativeMode': native})
    return node


def build_virtualport(virtualport):
    node = _domain_xml.element('virtualport', {'type': virtualport['type']})
    _domain_xml.sub(node, 'parameters', {'profileid': virtualport['profileid']})
    return node


def build_hostdev_interface(address, managed=True, driver='vfio', mac=None, vlan=None, virtualport=None):
    """``<interface type='hostdev'>``: a NIC (or SR-IOV VF) with its MAC, VLAN and port profile."""
    attrs = _pci_address.address_attributes(_pci_address.parse_pci_address(address))
    attrs['type'] = 'pci'
    return _domain_xml.element(
        'interface', {'type': 'hostdev', 'managed': yes_no(managed)},
        _domain_xml.element('mac', {'address': mac}) if mac else None,
        _domain_xml.element('driver', {'name': driver}),
        _domain_xml.element('source', None, _domain_xml.element('address', attrs)),
        build_vlan(vlan) if vlan else None,
        build_virtualport(virtualport) if virtualport else None)


def build_network_interface(network, mac=None):
    """``<interface type='network'>`` that takes a VF from the hostdev network (pool) ``network``."""
    return _domain_xml.element(
        'interface', {'type': 'network'},
        _domain_xml.element('mac', {'address': mac}) if mac else None,
        _domain_xml.element('source', {'network': network}))


def build_device(request, address):
    if request['as_interface']:
        return build_hostdev_interface(address, request['managed'], request['driver'], request['mac'],
                                       request['vlan'], request['virtualport'])
    return build_hostdev(address, request['managed'], request['driver'])


# --- finding what a domain has --------------------------------------------------------------------

def source_address(node):
    source = node.find('source/address')
    if source is None:
        return None
    return _pci_address.address_text(_pci_address.address_from_element(source))


def find_assigned(root, address):
    """The ``<hostdev>`` or ``<interface type='hostdev'>`` of ``root`` holding ``address``, or None."""
    for node in _domain_xml.find_devices(root, 'hostdev'):
        if node.get('type') == 'pci' and source_address(node) == address:
            return node
    for node in _domain_xml.find_devices(root, 'interface'):
        if node.get('type') == 'hostdev' and source_address(node) == address:
            return node
    return None


def assigned_index(root):
    """``{host PCI address: node}`` of every device :func:`find_assigned` would find, in one pass."""
    index = {}
    for tag, kind in (('hostdev', 'pci'), ('interface', 'hostdev')):
        for node in _domain_xml.find_devices(root, tag):
            if node.get('type') == kind:
                address = source_address(node)
                if address is not None and address not in index:
                    index[address] = node
    return index


def mac_of(node):
    mac = node.find('mac')
    return mac.get('address').lower() if mac is not None and mac.get('address') else None


def find_network_interface(root, network, mac=None):
    """The ``<interface type='network'>`` on ``network`` (with ``mac`` when given), or None."""
    for node in _domain_xml.find_devices(root, 'interface'):
        source = node.find('source')
        if source is None or source.get('network') != network:
            continue
        if mac is None or mac_of(node) == mac:
            return node
    return None


def kind_of(node):
    return 'interface' if node.tag == 'interface' else 'hostdev'


def _canonical_child(node, tag):
    child = node.find(tag)
    return _domain_xml.canonical(child) if child is not None else None


def check_matches(request, existing, address, scope):
    """PlanError when ``address`` is already in the domain but not as asked."""
    want = 'interface' if request['as_interface'] else 'hostdev'
    if kind_of(existing) != want:
        raise PlanError('PCI device %s is already in the %s definition as <%s>, not as <%s>; detach it '
                        'first (state: absent) to change how it is given'
                        % (address, scope, 'interface type=\'hostdev\'' if kind_of(existing) == 'interface'
                           else 'hostdev', 'interface type=\'hostdev\'' if want == 'interface' else 'hostdev'))
    if want != 'interface':
        return
    wanted = build_device(request, address)
    if request['mac'] and mac_of(existing) != request['mac']:
        raise PlanError('PCI device %s is already in the %s definition with MAC %s, not %s; detach it first '
                        '(state: absent) to change its MAC' % (address, scope, mac_of(existing), request['mac']))
    for tag, option in (('vlan', 'vlan'), ('virtualport', 'virtualport')):
        if request[option] and _canonical_child(existing, tag) != _canonical_child(wanted, tag):
            raise PlanError('PCI device %s is already in the %s definition with another %s; detach it first '
                            '(state: absent) to change it' % (address, scope, option))
