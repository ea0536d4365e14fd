# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt's view of a host: its capabilities XML reduced to the facts operators check."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml


def _text(root, path):
    node = root.find(path)
    return node.text if node is not None and node.text else None


def version_text(number):
    """libvirt's packed version number (1000000*major + 1000*minor + micro) as ``major.minor.micro``."""
    if not number:
        return None
    return '%d.%d.%d' % (number // 1000000, (number // 1000) % 1000, number % 1000)


def guest_types(root):
    """Per guest OS type and architecture: the domain types (``qemu``, ``kvm``, ``xen``) libvirt offers."""
    guests = []
    for guest in root.findall('guest'):
        arch = guest.find('arch')
        guests.append({
            'os_type': _text(guest, 'os_type'),
            'arch': arch.get('name') if arch is not None else None,
            'domain_types': sorted(set(d.get('type') for d in guest.findall('arch/domain') if d.get('type'))),
            'machines': sorted(set(m.text for m in guest.findall('arch/machine') if m.text)),
        })
    return guests


def host_facts(capabilities_xml):
    """The facts of a capabilities document: host CPU, IOMMU support, guest and domain types."""
    root = _domain_xml.parse(capabilities_xml)
    iommu = root.find('host/iommu')
    guests = guest_types(root)
    return {
        'host_cpu': {'arch': _text(root, 'host/cpu/arch'), 'vendor': _text(root, 'host/cpu/vendor'),
                     'model': _text(root, 'host/cpu/model')},
        'iommu_support': (iommu.get('support') == 'yes') if iommu is not None else None,
        'guests': guests,
        'domain_types': sorted(set(t for g in guests for t in g['domain_types'])),
    }
