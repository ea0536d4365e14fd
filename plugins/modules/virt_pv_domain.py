#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: virt_pv_domain
short_description: Move a libvirt domain's disks and NICs to paravirtual devices (virtio or Xen)
version_added: 0.1.0
description:
  - Changes the persistent definition of a libvirt domain - hard disks on the
    C(ide)/C(sata) bus (and C(scsi) disks on a controller other than
    virtio-scsi) go to the C(virtio) or C(xen) bus with C(vd*)/C(xvd*) target
    names (partitions keep their numbers in the guest); every NIC gets the
    C(virtio) or C(netfront) model. CD-ROMs and floppies stay.
  - The guest must have been prepared first (M(virtops.devices.pv_driver_migrate)),
    or it will not find its root disk.
  - A running domain keeps its devices until it is shut down and started
    again; RV(restart_required) says so.
  - Talks to libvirt through libvirt-python; the XML is edited with lxml.
author:
  - virtops.devices maintainers (@virtops)
extends_documentation_fragment:
  - virtops.devices.libvirt
options:
  name:
    description: Name of the domain.
    type: str
    required: true
  target:
    description: The paravirtual device family.
    type: str
    choices: [virtio, xen]
    default: virtio
  disks:
    description: Move the emulated hard disks.
    type: bool
    default: true
  nics:
    description: Switch the NIC models.
    type: bool
    default: true
  disk_map:
    description:
      - Target names that do not follow the default mapping (same letter, new prefix), e.g. C(hdc=vdb), given as a dict.
      - Each key is a whole-disk name (V(hdc), V(sdb), V(/dev/hdc); letters only after the prefix, no partition
        number, no C(/) or C(..)). Each value is the new C(<target dev=>) and must be a whole-disk name of the
        target's family - C(vd) plus 1-4 letters for V(virtio) (V(vdb)), C(xvd) plus 1-4 letters for V(xen)
        (V(xvdb)). Anything else fails naming the key, before the domain is read.
    type: dict
    default: {}
  restart:
    description:
      - When the running domain still has the emulated devices its definition
        no longer has, shut it down (ACPI) and start it again, so that it
        comes back on the PV devices. A reboot from inside the guest is not enough.
    type: bool
    default: false
  shutdown_timeout:
    description:
      - Seconds to wait for the guest to shut down with O(restart); the module fails after that (nothing is forced off).
      - A whole number from 1 to 86400 (a day); zero or a negative value is refused.
    type: int
    default: 300
attributes:
  check_mode:
    support: full
    description: Reports the change, defines nothing.
  diff_mode:
    support: full
    description: The persistent domain XML before and after.
  idempotent:
    support: full
    description: A second run changes nothing.
seealso:
  - module: virtops.devices.pv_driver_migrate
  - module: virtops.devices.xen_domain_config
'''

EXAMPLES = r'''
- name: Guest prepared for virtio - move its disks and NIC
  virtops.devices.virt_pv_domain:
    name: centos5
    target: virtio
'''

RETURN = r'''
disks:
  description: The disks moved, as old and new target names.
  returned: always
  type: list
  elements: dict
  sample: [{old: hda, new: vda}]
nics:
  description: The NICs whose model changed, by MAC address.
  returned: always
  type: list
  elements: dict
  sample: [{mac: "52:54:00:12:34:56", old: e1000, new: virtio}]
restart_required:
  description: True when the domain runs and must be shut down and started to get the new devices.
  returned: always
  type: bool
restarted:
  description: True when the module shut the domain down and started it again (O(restart)).
  returned: always
  type: bool
'''

import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _connection as _libvirt
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_domain
from ansible_collections.virtops.devices.plugins.module_utils._libvirt._connection import VirtError
from ansible_collections.virtops.devices.plugins.module_utils._common._validate import InvalidValue


def live_devices_pending(dom, p):
    """Return True when the running domain still has devices its definition moved to PV."""
    live = _domain_xml.parse(_libvirt.domain_xml(dom))
    moved = _pv_domain.move_disks(live, p['target'], p['disk_map']) if p['disks'] else []
    nics = _pv_domain.move_nics(live, p['target']) if p['nics'] else []
    return bool(moved or nics)


def power_cycle(dom, name, timeout):
    """Shut ``dom`` down through ACPI, wait for it, and start it again."""
    try:
        dom.shutdown()
    except Exception as exc:
        raise VirtError('cannot shut down %s: %s' % (name, _libvirt.error_text(exc)))
    deadline = time.time() + timeout
    while dom.isActive():
        if time.time() > deadline:
            raise VirtError('%s did not shut down within %d s (does the guest handle ACPI power-off?); '
                            'shut it down and start it yourself' % (name, timeout))
        time.sleep(1)
    try:
        dom.create()
    except Exception as exc:
        raise VirtError('%s was shut down but did not start again: %s' % (name, _libvirt.error_text(exc)))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            uri=dict(type='str', default='qemu:///system'),
            target=dict(type='str', default='virtio', choices=['virtio', 'xen']),
            disks=dict(type='bool', default=True),
            nics=dict(type='bool', default=True),
            disk_map=dict(type='dict', default={}),
            restart=dict(type='bool', default=False),
            shutdown_timeout=dict(type='int', default=300),
        ),
        supports_check_mode=True,
    )
    for has, lib, error in ((_libvirt.HAS_LIBVIRT, 'libvirt-python', _libvirt.LIBVIRT_IMPORT_ERROR),
                            (_domain_xml.HAS_LXML, 'lxml', _domain_xml.LXML_IMPORT_ERROR)):
        if not has:
            module.fail_json(msg=missing_required_lib(lib), exception=error)
    try:
        p = _pv_domain.checked_options(module.params)
    except InvalidValue as exc:
        module.fail_json(msg='%s; nothing was changed' % exc, option=exc.option)
    try:
        conn = _libvirt.connect(p['uri'])
        dom = _libvirt.lookup_domain(conn, p['name'])
        if not dom.isPersistent():
            raise VirtError('domain %s is transient (no persistent definition); define it first' % p['name'])
        before = _libvirt.domain_xml(dom, inactive=True)
        tree = _domain_xml.parse(before)
        moved = _pv_domain.move_disks(tree, p['target'], p['disk_map']) if p['disks'] else []
        nics = _pv_domain.move_nics(tree, p['target']) if p['nics'] else []
        changed = bool(moved or nics)
        after = _domain_xml.to_text(tree)
        if changed and not module.check_mode:
            try:
                conn.defineXML(after)
            except Exception as exc:
                raise VirtError('libvirt refused the new definition of %s: %s; nothing was changed'
                                % (p['name'], _libvirt.error_text(exc)))
            after = _libvirt.domain_xml(dom, inactive=True)
        pending = bool(dom.isActive()) and live_devices_pending(dom, p)
        restarted = False
        if pending and p['restart'] and not module.check_mode:
            power_cycle(dom, p['name'], p['shutdown_timeout'])
            restarted, pending, changed = True, False, True
    except VirtError as exc:
        module.fail_json(msg=str(exc), exception=traceback.format_exc())
    module.exit_json(changed=changed, restart_required=pending, restarted=restarted,
                     disks=[{'old': old, 'new': new} for old, new in moved],
                     nics=[{'mac': mac, 'old': old, 'new': new} for mac, old, new in nics],
                     diff={'before': before, 'after': after if changed else before,
                           'before_header': '%s (persistent)' % p['name'],
                           'after_header': '%s (persistent)' % p['name']})


if __name__ == '__main__':
    main()
