# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Block device names as a guest sees them, and how they change when the
guest moves from emulated disks (IDE ``hd*``, SCSI/SATA ``sd*``, HP Smart
Array ``cciss/c0dN``, NVMe ``nvmeNn1``) to paravirtual ones (Xen ``xvd*``,
virtio ``vd*``).

Only whole names under ``/dev`` are touched; ``LABEL=``, ``UUID=``,
``/dev/mapper/*``, LVM paths and anything else come back unchanged.
Partition numbers are kept.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

PV_DISK_PREFIX = {'xen': 'xvd', 'virtio': 'vd'}

# Xen's block major for xvd* and the number of minors per disk.
XEN_BLOCK_MAJOR = 202
MINORS_PER_DISK = 16

_LETTERED = re.compile(r'^/dev/(hd|sd|xvd|vd)([a-z]+)(\d*)\Z')
_CCISS = re.compile(r'^/dev/cciss/c(\d+)d(\d+)(?:p(\d+))?\Z')
_NVME = re.compile(r'^/dev/nvme(\d+)n(\d+)(?:p(\d+))?\Z')


def disk_index(letters):
    """Return the 0-based index of a disk suffix: ``a`` -> 0, ``z`` -> 25, ``aa`` -> 26."""
    index = 0
    for char in letters:
        index = index * 26 + (ord(char) - ord('a') + 1)
    return index - 1


def disk_letters(index):
    """Return the disk suffix of a 0-based index: 0 -> ``a``, 26 -> ``aa``."""
    letters = ''
    index += 1
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord('a') + rest) + letters
    return letters


def parse_device_name(path):
    """Return ``(family, disk_index, partition)`` for a disk path, else None.

    ``family`` is ``hd``, ``sd``, ``xvd``, ``vd``, ``cciss`` or ``nvme``;
    ``partition`` is an int or None for the whole disk. Controllers other
    than the first (``cciss/c1d0``) and NVMe namespaces other than 1 have no
    single place in a one-bus layout and return None.
    """
    if not isinstance(path, str):
        return None
    match = _LETTERED.match(path)
    if match:
        part = int(match.group(3)) if match.group(3) else None
        return match.group(1), disk_index(match.group(2)), part
    # (pattern, family, group that must hold the value, that value, group of the disk number)
    for pattern, family, fixed, value, disk in ((_CCISS, 'cciss', 1, 0, 2), (_NVME, 'nvme', 2, 1, 1)):
        match = pattern.match(path)
        if match:
            if int(match.group(fixed)) != value:
                return None
            part = int(match.group(3)) if match.group(3) else None
            return family, int(match.group(disk)), part
    return None


def pv_disk_name(target, index, partition=None):
    """Return the paravirtual device path of disk ``index`` for ``target``."""
    name = '/dev/%s%s' % (PV_DISK_PREFIX[target], disk_letters(index))
    if partition is not None:
        name += str(partition)
    return name


def is_emulated_device(path):
    """Return True when ``path`` names a disk on an emulated bus."""
    parsed = parse_device_name(path)
    return parsed is not None and parsed[0] in ('hd', 'sd', 'cciss', 'nvme')


def remap_device_name(path, target, disk_map=None):
    """Return the name ``path`` gets on the ``target`` bus (or ``path`` itself).

    ``disk_map`` overrides the default order-preserving mapping for whole
    disks, e.g. ``{'hdc': 'xvdb'}`` (names with or without ``/dev/``).
    Names already on the target bus, and everything that is not a disk name
    (``LABEL=``, ``UUID=``, ``/dev/mapper/...``), are returned unchanged.
    """
    parsed = parse_device_name(path)
    if parsed is None:
        return path
    family, index, partition = parsed
    if family == PV_DISK_PREFIX[target]:
        return path
    if family in ('xvd', 'vd'):
        # a name on the other paravirtual bus: same place, new prefix
        return pv_disk_name(target, index, partition)
    mapped = _mapped_disk(path, partition, disk_map)
    if mapped:
        return mapped
    return pv_disk_name(target, index, partition)


def _mapped_disk(path, partition, disk_map):
    if not disk_map:
        return None
    whole = disk_path(path)
    for old, new in disk_map.items():
        old_path = old if old.startswith('/dev/') else '/dev/' + old
        if old_path != whole:
            continue
        new_path = new if new.startswith('/dev/') else '/dev/' + new
        if partition is None:
            return new_path
        return new_path + ('p%d' % partition if new_path[-1].isdigit() else str(partition))
    return None


def disk_path(path):
    """Return the whole-disk path of a partition path (or the path itself)."""
    match = _LETTERED.match(path)
    if match:
        return '/dev/%s%s' % (match.group(1), match.group(2))
    match = _CCISS.match(path)
    if match:
        return '/dev/cciss/c%sd%s' % (match.group(1), match.group(2))
    match = _NVME.match(path)
    if match:
        return '/dev/nvme%sn%s' % (match.group(1), match.group(2))
    return path


def remap_device_spec(spec, target, disk_map=None):
    """Like :func:`remap_device_name` but also for ``root=``-style values.

    ``LABEL=...``, ``UUID=...``, ``PARTUUID=...`` come back untouched.
    """
    if '=' in spec and not spec.startswith('/'):
        return spec
    return remap_device_name(spec, target, disk_map)


def xvd_device_nodes(disk_names, partitions=15):
    """Return ``[(name, minor)]`` for Xen block device nodes.

    Disks get minors in steps of 16 in the order given (the first disk 0,
    the next 16, ...), each followed by its ``partitions`` partitions, as
    the RHEL 3 procedure creates them by hand when there is no udev.
    """
    nodes = []
    for position, disk in enumerate(disk_names):
        base = position * MINORS_PER_DISK
        nodes.append((disk, base))
        for part in range(1, partitions + 1):
            nodes.append(('%s%d' % (disk, part), base + part))
    return nodes
