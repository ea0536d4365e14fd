# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Legacy GRUB (``/boot/grub/menu.lst``, ``grub.conf``) boot entries for a
driver switch: a copy of a kernel's entry that boots the new initrd, next
to the untouched original (the CentOS 5.3 runbook), optionally made the
default, with ``root=``/``resume=`` renamed for the new bus.

Also ``/boot/grub/device.map``. GRUB 2 and BLS setups generate their
entries; they are not edited here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import posixpath
import re

from ansible_collections.virtops.devices.plugins.module_utils._guest import _devnames

LEGACY_GRUB_FILES = ('/boot/grub/menu.lst', '/boot/grub/grub.conf', '/etc/grub.conf')

_KEYWORD = re.compile(r'^(\s*)(\S+)(\s*=?\s*)(.*?)(\s*)$', re.S)
_DEFAULT = re.compile(r'^(\s*default)(\s*=?\s*)(\S+)(.*)$', re.S)
_SOURCE_ARG = re.compile(r'(?<!\S)(root|resume)=(\S+)')


def _keyword(line):
    match = _KEYWORD.match(line)
    if not match or line.lstrip().startswith('#'):
        return None, None
    return match.group(2), match.group(4)


def parse_menu(text):
    """Return ``(header_lines, entries)``; each entry is the list of its lines, ``title`` first."""
    header, entries = [], []
    for line in text.splitlines(True):
        keyword, _value = _keyword(line)
        if keyword == 'title':
            entries.append([line])
        elif entries:
            entries[-1].append(line)
        else:
            header.append(line)
    return header, entries


def entry_value(entry, keyword):
    """Return the value of the first ``keyword`` line of an entry, else None."""
    for line in entry:
        key, value = _keyword(line)
        if key == keyword:
            return value
    return None


def entry_kernel_path(entry):
    """Return the kernel image path of an entry (the ``kernel`` line's first word)."""
    value = entry_value(entry, 'kernel')
    return value.split()[0] if value else None


def find_kernel_entry(entries, kver, skip_initrd=None):
    """Return the index of the first entry booting ``vmlinuz-<kver>``, else None.

    Entries whose initrd is named ``skip_initrd`` (our own copies) are skipped.
    """
    for index, entry in enumerate(entries):
        path = entry_kernel_path(entry)
        if not path or posixpath.basename(path) != 'vmlinuz-%s' % kver:
            continue
        initrd = entry_value(entry, 'initrd')
        if skip_initrd and initrd and posixpath.basename(initrd.split()[0]) == skip_initrd:
            continue
        return index
    return None


def find_initrd_entry(entries, initrd_name):
    """Return the index of the entry whose initrd file is named ``initrd_name``, else None."""
    for index, entry in enumerate(entries):
        initrd = entry_value(entry, 'initrd')
        if initrd and posixpath.basename(initrd.split()[0]) == initrd_name:
            return index
    return None


def rename_kernel_sources(args, rename):
    """Return kernel arguments with ``root=``/``resume=`` values passed through ``rename``.

    ``rename(value)`` returns the new value (or the same). Other arguments and
    the spacing between them are kept.
    """
    def _sub(match):
        return '%s=%s' % (match.group(1), rename(match.group(2)))
    return _SOURCE_ARG.sub(_sub, args)


def _with_value(line, keyword, new_value):
    match = _KEYWORD.match(line)
    lead, _key, sep, _value, trail = match.groups()
    return '%s%s%s%s%s' % (lead, keyword, sep, new_value, trail)


def clone_entry(entry, new_initrd_name, title_suffix, rename):
    """Return a copy of ``entry`` booting ``new_initrd_name`` (same directory as the old initrd)."""
    out = []
    for line in entry:
        key, value = _keyword(line)
        if key == 'title':
            out.append(_with_value(line, key, value + title_suffix))
        elif key == 'initrd':
            old = value.split()[0]
            out.append(_with_value(line, key, posixpath.join(posixpath.dirname(old), new_initrd_name)))
        elif key in ('kernel', 'module') and value:
            out.append(_with_value(line, key, rename_kernel_sources(value, rename)))
        else:
            out.append(line)
    return _trim_blank_tail(out)


def _trim_blank_tail(lines):
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def default_index(header):
    """Return the ``default`` entry index of the header (0 when absent or ``saved``)."""
    for line in header:
        match = _DEFAULT.match(line)
        if match and not line.lstrip().startswith('#'):
            try:
                return int(match.group(3))
            except ValueError:
                return 0
    return 0


def with_default(header, index):
    """Return header lines with ``default`` set to ``index``."""
    out, done = [], False
    for line in header:
        match = _DEFAULT.match(line)
        if match and not done and not line.lstrip().startswith('#'):
            out.append('%s%s%d%s' % (match.group(1), match.group(2), index, match.group(4)))
            done = True
        else:
            out.append(line)
    if not done:
        out.insert(0, 'default=%d\n' % index)
    return out


def plan_boot_entry(text, kver, new_initrd_name, mode, rename, title_suffix):
    """Return ``(new_text, problem)`` for the boot entry of ``kver`` booting the new initrd.

    ``mode`` is ``add`` (a copy of the kernel's entry, appended, booting
    ``new_initrd_name``; the original untouched) or ``default`` (also the
    default entry). An existing copy (found by its initrd name) is kept and
    only its ``root=``/``resume=`` brought up to date, so a second run
    changes nothing.
    """
    header, entries = parse_menu(text)
    ours = find_initrd_entry(entries, new_initrd_name)
    if ours is None:
        original = find_kernel_entry(entries, kver, skip_initrd=new_initrd_name)
        if original is None:
            return text, 'no boot entry boots vmlinuz-%s; add one for this kernel first' % kver
        if entries and entries[-1] and not entries[-1][-1].endswith('\n'):
            entries[-1][-1] += '\n'
        entries.append(clone_entry(entries[original], new_initrd_name, title_suffix, rename))
        ours = len(entries) - 1
    else:
        updated = []
        for line in entries[ours]:
            key, value = _keyword(line)
            if key in ('kernel', 'module') and value:
                line = _with_value(line, key, rename_kernel_sources(value, rename))
            updated.append(line)
        entries[ours] = updated
    if mode == 'default':
        header = with_default(header, ours)
    return ''.join(header) + ''.join(''.join(entry) for entry in entries), None


def rewrite_device_map(text, target, disk_map=None):
    """Return ``device.map`` text with emulated disk names renamed for ``target``."""
    out = []
    for line in text.splitlines(True):
        fields = line.split()
        if len(fields) >= 2 and not line.lstrip().startswith('#'):
            new = _devnames.remap_device_name(fields[1], target, disk_map)
            if new != fields[1]:
                line = line.replace(fields[1], new, 1)
        out.append(line)
    return ''.join(out)
