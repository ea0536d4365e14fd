#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: virt_disk_hotplug
short_description: Attach disks to, or detach them from, a libvirt domain, live and persistently
version_added: 0.1.0
description:
  - Gives a running guest new disks now and keeps them in its persistent
    definition, or takes them away again, through libvirt-python (no virsh).
  - A disk is identified by its O(disks[].source) (and O(disks[].serial) when given).
    The running domain and its persistent definition are reconciled
    separately; a disk already in the definition but not live is only
    attached live, and the other way round.
  - A SCSI disk on a domain without a SCSI controller gets a virtio-scsi
    controller first (what C(pci_add auto storage if=scsi) did in the QEMU monitor).
  - A live detach is reported done only once the device has left the live
    domain; libvirt's own return code only means the request reached the guest.
  - Live PCI hotplug slots are counted before anything changes; a request that
    cannot fit changes nothing.
author:
  - virtops.devices maintainers (@virtops)
extends_documentation_fragment:
  - virtops.devices.hotplug
  - virtops.devices.libvirt
options:
  disks:
    description: The disks.
    type: list
    elements: dict
    required: true
    suboptions:
      source:
        description:
          - Absolute path of the image file or block device on the hypervisor.
          - Any characters are fine; the XML is built with lxml.
        type: path
        required: true
      format:
        description: Image format; detected from the file (qcow2 magic, else raw) when omitted.
        type: str
        choices: [raw, qcow2]
      target:
        description:
          - Target device name in the domain (V(vdb), V(sdc) ...). Picked as the
            next free name for the bus when omitted.
          - Only a hint to the guest, which names disks in the order it finds
            them; use O(disks[].serial) to find the disk inside the guest.
        type: str
      bus:
        description:
          - Disk bus. V(virtio), V(scsi) and V(usb) can be hot-plugged;
            V(sata) and V(ide) only into the persistent definition.
        type: str
        choices: [virtio, scsi, sata, usb, ide]
        default: virtio
      serial:
        description:
          - Serial number shown to the guest; the guest finds the disk as
            C(/dev/disk/by-id/virtio-<serial>) or C(scsi-0QEMU_QEMU_HARDDISK_<serial>).
          - virtio-blk shows at most 20 characters of it.
        type: str
      readonly:
        description: Attach read-only.
        type: bool
        default: false
      cache:
        description: QEMU cache mode.
        type: str
        choices: [default, none, writethrough, writeback, directsync, unsafe]
attributes:
  check_mode:
    support: full
    description: Reports what would change and shows the XML diff; changes nothing.
  diff_mode:
    support: full
    description: Shows the live and persistent domain XML before and after.
  idempotent:
    support: full
    description: A second run with the same disks reports no change.
notes:
  - Guests without ACPI PCI hotplug (or PCIe native hotplug on q35) do not see
    new virtio disks and never release them on detach; SCSI disks on an
    existing controller need no PCI hotplug, and the
    R(virtops.devices.disk_rescan,ansible_collections.virtops.devices.disk_rescan_role)
    role makes such a guest scan for them.
  - On q35 every hot-plugged PCI device takes one empty C(pcie-root-port);
    define spare ports in the domain before you start it.
seealso:
  - name: libvirt domain XML, disks
    description: The C(<disk>) element this module writes.
    link: https://libvirt.org/formatdomain.html#hard-drives-floppy-disks-cdroms
'''

EXAMPLES = r'''
- name: Give web01 a data disk now and after its next restart
  virtops.devices.virt_disk_hotplug:
    name: web01
    disks:
      - source: /var/lib/libvirt/images/web01-data.qcow2
        serial: web01-data

- name: Add a SCSI disk (a virtio-scsi controller is added when missing)
  virtops.devices.virt_disk_hotplug:
    name: web01
    disks:
      - source: /var/lib/libvirt/images/web01-logs.raw
        bus: scsi
        serial: web01-logs
        cache: none

- name: Take the data disk away again, waiting up to a minute for the guest
  virtops.devices.virt_disk_hotplug:
    name: web01
    state: absent
    detach_timeout: 60
    disks:
      - source: /var/lib/libvirt/images/web01-data.qcow2
'''

RETURN = r'''
disks:
  description: The requested disks as the domain has them after the run (live when it runs). Empty entries for detached disks.
  returned: always
  type: list
  elements: dict
  contains:
    source: {description: Source path., type: str, sample: /var/lib/libvirt/images/web01-data.qcow2}
    target: {description: Target name in the domain., type: str, sample: vdb}
    bus: {description: Disk bus., type: str, sample: virtio}
    serial: {description: Serial number., type: str, sample: web01-data}
    address: {description: The address libvirt gave the disk., type: dict, sample: {type: pci, bus: '0x00', slot: '0x07'}}
    guest_path: {description: Where a Linux guest with udev finds it., type: str, sample: /dev/disk/by-id/virtio-web01-data}
    present: {description: Whether the disk is attached after the run., type: bool}
actions:
  description: What was done (or, in check mode, would be done), in order.
  returned: always
  type: list
  elements: str
  sample: ["attach controller scsi (virtio-scsi) live", "attach disk sda (/srv/a.raw) live"]
notes:
  description: Scopes that were skipped and why (for example a shut-off domain with live=true).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtops.devices.plugins.module_utils._common import _validate
from ansible_collections.virtops.devices.plugins.module_utils._disks import _disk, _disk_plan
from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _hotplug, _connection as _libvirt
from ansible_collections.virtops.devices.plugins.module_utils._disks._disk_plan import PlanError
from ansible_collections.virtops.devices.plugins.module_utils._libvirt._connection import VirtError

DISK_OPTIONS = dict(
    source=dict(type='path', required=True),
    format=dict(type='str', choices=['raw', 'qcow2']),
    target=dict(type='str'),
    bus=dict(type='str', choices=['virtio', 'scsi', 'sata', 'usb', 'ide'], default='virtio'),
    serial=dict(type='str'),
    readonly=dict(type='bool', default=False),
    cache=dict(type='str', choices=['default', 'none', 'writethrough', 'writeback', 'directsync', 'unsafe']),
)


def disk_results(dom, specs, scopes, trees, changed):
    """Per requested disk: how the domain has it after the run (live when running).

    The XML read before the run serves when nothing changed; otherwise it is read once more.
    """
    root = trees[scopes[0]]
    if changed:
        root = _domain_xml.parse(_libvirt.domain_xml(dom, inactive=(scopes[0] == 'config')))
    index = _disk.DiskIndex(root)
    results = []
    for spec in specs:
        disk = index.find(spec['source'])
        report = _disk.disk_report(disk) if disk is not None else {'source': spec['source']}
        report['present'] = disk is not None
        results.append(report)
    return results


def main():
    module = AnsibleModule(
        argument_spec=_hotplug.hotplug_argument_spec(
            disks=dict(type='list', elements='dict', required=True, options=DISK_OPTIONS)),
        supports_check_mode=True,
    )
    _libvirt.fail_on_missing_libraries(module)
    p = _validate.fail_on_invalid(module, module.params, _hotplug.hotplug_rules())
    try:
        conn = _libvirt.connect(p['uri'], events=True)
        dom = _libvirt.lookup_domain(conn, p['name'])
        scopes, notes = _hotplug.select_scopes(p['name'], p['live'], p['config'], _libvirt.domain_scopes(dom))
        check_source = p['state'] == 'present' and _libvirt.is_local(p['uri'])
        specs = [_disk_plan.normalize_disk(d, check_source) for d in p['disks']]
        trees = _hotplug.current_trees(dom, scopes)
        steps = _disk_plan.plan(specs, p['state'], trees)
        if 'live' in trees:
            _disk_plan.check_live_hotplug(p['name'], steps, trees['live'])
        diff = _hotplug.xml_diffs(p['name'], trees, steps)
        if steps and not module.check_mode:
            _hotplug.apply_steps(dom, p['name'], steps, p['detach_timeout'])
        disks = disk_results(dom, specs, scopes, trees, bool(steps) and not module.check_mode)
    except (PlanError, VirtError) as exc:
        module.fail_json(msg=str(exc))
    for note in notes:
        module.warn(note)
    module.exit_json(changed=bool(steps), actions=_hotplug.step_texts(steps), notes=notes,
                     disks=disks, diff=diff)


if __name__ == '__main__':
    main()
