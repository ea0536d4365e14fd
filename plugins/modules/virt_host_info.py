#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: virt_host_info
short_description: libvirt's view of a virtualization host (versions, CPU, IOMMU, domain types)
version_added: 0.1.0
description:
  - Reads libvirt's host capabilities through libvirt-python (what C(virsh capabilities) shows)
    and returns the facts a KVM readiness check needs, for example whether libvirt offers
    C(kvm) domains or only C(qemu) (TCG) ones.
  - An unreachable libvirt is reported (RV(reachable) false, RV(error)), not a failure,
    so a readiness report can say so; set O(fail_when_unreachable) to fail instead.
author:
  - virtops.devices maintainers (@virtops)
extends_documentation_fragment:
  - virtops.devices.info
  - virtops.devices.libvirt
options:
  fail_when_unreachable:
    description: Fail when libvirt cannot be reached.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Ask libvirt what this host can run
  virtops.devices.virt_host_info:
  register: host

- name: Stop when libvirt offers only emulation
  ansible.builtin.assert:
    that: "'kvm' in host.domain_types"
    fail_msg: libvirt offers no kvm domains here; check /dev/kvm and the CPU's virtualization flags
'''

RETURN = r'''
reachable:
  description: Whether libvirt answered.
  returned: always
  type: bool
error:
  description: Why libvirt could not be reached.
  returned: when not reachable
  type: str
hypervisor:
  description: The driver's name.
  returned: when reachable
  type: str
  sample: QEMU
libvirt_version:
  description: The version of libvirt.
  returned: when reachable
  type: str
  sample: 9.0.0
hypervisor_version:
  description: The version of the hypervisor.
  returned: when reachable
  type: str
  sample: 7.2.22
host_cpu:
  description: The host CPU's arch, vendor and model.
  returned: when reachable
  type: dict
  sample: {arch: x86_64, vendor: AMD, model: kvm64}
iommu_support:
  description: Whether libvirt sees an IOMMU (null when libvirt does not say).
  returned: when reachable
  type: bool
domain_types:
  description: The domain types offered for any guest, for example V(kvm), V(qemu) or V(xen).
  returned: when reachable
  type: list
  elements: str
  sample: [kvm, qemu]
guests:
  description: Per guest OS type and architecture, the domain types and machine types.
  returned: when reachable
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _capabilities, _connection as _libvirt
from ansible_collections.virtops.devices.plugins.module_utils._libvirt._connection import VirtError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            uri=dict(type='str', default='qemu:///system'),
            fail_when_unreachable=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    _libvirt.fail_on_missing_libraries(module)
    try:
        conn = _libvirt.connect(module.params['uri'])
    except VirtError as exc:
        if module.params['fail_when_unreachable']:
            module.fail_json(msg=str(exc))
        module.exit_json(changed=False, reachable=False, error=str(exc))
    facts = _capabilities.host_facts(conn.getCapabilities())
    module.exit_json(changed=False, reachable=True, hypervisor=conn.getType(),
                     libvirt_version=_capabilities.version_text(conn.getLibVersion()),
                     hypervisor_version=_capabilities.version_text(conn.getVersion()), **facts)


if __name__ == '__main__':
    main()
