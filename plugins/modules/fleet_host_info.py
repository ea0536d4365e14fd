#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: fleet_host_info
short_description: Where a hypervisor (or a guest) stands for KVM, IOMMU, PCI passthrough, SR-IOV and PV drivers
version_added: 0.1.0
description:
  - Reads, in one run, what the other info modules and the C(kvm_host) and C(iommu_host) roles
    find out task by task; the fleet report (C(playbooks/fleet_report.yml)) and
    C(playbooks/prepare_passthrough_host.yml) are built on it.
  - "For a hypervisor (O(kind=host)): KVM readiness (CPU vmx/svm, C(/dev/kvm), kvm modules,
    nested, wanted packages from dpkg's status file or C(rpm -q), libvirt answering and offering kvm);
    the IOMMU (ACPI DMAR/IVRS tables, C(/proc/cmdline) against the wanted kernel arguments,
    IOMMU groups and units, interrupt remapping from the kernel log); the boot entries that lack
    the wanted arguments and whether a reboot is owed (the entries carry them, the running kernel
    does not), read the way M(virtops.devices.iommu_grub) reads them; PCI devices with their IOMMU
    group, whether they can be assigned and which domains hold them, as
    M(virtops.devices.virt_pci_info) reports them; SR-IOV PFs with total, used and free VFs per NUMA
    node; every libvirt domain with its disk buses and NIC models and whether it runs on
    paravirtual devices."
  - For a guest (O(kind=guest)) what M(virtops.devices.pv_driver_info) says about its root disk,
    swap and NICs.
  - A part that cannot be read (libvirt down, no boot configuration) is named in RV(host.problems)
    and the host gets RV(host.state) V(error) or loses that part; the module fails only when O(root)
    is no directory. It never changes anything and runs no boot tool.
author:
  - virtops.devices maintainers (@virtops)
extends_documentation_fragment:
  - virtops.devices.info
  - virtops.devices.libvirt
options:
  root:
    description:
      - Where the host's C(/proc), C(/sys), C(/dev), C(/etc), C(/boot) and C(/var/lib/dpkg) are read.
        V(/) is the running system; any other path is a tree (a mounted image, a copy, a test fixture).
      - "With libvirt's test driver (V(test:///path.xml)) sysfs is read only when this is not V(/)."
    type: path
    default: /
  kind:
    description:
      - V(host) reads a hypervisor, V(guest) a guest's own C(/proc) and C(/sys).
    type: str
    choices: [host, guest]
    default: host
  args:
    description: The kernel arguments every boot entry and the running kernel should carry.
    type: list
    elements: str
    default: [iommu=pt]
  remove_args:
    description: Kernel arguments that should not be there (such as V(intel_iommu=off)).
    type: list
    elements: str
    default: []
  vendor:
    description:
      - Add the vendor's IOMMU argument to O(args) (V(intel_iommu=on) for V(intel)); V(auto) reads
        the CPU vendor from C(/proc/cpuinfo) below O(root) (as in M(virtops.devices.iommu_grub));
        when that shows no Intel or AMD CPU, no vendor argument is wanted and a warning says so.
    type: str
    choices: [auto, intel, amd, none]
    default: none
  firmware:
    description: As in M(virtops.devices.iommu_grub); V(auto) detects it.
    type: str
    choices: [auto, bios, uefi]
    default: auto
  kernel_log:
    description:
      - A file below O(root) holding the kernel log, for interrupt remapping and DMAR/AMD-Vi messages.
      - When not set, the running system's C(dmesg) is read with O(root=/), and C(/var/log/dmesg)
        below a tree.
    type: path
  tool_timeout:
    description:
      - Seconds each external tool this module reads with (C(dmesg), C(rpm -q) on the running system)
        may run. A tool still running then is killed with its process group, and what it would have
        told is reported as unknown.
      - A whole number of seconds from 1 to 86400 (a day).
    type: int
    default: 600
attributes:
  platform:
    description: Linux hypervisors and guests, or their trees under O(root).
    support: full
    platforms: posix
seealso:
  - module: virtops.devices.virt_pci_info
  - module: virtops.devices.iommu_grub
  - module: virtops.devices.pv_driver_info
  - module: virtops.devices.virt_host_info
'''

EXAMPLES = r'''
- name: Where this hypervisor stands for passthrough with VT-d
  virtops.devices.fleet_host_info:
    args: [intel_iommu=on, iommu=pt]
  register: fleet_host

- name: Hosts that owe a reboot
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} owes a reboot"
  when: fleet_host.host.state == 'reboot_owed'

- name: A copy of a host's tree against libvirt's test driver
  virtops.devices.fleet_host_info:
    root: /srv/trees/hv01
    uri: test:///srv/trees/hv01/node.xml
    vendor: auto

- name: A guest, from the inside
  virtops.devices.fleet_host_info:
    kind: guest
'''

RETURN = r'''
host:
  description: What the host (or guest) shows. The schema of C(docs/fleet_report.md) is made of it.
  returned: always
  type: dict
  contains:
    kind: {description: V(host) or V(guest)., type: str, sample: host}
    state:
      description:
        - V(error) (a part could not be read), V(change_needed) (boot entries lack the arguments),
          V(reboot_owed) (the entries carry them, the running kernel does not), V(not_ready) (KVM or
          the IOMMU is not ready), V(ready); for a guest V(pv) or V(emulated).
      type: str
      sample: reboot_owed
    reasons: {description: Why the host has that state., type: list, elements: str}
    problems:
      description: Parts that could not be read, with C(section) and C(msg).
      type: list
      elements: dict
    os:
      description: The OS C(family) (debian, redhat, suse), C(name) and C(version).
      type: dict
    kvm:
      description:
        - C(cpu_vendor), C(virt_flags), C(dev_kvm), C(kvm_modules), C(nested), C(packages_wanted),
          C(packages_missing) (null when unknown), C(ready) and C(reasons).
      type: dict
    libvirt:
      description: C(uri), C(reachable), C(error), C(hypervisor), C(version), C(domain_types).
      type: dict
    iommu:
      description:
        - C(firmware) (C(dmar), C(ivrs), C(described)), C(units), C(groups) (count), C(enabled),
          C(dmar_enabled), C(amd_vi_enabled), C(interrupt_remapping) (V(enabled), V(disabled),
          V(not reported), V(unknown)), C(cmdline) (C(running), C(wanted), C(missing), C(unwanted)),
          C(problems) and C(vfio) (C(modules_loaded), C(unsafe_interrupts_live) (null when
          vfio_iommu_type1 is not loaded), C(unsafe_interrupts_files) (the modprobe.d files that set
          C(allow_unsafe_interrupts=1)).
      type: dict
    boot:
      description:
        - C(setup), C(family), C(config), C(tool), C(tool_missing), C(entries) (count),
          C(entries_lacking_args) (C(title), C(kernel), C(file), C(missing), C(unwanted)),
          C(files_to_change), C(change_needed), C(running_has_args), C(reboot_owed); null when the
          boot configuration could not be read.
      type: dict
    pci:
      description:
        - C(devices) (endpoints only; C(address), C(class_name), C(vendor), C(product), C(driver),
          C(numa_node), C(iommu_group), C(assignable), C(blockers), C(held_by), C(physical_function)),
          C(groups) (by number) and C(notes).
      type: dict
    sriov:
      description:
        - C(pfs) (C(address), C(netdev), C(driver), C(numa_node), C(max_vfs), C(vfs), C(used), C(free),
          C(used_vfs)) and C(numa) (by NUMA node, C(pfs), C(total), C(used), C(free)).
      type: dict
    guests:
      description: Every libvirt domain with C(name), C(running), C(disks) (C(target), C(bus)), C(nics)
        (C(mac), C(model)), C(emulated) (what is not paravirtual) and C(pv).
      type: list
      elements: dict
    pv:
      description: For a guest, the M(virtops.devices.pv_driver_info) report.
      type: dict
  sample:
    kind: host
    state: reboot_owed
    reasons: [the boot entries carry the arguments, the running kernel does not]
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtops.devices.plugins.module_utils._boot import _kernel_args as ka
from ansible_collections.virtops.devices.plugins.module_utils._common import _files
from ansible_collections.virtops.devices.plugins.module_utils._common import _tools
from ansible_collections.virtops.devices.plugins.module_utils._common import _validate
from ansible_collections.virtops.devices.plugins.module_utils._host import _facts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type='path', default='/'),
            uri=dict(type='str', default='qemu:///system'),
            kind=dict(type='str', default='host', choices=['host', 'guest']),
            args=dict(type='list', elements='str', default=['iommu=pt']),
            remove_args=dict(type='list', elements='str', default=[]),
            vendor=dict(type='str', default='none', choices=['auto', 'intel', 'amd', 'none']),
            firmware=dict(type='str', default='auto', choices=['auto', 'bios', 'uefi']),
            kernel_log=dict(type='path'),
            tool_timeout=dict(type='int', default=_tools.DEFAULT_TOOL_TIMEOUT),
        ),
        supports_check_mode=True,
    )
    p = _validate.fail_on_invalid(module, module.params, [_validate.TOOL_TIMEOUT_RULE])
    root = p['root']
    if not os.path.isdir(root):
        module.fail_json(msg='root %s is not a directory; give the host\'s tree (or / on the host)' % root)
    if p['kind'] == 'guest':
        try:
            module.exit_json(changed=False, host=_facts.guest_facts(root))
        except (IOError, OSError) as exc:
            module.fail_json(msg='%s; run this on the guest (root=/)' % exc)
    live = _files.is_host_root(root)
    vendor, notes = p['vendor'], []
    if vendor == 'auto' and ka.cpu_vendor(_files.read_text(_files.root_path(root, '/proc/cpuinfo'), default='')) is None:
        vendor = 'none'
        notes.append('vendor=auto: %s shows no Intel or AMD CPU; no vendor argument is wanted'
                     % _files.root_path(root, '/proc/cpuinfo'))
    cpuinfo = _files.read_text(_files.root_path(root, '/proc/cpuinfo'), default='') if vendor == 'auto' else None
    try:
        args, remove_args, warnings = ka.wanted_args(p['args'], p['remove_args'], vendor, cpuinfo)
    except ka.WantedArgsError as exc:
        module.fail_json(msg=str(exc))
    # every tool this read-only module runs is bounded, like the modules that write
    run = _tools.bounded_run(p['tool_timeout'])
    if p['kernel_log']:
        kernel_log = _files.read_text(_files.root_path(root, p['kernel_log']), default='')
    elif live:
        try:
            rc, out, _err = run(['dmesg'], environ_update={'LC_ALL': 'C'})
        except (_tools.ToolTimeout, OSError):
            rc, out = 1, None
        kernel_log = out if rc == 0 else None
    else:
        kernel_log = _files.read_text(_files.root_path(root, '/var/log/dmesg'), default='') or None

    def run_rpm(names):
        rpm = module.get_bin_path('rpm') if live else None
        if not rpm:
            return None
        installed = set()
        for name in names:
            try:
                rc, _out, _err = run([rpm, '-q', name])
            except (_tools.ToolTimeout, OSError):
                return None  # unknown, as on a tree
            if rc == 0:
                installed.add(name)
        return installed

    facts = _facts.host_facts(root, p['uri'], args, remove_args, p['firmware'], kernel_log, run_rpm,
                              os.path.isdir('/sys/firmware/efi') if live else None)
    for warning in notes + warnings:
        module.warn(warning)
    module.exit_json(changed=False, host=facts)


if __name__ == '__main__':
    main()
