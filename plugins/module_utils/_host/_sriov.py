# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SR-IOV physical functions and their VFs per NUMA node, from the PCI inventory (``_pci._nodedev``)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def vf_in_use(vf):
    """A VF is used when a domain holds it or it sits on vfio-pci (handed out outside libvirt)."""
    return bool(vf.get('held_by')) or vf.get('driver') == 'vfio-pci'


def physical_functions(devices):
    """``[{address, netdev, numa_node, max_vfs, vfs, used, free, driver}]`` for every PF."""
    by_addr = dict((d['address'], d) for d in devices)
    pfs = []
    for dev in devices:
        sriov = dev.get('sriov') or {}
        if not sriov.get('virtual_functions') and not sriov.get('max_vfs'):
            continue
        vfs = [by_addr[a] for a in sriov.get('virtual_functions', []) if a in by_addr]
        used = [vf['address'] for vf in vfs if vf_in_use(vf)]
        pfs.append({'address': dev['address'], 'netdev': dev.get('netdev'), 'driver': dev.get('driver'),
                    'numa_node': dev.get('numa_node'), 'max_vfs': sriov.get('max_vfs'),
                    'vfs': len(sriov.get('virtual_functions', [])), 'used': len(used),
                    'free': len(sriov.get('virtual_functions', [])) - len(used), 'used_vfs': used})
    return pfs


def vfs_per_numa_node(pfs):
    """``{node (str, 'unknown' when not known): {pfs, total, used, free}}``."""
    nodes = {}
    for pf in pfs:
        key = 'unknown' if pf['numa_node'] is None or pf['numa_node'] < 0 else str(pf['numa_node'])
        node = nodes.setdefault(key, {'pfs': 0, 'total': 0, 'used': 0, 'free': 0})
        node['pfs'] += 1
        node['total'] += pf['vfs']
        node['used'] += pf['used']
        node['free'] += pf['free']
    return nodes
