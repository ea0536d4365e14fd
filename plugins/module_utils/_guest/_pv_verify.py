# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""After the reboot: is the guest really on its paravirtual devices?

What the CentOS 5.3 runbook checks by hand (``mount``, ``swapon -s``,
``/sys/class/net/ethN/device`` -> ``xen/vif-N``), as pure functions over the
texts of ``/proc/mounts``, ``/proc/swaps``, ``/proc/modules`` and the sysfs
links, which the caller reads (from ``/`` or from a tree).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import posixpath
import re

from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd

_DISK = re.compile(r'^(xvd|vd|hd|sd)([a-z]+)(\d*)$')
BUS_OF_PREFIX = {'xvd': 'xen', 'vd': 'virtio', 'hd': 'emulated', 'sd': 'emulated'}
PV_NIC_DRIVERS = {'vif': 'xen', 'xen-netfront': 'xen', 'xen_netfront': 'xen', 'xen-vnif': 'xen',
                  'xen_vnif': 'xen', 'virtio_net': 'virtio'}


def disk_bus(name):
    """Return ``xen``, ``virtio``, ``emulated`` or ``other`` for a block device name (``xvda1``, ``sda``)."""
    match = _DISK.match(posixpath.basename(name or ''))
    if not match:
        return 'other'
    return BUS_OF_PREFIX[match.group(1)]


def mounted_root(mounts_text):
    """Return the device mounted on ``/`` (the last such line wins), else None."""
    device = None
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[1] == '/' and fields[0] != 'rootfs':
            device = fields[0]
    return device


def active_swaps(swaps_text):
    """Return ``[(device, type)]`` from ``/proc/swaps``."""
    found = []
    for line in swaps_text.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 2:
            found.append((fields[0], fields[1]))
    return found


def loaded_modules(modules_text):
    """Return ``{name: use count}`` from ``/proc/modules``."""
    found = {}
    for line in modules_text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            try:
                found[fields[0]] = int(fields[2])
            except ValueError:
                found[fields[0]] = 0
    return found


def nic_bus(device_link, driver_link):
    """Return ``(bus, driver)`` of a NIC from its sysfs ``device`` and ``device/driver`` links."""
    driver = posixpath.basename(driver_link) if driver_link else None
    if device_link and '/xen/vif-' in '/' + device_link:
        return 'xen', driver or 'vif'
    if driver in PV_NIC_DRIVERS:
        return PV_NIC_DRIVERS[driver], driver
    return 'emulated', driver


def verdict(root_disks, swaps, nics, modules, target=None):
    """Return ``(pv_active, problems)`` from what the guest uses now.

    ``root_disks`` are the disk names under ``/`` (more than one for LVM/RAID),
    ``swaps`` ``[(device, bus)]``, ``nics`` ``[{name, bus, driver}]``,
    ``modules`` ``{name: use count}``.
    """
    wanted = (target,) if target else ('xen', 'virtio')
    problems = []
    for disk in root_disks:
        if disk_bus(disk) not in wanted:
            problems.append('/ is on %s (%s bus)' % (disk, disk_bus(disk)))
    if not root_disks:
        problems.append('the disk under / is not known')
    for device, bus in swaps:
        if bus not in wanted and bus != 'other':
            problems.append('swap %s is on the %s bus' % (device, bus))
    for nic in nics:
        if nic['bus'] not in wanted:
            problems.append('%s uses the %s driver %s' % (nic['name'], nic['bus'], nic['driver']))
    for name in _initrd.EMULATED_BLOCK_DRIVERS:
        if modules.get(name, 0) > 0:
            problems.append('the emulated disk driver %s is in use (%d users)' % (name, modules[name]))
    return not problems, problems


def parse_evidence(text):
    """Return the guest state from the output of the role's ``pv_evidence.sh``.

    Sections ``==mounts``, ``==swaps``, ``==modules`` hold the files' text;
    ``==nic <name> <device link> [<driver link>]``, ``==link <path> <target>``
    and ``==slaves <name> <slave>...`` are one line each.
    """
    state = {'mounts': '', 'swaps': '', 'modules': '', 'nics': {}, 'links': {}, 'slaves': {}}
    current = None
    for line in (text or '').splitlines():
        if line.startswith('=='):
            words = line[2:].split()
            current = None
            if not words:
                continue
            if words[0] in ('mounts', 'swaps', 'modules'):
                current = words[0]
            elif words[0] == 'nic' and len(words) >= 3:
                state['nics'][words[1]] = (words[2], words[3] if len(words) > 3 else None)
            elif words[0] == 'link' and len(words) >= 3:
                state['links'][words[1]] = words[2]
            elif words[0] == 'slaves' and len(words) >= 2:
                state['slaves'][words[1]] = words[2:]
            continue
        if current:
            state[current] += line + '\n'
    return state


def disks_under(state, device, depth=0):
    """Return the block device names under ``device``, following ``/dev/mapper`` links and dm slaves."""
    if not device or not device.startswith('/dev/') or depth > 8:
        return []
    name = posixpath.basename(state['links'].get(device) or device)
    slaves = state['slaves'].get(name) or []
    if not slaves:
        return [name]
    found = []
    for slave in slaves:
        found.extend(disks_under(state, '/dev/' + slave, depth + 1))
    return found


def report(state, target=None, check_root=True):
    """Return the facts pv_driver_info returns, from a guest state (tree or evidence)."""
    device = mounted_root(state['mounts'])
    disks = disks_under(state, device)
    swaps = [{'device': dev, 'type': kind, 'bus': disk_bus(dev) if kind == 'partition' else 'other'}
             for dev, kind in active_swaps(state['swaps'])]
    nics = []
    for name in sorted(state['nics']):
        device_link, driver_link = state['nics'][name]
        bus, driver = nic_bus(device_link, driver_link)
        nics.append({'name': name, 'driver': driver, 'bus': bus, 'device': device_link})
    modules = loaded_modules(state['modules'])
    if check_root:
        active, problems = verdict(disks, [(s['device'], s['bus']) for s in swaps], nics, modules, target)
    else:
        active, problems = verdict(['vda' if target == 'virtio' else 'xvda'], [], nics, {}, target)
    if not nics and not _pv_nic_module_loaded(modules, target):
        active = False
        problems.append('no NIC found in /sys and no paravirtual NIC driver loaded')
    buses = sorted(set(disk_bus(d) for d in disks))
    return {'pv_active': active, 'problems': problems,
            'root': {'device': device, 'disks': disks, 'bus': buses[0] if len(buses) == 1 else buses},
            'swaps': swaps, 'nics': nics,
            'emulated_block_modules': dict((m, modules[m]) for m in _initrd.EMULATED_BLOCK_DRIVERS
                                           if m in modules)}


def _pv_nic_module_loaded(modules, target):
    names = [n.replace('-', '_') for n, family in PV_NIC_DRIVERS.items() if not target or family == target]
    return any(modules.get(name) is not None for name in names)
