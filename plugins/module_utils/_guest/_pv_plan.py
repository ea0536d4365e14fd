# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of a switch from emulated devices to paravirtual drivers inside a
guest, as a short list of named steps (the shape of virt-v2v's
``convert_linux``): module aliases, initrd, boot entry, fstab, and for 2.4
kernels without module autoload the ``rc.local`` loader.

``read_guest`` gathers what the plan needs from a guest tree (reads only);
``plan_migration`` is pure: facts and wanted state in, files and commands out.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import posixpath
import re

from ansible_collections.virtops.devices.plugins.module_utils._guest import _bootentry
from ansible_collections.virtops.devices.plugins.module_utils._guest import _devnames
from ansible_collections.virtops.devices.plugins.module_utils._common import _files
from ansible_collections.virtops.devices.plugins.module_utils._guest import _fstab
from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd
from ansible_collections.virtops.devices.plugins.module_utils._guest import _modulesconf
from ansible_collections.virtops.devices.plugins.module_utils._common import _validate as v

FSTAB = '/etc/fstab'
CRYPTTAB = '/etc/crypttab'
GENERATED_BOOT_CONFIGS = ('/boot/grub/grub.cfg', '/boot/grub2/grub.cfg', '/etc/default/grub')
RC_LOCAL = '/etc/rc.d/rc.local'
DRACUT_CONF = '/etc/dracut.conf.d/90-virtops-pv.conf'
DEVICE_MAPS = ('/boot/grub/device.map', '/boot/grub2/device.map')
UDEV_MARKERS = ('/sbin/udevd', '/sbin/udev', '/lib/systemd/systemd-udevd',
                '/usr/lib/systemd/systemd-udevd', '/lib/udev/udevd')
LEGACY_ORDER = ('xen-platform-pci', 'xen-balloon', 'xen-vbd', 'xen-vnif')
MARK_BEGIN = '# BEGIN virtops.devices pv_driver_migrate'
MARK_END = '# END virtops.devices pv_driver_migrate'
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


def checked_filesystems(entries):
    """Return ``entries`` (from ``blkid``) with the device/UUID/label values that fail their grammar dropped."""
    checks = (('device', v.check_block_device), ('uuid', v.check_uuid), ('label', v.check_label))
    out = []
    for entry in entries:
        entry = dict(entry)
        for key, check in checks:
            if entry.get(key) is not None:
                try:
                    check(key, entry[key])
                except v.InvalidValue:
                    entry[key] = None
        if entry.get('device'):
            out.append(entry)
    return out


class GuestTree(object):
    """Read-only access to a guest's files below ``root``."""

    def __init__(self, root):
        self.root = root or '/'

    def path(self, path):
        return _files.root_path(self.root, path)

    def exists(self, path):
        return os.path.lexists(self.path(path))

    def read(self, path, default=None):
        try:
            return _files.read_text(self.real(path), default)
        except (IOError, OSError):
            return default

    def real(self, path):
        """Return the host path of ``path`` with symlinks resolved inside the root."""
        return _files.resolve_in_root(self.root, path)

    def guest_real(self, path):
        """Return ``path`` with symlinks resolved, as a path inside the guest."""
        host = self.real(path)
        root = os.path.abspath(self.root)
        return '/' + os.path.relpath(host, root) if root != '/' else host

    def listdir(self, path):
        try:
            return sorted(os.listdir(self.path(path)))
        except OSError:
            return []

    def size(self, path):
        try:
            return os.path.getsize(self.real(path))
        except OSError:
            return 0

    def read_bytes(self, path):
        with open(self.real(path), 'rb') as handle:
            return handle.read()

    def free_bytes(self, path):
        stat = os.statvfs(self.real(path))
        return stat.f_bavail * stat.f_frsize

    def walk_modules(self, kver):
        """Return the normalized module names under ``/lib/modules/<kver>`` (files and modules.builtin)."""
        names = set()
        base = self.path('/lib/modules/%s' % kver)
        for _dirpath, _dirs, files in os.walk(base):
            for name in files:
                if _initrd.is_module_file(name):
                    names.add(_initrd.module_name(name))
        for line in (self.read('/lib/modules/%s/modules.builtin' % kver, '') or '').splitlines():
            if line.strip():
                names.add(_initrd.module_name(line.strip()))
        return names


def installed_kernels(tree):
    """Return the kernel versions under ``/lib/modules``, oldest first."""
    return sorted(tree.listdir('/lib/modules'), key=version_key)


def version_key(kver):
    """Return a sort key ordering kernel versions numerically."""
    return [(0, int(part), '') if part.isdigit() else (1, 0, part) for part in re.split(r'[.\-_]', kver)]


def legacy_grub_file(tree):
    """Return the legacy GRUB config of the guest (symlinks resolved), else None."""
    for path in _bootentry.LEGACY_GRUB_FILES:
        if tree.exists(path) and os.path.isfile(tree.real(path)):
            return tree.guest_real(path)
    return None


def default_kernel(tree):
    """Return the kernel version of the default legacy GRUB entry, or the newest installed one."""
    grub = legacy_grub_file(tree)
    if grub:
        header, entries = _bootentry.parse_menu(tree.read(grub, ''))
        index = _bootentry.default_index(header)
        if 0 <= index < len(entries):
            path = _bootentry.entry_kernel_path(entries[index]) or ''
            name = posixpath.basename(path)
            if name.startswith('vmlinuz-'):
                return name[len('vmlinuz-'):]
    kernels = installed_kernels(tree)
    return kernels[-1] if kernels else None


def is_legacy_kernel(kver):
    """Return True for 2.4 kernels: no modprobe autoload of the PV drivers, no udev (RHEL 3)."""
    return kver.startswith('2.4.') or kver.startswith('2.2.')


def alias_files(tree):
    """Return the alias files the guest has: modules.conf, modprobe.conf, modprobe.d/*."""
    found = [path for path in _modulesconf.ALIAS_FILES if tree.exists(path)]
    for name in tree.listdir(_modulesconf.MODPROBE_D):
        found.append(posixpath.join(_modulesconf.MODPROBE_D, name))
    return [path for path in found if os.path.isfile(tree.real(path))]


def legacy_module_dir(tree, kver):
    """Return ``(dir for kver, source dir to copy from or None)`` of the kmod-xenpv modules."""
    base = '/lib/modules/%s/extra/xenpv' % kver
    for release in tree.listdir(base):
        if any(name.startswith('xen-vbd.') for name in tree.listdir(posixpath.join(base, release))):
            return posixpath.join(base, release), None
    for other in installed_kernels(tree):
        other_base = '/lib/modules/%s/extra/xenpv' % other
        for release in tree.listdir(other_base):
            if any(name.startswith('xen-vbd.') for name in tree.listdir(posixpath.join(other_base, release))):
                return posixpath.join(base, release), posixpath.join(other_base, release)
    return None, None


def interfaces(tree):
    """Return the ethN names configured in the guest (ifcfg files), eth0 when none."""
    names = [name[len('ifcfg-'):] for name in tree.listdir('/etc/sysconfig/network-scripts')
             if re.match(r'^ifcfg-eth\d+\Z', name)]
    return names or ['eth0']


def read_guest(tree, params, running_kernel=None, blkid_export=None):
    """Return the facts ``plan_migration`` needs, read from the guest tree."""
    facts = {'files': {}, 'kernels': {}, 'problems': []}
    wanted = params.get('kernel') or []
    if wanted == ['all']:
        kvers = [k for k in installed_kernels(tree) if tree.exists('/boot/vmlinuz-%s' % k)
                 or is_legacy_kernel(k)]
    elif wanted:
        kvers = list(wanted)
    elif running_kernel and tree.root in ('/', ''):
        kvers = [running_kernel]
    else:
        kvers = [default_kernel(tree)] if default_kernel(tree) else []
    if not kvers:
        facts['problems'].append('no kernel found under %s/lib/modules; name one with kernel=' % tree.root)
    for kver in kvers:
        info = {'installed': tree.exists('/lib/modules/%s' % kver)}
        if info['installed']:
            info['modules'] = tree.walk_modules(kver)
            info['config'] = tree.read('/boot/config-%s' % kver, '')
            info['initrd'] = _initrd.current_initrd(kver, tree.exists)
            info['initrd_size'] = tree.size(info['initrd']) if info['initrd'] else 0
            if is_legacy_kernel(kver):
                info['legacy_dir'], info['legacy_source'] = legacy_module_dir(tree, kver)
                if info['legacy_source']:
                    info['legacy_files'] = dict(
                        (name, tree.read(posixpath.join(info['legacy_source'], name), ''))
                        for name in tree.listdir(info['legacy_source']))
                elif info['legacy_dir']:
                    info['legacy_files'] = dict((name, None) for name in tree.listdir(info['legacy_dir']))
        facts['kernels'][kver] = info
    tool = params.get('initrd_tool') or 'auto'
    facts['initrd_tool'] = _initrd.detect_initrd_tool(tree.exists) if tool == 'auto' else tool
    facts['tool_binary'] = _initrd.tool_binary(facts['initrd_tool'], tree.exists) if facts['initrd_tool'] else None
    for kver, info in facts['kernels'].items():
        for path in (_initrd.pv_initrd_path(info['initrd']) if info.get('initrd') else None,
                     _initrd.kept_initrd_path(info['initrd']) if info.get('initrd') else None):
            if path:
                info.setdefault('exists', {})[path] = tree.exists(path)
        pv = _initrd.pv_initrd_path(info['initrd']) if info.get('initrd') else None
        if pv and tree.exists(pv):
            try:
                info['pv_initrd_modules'] = _initrd.initrd_modules(tree.read_bytes(pv))
            except (IOError, OSError):
                info['pv_initrd_modules'] = None
    for path in alias_files(tree):
        facts['files'][path] = tree.read(path, '')
    grub = legacy_grub_file(tree)
    facts['legacy_grub'] = grub
    for path in [FSTAB, CRYPTTAB, RC_LOCAL, DRACUT_CONF, _modulesconf.INITRAMFS_TOOLS_MODULES, grub] + \
            list(DEVICE_MAPS) + list(GENERATED_BOOT_CONFIGS):
        if path and tree.exists(path):
            facts['files'][path] = tree.read(path, '')
    facts['rc_local'] = tree.guest_real('/etc/rc.local') if tree.exists('/etc/rc.local') else RC_LOCAL
    if facts['rc_local'] not in facts['files'] and tree.exists(facts['rc_local']):
        facts['files'][facts['rc_local']] = tree.read(facts['rc_local'], '')
    facts['udev'] = any(tree.exists(path) for path in UDEV_MARKERS)
    facts['interfaces'] = interfaces(tree)
    facts['links'] = {}
    for link in _fstab.bus_links(facts['files'].get(FSTAB, '')):
        if tree.exists(link):
            facts['links'][link] = tree.guest_real(link)
    facts['filesystems'] = list(params.get('filesystems') or []) + checked_filesystems(
        _fstab.parse_blkid_export(blkid_export))
    try:
        facts['boot_free'] = tree.free_bytes('/boot') if tree.exists('/boot') else None
    except OSError:
        facts['boot_free'] = None
    facts['offline'] = os.path.abspath(tree.root) != '/'
    return facts


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


def dracut_conf(drivers, omit):
    """Return the dracut.conf.d text keeping the PV drivers (and omissions) in future initrds."""
    text = '# written by virtops.devices pv_driver_migrate\n'
    text += 'add_drivers+=" %s "\n' % ' '.join(d.replace('-', '_') for d in drivers)
    if omit:
        text += 'omit_drivers+=" %s "\n' % ' '.join(omit)
    return text


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


def plan_migration(facts, params):
    """Return the :class:`Plan` of the switch, pure: facts and parameters in."""
    plan = Plan()
    plan.problems.extend(facts.get('problems', []))
    target = params['target']
    for kver, info in sorted(facts['kernels'].items(), key=lambda item: version_key(item[0])):
        if not info.get('installed'):
            plan.problems.append('kernel %s is not installed (no /lib/modules/%s)' % (kver, kver))
        elif is_legacy_kernel(kver):
            _plan_legacy(plan, facts, params, kver, info)
        else:
            _plan_kernel(plan, facts, params, kver, info)
    if plan.problems:
        return plan
    if any(not is_legacy_kernel(k) for k in facts['kernels']):
        _plan_fstab(plan, facts, params)
        _plan_device_maps(plan, facts, params)
    return _plan_initrd_runs(plan, facts, params, target)


def _drivers(plan, target, kver, info):
    block = _initrd.available_driver(target, 'block', info['modules'], info.get('config'))
    nic = _initrd.available_driver(target, 'nic', info['modules'], info.get('config'))
    missing = [role for role, name in (('block', block), ('network', nic)) if name is None]
    if missing:
        plan.problems.append('kernel %s has no paravirtual %s driver (%s); install %s, or pick another kernel'
                             % (kver, ' and '.join(missing),
                                ', '.join(_initrd.PV_DRIVERS[target]['block'] + _initrd.PV_DRIVERS[target]['nic']),
                                _initrd.DRIVER_SOURCE[target]))
        return None
    return block, nic


def _plan_aliases(plan, facts, target, nic, block):
    block_alias = block if target == 'virtio' else None
    for path in sorted(facts['files']):
        if path in _modulesconf.ALIAS_FILES or path.startswith(_modulesconf.MODPROBE_D + '/'):
            before = plan.text(facts, path)
            plan.write(path, facts['files'][path], _modulesconf.rewrite_aliases(before, nic, block_alias))


def _plan_kernel(plan, facts, params, kver, info):
    target = params['target']
    found = _drivers(plan, target, kver, info)
    if not found:
        return
    block, nic = found
    tool = facts.get('initrd_tool')
    if not tool or not facts.get('tool_binary'):
        plan.problems.append('no initrd tool (%s) found in the guest; install one or set initrd_tool'
                             % ', '.join(_initrd.INITRD_TOOLS) if not tool else
                             'initrd tool %s is not installed in the guest' % tool)
        return
    _plan_aliases(plan, facts, target, nic, block)
    drivers = [d for d in _initrd.PV_DRIVERS[target]['platform']
               if d.replace('-', '_') in info['modules'] and target == 'virtio'] + [block]
    info['pv_drivers'] = drivers
    omit = ()
    if params.get('remove_emulated'):
        if tool in ('mkinitrd', 'dracut'):
            omit = _initrd.EMULATED_BLOCK_DRIVERS
        else:
            plan.notes.append('%s cannot leave drivers out of the initrd; remove_emulated only rebuilds it' % tool)
    info['omit'] = omit
    if tool == 'update-initramfs':
        path = _modulesconf.INITRAMFS_TOOLS_MODULES
        before = facts['files'].get(path, '')
        plan.write(path, facts['files'].get(path), _modulesconf.add_initramfs_modules(
            plan.text(facts, path) or before, drivers))
    if tool == 'dracut':
        plan.write(DRACUT_CONF, facts['files'].get(DRACUT_CONF), dracut_conf(drivers, omit))


def is_initrd_input(path):
    """Return True for guest files an initrd tool reads (a change means a rebuild)."""
    return (path in _modulesconf.ALIAS_FILES or path.startswith(_modulesconf.MODPROBE_D + '/')
            or path in (FSTAB, CRYPTTAB, DRACUT_CONF, _modulesconf.INITRAMFS_TOOLS_MODULES))


def _beside(facts, params):
    return (_initrd.writes_beside(facts['initrd_tool']) and facts.get('legacy_grub')
            and params.get('boot_entry', 'add') != 'none')


def _rename_for_boot(params, facts):
    mode = params.get('fstab', 'uuid')

    def _rename(value):
        new = _fstab.rename_source(value, mode, params['target'], facts['filesystems'], params.get('disk_map'))
        if new is not None and (not new or re.search(r'[\s"\'`$;\\]', new)):
            raise ValueError('refusing to write %r into a boot entry: it is not one plain word' % new)
        return value if new is None else new
    return _rename


def _plan_initrd_runs(plan, facts, params, target):
    tool = facts.get('initrd_tool')
    config_changed = any(is_initrd_input(path) for path in plan.files)
    for kver, info in sorted(facts['kernels'].items(), key=lambda item: version_key(item[0])):
        if is_legacy_kernel(kver) or 'pv_drivers' not in info:
            continue
        initrd = info.get('initrd')
        beside = _beside(facts, params) and initrd
        conventional = {'dracut': '/boot/initramfs-%s.img', 'update-initramfs': '/boot/initrd.img-%s',
                        'mkinitrd': '/boot/initrd-%s.img', 'mkinitrd-suse': '/boot/initrd-%s'}[tool] % kver
        output = _initrd.pv_initrd_path(initrd) if beside else (initrd or conventional)
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
        if reasons:
            problem = _initrd.space_problem(facts['boot_free'], info.get('initrd_size', 0), bool(keep)) \
                if facts.get('boot_free') is not None else None
            if problem:
                plan.problems.append(problem)
                return plan
            argv = _initrd.initrd_command(tool, facts['tool_binary'], kver, output, info['pv_drivers'],
                                          omit=info['omit'], preload=(target == 'xen'),
                                          offline=facts.get('offline'), force=bool(exists.get(output)))
            plan.commands.append({'kernel': kver, 'argv': argv, 'output': output, 'keep': keep,
                                  'reasons': reasons, 'drivers': list(info['pv_drivers'])})
        if beside:
            _plan_entry(plan, facts, params, kver, output)
        elif params.get('boot_entry', 'add') != 'none' and not facts.get('legacy_grub'):
            plan.notes.append('kernel %s: the boot loader generates its entries (GRUB 2/BLS); the initrd is '
                              'rebuilt in place and the old one kept as %s'
                              % (kver, _initrd.kept_initrd_path(initrd or output)))
    return plan


def _plan_entry(plan, facts, params, kver, output):
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


def _plan_fstab(plan, facts, params):
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


def _plan_device_maps(plan, facts, params):
    if params.get('fstab', 'uuid') == 'keep':
        return
    for path in DEVICE_MAPS:
        if path in facts['files']:
            after = _bootentry.rewrite_device_map(facts['files'][path], params['target'], params.get('disk_map'))
            if after != facts['files'][path]:
                check_device_map(path, after)
            plan.write(path, facts['files'][path], after)


def check_device_map(path, text):
    """Raise ``ValueError`` unless every active ``device.map`` line is ``(<drive>) <device path>``."""
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith('#'):
            continue
        if len(fields) != 2 or not re.match(r'^\((hd|fd)\d+\)\Z', fields[0]):
            raise ValueError('%s line %d would be %r: not "(hdN) /dev/<disk>"' % (path, number, line))
        v.check_block_device('%s line %d' % (path, number), fields[1])


def _plan_legacy(plan, facts, params, kver, info):
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
