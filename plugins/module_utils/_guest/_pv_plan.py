# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of a switch from emulated devices to paravirtual drivers inside a guest: the
concatenation of the named steps of ``_pv_steps`` (the shape of virt-v2v's ``convert_linux``).

``read_guest`` (``_pv_facts``) gathers what the plan needs from a guest tree (reads only);
``plan_migration`` is pure: facts and wanted state in, files and commands out. This module is
the face pv_driver_migrate and the refused_values filter use; it names what it re-exports.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._common import _files
from ansible_collections.virtops.devices.plugins.module_utils._common import _validate as v
from ansible_collections.virtops.devices.plugins.module_utils._guest import _devnames
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_steps
from ansible_collections.virtops.devices.plugins.module_utils._guest._pv_facts import (
    DRACUT_CONF, GuestTree, checked_filesystems, is_legacy_kernel, read_guest, version_key)
from ansible_collections.virtops.devices.plugins.module_utils._guest._pv_steps import (
    MARK_BEGIN, MARK_END, check_device_map, is_initrd_input, rc_local_block, with_block)

__all__ = [
    'DRACUT_CONF', 'EMULATED_DISK_FAMILIES', 'GuestTree', 'MARK_BEGIN', 'MARK_END', 'Plan', 'check_device_map',
    'check_kernels', 'checked_filesystems', 'is_initrd_input', 'is_legacy_kernel', 'migration_rules',
    'plan_migration', 'rc_local_block', 'read_guest', 'version_key', 'with_block',
]

EMULATED_DISK_FAMILIES = ('hd', 'sd', 'cciss', 'nvme')
KERNEL_ALLOWED = 'the list [all] alone, or kernel versions such as 2.6.18-128.el5, 6.1.0-27-amd64 (no /, no ..)'


def check_kernels(option, value):
    """Return the ``kernel`` list: ``[all]`` alone, else kernel versions."""
    if not isinstance(value, (list, tuple)):
        raise v.InvalidValue(option, value, KERNEL_ALLOWED)
    if 'all' in value:
        if list(value) != ['all']:
            raise v.InvalidValue(option, value, KERNEL_ALLOWED)
        return ['all']
    return [v.check_kernel_version('%s[%d]' % (option, index), kver) for index, kver in enumerate(value)]


def migration_rules(target):
    """Return the :func:`_validate.check_params` rules of ``pv_driver_migrate`` for ``target``."""
    pv_family = _devnames.PV_DISK_PREFIX.get(target, 'xvd')

    def disk_map(option, value):
        return v.check_mapping(
            option, value,
            lambda opt, key: v.check_disk_name(opt, key, families=EMULATED_DISK_FAMILIES),
            lambda opt, item: v.check_disk_name(opt, item, families=(pv_family,)))

    def legacy_disk(option, value):
        return v.check_disk_name(option, value, families=('xvd',), allow_dev=False)

    return [
        ('kernel', check_kernels),
        ('disk_map', disk_map),
        ('filesystems[].device', v.check_block_device),
        ('filesystems[].uuid', v.check_uuid),
        ('filesystems[].label', v.check_label),
        ('legacy_disks', v.check_list(legacy_disk)),
    ]


class Plan(object):
    """Files to write (path -> (before, after, mode)), commands to run, problems, notes."""

    def __init__(self):
        self.files = {}
        self.order = []
        self.commands = []
        self.problems = []
        self.notes = []

    def write(self, path, before, after, mode=None):
        after = _files.keep_line_ending(before, after)
        if before == after:
            if path in self.files:
                del self.files[path]
                self.order.remove(path)
            return
        if path not in self.files:
            self.order.append(path)
        self.files[path] = (before, after, mode)

    def text(self, facts, path):
        """Return the planned text of ``path`` (what earlier steps left), else what the guest has."""
        if path in self.files:
            return self.files[path][1]
        return facts['files'].get(path)

    def steps(self):
        out = [{'action': 'write', 'path': path} for path in self.order]
        for cmd in self.commands:
            if cmd.get('keep'):
                out.append({'action': 'copy', 'src': cmd['keep'][0], 'dest': cmd['keep'][1]})
            out.append({'action': 'run', 'argv': cmd['argv'], 'kernel': cmd['kernel']})
        return out


def kernels_oldest_first(facts):
    """Return the ``(kernel version, info)`` pairs of the facts, oldest kernel first."""
    return sorted(facts['kernels'].items(), key=lambda item: version_key(item[0]))


def plan_migration(facts, params):
    """Return the :class:`Plan` of the switch, pure: facts and parameters in.

    The steps of ``_pv_steps``, in order: per kernel the drivers and their configuration,
    then the guest's fstab and device.map, then per kernel the initrd and its boot entry.
    """
    plan = Plan()
    plan.problems.extend(facts.get('problems', []))
    for kver, info in kernels_oldest_first(facts):
        if not info.get('installed'):
            plan.problems.append('kernel %s is not installed (no /lib/modules/%s)' % (kver, kver))
        elif is_legacy_kernel(kver):
            _pv_steps.legacy_nodes(plan, facts, params, kver, info)
        else:
            drivers = _pv_steps.pv_drivers(plan, facts, params, kver, info)
            if drivers:
                block, nic = drivers
                _pv_steps.aliases(plan, facts, params['target'], nic, block)
                _pv_steps.initrd_config(plan, facts, info)
    if plan.problems:
        return plan
    if any(not is_legacy_kernel(k) for k in facts['kernels']):
        _pv_steps.fstab(plan, facts, params)
        _pv_steps.device_maps(plan, facts, params)
    for kver, info in kernels_oldest_first(facts):
        if is_legacy_kernel(kver) or 'pv_drivers' not in info:
            continue
        output = _pv_steps.initrd_run(plan, facts, params, kver, info)
        if output is None:
            return plan
        _pv_steps.boot_entry(plan, facts, params, kver, info, output)
    return plan
