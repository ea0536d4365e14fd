# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The named steps of a PV driver migration (the shape of virt-v2v's ``convert_linux``).

Each step takes the plan, the guest facts (``_pv_facts``) and the module parameters and adds
files to write, commands to run, problems or notes to the plan; pure, no step reads the guest.
``_pv_plan.plan_migration`` runs them in this order:

- per kernel, oldest first: ``legacy_nodes`` for 2.4 kernels (kmod-xenpv files, modules.conf
  aliases, the rc.local loader that also makes the xvd nodes); for the others ``pv_drivers``
  (which drivers, which initrd tool), ``aliases`` (modules.conf/modprobe aliases) and
  ``initrd_config`` (initramfs-tools modules list, dracut.conf.d);
- for the guest: ``fstab`` (fstab, crypttab) and ``device_maps`` (GRUB's device.map);
- per kernel again: ``initrd_run`` (the rebuild, or a problem when /boot is too small) and
  ``boot_entry`` (the GRUB entry that boots the new initrd, or a note for GRUB 2/BLS).

The hypervisor side (the libvirt domain, the xm/xl config) is not part of this plan: it is the
plan of its own modules (``_pv_domain``, ``_xenconfig``), run after this one.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import posixpath
import re

from ansible_collections.virtops.devices.plugins.module_utils._common import _validate as v
from ansible_collections.virtops.devices.plugins.module_utils._guest import _bootentry
from ansible_collections.virtops.devices.plugins.module_utils._guest import _devnames
from ansible_collections.virtops.devices.plugins.module_utils._guest import _fstab
from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd
from ansible_collections.virtops.devices.plugins.module_utils._guest import _modulesconf
from ansible_collections.virtops.devices.plugins.module_utils._guest._pv_facts import (
    CRYPTTAB, DEVICE_MAPS, FSTAB, GENERATED_BOOT_CONFIGS)

LEGACY_ORDER = ('xen-platform-pci', 'xen-balloon', 'xen-vbd', 'xen-vnif')
MARK_BEGIN = '# BEGIN virtops.devices pv_driver_migrate'
MARK_END = '# END virtops.devices pv_driver_migrate'


# --- the texts the steps write --------------------------------------------------------------------------

def rc_local_block(kver, module_dir, modules, disks, make_nodes):
    """Return the ``rc.local`` block that loads the PV drivers and creates xvd nodes (RHEL 3).

    Every value is checked again here (``ValueError``): this text runs as root at every boot.
    """
    v.check_kernel_version('kernel', kver)
    v.check_tree_path('module directory', module_dir)
    for name in modules:
        v.check_module_name('module', _initrd.module_name(name))
        if not re.match(r'^[A-Za-z0-9_.-]+\Z', name):
            raise v.InvalidValue('module file', name, 'a module file name: letters, digits, _ . - only')
    for disk in disks:
        v.check_disk_name('legacy_disks', disk, families=('xvd',), allow_dev=False)
    lines = [MARK_BEGIN,
             '# Xen PV drivers for %s: this kernel loads them only from here' % kver,
             'if [ "`uname -r`" = "%s" ]; then' % kver]
    for name in modules:
        lines.append('    insmod %s/%s' % (module_dir, name))
    if make_nodes:
        lines.append("    major=`awk '$2==\"xvd\" {print $1}' /proc/devices`")
        lines.append('    if [ -n "$major" ]; then')
        for node, minor in _devnames.xvd_device_nodes(disks):
            lines.append('        [ -b /dev/%s ] || mknod /dev/%s b $major %d' % (node, node, minor))
        lines.append('        chgrp disk /dev/xvd*')
        lines.append('        chmod 664 /dev/xvd*')
        lines.append('    fi')
    lines += ['fi', MARK_END]
    return '\n'.join(lines) + '\n'


def with_block(text, block):
    """Return ``text`` with our marked block replaced, or appended when absent."""
    if MARK_BEGIN in text and MARK_END in text:
        head, rest = text.split(MARK_BEGIN, 1)
        tail = rest.split(MARK_END, 1)[1]
        if tail.startswith('\n'):
            tail = tail[1:]
        return head + block + tail
    if text and not text.endswith('\n'):
        text += '\n'
    if not text:
        text = '#!/bin/sh\n'
    return text + block


def legacy_load_order(names):
    """Return the module files of a kmod-xenpv directory in the order they must be loaded."""
    by_module = dict((_initrd.module_name(name).replace('_', '-'), name) for name in names)
    return [by_module[mod] for mod in LEGACY_ORDER if mod in by_module]


def is_initrd_input(path):
    """Return True for guest files an initrd tool reads (a change means a rebuild)."""
    return (path in _modulesconf.ALIAS_FILES or path.startswith(_modulesconf.MODPROBE_D + '/')
            or path in (FSTAB, CRYPTTAB) + _initrd.CONFIG_FILES)


def check_device_map(path, text):
    """Raise ``ValueError`` unless every active ``device.map`` line is ``(<drive>) <device path>``."""
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith('#'):
            continue
        if len(fields) != 2 or not re.match(r'^\((hd|fd)\d+\)\Z', fields[0]):
            raise ValueError('%s line %d would be %r: not "(hdN) /dev/<disk>"' % (path, number, line))
        v.check_block_device('%s line %d' % (path, number), fields[1])


# --- per kernel ------------------------------------------------------------------------------------------

def pv_drivers(plan, facts, params, kver, info):
    """Pick the PV block and NIC drivers of ``kver`` and check the initrd tool.

    Returns ``(block, nic)`` and records in ``info`` the drivers the initrd must hold
    (``pv_drivers``) and leave out (``omit``); None, with a problem, when one is missing.
    """
    target = params['target']
    block = _initrd.available_driver(target, 'block', info['modules'], info.get('config'))
    nic = _initrd.available_driver(target, 'nic', info['modules'], info.get('config'))
    missing = [role for role, name in (('block', block), ('network', nic)) if name is None]
    if missing:
        plan.problems.append('kernel %s has no paravirtual %s driver (%s); install %s, or pick another kernel'
                             % (kver, ' and '.join(missing),
                                ', '.join(_initrd.PV_DRIVERS[target]['block'] + _initrd.PV_DRIVERS[target]['nic']),
                                _initrd.DRIVER_SOURCE[target]))
        return None
    tool = facts.get('initrd_tool')
    if not tool or not facts.get('tool_binary'):
        plan.problems.append('no initrd tool (%s) found in the guest; install one or set initrd_tool'
                             % ', '.join(_initrd.INITRD_TOOLS) if not tool else
                             'initrd tool %s is not installed in the guest' % tool)
        return None
    info['pv_drivers'] = [d for d in _initrd.PV_DRIVERS[target]['platform']
                          if d.replace('-', '_') in info['modules'] and target == 'virtio'] + [block]
    omit = ()
    if params.get('remove_emulated'):
        if _initrd.BY_NAME[tool].CAN_OMIT:
            omit = _initrd.EMULATED_BLOCK_DRIVERS
        else:
            plan.notes.append('%s cannot leave drivers out of the initrd; remove_emulated only rebuilds it' % tool)
    info['omit'] = omit
    return block, nic


def aliases(plan, facts, target, nic, block):
    """Point the NIC alias (and with virtio the disk alias) of every alias file at the PV drivers."""
    block_alias = block if target == 'virtio' else None
    for path in sorted(facts['files']):
        if path in _modulesconf.ALIAS_FILES or path.startswith(_modulesconf.MODPROBE_D + '/'):
            before = plan.text(facts, path)
            plan.write(path, facts['files'][path], _modulesconf.rewrite_aliases(before, nic, block_alias))


def initrd_config(plan, facts, info):
    """Make the initrd tool's own configuration keep the PV drivers in every later initrd."""
    tool = _initrd.BY_NAME.get(facts.get('initrd_tool'))
    path = tool and tool.CONFIG_FILE
    if path:
        before = plan.text(facts, path) or facts['files'].get(path, '')
        plan.write(path, facts['files'].get(path), tool.config_text(before, info['pv_drivers'], info['omit']))


def legacy_nodes(plan, facts, params, kver, info):
    """2.4 kernels: copy the kmod-xenpv modules, alias the NIC in modules.conf, and load them
    (and make the xvd nodes when there is no udev) from rc.local."""
    if params['target'] != 'xen':
        plan.problems.append('kernel %s is a 2.4 kernel: only Xen PV drivers (kmod-xenpv) exist for it, '
                             'not virtio' % kver)
        return
    module_dir = info.get('legacy_dir')
    if not module_dir:
        plan.problems.append('kernel %s has no Xen PV drivers (no xen-vbd under /lib/modules/*/extra/xenpv); '
                             'install the kmod-xenpv package for it' % kver)
        return
    files = info.get('legacy_files') or {}
    if info.get('legacy_source'):
        for name, data in sorted(files.items()):
            plan.write(posixpath.join(module_dir, name), None, data, 0o644)
    order = legacy_load_order(files)
    nic = 'xen-vnif' if 'xen-vnif' in [_initrd.module_name(n).replace('_', '-') for n in files] else None
    conf = '/etc/modules.conf'
    if nic:
        before = plan.text(facts, conf) or ''
        after = _modulesconf.add_nic_aliases(_modulesconf.rewrite_aliases(before, nic, None, keep_block=True),
                                             facts['interfaces'], nic)
        plan.write(conf, facts['files'].get(conf), after)
        kept = sorted(name for name in _modulesconf.alias_drivers(after) if name.startswith('scsi_hostadapter'))
        if kept:
            plan.notes.append('kernel %s keeps booting from the emulated disk: %s in %s kept (its driver '
                              'is the one the guest boots from)' % (kver, ', '.join(
                                  'alias %s %s' % (name, _modulesconf.alias_drivers(after)[name]) for name in kept),
                                  conf))
    rc_local = facts['rc_local']
    before = plan.text(facts, rc_local) or ''
    block = rc_local_block(kver, module_dir, order, params.get('legacy_disks') or [],
                           not facts.get('udev'))
    plan.write(rc_local, facts['files'].get(rc_local), with_block(before, block), 0o755)
    plan.notes.append('kernel %s boots from the emulated disk (kmod-xenpv cannot boot from xvd); '
                      'fstab and the boot entry are left as they are' % kver)


# --- for the guest ------------------------------------------------------------------------------------

def fstab(plan, facts, params):
    """Rename the emulated disks in fstab and crypttab (UUID=, LABEL= or PV names, as ``fstab`` says)."""
    mode = params.get('fstab', 'uuid')
    text = facts['files'].get(FSTAB)
    if text is None or mode == 'keep':
        return
    after, problems, notes = _fstab.rewrite_fstab(text, mode, params['target'], facts['filesystems'],
                                                  params.get('disk_map'), facts.get('links'))
    plan.problems.extend(problems)
    plan.notes.extend(notes)
    plan.write(FSTAB, text, after)
    crypttab = facts['files'].get(CRYPTTAB)
    if crypttab is not None:
        after, problems = _fstab.rewrite_crypttab(crypttab, mode, params['target'], facts['filesystems'],
                                                  params.get('disk_map'))
        plan.problems.extend(problems)
        plan.write(CRYPTTAB, crypttab, after)
    if not facts.get('legacy_grub'):
        for path in GENERATED_BOOT_CONFIGS:
            for value in _fstab.emulated_boot_sources(facts['files'].get(path)):
                plan.notes.append('%s boots with %s, which will not exist on the new bus; name it by UUID= '
                                  'and regenerate the boot configuration' % (path, value))


def device_maps(plan, facts, params):
    """Point GRUB's device.map at the PV disks."""
    if params.get('fstab', 'uuid') == 'keep':
        return
    for path in DEVICE_MAPS:
        if path in facts['files']:
            after = _bootentry.rewrite_device_map(facts['files'][path], params['target'], params.get('disk_map'))
            if after != facts['files'][path]:
                check_device_map(path, after)
            plan.write(path, facts['files'][path], after)


# --- per kernel, after the files ------------------------------------------------------------------------

def _beside(facts, params):
    return (_initrd.writes_beside(facts['initrd_tool']) and facts.get('legacy_grub')
            and params.get('boot_entry', 'add') != 'none')


def initrd_output(facts, params, kver, info):
    """Return ``(the initrd to build, True when it goes beside the old one)`` for ``kver``."""
    initrd = info.get('initrd')
    beside = bool(_beside(facts, params) and initrd)
    output = _initrd.pv_initrd_path(initrd) if beside else (initrd or _initrd.BY_NAME[facts['initrd_tool']].INITRD_NAME % kver)
    return output, beside


def initrd_run(plan, facts, params, kver, info):
    """Plan the rebuild of the initrd of ``kver`` when it is new, first, stale or lacks the drivers.

    Returns the initrd path, or None when /boot has no room for it (a problem: planning stops).
    """
    tool = facts.get('initrd_tool')
    config_changed = any(is_initrd_input(path) for path in plan.files)
    initrd = info.get('initrd')
    output, beside = initrd_output(facts, params, kver, info)
    exists = info.get('exists', {})
    keep = None
    if not beside and initrd and not exists.get(_initrd.kept_initrd_path(initrd)):
        keep = (initrd, _initrd.kept_initrd_path(initrd))
    present = info.get('pv_initrd_modules') if beside else None
    reasons = []
    if beside and not exists.get(output):
        reasons.append('new initrd')
    if keep:
        reasons.append('first rebuild')
    if config_changed:
        reasons.append('configuration changed')
    if present is not None and info['pv_drivers'][-1].replace('-', '_') not in present:
        reasons.append('driver missing from initrd')
    if present is not None and info['omit'] and set(info['omit']) & present:
        reasons.append('emulated driver still in initrd')
    if not reasons:
        return output
    problem = _initrd.space_problem(facts['boot_free'], info.get('initrd_size', 0), bool(keep)) \
        if facts.get('boot_free') is not None else None
    if problem:
        plan.problems.append(problem)
        return None
    argv = _initrd.initrd_command(tool, facts['tool_binary'], kver, output, info['pv_drivers'],
                                  omit=info['omit'], preload=(params['target'] == 'xen'),
                                  offline=facts.get('offline'), force=bool(exists.get(output)))
    plan.commands.append({'kernel': kver, 'argv': argv, 'output': output, 'keep': keep,
                          'reasons': reasons, 'drivers': list(info['pv_drivers'])})
    return output


def _rename_for_boot(params, facts):
    mode = params.get('fstab', 'uuid')

    def _rename(value):
        new = _fstab.rename_source(value, mode, params['target'], facts['filesystems'], params.get('disk_map'))
        if new is not None and (not new or re.search(r'[\s"\'`$;\\]', new)):
            raise ValueError('refusing to write %r into a boot entry: it is not one plain word' % new)
        return value if new is None else new
    return _rename


def boot_entry(plan, facts, params, kver, info, output):
    """Add (or make default) the legacy GRUB entry of ``kver`` on the new initrd ``output``;
    with GRUB 2/BLS (which generate their entries) only a note."""
    if initrd_output(facts, params, kver, info)[1]:
        grub = facts['legacy_grub']
        before = plan.text(facts, grub)
        suffix = ' (%s PV drivers)' % params['target']
        after, problem = _bootentry.plan_boot_entry(before, kver, posixpath.basename(output),
                                                    params.get('boot_entry', 'add'),
                                                    _rename_for_boot(params, facts), suffix)
        if problem:
            plan.problems.append(problem)
            return
        plan.write(grub, facts['files'][grub], after)
    elif params.get('boot_entry', 'add') != 'none' and not facts.get('legacy_grub'):
        plan.notes.append('kernel %s: the boot loader generates its entries (GRUB 2/BLS); the initrd is '
                          'rebuilt in place and the old one kept as %s'
                          % (kver, _initrd.kept_initrd_path(info.get('initrd') or output)))
