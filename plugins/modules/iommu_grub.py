#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: iommu_grub
short_description: Put IOMMU (and other) kernel arguments on every boot entry
version_added: 0.1.0
description:
  - Makes every Linux boot entry of a host carry the wanted kernel arguments
    (for PCI passthrough V(intel_iommu=on), V(iommu=pt)) and none of the
    arguments to remove (such as V(intel_iommu=off)), using the way the
    host's distribution and firmware keep the kernel command line.
  - "The boot setup is detected from the tree: BLS entries with C(grubby)
    (RHEL/CentOS/Alma/Rocky 8+, Fedora: C(grubby --update-kernel=ALL));
    C(/etc/default/grub) with C(grub2-mkconfig) (RHEL/CentOS 7 to the BIOS
    or UEFI C(grub.cfg), SUSE to C(/boot/grub2/grub.cfg)); Debian/Ubuntu with
    a drop-in C(/etc/default/grub.d/99-virtops-iommu.cfg) and C(update-grub);
    legacy GRUB (C(/boot/grub/grub.conf), C(/boot/grub/menu.lst)) by editing
    each entry's C(kernel) line (the C(module) line of a Xen entry)."
  - Every boot entry is checked, not only the default one. Files are changed
    only where they differ, the regeneration tool runs only when something
    changed, and its exit status is checked; when it fails, every file is put
    back as it was and the tool's output is shown.
  - "Argument rules: an argument already present is left alone; V(name=value)
    replaces other values of V(name) (except names the kernel takes several
    times, such as V(console)); a bare name in O(remove_args) removes every
    value of it; arguments after V(--) (for init) are not touched."
  - On Debian/Ubuntu and with C(grub2-mkconfig) the arguments are put in
    C(GRUB_CMDLINE_LINUX), which every generated entry (recovery too) gets;
    exact copies in C(GRUB_CMDLINE_LINUX_DEFAULT) are dropped.
author:
  - virtops.devices maintainers (@virtops)
options:
  args:
    description:
      - Kernel arguments that every boot entry must carry, one per item,
        V(name) or V(name=value), for example V(intel_iommu=on), V(iommu=pt).
      - "Each item one argument: a name of letters, digits and C(_ . -), optionally C(=value);
        whitespace, quotes, a backquote, a backslash, C($ ; | & < > ( ) { }), control characters
        and V(--) are refused (at most 1024 characters)."
      - An argument also given in O(remove_args) (exactly, or by its bare name) is refused.
      - V(amd_iommu=on) is accepted for compatibility with old runbooks but is
        not written, with a warning; it is not a value the kernel knows (the
        AMD IOMMU is on by default). Given alone, the run changes nothing and warns.
    type: list
    elements: str
    default: []
  remove_args:
    description:
      - Kernel arguments no boot entry may carry. V(name=value) removes that
        exact argument; a bare V(name) removes it with any value.
      - The same grammar as O(args); an item that O(args) also asks for is refused, naming it.
    type: list
    elements: str
    default: []
  vendor:
    description:
      - Adds the IOMMU arguments of a CPU vendor to O(args) and O(remove_args).
      - V(intel) adds V(intel_iommu=on) (and so replaces V(intel_iommu=off));
        V(amd) adds nothing (the AMD IOMMU is on by default) and removes
        V(amd_iommu=off); V(auto) picks one from C(/proc/cpuinfo) of the
        machine running the module; V(none) adds nothing.
    type: str
    choices: [auto, intel, amd, none]
    default: none
  firmware:
    description:
      - How the host boots, which decides the C(grub.cfg) that
        C(grub2-mkconfig) writes on RHEL/CentOS 7 (BIOS C(/boot/grub2/grub.cfg),
        UEFI C(/boot/efi/EFI/<vendor>/grub.cfg); when the EFI C(grub.cfg) is
        only a stub, as on EL 9+, C(/boot/grub2/grub.cfg)).
      - V(auto) looks at C(/sys/firmware/efi) on a running system, and at
        which C(grub.cfg) holds the entries in a tree.
    type: str
    choices: [auto, bios, uefi]
    default: auto
extends_documentation_fragment:
  - virtops.devices.files
  - virtops.devices.files.tools
attributes:
  check_mode:
    description:
      - Computes the new files and entries; runs no tool and writes nothing.
      - A tree whose boot tool is missing (an offline Debian tree without C(update-grub)) is planned all the
        same, with a warning; the real run fails until the tool is installed.
    support: full
  diff_mode:
    description: Before and after text of every file changed, including the ones the boot tool regenerates.
    support: full
  idempotent:
    description: A second run with the same options changes nothing.
    support: full
  platform:
    description: Linux hosts, or a Linux tree mounted under O(root).
    support: full
    platforms: posix
notes:
  - The new arguments take effect at the next boot. RV(reboot_required)
    tells whether the running kernel (C(/proc/cmdline)) lacks them.
  - With O(root) other than V(/) the boot tool runs inside the tree through
    C(chroot); mount C(/proc), C(/sys) and C(/dev) there first, as for any
    chroot that runs C(grub2-mkconfig).
  - The IOMMU must also be enabled in the firmware (Intel VT-d, AMD-Vi);
    the role C(virtops.devices.iommu_host) uses this module and checks that
    after a reboot.
seealso:
  - name: Kernel parameters
    description: The kernel's list of command-line parameters.
    link: https://www.kernel.org/doc/html/latest/admin-guide/kernel-parameters.html
'''

EXAMPLES = r'''
- name: Intel VT-d in passthrough mode on every boot entry
  virtops.devices.iommu_grub:
    vendor: intel
    args:
      - iommu=pt
    remove_args:
      - intel_iommu=off
  register: iommu

- name: Reboot when the running kernel lacks the arguments
  ansible.builtin.reboot:
  when: iommu.reboot_required

- name: Pick the vendor from the CPU, keep a backup of each changed file
  virtops.devices.iommu_grub:
    vendor: auto
    args: [iommu=pt]
    backup: true

- name: Work on a mounted guest image offline
  virtops.devices.iommu_grub:
    root: /mnt/image
    args: [intel_iommu=on, iommu=pt]
'''

RETURN = r'''
setup:
  description: The boot setup found (V(bls), V(debian), V(mkconfig), V(legacy)).
  returned: success
  type: str
  sample: debian
family:
  description: The distribution family of the tree (V(redhat), V(debian), V(suse)) or V(null).
  returned: success
  type: str
  sample: redhat
firmware:
  description: The firmware the C(grub.cfg) choice was made for.
  returned: success
  type: str
  sample: bios
config:
  description: The file the boot tool writes (or the module edits, for legacy GRUB), inside the tree.
  returned: success
  type: str
  sample: /boot/grub/grub.cfg
tool:
  description: The command run (or, in check mode, that would run); empty when none is needed.
  returned: success
  type: list
  elements: str
  sample: [/usr/sbin/grubby, --update-kernel=ALL, --args=intel_iommu=on iommu=pt, --remove-args=intel_iommu=off]
args:
  description: The arguments wanted, after O(vendor) was applied and no-ops dropped.
  returned: success
  type: list
  elements: str
  sample: [intel_iommu=on, iommu=pt]
remove_args:
  description: The arguments removed, after O(vendor) was applied.
  returned: success
  type: list
  elements: str
  sample: [intel_iommu=off]
entries:
  description: Every Linux boot entry with its arguments before and after (predicted in check mode).
  returned: success
  type: list
  elements: dict
  contains:
    file:
      description: The file holding the entry, inside the tree.
      type: str
    title:
      description: The entry's title.
      type: str
    kernel:
      description: The kernel image.
      type: str
    args_before:
      description: The kernel arguments before.
      type: str
    args_after:
      description: The kernel arguments after.
      type: str
    changed:
      description: Whether the entry's arguments differed from what is wanted.
      type: bool
  sample:
    - file: /boot/loader/entries/abc-5.14.0-427.el9.x86_64.conf
      title: Red Hat Enterprise Linux (5.14.0-427.el9.x86_64) 9.4
      kernel: /vmlinuz-5.14.0-427.el9.x86_64
      args_before: root=/dev/mapper/rhel-root ro intel_iommu=off
      args_after: root=/dev/mapper/rhel-root ro intel_iommu=on iommu=pt
      changed: true
files_changed:
  description: Files changed (or that would change), inside the tree.
  returned: success
  type: list
  elements: str
  sample: [/etc/default/grub.d/99-virtops-iommu.cfg, /boot/grub/grub.cfg]
backup_files:
  description: Backups left, by file (only with O(backup)).
  returned: changed
  type: dict
  sample: {/etc/default/grub: /etc/default/grub.2026-11-22@10:00:00~}
reboot_required:
  description:
    - On a running system (O(root=/)), whether the running kernel's command
      line (C(/proc/cmdline)) lacks a wanted argument or holds one to remove.
    - On a tree, whether its boot entries changed.
  returned: success
  type: bool
  sample: true
running_cmdline:
  description: The running kernel's command line (only with O(root=/)).
  returned: success
  type: str
  sample: BOOT_IMAGE=/vmlinuz-6.1.0-27-amd64 root=/dev/vda1 ro quiet
tool_output:
  description: Standard output and error of the boot tool, when it ran.
  returned: when the tool ran
  type: str
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.virtops.devices.plugins.module_utils._boot import _boot_apply as ba
from ansible_collections.virtops.devices.plugins.module_utils._boot import _bootsetup as bs
from ansible_collections.virtops.devices.plugins.module_utils._common import _files
from ansible_collections.virtops.devices.plugins.module_utils._common import _tools
from ansible_collections.virtops.devices.plugins.module_utils._common import _validate
from ansible_collections.virtops.devices.plugins.module_utils._boot import _kernel_args as ka


def main():
    module = AnsibleModule(
        argument_spec=dict(
            args=dict(type='list', elements='str', default=[]),
            remove_args=dict(type='list', elements='str', default=[]),
            vendor=dict(type='str', default='none', choices=['auto', 'intel', 'amd', 'none']),
            firmware=dict(type='str', default='auto', choices=['auto', 'bios', 'uefi']),
            root=dict(type='path', default='/'),
            backup=dict(type='bool', default=False),
            tool_timeout=dict(type='int', default=600),
        ),
        supports_check_mode=True,
    )
    params = _validate.fail_on_invalid(module, module.params, [_validate.TOOL_TIMEOUT_RULE])
    root = params['root']
    cpuinfo = _files.read_text('/proc/cpuinfo', default='') if params['vendor'] == 'auto' else None
    try:
        args, remove_args, warnings = ka.wanted_args(params['args'], params['remove_args'],
                                                     params['vendor'], cpuinfo)
    except ka.WantedArgsError as exc:
        module.fail_json(msg=str(exc))
    if not os.path.isdir(root):
        module.fail_json(msg='root %s is not a directory; give the mounted tree to work on' % root)
    live = _files.is_host_root(root)

    try:
        setup, plan = ba.read_boot_plan(root, params['firmware'], args, remove_args,
                                        os.path.isdir('/sys/firmware/efi') if live else None,
                                        tool_required=not module.check_mode)
    except (bs.BootSetupError, ValueError) as exc:
        module.fail_json(msg='%s (root %s)' % (exc, root))
    result = ba.plan_result(setup, plan, args, remove_args)
    if setup.get('tool_missing'):
        warnings.append('%s: check mode goes on without it, a real run will fail until it is installed'
                        % setup['tool_missing'])
    if live:
        result['running_cmdline'] = _files.read_text('/proc/cmdline', default='').strip()
    diffs = ba.plan_diffs(plan)

    if module.check_mode or not ba.plan_changes_something(plan):
        result.update(changed=ba.plan_changes_something(plan), diff=diffs)
    else:
        try:
            result, more_warnings = ba.apply_boot_plan(
                root, setup, plan, args, remove_args, params['backup'], _tools.bounded_run(params['tool_timeout']),
                lambda: module.get_bin_path('chroot', required=True), result, diffs)
        except ba.BootApplyError as exc:
            module.fail_json(msg=exc.msg, **exc.result)
        warnings.extend(more_warnings)
    result['reboot_required'] = ba.reboot_required(result.get('running_cmdline'), result['changed'],
                                                   args, remove_args)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
