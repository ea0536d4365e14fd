#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: pv_driver_info
short_description: Report whether a running Linux guest uses its paravirtual disk and NIC drivers
version_added: 0.1.0
description:
  - The checks of the CentOS 5.3 runbook after the reboot, as facts - the
    device under C(/) (through device-mapper to its disks) and every swap
    device are on C(xvd*)/C(vd*), each NIC's C(/sys/class/net/<nic>/device) is
    a Xen C(vif) or bound to C(virtio_net), and no emulated disk driver
    (C(ata_piix), C(ata_generic), C(pata_acpi), C(ahci)) is in use.
  - Reads C(/proc/mounts), C(/proc/swaps), C(/proc/modules) and C(/sys); changes nothing.
  - Without C(/sys) (2.4 kernels) a loaded PV NIC driver (C(xen-vnif)) stands in for the NIC check.
author:
  - virtops.devices maintainers (@virtops)
extends_documentation_fragment:
  - virtops.devices.info
options:
  root:
    description:
      - Where C(/proc) and C(/sys) are read from; V(/) on the guest itself.
        Another path is for a copy of those files (tests, collected evidence).
    type: path
    default: /
  target:
    description: The paravirtual family expected; any of both when omitted.
    type: str
    choices: [virtio, xen]
  evidence:
    description:
      - The output of the C(pv_evidence.sh) script of the role C(virtops.devices.pv_guest),
        run on a guest whose Python is too old for Ansible modules (CentOS 5, RHEL 3);
        the module then runs anywhere (the controller) and reads nothing.
      - Without it, the module reads C(/proc), C(/sys) and C(/dev/mapper) below O(root).
    type: str
  check_root:
    description:
      - Require C(/) and swap on the paravirtual disks. Turn off for guests that
        keep booting from the emulated disk (RHEL 3 with C(kmod-xenpv)), where
        only the NICs and the data disks move.
    type: bool
    default: true
seealso:
  - module: virtops.devices.pv_driver_migrate
'''

EXAMPLES = r'''
- name: After the reboot, make sure the guest runs on the Xen PV drivers
  virtops.devices.pv_driver_info:
    target: xen
  register: pv

- name: Stop when it does not
  ansible.builtin.assert:
    that: pv.pv_active
    fail_msg: "{{ pv.problems | join('; ') }}"
'''

RETURN = r'''
pv_active:
  description: True when /, every swap and every NIC are on the paravirtual devices and no emulated disk driver is in use.
  returned: always
  type: bool
problems:
  description: What keeps RV(pv_active) false.
  returned: always
  type: list
  elements: str
  sample: ["/ is on hda1 (emulated bus)", "eth0 uses the emulated driver 8139cp"]
root:
  description: The device mounted on /, the disks under it and their bus.
  returned: always
  type: dict
  sample: {device: /dev/xvda1, disks: [xvda1], bus: xen}
swaps:
  description: Active swap devices with their bus.
  returned: always
  type: list
  elements: dict
  sample: [{device: /dev/xvda2, type: partition, bus: xen}]
nics:
  description: Network interfaces backed by a device, with driver and bus.
  returned: always
  type: list
  elements: dict
  sample: [{name: eth0, driver: vif, bus: xen, device: ../../../devices/xen/vif-0}]
emulated_block_modules:
  description: Emulated disk drivers loaded, with their use count.
  returned: always
  type: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtops.devices.plugins.module_utils._common import _files
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_verify
from ansible_collections.virtops.devices.plugins.module_utils._guest._pv_tree import state_from_tree


def main():
    module = AnsibleModule(
        argument_spec=dict(root=dict(type='path', default='/'),
                           target=dict(type='str', choices=['virtio', 'xen']),
                           check_root=dict(type='bool', default=True),
                           evidence=dict(type='str')),
        supports_check_mode=True,
    )
    p = module.params
    if p['evidence'] is not None:
        state = _pv_verify.parse_evidence(p['evidence'])
        if not state['mounts']:
            module.fail_json(msg='evidence has no ==mounts section; give the output of pv_evidence.sh')
    else:
        if not os.path.isdir(_files.root_path(p['root'], '/proc')):
            module.fail_json(msg='%s has no proc directory; run this on the guest (root=/)' % p['root'])
        state = state_from_tree(p['root'])
    facts = _pv_verify.report(state, p['target'], p['check_root'])
    module.exit_json(changed=False, **facts)


if __name__ == '__main__':
    main()
