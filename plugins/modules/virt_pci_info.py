#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: virt_pci_info
short_description: List the host's PCI devices with IOMMU groups, SR-IOV and the domains that hold them
version_added: 0.1.0
description:
  - Reports every host PCI device as libvirt sees it (C(virsh nodedev-list --cap pci)
    and C(nodedev-dumpxml)), read through libvirt-python.
  - For each device its address in both forms, vendor and product, PCI class, current
    host driver, NUMA node, IOMMU group and the group's members, whether it can be
    given to a guest now (RV(devices[].assignable)), SR-IOV physical/virtual functions,
    the network interface name of a NIC, and which domains hold it in a C(<hostdev>)
    or C(<interface type='hostdev'>).
  - On a local hypervisor sysfs under O(root) fills what libvirt's XML lacks
    (driver, IOMMU group, interface name, VF count). When a host driver cannot be read
    (libvirt's test driver without sysfs, an unreadable or missing sysfs path) the device has
    RV(devices[].driver_known) V(false) and RV(notes) says which path failed and what it means.
  - When the IOMMU is off, RV(iommu_enabled) is V(false) and no group is invented.
  - Read-only; suited to inventories and to feed AWX surveys.
author:
  - virtops.devices maintainers (@virtops)
extends_documentation_fragment:
  - virtops.devices.info
  - virtops.devices.libvirt
options:
  root:
    description:
      - Where the hypervisor's C(/sys) is mounted, read when O(uri) is local.
      - With libvirt's test driver (V(test:///path.xml)) sysfs is read only
        when this is set to something else than V(/).
    type: path
    default: /
  address:
    description:
      - Only these devices (V(0000:01:00.0), V(01:00.0) or V(pci_0000_01_00_0)).
      - They also count as one request for RV(devices[].assignable); a group
        whose other endpoints are all listed here is assignable.
    type: list
    elements: str
  class:
    description:
      - Only devices of these PCI classes, by name (V(network), V(display),
        V(storage), V(multimedia), V(serial), V(bridge) ...) or by a hex prefix
        of the class code (V(0x0200), V(0x030000)); any other value is refused.
    type: list
    elements: str
  vendor:
    description: Only devices of these vendors, by id (V(0x8086), V(10de)) or part of the name.
    type: list
    elements: str
  driver:
    description: Only devices bound to these host drivers (V(vfio-pci), V(igb)); V(none) for unbound devices.
    type: list
    elements: str
  allow_unknown_group_peers:
    description:
      - "Dangerous, as in M(virtops.devices.virt_hostdev): count group peers that cannot be shown
        to be free (not listed by libvirt, host driver unknown) as free when working out
        RV(devices[].assignable)."
      - With the default V(false) such a peer makes its group's devices not assignable, listed in
        RV(devices[].iommu_group_blockers) with its reason.
    type: bool
    default: false
seealso:
  - module: virtops.devices.virt_hostdev
  - name: libvirt node devices
    description: The node device XML this module reads.
    link: https://libvirt.org/formatnode.html
'''

EXAMPLES = r'''
- name: Every PCI device of the hypervisor
  virtops.devices.virt_pci_info:
  register: pci

- name: NICs, with their VFs and interface names
  virtops.devices.virt_pci_info:
    class: [network]
  register: nics

- name: Can the GPU and its audio function go to a guest together?
  virtops.devices.virt_pci_info:
    address: ['0000:01:00.0', '0000:01:00.1']
  register: gpu

- name: Fail early when the IOMMU is off
  ansible.builtin.assert:
    that: pci.iommu_enabled
    fail_msg: "{{ pci.notes | join(' ') }}"
'''

RETURN = r'''
iommu_enabled:
  description: Whether the host has IOMMU groups (the IOMMU is on and libvirt or sysfs reports them).
  returned: always
  type: bool
iommu_groups:
  description: Every IOMMU group of the host, by number, with its member addresses. Empty when the IOMMU is off.
  returned: always
  type: dict
  sample: {"1": ["0000:00:01.0", "0000:01:00.0", "0000:01:00.1"]}
devices:
  description: The PCI devices that match the filters, sorted by address.
  returned: always
  type: list
  elements: dict
  contains:
    address: {description: PCI address., type: str, sample: '0000:01:00.0'}
    name: {description: libvirt's node device name., type: str, sample: pci_0000_01_00_0}
    parent: {description: Parent node device., type: str, sample: pci_0000_00_01_0}
    vendor_id: {description: PCI vendor id., type: str, sample: '0x10de'}
    vendor: {description: Vendor name (when libvirt knows it)., type: str, sample: NVIDIA Corporation}
    product_id: {description: PCI product id., type: str, sample: '0x1e84'}
    product: {description: Product name (when libvirt knows it)., type: str}
    class: {description: PCI class code., type: str, sample: '0x030000'}
    class_name: {description: Name of the PCI base class., type: str, sample: display}
    driver:
      description: Host driver the device is bound to; null when unbound or unknown (see RV(devices[].driver_known)).
      type: str
      sample: vfio-pci
    driver_known:
      description:
        - Whether RV(devices[].driver) is known; V(false) when neither libvirt nor sysfs could tell
          (a null driver then does not mean unbound). RV(notes) says why.
      type: bool
    numa_node: {description: NUMA node of the device., type: int}
    iommu_group: {description: IOMMU group number; null when the IOMMU is off., type: int, sample: 1}
    iommu_group_members: {description: Addresses of every device in the group (bridges included)., type: list, elements: str}
    bridge:
      description: A PCI bridge or root port; never assignable, does not block its group.
      type: bool
    assignable:
      description:
        - True when the device is no bridge and every other endpoint of its group is shown to be
          unbound, on vfio-pci or pci-stub, or is in O(address); null when the IOMMU is off.
        - A peer libvirt does not list or whose driver is unknown makes it V(false)
          (unless O(allow_unknown_group_peers)).
      type: bool
    iommu_group_blockers:
      description:
        - Endpoints of the group that keep it from a guest, with C(reason) V(host-driver) (still on a
          host driver), V(driver-unknown) (its driver cannot be read) or V(not-listed) (libvirt does
          not list it).
      type: list
      elements: dict
      sample: [{address: '0000:01:00.1', driver: snd_hda_intel, reason: host-driver}]
    netdev: {description: Network interface name of a NIC., type: str, sample: enp3s0f0}
    sriov:
      description: SR-IOV relations.
      type: dict
      contains:
        physical_function: {description: The PF of a VF., type: str}
        virtual_functions: {description: The VFs of a PF., type: list, elements: str}
        max_vfs: {description: How many VFs the PF can have., type: int}
        num_vfs: {description: How many VFs it has now., type: int}
    held_by:
      description: Domains that have the device in a C(<hostdev>) or C(<interface type='hostdev'>).
      type: list
      elements: dict
      sample: [{domain: db01, running: true, as: hostdev}]
notes:
  description: What the operator should know, e.g. that the IOMMU is off, or which sysfs path could not be read.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _connection as _libvirt
from ansible_collections.virtops.devices.plugins.module_utils._pci import _nodedev, _pci_address
from ansible_collections.virtops.devices.plugins.module_utils._common import _validate
from ansible_collections.virtops.devices.plugins.module_utils._libvirt._connection import VirtError
from ansible_collections.virtops.devices.plugins.module_utils._pci._pci_address import AddressError


def main():
    module = AnsibleModule(
        argument_spec={
            'uri': dict(type='str', default='qemu:///system'),
            'root': dict(type='path', default='/'),
            'address': dict(type='list', elements='str'),
            'class': dict(type='list', elements='str'),
            'vendor': dict(type='list', elements='str'),
            'driver': dict(type='list', elements='str'),
            'allow_unknown_group_peers': dict(type='bool', default=False),
        },
        supports_check_mode=True,
    )
    _libvirt.fail_on_missing_libraries(module)
    p = _validate.fail_on_invalid(module, module.params, [('class[]', _nodedev.check_pci_class)])
    try:
        addresses = [_pci_address.normalize(a) for a in p['address'] or []]
        conn = _libvirt.connect(p['uri'])
        devices, driver_notes = _nodedev.read_inventory(conn, _libvirt.libvirt, p['uri'], p['root'])
    except (AddressError, VirtError) as exc:
        module.fail_json(msg=str(exc))
    except _libvirt.libvirt.libvirtError as exc:
        module.fail_json(msg='cannot read the node devices at %s: %s' % (p['uri'], _libvirt.error_text(exc)))
    _nodedev.annotate_viability(devices, addresses, p['allow_unknown_group_peers'])
    enabled = _nodedev.iommu_enabled(devices)
    notes = ([] if enabled else [_nodedev.iommu_off_note(p['uri'])]) + driver_notes
    unknown = _nodedev.unknown_group_peers(devices, addresses) if addresses else []
    if unknown and p['allow_unknown_group_peers']:
        notes.append(_nodedev.unknown_peers_note(unknown))
    known = set(d['address'] for d in devices)
    unknown = [a for a in addresses if a not in known]
    if unknown:
        notes.append(_nodedev.unknown_addresses_message(unknown, devices, p['uri']))
    chosen = _nodedev.filter_devices(devices, addresses, p['class'], p['vendor'], p['driver'])
    groups = dict((str(k), v) for k, v in _nodedev.iommu_groups(devices).items())
    module.exit_json(changed=False, iommu_enabled=enabled, iommu_groups=groups, devices=chosen, notes=notes)


if __name__ == '__main__':
    main()
