# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A libvirt domain definition moved to paravirtual devices: disks on the
``ide``/``sata`` bus (and ``scsi`` on a non-virtio controller) to ``virtio``
or ``xen`` with ``vd*``/``xvd*`` targets, NIC models to ``virtio`` or
``netfront``. CD-ROMs and floppies stay where they are.

Works on an lxml tree (from ``_domain_xml.parse``); returns what changed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._guest import _devnames
from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._common._validate import (
    check_disk_name, check_mapping, check_params, check_whole_number)

PV_BUS = {'virtio': 'virtio', 'xen': 'xen'}
PV_NIC_MODEL = {'virtio': 'virtio', 'xen': 'netfront'}
EMULATED_BUSES = ('ide', 'sata')
SHUTDOWN_TIMEOUT_RANGE = (1, 86400)


def check_shutdown_timeout(option, value):
    """Return ``value`` when it is a whole number of seconds in SHUTDOWN_TIMEOUT_RANGE."""
    low, high = SHUTDOWN_TIMEOUT_RANGE
    return check_whole_number(low, high, 'seconds, at most a day; the guest gets this long to shut down')(
        option, value)


def checked_options(params):
    """``params`` with ``disk_map`` and ``shutdown_timeout`` checked, or InvalidValue naming the option.

    ``disk_map`` keys are whole-disk names (``hdc``, ``/dev/sdb``); its values become ``<target dev=>``
    in the domain XML, so each is a whole-disk name of the target's family (``vd*`` for virtio,
    ``xvd*`` for xen).
    """
    family = (_devnames.PV_DISK_PREFIX[params['target']],)

    def target_name(option, value):
        return check_disk_name(option, value, families=family)

    def disk_map(option, value):
        return check_mapping(option, value, check_disk_name, target_name)
    return check_params(params, [('disk_map', disk_map), ('shutdown_timeout', check_shutdown_timeout)])


def _scsi_controller_model(root, disk):
    address = disk.find('address')
    index = address.get('controller', '0') if address is not None else '0'
    for controller in _domain_xml.find_devices(root, 'controller'):
        if controller.get('type') == 'scsi' and controller.get('index', '0') == index:
            return controller.get('model')
    return None


def disk_needs_move(root, disk):
    """Return True when ``disk`` is a hard disk on an emulated bus."""
    if disk.get('device', 'disk') != 'disk':
        return False
    target = disk.find('target')
    if target is None:
        return False
    bus = target.get('bus')
    if bus in EMULATED_BUSES:
        return True
    return bus == 'scsi' and _scsi_controller_model(root, disk) != 'virtio-scsi'


def _free_name(wanted, taken, target):
    if wanted not in taken:
        return wanted
    prefix = _devnames.PV_DISK_PREFIX[target]
    index = 0
    while prefix + _devnames.disk_letters(index) in taken:
        index += 1
    return prefix + _devnames.disk_letters(index)


def move_disks(root, target, disk_map=None):
    """Move the emulated disks of domain tree ``root`` to the PV bus; return ``[(old dev, new dev)]``."""
    disks = _domain_xml.find_devices(root, 'disk')
    taken = set(d.find('target').get('dev') for d in disks
                if d.find('target') is not None and not disk_needs_move(root, d))
    moved = []
    for disk in disks:
        if not disk_needs_move(root, disk):
            continue
        node = disk.find('target')
        old = node.get('dev')
        wanted = _devnames.remap_device_name('/dev/' + old, target, disk_map)[len('/dev/'):]
        new = _free_name(wanted, taken, target)
        taken.add(new)
        node.set('dev', new)
        node.set('bus', PV_BUS[target])
        address = disk.find('address')
        if address is not None and address.get('type') == 'drive':
            disk.remove(address)
        moved.append((old, new))
    return moved


def move_nics(root, target):
    """Give every NIC the PV model; return ``[(mac or index, old model, new model)]``."""
    changed = []
    for index, nic in enumerate(_domain_xml.find_devices(root, 'interface')):
        if nic.get('type') == 'hostdev':
            continue
        model = nic.find('model')
        old = model.get('type') if model is not None else None
        if old == PV_NIC_MODEL[target]:
            continue
        if model is None:
            model = _domain_xml.sub(nic, 'model')
        model.set('type', PV_NIC_MODEL[target])
        mac = nic.find('mac')
        changed.append((mac.get('address') if mac is not None else str(index), old, PV_NIC_MODEL[target]))
    return changed


def domain_pv_facts(root):
    """What a domain definition runs on: ``{'disks': [{'target', 'bus'}], 'nics': [{'mac', 'model'}],
    'emulated': [what is not paravirtual], 'pv': bool}``; CD-ROMs, floppies and passed-through
    NICs (``type='hostdev'``) do not count; ``pv`` is None for a domain with neither disk nor NIC."""
    disks, nics, emulated = [], [], []
    for disk in _domain_xml.find_devices(root, 'disk'):
        if disk.get('device', 'disk') != 'disk' or disk.find('target') is None:
            continue
        target = disk.find('target')
        disks.append({'target': target.get('dev'), 'bus': target.get('bus')})
        if disk_needs_move(root, disk):
            emulated.append('disk %s on %s' % (target.get('dev'), target.get('bus')))
    for nic in _domain_xml.find_devices(root, 'interface'):
        if nic.get('type') == 'hostdev':
            continue
        model = nic.find('model')
        mac = nic.find('mac')
        kind = model.get('type') if model is not None else None
        nics.append({'mac': mac.get('address') if mac is not None else None, 'model': kind})
        if kind not in PV_NIC_MODEL.values():
            emulated.append('NIC %s model %s' % (mac.get('address') if mac is not None else '?', kind or 'default'))
    return {'disks': disks, 'nics': nics, 'emulated': emulated,
            'pv': (not emulated) if (disks or nics) else None}
