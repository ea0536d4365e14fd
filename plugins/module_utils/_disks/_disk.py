# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Disk devices: target names per bus, the <disk> element, finding a disk in a
domain, and the path a guest will see it under."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml

TARGET_PREFIX = {'virtio': 'vd', 'scsi': 'sd', 'sata': 'sd', 'usb': 'sd', 'ide': 'hd', 'xen': 'xvd'}
HOTPLUG_BUSES = ('virtio', 'scsi', 'usb')
PCI_SLOT_BUSES = ('virtio',)  # each disk on these buses is a PCI device of its own
QCOW2_MAGIC = b'QFI\xfb'
VIRTIO_SERIAL_MAX = 20  # virtio-blk exposes at most 20 bytes of serial


def target_name(prefix, index):
    """``vda`` for index 0, ``vdz`` for 25, ``vdaa`` for 26 (libvirt's naming)."""
    letters = ''
    index += 1
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord('a') + rest) + letters
    return prefix + letters


def target_index(name, prefix):
    """Inverse of :func:`target_name`; None when ``name`` is not of that prefix."""
    letters = name[len(prefix):]
    if not name.startswith(prefix) or not letters.isalpha() or not letters.islower():
        return None
    index = 0
    for char in letters:
        index = index * 26 + (ord(char) - ord('a') + 1)
    return index - 1


def next_free_target(bus, used):
    """The first target name for ``bus`` that is not in ``used``."""
    prefix = TARGET_PREFIX[bus]
    taken = set(target_index(name, prefix) for name in used)
    index = 0
    while index in taken:
        index += 1
    return target_name(prefix, index)


def target_matches_bus(target, bus):
    """True when ``target`` has the name prefix libvirt expects for ``bus``."""
    return target_index(target, TARGET_PREFIX[bus]) is not None


def detect_format(path):
    """``qcow2`` when the file starts with the qcow2 magic, else ``raw``."""
    try:
        with open(path, 'rb') as handle:
            return 'qcow2' if handle.read(4) == QCOW2_MAGIC else 'raw'
    except (IOError, OSError):
        return 'raw'


def source_kind(path):
    """``block`` for a block device, ``file`` for anything else."""
    try:
        return 'block' if stat.S_ISBLK(os.stat(path).st_mode) else 'file'
    except OSError:
        return 'file'


def disk_source(disk):
    """The path of a disk's source (file or block device); None for other kinds."""
    node = disk.find('source')
    if node is None:
        return None
    path = node.get('file') or node.get('dev')
    return os.path.normpath(path) if path else None


def disk_target(disk):
    node = disk.find('target')
    return node.get('dev') if node is not None else None


def disk_bus(disk):
    node = disk.find('target')
    return node.get('bus') if node is not None else None


def disk_serial(disk):
    node = disk.find('serial')
    return node.text if node is not None else None


def disk_address(disk):
    """A disk's address as a dict of its attributes (empty when libvirt has not set one)."""
    node = disk.find('address')
    return dict(node.attrib) if node is not None else {}


def disks(root):
    """Every ``<disk device='disk'>`` of a domain (not cdroms or floppies)."""
    return [d for d in _domain_xml.find_devices(root, 'disk') if d.get('device', 'disk') in ('disk', 'lun')]


def targets_in_use(root):
    """Every target name used by any disk, cdrom or floppy of the domain."""
    return set(t for t in (disk_target(d) for d in _domain_xml.find_devices(root, 'disk')) if t)


def find_disk(root, source):
    """The disk of ``root`` whose source is ``source``, or None."""
    source = os.path.normpath(source)
    for disk in disks(root):
        if disk_source(disk) == source:
            return disk
    return None


def disk_by_target(root, target):
    for disk in _domain_xml.find_devices(root, 'disk'):
        if disk_target(disk) == target:
            return disk
    return None


class DiskIndex:
    """One pass over a domain's disks: by source, by target, the targets in use.

    Lets a plan look up n requested disks in a domain of m devices in O(n + m) instead
    of scanning the domain for each request.
    """

    def __init__(self, root):
        self.by_source = {}
        self.by_target = {}
        for disk in _domain_xml.find_devices(root, 'disk'):
            target = disk_target(disk)
            if target and target not in self.by_target:
                self.by_target[target] = disk
            if disk.get('device', 'disk') in ('disk', 'lun'):
                source = disk_source(disk)
                if source and source not in self.by_source:
                    self.by_source[source] = disk
        self.has_scsi_controller = bool(scsi_controllers(root))

    def find(self, source):
        return self.by_source.get(os.path.normpath(source))

    def holder_of(self, target):
        return self.by_target.get(target)


class TargetAllocator:
    """Hands out the first free target name per bus prefix, in amortized constant time."""

    def __init__(self, used):
        self._taken = {}
        self._next = {}
        for prefix in set(TARGET_PREFIX.values()):
            self._taken[prefix] = set(target_index(name, prefix) for name in used) - {None}
            self._next[prefix] = 0

    def reserve(self, name):
        for prefix, taken in self._taken.items():
            index = target_index(name, prefix)
            if index is not None:
                taken.add(index)

    def next_free(self, bus):
        """The first name for ``bus`` not used or reserved (as :func:`next_free_target`), reserved now."""
        prefix = TARGET_PREFIX[bus]
        taken = self._taken[prefix]
        index = self._next[prefix]
        while index in taken:
            index += 1
        self._next[prefix] = index
        name = target_name(prefix, index)
        self.reserve(name)
        return name


def build_disk(spec, target):
    """The ``<disk>`` element for a normalized disk spec and its target name."""
    disk = _domain_xml.element('disk', {'type': spec['type'], 'device': 'disk'})
    _domain_xml.sub(disk, 'driver', {'name': 'qemu', 'type': spec['format'], 'cache': spec.get('cache')})
    _domain_xml.sub(disk, 'source', {'file' if spec['type'] == 'file' else 'dev': spec['source']})
    _domain_xml.sub(disk, 'target', {'dev': target, 'bus': spec['bus']})
    if spec.get('readonly'):
        _domain_xml.sub(disk, 'readonly')
    if spec.get('serial'):
        _domain_xml.sub(disk, 'serial').text = spec['serial']
    return disk


def scsi_controllers(root):
    return [c for c in _domain_xml.find_devices(root, 'controller') if c.get('type') == 'scsi']


def build_scsi_controller(model='virtio-scsi'):
    return _domain_xml.element('controller', {'type': 'scsi', 'model': model})


def guest_path(bus, serial):
    """Where a Linux guest with udev lists the disk under /dev/disk/by-id (from its serial).

    Target names are only a hint to the guest (the first virtio disk is
    ``vda`` inside whatever libvirt calls it); the serial is what identifies it.
    """
    if not serial:
        return None
    if bus == 'virtio':
        return '/dev/disk/by-id/virtio-%s' % serial[:VIRTIO_SERIAL_MAX]
    if bus == 'scsi':
        return '/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_%s' % serial
    if bus == 'sata':
        return '/dev/disk/by-id/ata-QEMU_HARDDISK_%s' % serial
    if bus == 'usb':
        return '/dev/disk/by-id/usb-QEMU_QEMU_HARDDISK_%s-0:0' % serial
    return None


def disk_report(disk):
    """What the module returns about one attached disk."""
    bus = disk_bus(disk)
    serial = disk_serial(disk)
    return {'source': disk_source(disk), 'target': disk_target(disk), 'bus': bus,
            'serial': serial, 'address': disk_address(disk), 'guest_path': guest_path(bus, serial)}
