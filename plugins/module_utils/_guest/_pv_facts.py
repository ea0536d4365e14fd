# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a PV driver migration needs to know about a guest, read from its tree (reads only).

``read_guest`` returns the facts :func:`_pv_plan.plan_migration` plans from; the paths
below are the guest files the plan may read or write.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import posixpath
import re

from ansible_collections.virtops.devices.plugins.module_utils._common import _files
from ansible_collections.virtops.devices.plugins.module_utils._common import _validate as v
from ansible_collections.virtops.devices.plugins.module_utils._guest import _bootentry
from ansible_collections.virtops.devices.plugins.module_utils._guest import _fstab
from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd
from ansible_collections.virtops.devices.plugins.module_utils._guest import _modulesconf

FSTAB = '/etc/fstab'
CRYPTTAB = '/etc/crypttab'
GENERATED_BOOT_CONFIGS = ('/boot/grub/grub.cfg', '/boot/grub2/grub.cfg', '/etc/default/grub')
RC_LOCAL = '/etc/rc.d/rc.local'
DRACUT_CONF = _initrd.BY_NAME['dracut'].CONFIG_FILE
DEVICE_MAPS = ('/boot/grub/device.map', '/boot/grub2/device.map')
UDEV_MARKERS = ('/sbin/udevd', '/sbin/udev', '/lib/systemd/systemd-udevd',
                '/usr/lib/systemd/systemd-udevd', '/lib/udev/udevd')


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
        return _files.inside_root(self.root, self.real(path))

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
