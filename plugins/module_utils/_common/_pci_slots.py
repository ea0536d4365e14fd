# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Free PCI hotplug slots of a running domain, read from its live XML.

A live PCI attach (a virtio disk, a virtio-scsi controller, a hostdev) needs a
free hotpluggable slot: on i440fx (``pc``) a free slot on the root bus or on a
``pci-bridge``; on q35 an empty ``pcie-root-port`` (each port takes exactly one
device). libvirt cannot add ports to a running domain, so we count them first
and refuse before changing anything.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml

_PCIE_PORT_MODELS = ('pcie-root-port', 'pcie-switch-downstream-port')
_SLOTS_PER_BUS = 31  # slot 0 belongs to the bus itself


def _int(text):
    return int(text, 0) if text else 0


def pci_addresses(root):
    """(bus, slot) of every guest PCI address in use by a device or controller.

    Host addresses (``<source><address>`` of a hostdev) are not guest slots.
    """
    used = set()
    for node in _domain_xml.devices(root).iter('address'):
        if node.get('type') == 'pci' and node.getparent().tag != 'source':
            used.add((_int(node.get('bus')), _int(node.get('slot'))))
    return used


def _hotpluggable(controller):
    target = controller.find('target')
    return target is None or target.get('hotplug') != 'off'


def free_pcie_ports(root):
    """Indexes of hotpluggable PCIe ports that hold no device."""
    used_buses = set(bus for bus, _slot in pci_addresses(root))
    free = []
    for ctl in _domain_xml.find_devices(root, 'controller'):
        if ctl.get('type') == 'pci' and ctl.get('model') in _PCIE_PORT_MODELS and _hotpluggable(ctl):
            index = _int(ctl.get('index'))
            if index not in used_buses:
                free.append(index)
    return sorted(free)


def free_pci_slots(root):
    """Number of free slots on the conventional PCI buses (root bus and pci-bridges)."""
    used = pci_addresses(root)
    buses = [0]
    for ctl in _domain_xml.find_devices(root, 'controller'):
        if ctl.get('type') == 'pci' and ctl.get('model') == 'pci-bridge' and _hotpluggable(ctl):
            buses.append(_int(ctl.get('index')))
    return sum(_SLOTS_PER_BUS - len([1 for bus_, slot in used if bus_ == bus and slot > 0])
               for bus in buses)


def free_hotplug_slots(root):
    """How many more PCI devices can be hot-plugged into this live domain."""
    if _domain_xml.is_q35(root):
        return len(free_pcie_ports(root))
    return free_pci_slots(root)


def no_slot_message(name, needed, free, q35, alternative=''):
    """The operator message for 'not enough hotplug slots'; ``alternative`` adds another way out."""
    fix = ("define more <controller type='pci' model='pcie-root-port'/> in the domain "
           "(they take effect at its next start)" if q35
           else "add a <controller type='pci' model='pci-bridge'/> to the domain definition")
    return ('domain %r has %d free PCI hotplug slot(s) but this change needs %d. '
            'Fix: %s%s.' % (name, free, needed, fix, alternative))
