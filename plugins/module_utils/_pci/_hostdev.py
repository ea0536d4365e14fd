# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What virt_hostdev must do: build ``<hostdev>`` / ``<interface type='hostdev'>`` /
``<interface type='network'>`` XML, check the request against the host's PCI
inventory (bridges, holders, IOMMU groups, NICs), and plan the domain steps
(see _hotplug) and the host steps (nodedev detach/reattach).

Pure functions; a request that cannot be carried out raises PlanError before
anything changes. Devices are identified by their host PCI address.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml, _pci_slots
from ansible_collections.virtops.devices.plugins.module_utils._pci import _nodedev, _pci_address
from ansible_collections.virtops.devices.plugins.module_utils._pci._pci_address import AddressError

SCOPES = ('live', 'config')
_MAC = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')


class PlanError(Exception):
    """The request cannot be carried out; the message says why and what to do."""


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


# --- XML ----------------------------------------------------------------------------------------

def _yes_no(value):
    return 'yes' if value else 'no'


def build_hostdev(address, managed=True, driver='vfio'):
    """``<hostdev mode='subsystem' type='pci'>`` for the host device at ``address``."""
    attrs = _pci_address.address_attributes(_pci_address.parse_pci_address(address))
    return _domain_xml.element(
        'hostdev', {'mode': 'subsystem', 'type': 'pci', 'managed': _yes_no(managed)},
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
        'interface', {'type': 'hostdev', 'managed': _yes_no(managed)},
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

def _source_address(node):
    source = node.find('source/address')
    if source is None:
        return None
    return _pci_address.address_text(_pci_address.address_from_element(source))


def find_assigned(root, address):
    """The ``<hostdev>`` or ``<interface type='hostdev'>`` of ``root`` holding ``address``, or None."""
    for node in _domain_xml.find_devices(root, 'hostdev'):
        if node.get('type') == 'pci' and _source_address(node) == address:
            return node
    for node in _domain_xml.find_devices(root, 'interface'):
        if node.get('type') == 'hostdev' and _source_address(node) == address:
            return node
    return None


def _mac_of(node):
    mac = node.find('mac')
    return mac.get('address').lower() if mac is not None and mac.get('address') else None


def find_network_interface(root, network, mac=None):
    """The ``<interface type='network'>`` on ``network`` (with ``mac`` when given), or None."""
    for node in _domain_xml.find_devices(root, 'interface'):
        source = node.find('source')
        if source is None or source.get('network') != network:
            continue
        if mac is None or _mac_of(node) == mac:
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
    if request['mac'] and _mac_of(existing) != request['mac']:
        raise PlanError('PCI device %s is already in the %s definition with MAC %s, not %s; detach it first '
                        '(state: absent) to change its MAC' % (address, scope, _mac_of(existing), request['mac']))
    for tag, option in (('vlan', 'vlan'), ('virtualport', 'virtualport')):
        if request[option] and _canonical_child(existing, tag) != _canonical_child(wanted, tag):
            raise PlanError('PCI device %s is already in the %s definition with another %s; detach it first '
                            '(state: absent) to change it' % (address, scope, option))


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
        for addr in request['addresses']:
            existing = find_assigned(root, addr)
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
        for addr in request['addresses']:
            existing = find_assigned(root, addr)
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


def attached_addresses(steps):
    """Host PCI addresses that the attach steps give to the domain (no duplicates, in order)."""
    found = []
    for step in steps:
        addr = _source_address(step['device']) if step['action'] == 'attach' else None
        if addr and addr not in found:
            found.append(addr)
    return found


# --- checks against the host ----------------------------------------------------------------------

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
        addr = _source_address(step['device']) if step['action'] == 'detach' else None
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


def device_results(request, root):
    """Per requested device (or the pool interface), whether ``root`` has it after the run."""
    if request['network']:
        node = find_network_interface(root, request['network'], request['mac'])
        return [{'network': request['network'], 'present': node is not None,
                 'mac': _mac_of(node) if node is not None else request['mac']}]
    results = []
    for addr in request['addresses']:
        node = find_assigned(root, addr)
        results.append({'address': addr, 'name': _pci_address.nodedev_name(_pci_address.parse_pci_address(addr)),
                        'present': node is not None, 'as': kind_of(node) if node is not None else None,
                        'mac': _mac_of(node) if node is not None else None})
    return results


# --- SR-IOV VF pools: libvirt networks of <forward mode='hostdev'> -------------------------------------

def build_vf_pool_network(name, pf, managed=True, driver='vfio'):
    """``<network>`` whose ``<forward mode='hostdev'>`` hands out the VFs of the PF ``pf``."""
    name_node = _domain_xml.element('name')
    name_node.text = name
    forward = _domain_xml.element(
        'forward', {'mode': 'hostdev', 'managed': _yes_no(managed)},
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
        return 'pf: no host NIC called %r; the host has: %s' % (pf, ', '.join(nics) or 'none')
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
