# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Initrd tools, paravirtual driver names, and the command lines that put
those drivers into a guest's initrd.

Pure functions: the caller passes what it found in the guest tree (which
files exist, which modules a kernel has) and gets names, paths and argv
lists back.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import gzip
import io
import lzma
import posixpath
import re

INITRD_TOOLS = ('dracut', 'mkinitrd', 'update-initramfs', 'mkinitrd-suse')

# where each tool lives, first hit wins; order = preference (EL6 ships a
# mkinitrd wrapper around dracut: dracut is asked first)
TOOL_PATHS = (
    ('dracut', ('/usr/bin/dracut', '/sbin/dracut', '/usr/sbin/dracut')),
    ('update-initramfs', ('/usr/sbin/update-initramfs', '/sbin/update-initramfs')),
    ('mkinitrd-suse', ('/sbin/mkinitrd', '/usr/sbin/mkinitrd', '/usr/bin/mkinitrd')),
    ('mkinitrd', ('/sbin/mkinitrd', '/usr/sbin/mkinitrd', '/usr/bin/mkinitrd')),
)
SUSE_MARKERS = ('/etc/SuSE-release', '/lib/mkinitrd/setup')

# candidate module names, first found wins: (block, nic, loaded first)
PV_DRIVERS = {
    'xen': {'block': ('xen-vbd', 'xen-blkfront'), 'nic': ('xen-vnif', 'xen-netfront'),
            'platform': ('xen-platform-pci',)},
    'virtio': {'block': ('virtio_blk', 'virtio_scsi'), 'nic': ('virtio_net',),
               'platform': ('virtio_pci',)},
}
# Kconfig symbols of the drivers, for kernels that build them in
KCONFIG = {'virtio_blk': 'CONFIG_VIRTIO_BLK', 'virtio_scsi': 'CONFIG_SCSI_VIRTIO',
           'virtio_net': 'CONFIG_VIRTIO_NET', 'virtio_pci': 'CONFIG_VIRTIO_PCI',
           'xen-blkfront': 'CONFIG_XEN_BLKDEV_FRONTEND', 'xen-netfront': 'CONFIG_XEN_NETDEV_FRONTEND',
           'xen-platform-pci': 'CONFIG_XEN_PVHVM'}
# what to install when a kernel lacks the driver
DRIVER_SOURCE = {
    'xen': 'the kmod-xenpv package built for this kernel (EL3-5), or a kernel built with '
           'CONFIG_XEN_BLKDEV_FRONTEND (EL6+, Debian, SUSE)',
    'virtio': 'a kernel built with CONFIG_VIRTIO_BLK (EL 5.3+ 2.6.18-128.el5 or later, EL6+, '
              'Debian 6+, SLES 11 SP1+)',
}
# emulated disk controllers dropped from the initrd by the second pass
EMULATED_BLOCK_DRIVERS = ('ata_piix', 'ata_generic', 'pata_acpi', 'ahci')

_MODULE_SUFFIX = re.compile(r'\.(ko(\.(xz|gz|zst))?|o)$')


def module_name(path):
    """Return the module name of a module file path, normalized to ``_``: ``xen-vbd.ko`` -> ``xen_vbd``."""
    base = posixpath.basename(path)
    return _MODULE_SUFFIX.sub('', base).replace('-', '_')


def is_module_file(path):
    return bool(_MODULE_SUFFIX.search(path))


def available_driver(target, role, modules, builtin_config=None):
    """Return the first driver name for ``role`` the kernel has, else None.

    ``modules`` is the set of normalized module names found under
    ``/lib/modules/<kver>`` (plus ``modules.builtin``); ``builtin_config``
    the ``/boot/config-<kver>`` text, for drivers built in (``=y``).
    """
    for name in PV_DRIVERS[target][role]:
        if name.replace('-', '_') in modules:
            return name
        symbol = KCONFIG.get(name)
        if symbol and builtin_config and re.search(r'^%s=[ym]$' % symbol, builtin_config, re.M):
            return name
    return None


def detect_initrd_tool(exists):
    """Return the initrd tool of a guest, from ``exists(path)`` (a predicate on guest paths), else None."""
    suse = any(exists(path) for path in SUSE_MARKERS)
    for tool, paths in TOOL_PATHS:
        if tool == 'mkinitrd-suse' and not suse:
            continue
        if tool == 'mkinitrd' and suse:
            continue
        if any(exists(path) for path in paths):
            return tool
    return None


def tool_binary(tool, exists):
    """Return the path of ``tool`` inside the guest, else None."""
    for name, paths in TOOL_PATHS:
        if name == tool:
            for path in paths:
                if exists(path):
                    return path
    return None


def current_initrd(kver, exists):
    """Return the path of the initrd a guest uses for ``kver``, or the conventional one."""
    candidates = ('/boot/initramfs-%s.img' % kver, '/boot/initrd.img-%s' % kver,
                  '/boot/initrd-%s.img' % kver, '/boot/initrd-%s' % kver)
    for path in candidates:
        if exists(path):
            return path
    return None


def pv_initrd_path(initrd):
    """Return the path of the new initrd written beside ``initrd``: ``x.img`` -> ``x.pv.img``."""
    if initrd.endswith('.img'):
        return initrd[:-4] + '.pv.img'
    return initrd + '.pv'


def kept_initrd_path(initrd):
    """Return where an initrd rebuilt in place keeps its old self: ``<initrd>.pre-pv``."""
    return initrd + '.pre-pv'


def _mk(name):
    return name.replace('-', '_')


def initrd_command(tool, binary, kver, output, drivers, omit=(), preload=True, offline=False, force=False):
    """Return the argv that builds ``output`` for ``kver`` with ``drivers`` (in load order).

    - ``mkinitrd`` (EL 3-5): ``--preload=<m>`` for each driver (the CentOS 5.3
      runbook), or ``--with=<m>`` (virt-v2v's form) when not ``preload``;
      ``--builtin=<m>`` for each omitted emulated driver; ``-f`` only when
      ``force`` (the output exists already).
    - ``dracut``: ``--add-drivers "<mods>"`` (and ``--omit-drivers``);
      ``--no-hostonly`` when working on an offline tree, where host-only
      detection would see the hypervisor host, not the guest.
    - ``update-initramfs``: ``-c -k <kver>`` (the modules come from
      ``/etc/initramfs-tools/modules``).
    - SUSE ``mkinitrd``: ``-k <kernel> -i <initrd> -m "<mods>"``.
    """
    if tool == 'mkinitrd':
        argv = [binary] + (['-f'] if force else [])
        flag = '--preload=%s' if preload else '--with=%s'
        argv += [flag % _mk(mod) for mod in drivers]
        argv += ['--builtin=%s' % mod for mod in omit]
        return argv + [output, kver]
    if tool == 'dracut':
        argv = [binary, '-f']
        if offline:
            argv.append('--no-hostonly')
        argv += ['--add-drivers', ' '.join(_mk(mod) for mod in drivers)]
        if omit:
            argv += ['--omit-drivers', ' '.join(omit)]
        return argv + [output, kver]
    if tool == 'update-initramfs':
        return [binary, '-c', '-k', kver]
    if tool == 'mkinitrd-suse':
        return [binary, '-k', '/boot/vmlinuz-%s' % kver, '-i', output, '-m', ' '.join(_mk(m) for m in drivers)]
    raise ValueError('unknown initrd tool %r' % tool)


def writes_beside(tool):
    """Return True when ``tool`` can write a new initrd under any name (else it rebuilds in place)."""
    return tool != 'update-initramfs'


def space_problem(free_bytes, initrd_size, kept_copy):
    """Return a message when ``/boot`` lacks room for the new initrd, else None.

    Room is wanted for one more initrd of the current size plus half of it
    again (the new drivers, tool temp files), and for the kept copy when the
    initrd is rebuilt in place.
    """
    needed = initrd_size + initrd_size // 2 + (initrd_size if kept_copy else 0)
    if free_bytes < needed:
        return '/boot has %d KiB free, %d KiB are needed for the new initrd; free space in /boot ' \
               '(remove old kernels) and run again' % (free_bytes // 1024, needed // 1024)
    return None


def _decompress(data):
    if data[:2] == b'\x1f\x8b':
        return gzip.GzipFile(fileobj=io.BytesIO(data)).read()
    if data[:6] == b'\xfd7zXZ\x00' or data[:1] == b'\x5d':
        return lzma.decompress(data)
    return None


def _cpio_names(data):
    """Yield the member names of a newc/crc cpio archive; stop at the trailer."""
    pos = 0
    while pos + 110 <= len(data):
        magic = data[pos:pos + 6]
        if magic not in (b'070701', b'070702'):
            return
        namesize = int(data[pos + 94:pos + 102], 16)
        filesize = int(data[pos + 54:pos + 62], 16)
        name = data[pos + 110:pos + 110 + namesize - 1].decode('utf-8', 'replace')
        pos += 110 + namesize
        pos = (pos + 3) & ~3
        pos += filesize
        pos = (pos + 3) & ~3
        if name == 'TRAILER!!!':
            return
        yield name


def initrd_modules(data):
    """Return the normalized module names inside an initrd image, or None when unreadable.

    Reads a gzip- or xz-compressed newc cpio (EL 4-7, most dracut images);
    zstd-compressed images (Debian 12) return None.
    """
    try:
        raw = _decompress(data)
    except (IOError, OSError, EOFError, lzma.LZMAError):
        return None
    if raw is None:
        return None
    try:
        return set(module_name(name) for name in _cpio_names(raw) if is_module_file(name))
    except ValueError:
        return None
