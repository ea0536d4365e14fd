# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module aliases in ``/etc/modules.conf`` (2.4 kernels), ``/etc/modprobe.conf``
(2.6 until EL5), ``/etc/modprobe.d/*`` and Debian's ``/etc/initramfs-tools/modules``.

``alias ethN <emulated NIC driver>`` lines point at the paravirtual NIC
driver; ``alias scsi_hostadapter*`` lines: the first one names the
paravirtual block driver and the others go (virt-v2v's rule), or all go when
the caller passes no block driver (the CentOS 5.3 runbook, where the block
driver reaches the initrd through ``mkinitrd --preload``). Every other line,
comment and option is kept as it is. Lines are parsed with the shared
``_modprobe`` reader.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.virtops.devices.plugins.module_utils._guest import _modprobe

ALIAS_FILES = ('/etc/modules.conf', '/etc/modprobe.conf')
MODPROBE_D = '/etc/modprobe.d'
INITRAMFS_TOOLS_MODULES = '/etc/initramfs-tools/modules'

# drivers an alias ethN may name that are not paravirtual: left alone
_NOT_A_NIC = ('bonding', 'off', 'null')

_ALIAS = re.compile(r'^(\s*alias\s+)(\S+)(\s+)(\S+)(.*)$', re.S)
_ETH = re.compile(r'^eth\d+$')
_SCSI = re.compile(r'^scsi_hostadapter\d*$')


def _alias_line(raw_lines, name, driver):
    """Return the alias line naming ``driver``, keeping the spacing of a one-line original."""
    if len(raw_lines) == 1:
        match = _ALIAS.match(raw_lines[0])
        if match:
            head, _name, space, _driver, tail = match.groups()
            return head + name + space + driver + tail
    return 'alias %s %s\n' % (name, driver)


def rewrite_aliases(text, nic_driver, block_driver=None, keep_block=False):
    """Return ``text`` with NIC and block-adapter aliases pointing at PV drivers.

    ``keep_block`` keeps every ``alias scsi_hostadapter*`` line as it is: a
    guest that keeps booting from the emulated disk (2.4 kernels with
    kmod-xenpv) must keep the driver it boots from. Lines are read with :func:`_modprobe.parse_modprobe` (continuation lines
    included); lines that change nothing are kept byte for byte.
    """
    physical = text.splitlines(True)
    out = []
    first_scsi = True
    for line in _modprobe.parse_modprobe(text):
        raw = physical[line['first']:line['last'] + 1]
        words = line['words']
        if line['kind'] != 'alias' or len(words) < 2:
            out.extend(raw)
            continue
        name, driver = words[0], words[1]
        if _ETH.match(name) and nic_driver and driver not in _NOT_A_NIC:
            out.extend(raw if driver == nic_driver else [_alias_line(raw, name, nic_driver)])
        elif _SCSI.match(name) and keep_block:
            out.extend(raw)
        elif _SCSI.match(name):
            if block_driver and first_scsi:
                out.extend(raw if words[:2] == ['scsi_hostadapter', block_driver]
                           else [_alias_line(raw, 'scsi_hostadapter', block_driver)])
            first_scsi = False
        else:
            out.extend(raw)
    return ''.join(out)


def alias_drivers(text):
    """Return ``{alias name: driver}`` for the active alias lines of ``text``."""
    return _modprobe.aliases(text)


def has_alias_lines(text):
    """Return True when ``text`` has an ``alias ethN`` or ``alias scsi_hostadapter`` line."""
    return any(_ETH.match(name) or _SCSI.match(name) for name in alias_drivers(text))


def add_nic_aliases(text, interfaces, nic_driver):
    """Return ``text`` with an ``alias ethN <driver>`` line for each interface lacking one.

    Used on 2.4 kernels (RHEL 3), where the alias is how the NIC driver is
    found at boot.
    """
    present = alias_drivers(text)
    missing = [ifname for ifname in interfaces if ifname not in present]
    if not missing:
        return text
    if text and not text.endswith('\n'):
        text += '\n'
    return text + ''.join('alias %s %s\n' % (_modprobe.check_word(ifname), _modprobe.check_word(nic_driver))
                          for ifname in missing)


def add_initramfs_modules(text, modules):
    """Return Debian's ``/etc/initramfs-tools/modules`` text listing ``modules`` once each."""
    present = set()
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith('#'):
            present.add(_modprobe.module_name(stripped.split()[0]))
    missing = [_modprobe.check_word(mod) for mod in modules if _modprobe.module_name(mod) not in present]
    if not missing:
        return text
    if text and not text.endswith('\n'):
        text += '\n'
    return text + ''.join('%s\n' % mod for mod in missing)
