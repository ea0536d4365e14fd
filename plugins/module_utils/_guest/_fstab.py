# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""/etc/fstab (and boot ``root=``/``resume=`` values) when disks change bus.

Modes, chosen by the caller:

``device``
    name every filesystem by its new paravirtual device (``/dev/hda1`` ->
    ``/dev/xvda1``); a ``LABEL=``/``UUID=`` line whose device is known is
    commented out and followed by a device line, as the CentOS 5.3 runbook
    does while the emulated and the PV disk are both visible.
``uuid`` / ``label``
    name filesystems by ``UUID=``/``LABEL=``; a commented ``LABEL=``/``UUID=``
    twin left by the ``device`` mode is restored and the device line commented
    out (the runbook's state after the second initrd pass).
``keep``
    change nothing.

Comments, blank lines, options, and lines that are not about disks (tmpfs,
proc, nfs, bind mounts, swap files) are never changed; whitespace between
fields is kept (column alignment is preserved where the new name fits).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.virtops.devices.plugins.module_utils._guest import _devnames

FSTAB_MODES = ('uuid', 'label', 'device', 'keep')

_FIRST_FIELD = re.compile(r'^(\s*)(\S+)([ \t]+)(.*)$', re.S)
_BUS_LINK = re.compile(r'^/dev/disk/by-(id|path)/')
_ID_KEYS = {'uuid': 'UUID', 'label': 'LABEL'}
_NOT_A_FIELD = re.compile(r'[\s"\'\\\x00-\x1f\x7f]')


def check_field(value):
    """Return ``value`` when it can be written as one fstab/crypttab field, else raise ``ValueError``.

    A last line of defence: callers validate option values first
    (:mod:`_validate`), but nothing that would split a line or add one is
    ever written, whatever the caller forgot.
    """
    if not value or _NOT_A_FIELD.search(value) or value.startswith('#'):
        raise ValueError('refusing to write %r as an fstab field: empty, or holds whitespace, a quote, '
                         'a backslash or a control character' % (value,))
    return value


def parse_blkid_export(text):
    """Return ``[{'device', 'uuid', 'label', 'type'}]`` from ``blkid -o export`` output."""
    found, current = [], {}
    for line in (text or '').splitlines() + ['']:
        line = line.strip()
        if not line:
            if current.get('DEVNAME'):
                found.append({'device': current['DEVNAME'], 'uuid': current.get('UUID'),
                              'label': current.get('LABEL'), 'type': current.get('TYPE')})
            current = {}
            continue
        key, _sep, value = line.partition('=')
        current[key] = value
    return found


def id_of_device(filesystems, device, mode, target, disk_map=None):
    """Return the ``uuid``/``label`` value known for ``device`` (old or new name), else None."""
    names = set([device, _devnames.remap_device_name(device, target, disk_map)])
    for entry in filesystems or []:
        dev = entry.get('device')
        if not dev:
            continue
        if dev in names or _devnames.remap_device_name(dev, target, disk_map) in names:
            if entry.get(mode):
                return entry[mode]
    return None


def device_of_id(filesystems, spec):
    """Return the device known to carry ``LABEL=x``/``UUID=x``, else None."""
    key, _sep, value = spec.partition('=')
    key = key.lower()
    if key not in _ID_KEYS or not value:
        return None
    for entry in filesystems or []:
        if entry.get(key) == value and entry.get('device'):
            return entry['device']
    return None


def rename_source(spec, mode, target, filesystems=None, disk_map=None):
    """Return the new name of a filesystem source (fstab field 1 or a ``root=`` value).

    Returns None when the mode needs an identifier that is not known.
    ``LABEL=``/``UUID=`` values, and names that are not disks, are returned
    unchanged in every mode.
    """
    if mode == 'keep' or '=' in spec or not spec.startswith('/dev/'):
        return spec
    if _devnames.parse_device_name(spec) is None:
        return spec
    if mode == 'device':
        return _devnames.remap_device_name(spec, target, disk_map)
    value = id_of_device(filesystems, spec, mode, target, disk_map)
    if value is None:
        return None
    return '%s=%s' % (_ID_KEYS[mode], value)


def replace_first_field(line, new):
    """Return ``line`` with its first field replaced, keeping the column of the second."""
    check_field(new)
    match = _FIRST_FIELD.match(line)
    lead, old, space, rest = match.groups()
    if space.strip(' ') == '' and len(old) + len(space) > len(new):
        space = ' ' * (len(old) + len(space) - len(new))
    elif space.strip(' ') == '':
        space = ' '
    return lead + new + space + rest


def _fields(line):
    stripped = line.strip()
    if not stripped or stripped.startswith('#'):
        return None
    return stripped.split()


def _commented_twin(previous, mountpoint, mode):
    """Return True when ``previous`` is ``#<KEY>=... <mountpoint> ...`` for this mode."""
    if previous is None or not previous.lstrip().startswith('#'):
        return False
    fields = previous.lstrip()[1:].split()
    if len(fields) < 2 or fields[1] != mountpoint:
        return False
    return fields[0].startswith(_ID_KEYS[mode] + '=')


def rewrite_fstab(text, mode, target, filesystems=None, disk_map=None, links=None):
    """Return ``(new_text, problems, notes)`` for ``/etc/fstab``.

    ``links`` maps ``/dev/disk/by-id|by-path/...`` names to the device they
    point at today (resolved by the caller); a by-id/by-path name that is
    not resolved is a problem: it names the old bus and will not exist.
    ``problems`` are entries that cannot be written in this mode (the caller
    fails); ``notes`` are entries kept on purpose that the operator should know.
    """
    if mode == 'keep':
        return text, [], []
    out, problems, notes = [], [], []
    lines = text.splitlines(True)
    for number, line in enumerate(lines, 1):
        fields = _fields(line)
        if fields is None or len(fields) < 2:
            out.append(line)
            continue
        spec, mountpoint = fields[0], fields[1]
        source = spec
        if _BUS_LINK.match(spec):
            source = (links or {}).get(spec)
            if source is None:
                problems.append('fstab line %d: %s names a device on the old bus and will not exist '
                                'after the switch; use UUID= or LABEL= for %s'
                                % (number, spec, mountpoint))
                out.append(line)
                continue
        if '=' in source and mode == 'device':
            device = device_of_id(filesystems, source)
            if device is None:
                notes.append('fstab line %d: %s kept for %s (its device is not known)'
                             % (number, spec, mountpoint))
                out.append(line)
                continue
            new_line = replace_first_field(line, _devnames.remap_device_name(device, target, disk_map))
            out.append(_comment(line))
            out.append(new_line if new_line.endswith('\n') or not line.endswith('\n') else new_line + '\n')
            continue
        if mode in _ID_KEYS and _devnames.parse_device_name(source) is not None \
                and out and _commented_twin(out[-1], mountpoint, mode):
            out[-1] = _uncomment(out[-1])
            out.append(_comment(line))
            continue
        new = rename_source(source, mode, target, filesystems, disk_map)
        if new is None:
            problems.append('fstab line %d: no %s known for %s (%s); give it in filesystems or use fstab=device'
                            % (number, _ID_KEYS[mode], source, mountpoint))
            out.append(line)
            continue
        out.append(line if new == spec else replace_first_field(line, new))
    return ''.join(out), problems, notes


def _comment(line):
    return '#' + line


def _uncomment(line):
    stripped = line.lstrip()
    return line[:len(line) - len(stripped)] + stripped[1:]


def fstab_entries(text):
    """Return ``[(source, mountpoint, fstype)]`` of the active fstab lines."""
    entries = []
    for line in text.splitlines():
        fields = _fields(line)
        if fields and len(fields) >= 3:
            entries.append((fields[0], fields[1], fields[2]))
    return entries


def bus_links(text):
    """Return the ``/dev/disk/by-id|by-path`` names used by active fstab lines."""
    return [source for source, _mp, _type in fstab_entries(text) if _BUS_LINK.match(source)]


def rewrite_crypttab(text, mode, target, filesystems=None, disk_map=None):
    """Return ``(new_text, problems)`` for ``/etc/crypttab``: the source device (field 2) renamed.

    Only names of disks change; ``UUID=``, ``/dev/mapper`` and others stay.
    """
    if mode == 'keep':
        return text, []
    out, problems = [], []
    for number, line in enumerate(text.splitlines(True), 1):
        fields = _fields(line)
        if fields is None or len(fields) < 2:
            out.append(line)
            continue
        new = rename_source(fields[1], mode, target, filesystems, disk_map)
        if new is None:
            problems.append('crypttab line %d: no %s known for %s (%s); give it in filesystems'
                            % (number, _ID_KEYS[mode], fields[1], fields[0]))
            new = fields[1]
        if new == fields[1]:
            out.append(line)
            continue
        check_field(new)
        match = re.match(r'^(\s*\S+\s+)(\S+)(.*)$', line, re.S)
        out.append(match.group(1) + new + match.group(3))
    return ''.join(out), problems


def emulated_boot_sources(text):
    """Return the ``root=``/``resume=`` values naming emulated disks in a boot config (grub.cfg, BLS)."""
    found = []
    for match in re.finditer(r'(?<![^\s"\'])(?:root|resume)=(/dev/[^\s"\']+)', text or ''):
        value = match.group(1)
        parsed = _devnames.parse_device_name(value)
        if parsed and parsed[0] in ('hd', 'sd', 'cciss', 'nvme') and value not in found:
            found.append(value)
    return found
