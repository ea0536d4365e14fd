#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: pv_driver_migrate
short_description: Switch a Linux guest from emulated disks and NICs to paravirtual drivers (virtio or Xen)
version_added: 0.1.0
description:
  - Prepares a guest, from inside (O(root=/)) or offline on its mounted image,
    to boot on paravirtual devices - Xen C(xen-vbd)/C(xen-blkfront) and
    C(xen-vnif)/C(xen-netfront), or KVM C(virtio_blk) and C(virtio_net).
  - "The steps, in order: module aliases (C(alias ethN) -> the PV NIC driver;
    C(alias scsi_hostadapter): the PV block driver for virtio, removed for Xen
    where the block driver is preloaded), a new initrd with the PV block driver,
    a boot entry for it next to the untouched original (legacy GRUB), C(/etc/fstab),
    C(/etc/crypttab) and C(root=)/C(resume=) renamed for the new bus, C(device.map)."
  - On GRUB 2 and BLS guests the generated boot configuration is not edited; a
    C(root=)/C(resume=) there naming an emulated disk is reported in RV(notes).
  - Before anything is changed, every kernel is checked for the PV drivers
    (the message names what to install) and C(/boot) for room; a kernel
    without them changes nothing.
  - "2.4 kernels (RHEL 3 with C(kmod-xenpv)) have no module autoload and no
    udev: the drivers are loaded from C(/etc/rc.local) in the order
    C(xen-platform-pci), C(xen-balloon), C(xen-vbd), C(xen-vnif), and C(/dev/xvd*)
    nodes are created there with the block major read from C(/proc/devices),
    minors in steps of 16. Such guests keep booting from the emulated disk."
  - The initrd is written beside the old one (C(initrd-<kver>.pv.img)) when the
    guest boots through legacy GRUB, so the original entry still boots; where
    the boot loader generates its entries (GRUB 2, BLS) or the tool cannot
    choose its output (C(update-initramfs)), it is rebuilt in place and the old
    one kept as C(<initrd>.pre-pv).
  - A failure of the initrd tool puts every file back, the old initrd included.
  - Use M(virtops.devices.pv_driver_info) after the reboot to verify, and
    M(virtops.devices.xen_domain_config) / M(virtops.devices.virt_pv_domain) for
    the hypervisor side; the role C(virtops.devices.pv_guest) runs them all in order.
author:
  - virtops.devices maintainers (@virtops)
extends_documentation_fragment:
  - virtops.devices.files
  - virtops.devices.files.tools
options:
  target:
    description: The paravirtual device family the guest moves to.
    type: str
    choices: [virtio, xen]
    required: true
  kernel:
    description:
      - The installed kernel versions to prepare. V([all]) means every kernel under C(/lib/modules).
      - "Each item a kernel version such as V(2.6.18-128.el5), V(6.1.0-27-amd64), V(2.4.21-4.ELsmp):
        it starts with a digit and holds only letters, digits and C(. _ + ~ -) (at most 64 characters,
        no C(/), no C(..), no whitespace). V(all) must be the only item."
      - Default, the running kernel when O(root=/); offline, the kernel of the
        default legacy GRUB entry, else the newest installed one.
    type: list
    elements: str
    default: []
  initrd_tool:
    description:
      - The tool that builds the initrd. V(auto) picks the guest's own
        (C(dracut), then C(update-initramfs), then SUSE or Red Hat C(mkinitrd)).
    type: str
    choices: [auto, dracut, mkinitrd, update-initramfs, mkinitrd-suse]
    default: auto
  fstab:
    description:
      - How C(/etc/fstab) and the C(root=)/C(resume=) of the new boot entry name filesystems afterwards.
      - V(uuid) / V(label) name them by C(UUID=) / C(LABEL=) (device names are
        looked up with C(blkid) on a running guest, or in O(filesystems)); a
        C(#LABEL=) line left commented by the V(device) mode is restored.
      - V(device) names them by the new device (C(/dev/hda1) -> C(/dev/xvda1));
        a C(LABEL=)/C(UUID=) line whose device is known is commented out and
        followed by a device line, as the CentOS 5.3 runbook does while the
        emulated and the PV disk show the same image.
      - V(keep) changes neither.
      - "C(LABEL=)/C(UUID=) entries are otherwise never changed; C(/dev/disk/by-id)
        and C(by-path) names of the old bus are renamed when they resolve in the
        guest, else the module fails (they would not exist after the switch)."
    type: str
    choices: [uuid, label, device, keep]
    default: uuid
  boot_entry:
    description:
      - V(add) adds a legacy GRUB entry booting the new initrd after the
        original entry, which stays as it was; V(default) also makes it the
        default; V(none) adds no entry (the initrd is rebuilt in place).
      - GRUB 2 and BLS guests get no new entry; a note says so.
    type: str
    choices: [add, default, none]
    default: add
  remove_emulated:
    description:
      - The second pass, once the guest runs on the PV devices - rebuild the
        initrd without the emulated disk drivers (C(ata_piix), C(ata_generic),
        C(pata_acpi), C(ahci)) with C(mkinitrd --builtin=) or C(dracut --omit-drivers).
      - Combine with O(fstab=label) to go back to C(LABEL=) names as the runbook does.
    type: bool
    default: false
  disk_map:
    description:
      - Whole-disk names that do not follow the default mapping (same letter,
        new prefix; C(cciss/c0dN) and C(nvmeNn1) by number), e.g. C(hdc=xvdb), given as a dict.
      - "Keys are emulated whole-disk names: C(hd<letters>), C(sd<letters>), C(cciss/c<N>d<N>),
        C(nvme<N>n<N>); values are whole-disk names on the O(target) bus: C(xvd<letters>) for
        V(xen), C(vd<letters>) for V(virtio). Either may start with C(/dev/). No partition numbers,
        no other C(/), no C(..), no whitespace; a value that is not a string is refused."
    type: dict
    default: {}
  filesystems:
    description:
      - Identifiers of the guest's filesystems, for O(fstab=uuid)/V(label)/V(device)
        when the module cannot run C(blkid) (offline trees).
    type: list
    elements: dict
    default: []
    suboptions:
      device:
        description:
          - The device name today (or after the switch).
          - "A path C(/dev/<disk>) or C(/dev/<partition>) (C(/dev/hda1), C(/dev/sdb), C(/dev/xvdc2),
            C(/dev/cciss/c0d0p1), C(/dev/nvme0n1p2)), C(/dev/mapper/<name>), C(/dev/md<N>) or
            C(/dev/<vg>/<lv>) made of letters, digits and C(_ . + -)."
        type: str
        required: true
      uuid:
        description:
          - Filesystem UUID, 8-4-4-4-12 hex digits (C(0b6d7a42-4d3e-4b4e-9d35-6f1c7e1b2a11)), or the
            FAT (C(1234-ABCD)) or NTFS (16 hex digits) serial form. Anything else is refused.
        type: str
      label:
        description:
          - Filesystem label, 1 to 16 bytes (the ext2/3/4 limit).
          - Labels with whitespace, quotes, a backquote, a backslash or control characters are
            refused, not escaped - the label is written both in C(/etc/fstab) and on the kernel
            command line (C(root=LABEL=...)); relabel such a filesystem first.
        type: str
  legacy_disks:
    description:
      - For 2.4 kernels without udev, the C(/dev) nodes to create for the PV
        disks, in order; minors 0, 16, 32... with 15 partitions each.
      - Each item a Xen whole-disk name C(xvd<letters>) (1 to 4 letters, e.g. V(xvdb)), without C(/dev/).
    type: list
    elements: str
    default: [xvdb, xvdc, xvdd]
attributes:
  check_mode:
    support: full
    description: Plans only; no tool is run and no file is written.
  diff_mode:
    support: full
    description: Before and after text of every file the module changes.
  idempotent:
    support: full
    description: A second run with the same options changes nothing.
notes:
  - The initrd tool runs inside the guest tree (C(chroot)) when O(root) is not V(/).
  - Every option value that lands in a file (fstab, C(device.map), boot entries, C(modules.conf),
    C(rc.local)) is checked against its grammar before anything is read or planned; a refusal names
    the option, the value and what is allowed, and changes nothing.
  - The hypervisor side (disk bus, NIC model) must change too, and the guest
    be powered off and on, before the PV devices appear.
seealso:
  - module: virtops.devices.pv_driver_info
  - module: virtops.devices.xen_domain_config
  - module: virtops.devices.virt_pv_domain
'''

EXAMPLES = r'''
- name: CentOS 5.3 HVM guest to Xen PV drivers, as the runbook does (new entry, /dev/xvd* in fstab)
  virtops.devices.pv_driver_migrate:
    target: xen
    fstab: device
    boot_entry: add

- name: Offline, on a mounted image, to virtio; every kernel; the new entry is the default
  virtops.devices.pv_driver_migrate:
    root: /mnt/guest
    target: virtio
    kernel: [all]
    boot_entry: default
    filesystems:
      - {device: /dev/sda1, uuid: 0b6d7a42-4d3e-4b4e-9d35-6f1c7e1b2a11}

- name: Second pass after the guest came back on xvd - drop ata_piix, back to LABEL=
  virtops.devices.pv_driver_migrate:
    target: xen
    remove_emulated: true
    fstab: label
'''

RETURN = r'''
plan:
  description: Every step, in order - files written, initrds kept, commands run (argv lists).
  returned: always
  type: list
  elements: dict
  sample:
    - {action: write, path: /etc/modules.conf}
    - action: run
      kernel: 2.6.18-128.el5
      argv: [/sbin/mkinitrd, --preload=xen_vbd, /boot/initrd-2.6.18-128.el5.pv.img, 2.6.18-128.el5]
kernels:
  description: Per kernel, the PV drivers put into the initrd and the initrd written.
  returned: always
  type: dict
initrd_tool:
  description: The initrd tool used.
  returned: always
  type: str
boots_from_pv:
  description:
    - False when every kernel prepared is a 2.4 kernel (RHEL 3), which keeps
      booting from the emulated disk; only its NICs and data disks use the PV drivers.
  returned: always
  type: bool
reboot_required:
  description: True when something changed that takes effect only at the next boot.
  returned: always
  type: bool
notes:
  description: Things kept on purpose that the operator should know.
  returned: always
  type: list
  elements: str
backups:
  description: Backup files left, by changed file (with O(backup=true)).
  returned: always
  type: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtops.devices.plugins.module_utils._common import _files
from ansible_collections.virtops.devices.plugins.module_utils._common import _tools
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_apply
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_plan
from ansible_collections.virtops.devices.plugins.module_utils._common import _validate


def blkid_export(module, root):
    """Return ``blkid -o export`` of the running guest (only when working on /)."""
    if os.path.abspath(root) != '/':
        return None
    blkid = module.get_bin_path('blkid')
    if not blkid:
        return None
    rc, out, _err = module.run_command([blkid, '-o', 'export'])
    return out if rc == 0 else None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            target=dict(type='str', required=True, choices=['virtio', 'xen']),
            root=dict(type='path', default='/'),
            kernel=dict(type='list', elements='str', default=[]),
            initrd_tool=dict(type='str', default='auto',
                             choices=['auto', 'dracut', 'mkinitrd', 'update-initramfs', 'mkinitrd-suse']),
            fstab=dict(type='str', default='uuid', choices=['uuid', 'label', 'device', 'keep']),
            boot_entry=dict(type='str', default='add', choices=['add', 'default', 'none']),
            remove_emulated=dict(type='bool', default=False),
            disk_map=dict(type='dict', default={}),
            filesystems=dict(type='list', elements='dict', default=[], options=dict(
                device=dict(type='str', required=True), uuid=dict(type='str'), label=dict(type='str'))),
            legacy_disks=dict(type='list', elements='str', default=['xvdb', 'xvdc', 'xvdd']),
            backup=dict(type='bool', default=False),
            tool_timeout=dict(type='int', default=600),
        ),
        supports_check_mode=True,
    )
    p = _validate.fail_on_invalid(module, module.params,
                                  [_validate.TOOL_TIMEOUT_RULE] + _pv_plan.migration_rules(module.params['target']))
    root = p['root']
    if not os.path.isdir(root):
        module.fail_json(msg='root %s is not a directory; mount the guest image there first' % root)
    tree = _pv_plan.GuestTree(root)
    try:
        facts = _pv_plan.read_guest(tree, p, running_kernel=os.uname()[2], blkid_export=blkid_export(module, root))
        plan = _pv_plan.plan_migration(facts, p)
    except ValueError as exc:
        module.fail_json(msg='%s (nothing was changed)' % exc)
    if plan.problems:
        module.fail_json(msg='; '.join(plan.problems) + ' (nothing was changed)', notes=plan.notes)
    diff = [_files.ansible_diff(plan.files[path][0], plan.files[path][1], path) for path in plan.order
            if '\0' not in (plan.files[path][1] or '')]
    changed = bool(plan.order or plan.commands)
    backups = {}
    if changed and not module.check_mode:
        try:
            backups = _pv_apply.apply_migration(root, plan, p['backup'], _tools.bounded_run(p['tool_timeout']),
                                                lambda: module.get_bin_path('chroot', required=True))
        except _pv_apply.MigrationApplyError as exc:
            module.fail_json(msg=str(exc))
    kernels = dict((kver, {'drivers': info.get('pv_drivers', []),
                           'initrd': next((c['output'] for c in plan.commands if c['kernel'] == kver), None)})
                   for kver, info in facts['kernels'].items())
    for note in plan.notes:
        module.warn(note)
    boots_from_pv = not facts['kernels'] or not all(_pv_plan.is_legacy_kernel(k) for k in facts['kernels'])
    module.exit_json(changed=changed, plan=plan.steps(), kernels=kernels, initrd_tool=facts.get('initrd_tool'),
                     boots_from_pv=boots_from_pv,
                     reboot_required=changed, notes=plan.notes, diff=diff, backups=backups)


if __name__ == '__main__':
    main()
