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

import bz2
import lzma
import posixpath
import re
import zlib

from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd_dracut
from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd_mkinitrd
from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd_mkinitrd_suse
from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd_update_initramfs

# the names users choose, in the order of the modules' ``initrd_tool`` choices
INITRD_TOOLS = ('dracut', 'mkinitrd', 'update-initramfs', 'mkinitrd-suse')

# the initrd tools, one module each (``_initrd_<tool>.py``); order = detection preference
# (EL6 ships a mkinitrd wrapper around dracut: dracut is asked first; SUSE's mkinitrd
# before Red Hat's, which has the same paths)
TOOLS = (
    _initrd_dracut,
    _initrd_update_initramfs,
    _initrd_mkinitrd_suse,
    _initrd_mkinitrd,
)
BY_NAME = dict((tool.NAME, tool) for tool in TOOLS)
CONFIG_FILES = tuple(tool.CONFIG_FILE for tool in TOOLS if tool.CONFIG_FILE)

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
    for tool in TOOLS:
        if (not tool.MARKERS or any(exists(path) for path in tool.MARKERS)) and tool_binary(tool.NAME, exists):
            return tool.NAME
    return None


def tool_binary(tool, exists):
    """Return the path of ``tool`` inside the guest, else None."""
    for path in getattr(BY_NAME.get(tool), 'PATHS', ()):
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


def initrd_command(tool, binary, kver, output, drivers, omit=(), preload=True, offline=False, force=False):
    """Return the argv that builds ``output`` for ``kver`` with ``drivers`` (in load order);
    ``omit``: emulated drivers to leave out. Each tool's module says how (``command``)."""
    if tool not in BY_NAME:
        raise ValueError('unknown initrd tool %r' % tool)
    modules = [mod.replace('-', '_') for mod in drivers]
    return BY_NAME[tool].command(binary, kver, output, modules, omit, preload, offline, force)


def writes_beside(tool):
    """Return True when ``tool`` can write a new initrd under any name (else it rebuilds in place)."""
    return BY_NAME[tool].WRITES_BESIDE


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


CPIO_MAGICS = (b'070701', b'070702')
# compressed formats the standard library cannot read, by magic: listed with a tool
TOOL_FORMATS = ((b'\x28\xb5\x2f\xfd', 'zstd'), (b'\x04\x22\x4d\x18', 'lz4'), (b'\x02\x21\x4c\x18', 'lz4'))


def compression_of(data):
    """Return the compression of an initrd segment: ``cpio`` (none), ``gzip``, ``xz``,
    ``lzma``, ``bzip2``, ``zstd``, ``lz4``, or ``None`` when unknown."""
    if data[:6] in CPIO_MAGICS:
        return 'cpio'
    if data[:2] == b'\x1f\x8b':
        return 'gzip'
    if data[:6] == b'\xfd7zXZ\x00':
        return 'xz'
    if data[:3] == b'BZh':
        return 'bzip2'
    if data[:3] == b'\x5d\x00\x00':
        return 'lzma'
    for magic, name in TOOL_FORMATS:
        if data[:4] == magic:
            return name
    return None


def _stdlib_decompress(kind, data):
    """Return ``(decompressed, bytes left after the stream)`` for the formats Python reads."""
    if kind == 'gzip':
        obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif kind == 'xz':
        obj = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    elif kind == 'lzma':
        obj = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE)
    else:
        obj = bz2.BZ2Decompressor()
    raw = obj.decompress(data)
    return raw, obj.unused_data


def _decompress(data):
    kind = compression_of(data)
    if kind in ('gzip', 'xz', 'lzma', 'bzip2'):
        return _stdlib_decompress(kind, data)[0]
    return None


def _cpio_entries(data):
    """Return ``(names, end offset)`` of the newc/crc cpio archive at the start of ``data``."""
    names = []
    pos = 0
    while pos + 110 <= len(data):
        if data[pos:pos + 6] not in CPIO_MAGICS:
            raise ValueError('not a cpio header at offset %d' % pos)
        namesize = int(data[pos + 94:pos + 102], 16)
        filesize = int(data[pos + 54:pos + 62], 16)
        name = data[pos + 110:pos + 110 + namesize - 1].decode('utf-8', 'replace')
        pos = (pos + 110 + namesize + 3) & ~3
        pos = (pos + filesize + 3) & ~3
        if name == 'TRAILER!!!':
            return names, pos
        names.append(name)
    raise ValueError('cpio archive without its trailer (truncated)')


def _cpio_names(data):
    """Yield the member names of a newc/crc cpio archive; stop at the trailer."""
    try:
        names = _cpio_entries(data)[0]
    except ValueError:
        return
    yield from names


def initrd_members(data, decompress=None):
    """Return the member names of an initrd image, every segment included.

    An initrd is one or more cpio archives one after the other, each plain or
    compressed (an uncompressed early-microcode archive first, then the main
    one, compressed): every segment is listed. gzip, xz, lzma and bzip2 are
    read here; ``decompress(kind, data)`` (``zstd``/``lz4``) returns the
    decompressed bytes of a segment, or ``None``. Raises ``ValueError`` when
    the image is empty, truncated, or in a format nobody could read.
    """
    names = []
    rest = data
    segments = 0
    while rest.strip(b'\0'):
        rest = rest.lstrip(b'\0')
        kind = compression_of(rest)
        if kind == 'cpio':
            found, end = _cpio_entries(rest)
            names.extend(found)
            rest = rest[end:]
        elif kind in ('gzip', 'xz', 'lzma', 'bzip2'):
            try:
                raw, rest = _stdlib_decompress(kind, rest)
            except (IOError, OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
                raise ValueError('%s data is corrupt: %s' % (kind, exc))
            names.extend(initrd_members(raw, decompress))
        elif kind in ('zstd', 'lz4'):
            raw = decompress(kind, rest) if decompress else None
            if raw is None:
                raise ValueError('%s-compressed; install %s to read it' % (kind, kind))
            names.extend(initrd_members(raw, decompress))
            rest = b''
        else:
            raise ValueError('not an initrd (no cpio archive, unknown compression at segment %d)'
                             % (segments + 1))
        segments += 1
    if not segments:
        raise ValueError('the file is empty')
    return names


def initrd_modules(data, decompress=None):
    """Return the normalized module names inside an initrd image, or None when unreadable.

    Reads plain, gzip-, xz-, lzma- and bzip2-compressed newc cpio archives
    (with an early-microcode prefix); zstd/lz4 images (Debian 12, Fedora)
    only with ``decompress`` (see ``initrd_members``), else None.
    """
    try:
        return modules_in(initrd_members(data, decompress))
    except ValueError:
        return None


def modules_in(names):
    """Return the normalized module names of the module files among member ``names``."""
    return set(module_name(name) for name in names if is_module_file(name))


def builtin_drivers(modules_builtin, kernel_config):
    """Return the normalized names of the drivers built into a kernel, from its
    ``modules.builtin`` text and its ``/boot/config-<kver>`` text (``=y``)."""
    names = set(module_name(line.strip()) for line in (modules_builtin or '').splitlines() if line.strip())
    for name, symbol in KCONFIG.items():
        if re.search(r'^%s=y$' % symbol, kernel_config or '', re.M):
            names.add(name.replace('-', '_'))
    return names


def missing_drivers(members, drivers, builtin=()):
    """Return the ``drivers`` (in their order) an initrd with ``members`` lacks; a driver
    built into the kernel needs no file."""
    present = modules_in(members) | set(builtin)
    return [driver for driver in drivers if driver.replace('-', '_') not in present]


def initrd_problem(path, data, drivers, builtin=(), decompress=None):
    """Return what is wrong with the initrd a tool built at ``path`` (``data``: its bytes,
    ``None`` when the file does not exist), or ``None`` when it holds every driver."""
    if data is None:
        return 'the tool reported success but wrote no %s' % path
    if not data:
        return 'the tool left %s empty' % path
    try:
        members = initrd_members(data, decompress)
    except ValueError as exc:
        return 'cannot read %s: %s' % (path, exc)
    missing = missing_drivers(members, drivers, builtin)
    if missing:
        return '%s lacks the drivers %s' % (path, ', '.join(missing))
    return None
