#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: xen_domain_config
short_description: Switch an xm/xl domain configuration file to Xen PV disks and NICs
version_added: 0.1.0
description:
  - Rewrites the C(disk =) and C(vif =) lists of an xm/xl domain configuration
    file (C(/etc/xen/<guest>)) on dom0 for a guest moving to the Xen PV drivers.
  - "C(disk): emulated C(hd*)/C(sd*) disks get a PV twin C(xvd*) on the same image,
    both marked C(w!) so the block script allows the double use (O(disks=dual),
    the CentOS 5.3 runbook while the HVM BIOS still boots from C(hda)), or become
    C(xvd*) (O(disks=pv)); C(file:) backends become C(tap:aio:). CD-ROMs and
    C(phy:) paths keep their backend."
  - C(vif) - C(type=ioemu) (and the emulated C(model=)) are dropped, so the
    guest gets a PV network device (the RHEL 3 runbook).
  - Only those two assignments are rewritten; every other line and comment
    stays as it is.
  - The domain must be shut down and created again (C(xm create)/C(xl create))
    for the change to apply; a reboot from inside the guest keeps the old devices.
author:
  - virtops.devices maintainers (@virtops)
extends_documentation_fragment:
  - virtops.devices.files
options:
  path:
    description:
      - The domain configuration file, e.g. C(/etc/xen/centos53), below O(root).
      - An absolute path without C(..) components or control characters (it is normalised, C(//) and C(/./) collapse).
    type: path
    required: true
  disks:
    description:
      - V(dual) keeps each emulated disk and adds its PV twin (both C(w!)).
      - V(pv) replaces the emulated entry with the PV one.
      - V(keep) leaves the disks (a RHEL 3 guest, which cannot boot from C(xvd)).
    type: str
    choices: [dual, pv, keep]
    default: dual
  vif:
    description: Drop C(type=ioemu) and C(model=) from every C(vif) entry.
    type: bool
    default: true
  file_backend:
    description: V(tap:aio) turns C(file:) disks into C(tap:aio:) ones, as the runbooks do; V(keep) leaves them.
    type: str
    choices: [tap:aio, keep]
    default: tap:aio
  disk_map:
    description:
      - Emulated disk names whose PV name is not the same letter, e.g. C(hdc=xvdb), given as a dict.
      - "Keys are emulated whole-disk names C(hd<letters>) or C(sd<letters>), values Xen whole-disk
        names C(xvd<letters>) (1 to 4 letters; either may start with C(/dev/)). No partition numbers,
        C(/), C(..), commas, quotes or whitespace; a value that is not a string is refused."
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    description: Reports the change and writes nothing.
  diff_mode:
    support: full
    description: Before and after text of the file.
  idempotent:
    support: full
    description: A second run changes nothing.
seealso:
  - module: virtops.devices.pv_driver_migrate
  - module: virtops.devices.virt_pv_domain
'''

EXAMPLES = r'''
- name: CentOS 5.3 HVM guest - hda for the BIOS, xvda for the PV driver (runbook 001)
  virtops.devices.xen_domain_config:
    path: /etc/xen/centos53_32hvm

- name: RHEL 3 guest - keep the boot disk, PV network (runbook 002)
  virtops.devices.xen_domain_config:
    path: /etc/xen/rhel3_64_fv
    disks: keep
'''

RETURN = r'''
changes:
  description: The assignments rewritten, with their lists before and after.
  returned: always
  type: list
  elements: dict
  sample: [{name: disk, before: ["file:/img/g.img,hda,w"],
            after: ["tap:aio:/img/g.img,hda,w!", "tap:aio:/img/g.img,xvda,w!"]}]
restart_required:
  description: True when the domain must be shut down and created again to get the new devices.
  returned: always
  type: bool
backup_file:
  description: The backup left (with O(backup=true) and a change).
  returned: when backed up
  type: str
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtops.devices.plugins.module_utils._common import _files
from ansible_collections.virtops.devices.plugins.module_utils._common import _validate
from ansible_collections.virtops.devices.plugins.module_utils._guest import _xenconfig


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            root=dict(type='path', default='/'),
            disks=dict(type='str', default='dual', choices=['dual', 'pv', 'keep']),
            vif=dict(type='bool', default=True),
            file_backend=dict(type='str', default='tap:aio', choices=['tap:aio', 'keep']),
            disk_map=dict(type='dict', default={}),
            backup=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    p = _validate.fail_on_invalid(module, module.params, _xenconfig.config_rules())
    path = _files.root_path(p['root'], p['path'])
    if not os.path.isfile(path):
        module.fail_json(msg='domain configuration %s does not exist; give the file under /etc/xen' % path)
    before = _files.read_text(path)
    try:
        after, changes = _xenconfig.rewrite_config(
            before, disk_mode=p['disks'], vif=p['vif'],
            file_backend='tap:aio:' if p['file_backend'] == 'tap:aio' else '', disk_map=p['disk_map'])
    except _validate.InvalidValue as exc:
        module.fail_json(msg='%s; nothing was changed' % exc)
    except _xenconfig.XenConfigError as exc:
        module.fail_json(msg='%s: %s; fix the file by hand first' % (p['path'], exc))
    result = dict(changed=after != before, changes=changes, restart_required=after != before,
                  diff=_files.ansible_diff(before, after, p['path']))
    if result['changed'] and not module.check_mode:
        txn = _files.FileTransaction(backup=p['backup'])
        txn.stage(path, after)
        try:
            txn.commit()
        except (IOError, OSError) as exc:
            module.fail_json(msg='could not write %s: %s' % (path, exc))
        if path in txn.backups:
            result['backup_file'] = txn.backups[path]
    module.exit_json(**result)


if __name__ == '__main__':
    main()
