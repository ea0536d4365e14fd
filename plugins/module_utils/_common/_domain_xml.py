# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain XML on lxml: parse, print, find/add/remove devices, compare canonically."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import traceback

try:
    from lxml import etree
    HAS_LXML = True
    LXML_IMPORT_ERROR = None
except ImportError:
    etree = None
    HAS_LXML = False
    LXML_IMPORT_ERROR = traceback.format_exc()


def parse(text):
    """Parse domain (or device) XML text into an element, dropping blank text."""
    parser = etree.XMLParser(remove_blank_text=True)
    return etree.fromstring(text.encode('utf-8') if not isinstance(text, bytes) else text, parser)


def to_text(element):
    """Pretty-printed XML text of ``element`` (stable, for diffs and for libvirt)."""
    return etree.tostring(element, pretty_print=True, encoding='unicode')


def element(tag, attrib=None, *children):
    """Build an element; attributes whose value is None are left out."""
    node = etree.Element(tag)
    for key, value in (attrib or {}).items():
        if value is not None:
            node.set(key, str(value))
    for child in children:
        if child is not None:
            node.append(child)
    return node


def sub(parent, tag, attrib=None):
    """Append a child element (None-valued attributes left out) and return it."""
    node = element(tag, attrib)
    parent.append(node)
    return node


def devices(root):
    """The ``<devices>`` element of a domain, created when missing."""
    node = root.find('devices')
    if node is None:
        node = sub(root, 'devices')
    return node


def find_devices(root, tag):
    """Every device element of kind ``tag`` (``disk``, ``hostdev``, ``controller`` ...)."""
    return devices(root).findall(tag)


def add_device(root, device):
    """Append a copy of ``device`` after the last device of its kind; return the copy."""
    device = copy.deepcopy(device)
    holder = devices(root)
    if holder.text is not None and not holder.text.strip():
        holder.text = None  # an empty <devices>\n</devices> would keep the new device unindented
    same = holder.findall(device.tag)
    if same:
        same[-1].addnext(device)
    else:
        holder.append(device)
    return device


def add_devices(root, new_devices):
    """Append copies of ``new_devices``, each after the last device of its kind; return the copies.

    Finds the last device of each kind once, so adding n devices to a domain of m is O(n + m).
    """
    holder = devices(root)
    if holder.text is not None and not holder.text.strip():
        holder.text = None
    last = {}
    for node in holder:
        last[node.tag] = node
    added = []
    for device in new_devices:
        device = copy.deepcopy(device)
        if device.tag in last:
            last[device.tag].addnext(device)
        else:
            holder.append(device)
        last[device.tag] = device
        added.append(device)
    return added


def device_alias(device):
    """The alias libvirt (or the user, ``ua-...``) gave a device, or None."""
    node = device.find('alias')
    return node.get('name') if node is not None else None


def device_aliases(root):
    """The aliases of every device of the domain."""
    return set(alias for alias in (device_alias(node) for node in devices(root)) if alias)


def copy_map(original, clone):
    """``{element of original: same element of clone}`` for a clone made by ``domain_copy``."""
    return dict(zip(original.iter(), clone.iter()))


def canonical_index(holder):
    """``{canonical text: [devices]}`` of the children of ``holder`` (one canonical per device)."""
    index = {}
    for node in holder:
        if isinstance(node.tag, str):
            index.setdefault(canonical(node), []).append(node)
    return index


def pop_canonical(index, device):
    """Take from a :func:`canonical_index` the first device equal to ``device``; None when none is."""
    nodes = index.get(canonical(device))
    return nodes.pop(0) if nodes else None


def remove_device(root, device):
    """Remove ``device`` (an element of this tree) from the domain."""
    devices(root).remove(device)


def machine_type(root):
    """The machine type, e.g. ``pc-i440fx-7.2`` or ``pc-q35-7.2`` (empty when unknown)."""
    node = root.find('os/type')
    return (node.get('machine') or '') if node is not None else ''


def is_q35(root):
    return 'q35' in machine_type(root)


_VOLATILE = ('alias', 'address', 'boot')


def canonical(device, ignore=_VOLATILE):
    """Device XML reduced for comparison: no alias/address/boot order, sorted attributes.

    Two devices with equal ``canonical`` text are the same device as far as
    the user's request goes, whatever libvirt filled in. Only the device's own
    children are dropped: an ``<address>`` inside ``<source>`` (the host PCI
    address of a hostdev) is part of what the device is.
    """
    clone = copy.deepcopy(device)
    for tag in ignore:
        for node in clone.findall(tag):
            clone.remove(node)
    for node in clone.iter():
        items = sorted(node.attrib.items())
        node.attrib.clear()
        for key, value in items:
            node.set(key, value)
        if node.text is not None and not node.text.strip():
            node.text = None
        node.tail = None
    return etree.tostring(clone, encoding='unicode')


def domain_copy(root):
    return copy.deepcopy(root)
