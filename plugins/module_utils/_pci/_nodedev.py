# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host PCI devices as libvirt sees them: inventory, IOMMU groups, SR-IOV,
and which domains hold which device.

The inventory is built from libvirt's node device XML (``nodedev-dumpxml``)
and, for a local hypervisor, from sysfs (``/sys/kernel/iommu_groups``, the
``driver`` link of each device), which fills what the XML lacks. Everything
here but the ``read_*`` and ``*_host`` functions is pure.

A device is a dict: ``address`` (``0000:01:00.0``), ``name``
(``pci_0000_01_00_0``), ids and names, ``class``, ``class_name``, ``driver``,
``numa_node``, ``iommu_group``, ``iommu_group_members``, ``bridge``,
``netdev``, ``sriov``, ``held_by``, ``driver_known``.

``driver`` None is ambiguous on its own: ``driver_known`` says whether it means
"unbound" (libvirt's XML or sysfs showed no driver) or "cannot be told" (libvirt's
test driver without a sysfs tree, a device sysfs does not list). A group peer whose
driver cannot be told, or that libvirt does not list at all, is never counted as
free unless the caller opts in (``allow_unknown``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._pci import _pci_address
from ansible_collections.virtops.devices.plugins.module_utils._common._validate import InvalidValue

CLASS_NAMES = {
    0x00: 'unclassified', 0x01: 'storage', 0x02: 'network', 0x03: 'display', 0x04: 'multimedia',
    0x05: 'memory', 0x06: 'bridge', 0x07: 'communication', 0x08: 'system', 0x09: 'input',
    0x0a: 'docking', 0x0b: 'processor', 0x0c: 'serial', 0x0d: 'wireless', 0x0e: 'intelligent',
    0x0f: 'satellite', 0x10: 'encryption', 0x11: 'signal-processing', 0x12: 'accelerator',
    0x13: 'instrumentation', 0x40: 'coprocessor', 0xff: 'unassigned',
}
CLASS_CODE_PREFIX = re.compile(r'^0x[0-9a-f]{2,6}$')


def check_pci_class(option, value):
    """Return a ``class`` filter (a class name or a hex prefix of the class code), lower-cased."""
    text = value.strip().lower() if isinstance(value, str) else None
    if text is None or not (text in CLASS_NAMES.values() or CLASS_CODE_PREFIX.match(text)):
        raise InvalidValue(option, value, 'a PCI class name (%s) or a hex prefix of the class code such as '
                           '0x0200 or 0x030000' % ', '.join(sorted(CLASS_NAMES.values())))
    return text


# PCI-to-PCI (0x0604), CardBus (0x0607) and semi-transparent (0x0609) bridges: the
# kernel lets them stay on their host driver (pcieport) in a group given to a guest.
_BRIDGE_SUBCLASSES = (0x0604, 0x0607, 0x0609)
_BRIDGE_CAPS = ('pci-bridge', 'cardbus-bridge')
# Drivers that leave a group assignable: vfio-pci (and its vendor variants), pci-stub.
_STUB_DRIVERS = ('pci-stub',)

IOMMU_ROLE_HINT = ('turn the IOMMU on first: the virtops.devices.iommu_host role (or the iommu_grub '
                   'module) adds intel_iommu=on iommu=pt to the kernel command line; then reboot')


def _text(node, path):
    found = node.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _int_or_none(text):
    if text is None:
        return None
    text = text.strip().lower()
    return int(text, 16) if text.startswith('0x') else int(text, 10)


def class_name(pci_class):
    """``network``, ``display`` ... for a 24-bit PCI class code."""
    if pci_class is None:
        return 'unknown'
    return CLASS_NAMES.get(pci_class >> 16, 'unknown')


def _addresses(node):
    if node is None:
        return []
    return [_pci_address.address_text(_pci_address.address_from_element(a)) for a in node.findall('address')]


def pci_device_from_xml(text):
    """One PCI device from its node device XML (None for other devices)."""
    root = _domain_xml.parse(text)
    cap = root.find("capability[@type='pci']")
    if cap is None:
        return None
    address = (_int_or_none(_text(cap, 'domain')) or 0, _int_or_none(_text(cap, 'bus')) or 0,
               _int_or_none(_text(cap, 'slot')) or 0, _int_or_none(_text(cap, 'function')) or 0)
    pci_class = _int_or_none(_text(cap, 'class'))
    vendor, product = cap.find('vendor'), cap.find('product')
    group = cap.find('iommuGroup')
    vfs = cap.find("capability[@type='virt_functions']")
    pf = cap.find("capability[@type='phys_function']")
    numa = cap.find('numa')
    sub_caps = [c.get('type') for c in cap.findall('capability')]
    return {
        'address': _pci_address.address_text(address),
        'name': _text(root, 'name') or _pci_address.nodedev_name(address),
        'parent': _text(root, 'parent'),
        'path': _text(root, 'path'),
        'vendor_id': vendor.get('id') if vendor is not None else None,
        'vendor': (vendor.text or '').strip() or None if vendor is not None else None,
        'product_id': product.get('id') if product is not None else None,
        'product': (product.text or '').strip() or None if product is not None else None,
        'class': '0x%06x' % pci_class if pci_class is not None else None,
        'class_name': class_name(pci_class),
        'driver': _text(root, 'driver/name'),
        'driver_known': _text(root, 'driver/name') is not None,
        'numa_node': _int_or_none(numa.get('node')) if numa is not None else None,
        'iommu_group': _int_or_none(group.get('number')) if group is not None else None,
        'iommu_group_members': _addresses(group),
        'bridge': is_bridge_class(pci_class) or any(c in _BRIDGE_CAPS for c in sub_caps),
        'netdev': None,
        'sriov': {
            'physical_function': (_addresses(pf) or [None])[0],
            'virtual_functions': _addresses(vfs),
            'max_vfs': _int_or_none(vfs.get('maxCount')) if vfs is not None else None,
        },
        'held_by': [],
    }


def is_bridge_class(pci_class):
    """True for PCI-to-PCI/CardBus bridges and root ports (class 0x0604xx ...)."""
    return pci_class is not None and (pci_class >> 8) in _BRIDGE_SUBCLASSES


def is_any_bridge(dev):
    """True for every bridge class device (host bridges too): none of them goes to a guest."""
    return dev['bridge'] or dev['class_name'] == 'bridge'


def netdev_from_xml(text):
    """``(parent node device name, interface name)`` of a ``net`` node device, else None."""
    root = _domain_xml.parse(text)
    cap = root.find("capability[@type='net']")
    if cap is None:
        return None
    return _text(root, 'parent'), _text(cap, 'interface')


# --- sysfs ------------------------------------------------------------------------------------

def read_sysfs(root='/'):
    """What sysfs under ``root`` says: ``{'iommu_groups': {n: [addr]}, 'drivers': {addr: name},
    'devices': [addr], 'netdevs': {addr: [name]}, 'sriov': {addr: {'max_vfs': n, 'num_vfs': n}},
    'problems': [(path, why)]}``. ``devices`` are the PCI devices sysfs lists (their driver,
    or its absence, is known); ``problems`` the paths that could not be read."""
    facts = {'iommu_groups': {}, 'drivers': {}, 'devices': [], 'netdevs': {}, 'sriov': {}, 'problems': []}
    problems = facts['problems']
    groups_dir = os.path.join(root, 'sys/kernel/iommu_groups')
    for group in _listdir(groups_dir, problems):
        if group.isdigit():
            facts['iommu_groups'][int(group)] = sorted(_listdir(os.path.join(groups_dir, group, 'devices'), problems))
    devices_dir = os.path.join(root, 'sys/bus/pci/devices')
    for addr in _listdir(devices_dir, problems):
        base = os.path.join(devices_dir, addr)
        link = os.path.join(base, 'driver')
        try:
            if os.path.islink(link):
                facts['drivers'][addr] = os.path.basename(os.readlink(link))
            facts['devices'].append(addr)
        except OSError as exc:
            problems.append((link, exc.strerror or str(exc)))
        nets = _listdir(os.path.join(base, 'net'))
        if nets:
            facts['netdevs'][addr] = sorted(nets)
        total = _read_int(os.path.join(base, 'sriov_totalvfs'))
        if total is not None:
            facts['sriov'][addr] = {'max_vfs': total, 'num_vfs': _read_int(os.path.join(base, 'sriov_numvfs'))}
    facts['devices'].sort()
    return facts


def _listdir(path, problems=None):
    """Entries of ``path``; [] when it cannot be read (recorded in ``problems`` when given)."""
    try:
        return os.listdir(path)
    except OSError as exc:
        if problems is not None:
            problems.append((path, exc.strerror or str(exc)))
        return []


def _read_int(path):
    try:
        with open(path) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


# --- the inventory ----------------------------------------------------------------------------

def merge_sysfs(devices, sysfs):
    """Fill what the node device XML lacks (driver, IOMMU group, netdev, VF counts) from sysfs."""
    group_of = {}
    for number, members in sysfs.get('iommu_groups', {}).items():
        for addr in members:
            group_of[addr] = number
    listed = set(sysfs.get('devices', ())) | set(sysfs.get('drivers', {}))
    for dev in devices:
        addr = dev['address']
        if dev['driver'] is None:
            dev['driver'] = sysfs.get('drivers', {}).get(addr)
        if addr in listed:
            dev['driver_known'] = True
        if dev['iommu_group'] is None and addr in group_of:
            dev['iommu_group'] = group_of[addr]
            dev['iommu_group_members'] = sorted(sysfs['iommu_groups'][group_of[addr]])
        elif addr in group_of:  # a member sysfs names and the XML lacks still shares the group
            dev['iommu_group_members'] = sorted(set(dev['iommu_group_members'])
                                                | set(sysfs['iommu_groups'][group_of[addr]]))
        if dev['netdev'] is None and sysfs.get('netdevs', {}).get(addr):
            dev['netdev'] = sysfs['netdevs'][addr][0]
        counts = sysfs.get('sriov', {}).get(addr)
        if counts and dev['sriov']['max_vfs'] is None:
            dev['sriov']['max_vfs'] = counts['max_vfs']
    return devices


def attach_netdevs(devices, netdevs):
    """Set ``netdev`` from ``(parent name, interface)`` pairs of libvirt's net node devices."""
    by_name = dict((dev['name'], dev) for dev in devices)
    for parent, interface in netdevs:
        dev = by_name.get(parent)
        if dev is not None and interface and dev['netdev'] is None:
            dev['netdev'] = interface
    return devices


def finish_sriov(devices):
    """Add ``num_vfs`` and the PF's VF list where libvirt only told the VF side."""
    by_addr = dict((dev['address'], dev) for dev in devices)
    for dev in devices:
        pf = by_addr.get(dev['sriov']['physical_function'])
        if pf is not None and dev['address'] not in pf['sriov']['virtual_functions']:
            pf['sriov']['virtual_functions'].append(dev['address'])
    for dev in devices:
        dev['sriov']['virtual_functions'] = sorted(dev['sriov']['virtual_functions'])
        dev['sriov']['num_vfs'] = len(dev['sriov']['virtual_functions'])
    return devices


def iommu_enabled(devices):
    """True when any device has an IOMMU group (libvirt reports none when the IOMMU is off)."""
    return any(dev['iommu_group'] is not None for dev in devices)


def iommu_groups(devices):
    """``{group number: [addresses]}``, sorted."""
    groups = {}
    for dev in devices:
        if dev['iommu_group'] is not None:
            members = set(groups.get(dev['iommu_group'], ())) | set(dev['iommu_group_members']) | {dev['address']}
            groups[dev['iommu_group']] = sorted(members)
    return groups


def build_inventory(pci_xmls, net_xmls=(), sysfs=None, holdings=None, libvirt_reports_drivers=False):
    """Every PCI device, sorted by address, from node device XML texts (+ sysfs facts, holders).

    ``libvirt_reports_drivers``: the XML comes from a real libvirt node device driver, which
    reads each device's sysfs ``driver`` link when it dumps the XML, so no ``<driver>`` there
    means unbound. Otherwise (libvirt's test driver) only sysfs can tell.
    """
    devices = [d for d in (pci_device_from_xml(text) for text in pci_xmls) if d is not None]
    if libvirt_reports_drivers:
        for dev in devices:
            dev['driver_known'] = True
    attach_netdevs(devices, [n for n in (netdev_from_xml(text) for text in net_xmls) if n])
    if sysfs:
        merge_sysfs(devices, sysfs)
    finish_sriov(devices)
    groups = iommu_groups(devices)
    for dev in devices:
        if dev['iommu_group'] is not None:
            dev['iommu_group_members'] = groups[dev['iommu_group']]
        dev['held_by'] = list((holdings or {}).get(dev['address'], []))
    return sorted(devices, key=lambda d: d['address'])


def by_address(devices):
    return dict((dev['address'], dev) for dev in devices)


# --- IOMMU group viability -------------------------------------------------------------------

def driver_keeps_group_assignable(driver):
    """True when a device on ``driver`` (None: unbound) does not block its group."""
    return driver is None or 'vfio' in driver or driver in _STUB_DRIVERS


# Why a group peer keeps a group from a guest.
HOST_DRIVER = 'host-driver'          # bound to a host driver (not vfio-pci/pci-stub)
DRIVER_UNKNOWN = 'driver-unknown'    # listed by libvirt, but nothing tells whether it is bound
NOT_LISTED = 'not-listed'            # a member of the group libvirt does not list at all
UNKNOWN_REASONS = (DRIVER_UNKNOWN, NOT_LISTED)


def peer_block_reason(peer):
    """Why the group peer ``peer`` (an inventory entry, None when libvirt does not list it)
    blocks its group, or None when it is shown to be free (or is a bridge)."""
    if peer is None:
        return NOT_LISTED
    if peer['bridge']:
        return None
    if peer['driver'] is None and not peer.get('driver_known', True):
        return DRIVER_UNKNOWN
    return None if driver_keeps_group_assignable(peer['driver']) else HOST_DRIVER


def blocking_group_peers(devices, requested, allow_unknown=False):
    """Endpoints that share a group with a requested device, are not requested and cannot be
    shown to be free: ``[{'address', 'driver', 'iommu_group', 'of', 'reason'}]``.

    ``reason`` is HOST_DRIVER (still on a host driver), DRIVER_UNKNOWN (its driver cannot be
    told) or NOT_LISTED (libvirt does not list it). With ``allow_unknown`` the last two are
    taken as free (the caller's explicit, dangerous opt-in).
    """
    index = by_address(devices)
    wanted = set(requested)
    blockers, seen = [], set()
    for addr in requested:
        dev = index.get(addr)
        if dev is None or dev['iommu_group'] is None:
            continue
        for member in dev['iommu_group_members']:
            if member in wanted or member in seen:
                continue
            peer = index.get(member)
            reason = peer_block_reason(peer)
            if reason is None or (allow_unknown and reason in UNKNOWN_REASONS):
                continue
            seen.add(member)
            blockers.append({'address': member, 'driver': peer['driver'] if peer else None,
                             'iommu_group': dev['iommu_group'], 'of': addr, 'reason': reason})
    return blockers


def unknown_group_peers(devices, requested):
    """The peers of ``requested`` that cannot be shown to be free (driver unknown, not listed)."""
    return [b for b in blocking_group_peers(devices, requested) if b['reason'] in UNKNOWN_REASONS]


def group_viable(devices, requested, allow_unknown=False):
    """True when every group of the requested devices can go to a guest as asked."""
    return not blocking_group_peers(devices, requested, allow_unknown)


def blocker_text(blocker):
    """``0000:01:00.1 (driver snd_hda_intel, IOMMU group 1, shared with 0000:01:00.0)`` and the
    unknown forms ``(driver unknown, ...)`` / ``(not listed by libvirt, ...)``."""
    what = {HOST_DRIVER: 'driver %s' % blocker['driver'], DRIVER_UNKNOWN: 'driver unknown',
            NOT_LISTED: 'not listed by libvirt'}[blocker.get('reason', HOST_DRIVER)]
    return '%s (%s, IOMMU group %s, shared with %s)' % (blocker['address'], what, blocker['iommu_group'], blocker['of'])


def blockers_message(blockers):
    """Operator text naming each blocking peer, its driver (or why it is unknown) and group."""
    return ', '.join(blocker_text(b) for b in blockers)


UNKNOWN_PEERS_HINT = ('a device that cannot be shown to be unbound or on vfio-pci/pci-stub may still be '
                      'driven by the host, and giving its IOMMU group to a guest lets the guest DMA into it; '
                      'check it on the host (lspci -k -s ADDRESS) and only then set allow_unknown_group_peers: '
                      'true (dangerous)')


def unknown_peers_note(unknown):
    """Warning for peers taken as free under ``allow_unknown_group_peers``."""
    return ('allow_unknown_group_peers is on: %s counted as free although %s cannot be shown to be '
            'unbound or on vfio-pci; if the host still drives %s, the guest can reach it by DMA'
            % (blockers_message(unknown), 'it' if len(unknown) == 1 else 'they',
               'it' if len(unknown) == 1 else 'them'))


def annotate_viability(devices, requested=None, allow_unknown=False):
    """Set ``assignable`` and ``iommu_group_blockers`` on each device.

    A device is assignable when it is no bridge (of any kind) and every other endpoint of its
    group is shown to be unbound, on vfio-pci/pci-stub, or in ``requested``; a peer whose driver
    is unknown or that libvirt does not list blocks it unless ``allow_unknown``. Without IOMMU
    groups ``assignable`` is None (cannot be known).
    """
    extra = set(requested or ())
    for dev in devices:
        if dev['iommu_group'] is None:
            dev['assignable'] = False if is_any_bridge(dev) else None
            dev['iommu_group_blockers'] = []
            continue
        blockers = blocking_group_peers(devices, sorted(extra | set([dev['address']])), allow_unknown)
        dev['iommu_group_blockers'] = [{'address': b['address'], 'driver': b['driver'], 'reason': b['reason']}
                                       for b in blockers if b['iommu_group'] == dev['iommu_group']]
        dev['assignable'] = not is_any_bridge(dev) and not dev['iommu_group_blockers']
    return devices


# --- which domains hold which device -------------------------------------------------------------

def hostdev_sources(root):
    """``[(address, kind)]`` of host PCI devices a domain XML holds; kind is ``hostdev`` or ``interface``."""
    found = []
    for node in _domain_xml.find_devices(root, 'hostdev'):
        source = node.find('source/address')
        if node.get('type') == 'pci' and source is not None:
            found.append((_pci_address.address_text(_pci_address.address_from_element(source)), 'hostdev'))
    for node in _domain_xml.find_devices(root, 'interface'):
        source = node.find('source/address')
        if node.get('type') == 'hostdev' and source is not None and source.get('type', 'pci') == 'pci':
            found.append((_pci_address.address_text(_pci_address.address_from_element(source)), 'interface'))
    return found


def domain_holdings(domains):
    """``{address: [{'domain', 'running', 'as'}]}`` from ``[(name, running, live_xml, config_xml)]``.

    A running domain counts by its live XML, a shut-off one by its definition.
    """
    holdings = {}
    for name, running, live_xml, config_xml in domains:
        text = live_xml if running and live_xml else config_xml
        if not text:
            continue
        for addr, kind in hostdev_sources(_domain_xml.parse(text)):
            holdings.setdefault(addr, []).append({'domain': name, 'running': bool(running), 'as': kind})
    return holdings


# --- filters --------------------------------------------------------------------------------------

def _matches_class(dev, wanted):
    for item in wanted:
        item = item.strip().lower()
        by_code = item.startswith('0x') and bool(dev['class']) and dev['class'].startswith(item)
        if item == dev['class_name'] or by_code:
            return True
    return False


def _matches_vendor(dev, wanted):
    for item in wanted:
        item = item.strip().lower()
        hexid = item if item.startswith('0x') else '0x' + item
        if dev['vendor_id'] and dev['vendor_id'].lower() == hexid:
            return True
        if dev['vendor'] and item in dev['vendor'].lower():
            return True
    return False


def _matches_driver(dev, wanted):
    return (dev['driver'] or 'none') in wanted


def filter_devices(devices, addresses=None, classes=None, vendors=None, drivers=None):
    """The devices matching every given filter (each filter: any of its values)."""
    wanted = set(addresses or ())
    return [dev for dev in devices
            if (not wanted or dev['address'] in wanted)
            and (not classes or _matches_class(dev, classes))
            and (not vendors or _matches_vendor(dev, vendors))
            and (not drivers or _matches_driver(dev, drivers))]


def unknown_addresses_message(unknown, devices, uri):
    """Operator text for addresses that are not host PCI devices."""
    known = [d['address'] for d in devices if not d['bridge']]
    return ('PCI device(s) %s not found at %s; the host has: %s. List them with '
            'virtops.devices.virt_pci_info' % (', '.join(unknown), uri, ', '.join(known) or 'none'))


def sysfs_root_for(uri, root):
    """Where to read sysfs for ``uri``: ``root`` for a local hypervisor, else None.

    A remote URI's sysfs is not ours. libvirt's test driver (``test:///...``)
    describes an imaginary node: its sysfs is read only from an explicit ``root``.
    """
    rest = uri.split('://', 1)[1] if '://' in uri else ''
    if not rest.startswith('/'):
        return None
    if uri.startswith('test:') and (root or '/').rstrip('/') == '':
        return None
    return root or '/'


def libvirt_reports_drivers(uri):
    """True when libvirt at ``uri`` says each device's host driver in its node device XML.

    A real node device driver (qemu, xen, lxc ... local or remote) reads the sysfs ``driver``
    link when it dumps a device, so a missing ``<driver>`` means unbound. libvirt's test
    driver (``test:///...``) keeps no drivers: there only sysfs (``root``) can tell.
    """
    return not uri.split(':', 1)[0].split('+', 1)[0] == 'test'


def driver_notes(uri, sysfs_root, sysfs, devices):
    """Notes on host drivers that could not be read: which sysfs path failed (or why sysfs was
    not read) and which endpoints therefore have ``driver: null`` with ``driver_known: false``
    (PCI bridges and root ports are left out: they never block a group)."""
    notes = []
    for path, why in (sysfs or {}).get('problems', []):
        notes.append('cannot read %s (%s): the host drivers and IOMMU groups it would tell come from libvirt only'
                     % (path, why))
    unknown = [d['address'] for d in devices if not d.get('driver_known', True) and not d['bridge']]
    if not unknown:
        return notes
    if sysfs_root is None:
        why = ('sysfs is not read for %s (libvirt\'s test driver keeps no host drivers; set root to a '
               'tree with sys/bus/pci/devices to read them)' % uri)
    elif (sysfs or {}).get('problems'):
        why = 'sysfs under %s could not be read (above)' % sysfs_root
    else:
        why = 'sysfs under %s does not list them' % sysfs_root
    notes.append('host driver unknown for %s: %s. They are reported with driver: null and driver_known: false; '
                 'an IOMMU group they share with another device is reported not assignable '
                 '(unless allow_unknown_group_peers)' % (', '.join(unknown), why))
    return notes


def iommu_off_note(uri):
    """What to tell the operator when libvirt at ``uri`` reports no IOMMU group."""
    return ('the IOMMU is off on the host at %s (libvirt reports no IOMMU group and '
            '/sys/kernel/iommu_groups is empty): no device can be assigned to a running guest; '
            '%s' % (uri, IOMMU_ROLE_HINT))


# --- libvirt (not pure) ------------------------------------------------------------------------

def read_node_device_xmls(conn, libvirt):
    """``(pci XML texts, net XML texts)`` of the host's node devices."""
    pci = [d.XMLDesc(0) for d in conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV)]
    net = [d.XMLDesc(0) for d in conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET)]
    return pci, net


def read_domains(conn, libvirt):
    """``[(name, running, live XML or None, persistent XML or None)]`` of every domain."""
    found = []
    for dom in conn.listAllDomains(0):
        running = bool(dom.isActive())
        live = dom.XMLDesc(0) if running else None
        config = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE) if dom.isPersistent() else None
        found.append((dom.name(), running, live, config))
    return found


def read_inventory(conn, libvirt, uri, root='/'):
    """``(inventory, notes)``: sysfs under ``root`` is read for a local hypervisor
    (see sysfs_root_for); the notes say which host drivers could not be read and why."""
    sysfs_root = sysfs_root_for(uri, root)
    pci, net = read_node_device_xmls(conn, libvirt)
    sysfs = read_sysfs(sysfs_root) if sysfs_root else None
    devices = build_inventory(pci, net, sysfs, domain_holdings(read_domains(conn, libvirt)),
                              libvirt_reports_drivers(uri))
    return devices, driver_notes(uri, sysfs_root, sysfs, devices)


def detach_from_host(conn, address, driver='vfio'):
    """``virsh nodedev-detach``: unbind the device from its host driver, bind it to vfio-pci."""
    conn.nodeDeviceLookupByName(_pci_address.nodedev_name(_pci_address.parse_pci_address(address))) \
        .detachFlags(driver, 0)


def reattach_to_host(conn, address):
    """``virsh nodedev-reattach``: give the device back to its host driver."""
    conn.nodeDeviceLookupByName(_pci_address.nodedev_name(_pci_address.parse_pci_address(address))).reAttach()
