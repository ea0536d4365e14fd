# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""xm/xl domain configuration files (``/etc/xen/<guest>``) for a guest moving to
Xen PV drivers: ``disk =`` entries to ``tap:aio:`` and ``xvd*`` names (with
the runbook's dual ``hda`` + ``xvda`` mapping marked ``w!`` during the
transition), ``type=ioemu`` dropped from ``vif =``.

Only the ``disk``/``vif`` assignments are rewritten; every other line,
comment and the layout of untouched assignments stay as they are.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import re

from ansible_collections.virtops.devices.plugins.module_utils._guest import _devnames
from ansible_collections.virtops.devices.plugins.module_utils._common import _validate as v

DISK_MODES = ('dual', 'pv', 'keep')
_NAME = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*')


class XenConfigError(Exception):
    pass


def _disk_map(option, value):
    return v.check_mapping(
        option, value,
        lambda opt, key: v.check_disk_name(opt, key, families=('hd', 'sd')),
        lambda opt, item: v.check_disk_name(opt, item, families=('xvd',)))


def config_rules():
    """Return the :func:`_validate.check_params` rules of ``xen_domain_config``."""
    return [('path', v.check_tree_path), ('disk_map', _disk_map)]


def assignments(text):
    """Return ``[(name, start, end, value_text)]`` for the top-level assignments of a config.

    ``start``/``end`` are character offsets of the whole statement (end
    includes the newline); lists may span several lines.
    """
    found = []
    pos = 0
    length = len(text)
    while pos < length:
        line_end = text.find('\n', pos)
        line_end = length if line_end == -1 else line_end + 1
        match = _NAME.match(text[pos:line_end])
        if not match:
            pos = line_end
            continue
        value_start = pos + match.end()
        end = _statement_end(text, value_start)
        found.append((match.group(1), pos, end, text[value_start:end].rstrip('\n')))
        pos = end
    return found


def _statement_end(text, pos):
    depth, quote = 0, None
    while pos < len(text):
        char = text[pos]
        if quote:
            if char == '\\':
                pos += 1
            elif char == quote:
                quote = None
        elif char in '\'"':
            quote = char
        elif char in '[(':
            depth += 1
        elif char in '])':
            depth -= 1
        elif char == '#':
            newline = text.find('\n', pos)
            if depth <= 0:
                return len(text) if newline == -1 else newline + 1
            pos = len(text) if newline == -1 else newline
            continue
        elif char == '\n' and depth <= 0:
            return pos + 1
        pos += 1
    return len(text)


def list_value(value_text, name):
    """Return the list of strings of an assignment value."""
    code = re.sub(r'#[^\n]*', '', value_text)
    try:
        value = ast.literal_eval(code.strip())
    except (ValueError, SyntaxError):
        raise XenConfigError('%s = ... is not a list of strings: %s' % (name, value_text.strip()))
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise XenConfigError('%s = ... is not a list of strings: %s' % (name, value_text.strip()))
    return list(value)


def parse_disk(spec):
    """Return a dict for a disk spec: ``form`` (``positional``/``keyvalue``), ``backend``,
    ``path``, ``vdev``, ``cdrom``, ``access``, and ``parts`` for key=value specs."""
    parts = [p.strip() for p in spec.split(',')]
    if any(p.startswith('vdev=') for p in parts):
        keyed = [p.partition('=') for p in parts]
        values = dict((k, v) for k, _s, v in keyed)
        return {'form': 'keyvalue', 'parts': parts, 'vdev': values.get('vdev', ''),
                'path': values.get('target', ''), 'access': values.get('access', 'rw'),
                'cdrom': values.get('devtype') == 'cdrom' or 'cdrom' in parts, 'backend': ''}
    if len(parts) != 3:
        raise XenConfigError('disk entry %r is not "<backend:path>,<vdev>,<access>" nor key=value' % spec)
    target, vdev, access = parts
    backend, path = _split_backend(target)
    cdrom = vdev.endswith(':cdrom')
    return {'form': 'positional', 'backend': backend, 'path': path, 'vdev': vdev.split(':')[0],
            'cdrom': cdrom, 'access': access}


def _split_backend(target):
    for prefix in ('tap:aio:', 'tap:qcow:', 'tap2:aio:', 'tap:', 'file:', 'phy:'):
        if target.startswith(prefix):
            return prefix, target[len(prefix):]
    return '', target


def format_disk(disk):
    if disk['form'] == 'keyvalue':
        parts = []
        for part in disk['parts']:
            key = part.partition('=')[0]
            parts.append('vdev=%s' % disk['vdev'] if key == 'vdev' else part)
        return ', '.join(parts)
    vdev = disk['vdev'] + (':cdrom' if disk['cdrom'] else '')
    return '%s%s,%s,%s' % (disk['backend'], disk['path'], vdev, disk['access'])


def _emulated(vdev):
    return _devnames.is_emulated_device('/dev/' + vdev)


def _pv_vdev(vdev, disk_map):
    new = _devnames.remap_device_name('/dev/' + vdev, 'xen', disk_map)[len('/dev/'):]
    # the twin's name is written into the config: never anything but an xvd disk or partition name
    if not re.match(r'^xvd[a-z]{1,4}[0-9]{0,3}\Z', new):
        raise XenConfigError('the PV name of %s would be %r, not an xvd name' % (vdev, new))
    return new


def _shared(access):
    return access + '!' if access.startswith('w') and not access.endswith('!') else access


def rewrite_disks(specs, mode, file_backend='tap:aio:', disk_map=None):
    """Return the new ``disk =`` list.

    ``dual``: each emulated disk keeps its entry (the HVM BIOS boots from it)
    and gets a PV twin on the same image, both ``w!`` so the block script's
    sharing check lets them be; ``pv``: the emulated entry becomes the PV one
    (dropped when a twin exists). ``file:`` backends become ``file_backend``
    (``tap:aio:`` as in the runbooks) on the entries touched. CD-ROMs and
    entries already on ``xvd*`` are kept.
    """
    if mode == 'keep':
        return list(specs)
    disks = [parse_disk(spec) for spec in specs]
    pv_paths = set(d['path'] for d in disks if not d['cdrom'] and not _emulated(d['vdev']))
    out = []
    for disk in disks:
        if disk['cdrom'] or not _emulated(disk['vdev']):
            out.append(disk)
            continue
        if file_backend and disk['backend'] == 'file:':
            disk = dict(disk, backend=file_backend)
        if mode == 'dual':
            if disk['form'] == 'positional':
                disk = dict(disk, access=_shared(disk['access']))
            out.append(disk)
            if disk['path'] not in pv_paths:
                out.append(dict(disk, vdev=_pv_vdev(disk['vdev'], disk_map)))
                pv_paths.add(disk['path'])
        elif disk['path'] not in pv_paths:
            out.append(dict(disk, vdev=_pv_vdev(disk['vdev'], disk_map)))
            pv_paths.add(disk['path'])
    return [format_disk(d) for d in out]


def rewrite_vif(specs):
    """Return the ``vif =`` list without ``type=ioemu`` (and the emulated ``model=``)."""
    out = []
    for spec in specs:
        parts = [p.strip() for p in spec.split(',')]
        kept = [p for p in parts if p.replace(' ', '') != 'type=ioemu' and not p.startswith('model=')]
        out.append(', '.join(kept) if kept != parts else spec)
    return out


def render_list(name, values, quote='"'):
    """Return ``name = [ "a",\\n         "b" ]`` text; a value that would end its string is refused."""
    for value in values:
        if quote in value or '\\' in value or '\n' in value or '\r' in value:
            raise XenConfigError('%s entry %r cannot be written between %s quotes' % (name, value, quote))
    items = ['%s%s%s' % (quote, value, quote) for value in values]
    indent = ' ' * (len(name) + 5)
    return '%s = [ %s ]\n' % (name, (',\n' + indent).join(items))


def _quote_of(value_text):
    match = re.search(r'[\'"]', value_text)
    return match.group(0) if match else '"'


def rewrite_config(text, disk_mode='dual', vif=True, file_backend='tap:aio:', disk_map=None):
    """Return ``(new_text, changes)`` for an xm/xl config file; ``changes`` names what moved."""
    out, last, changes = [], 0, []
    for name, start, end, value in assignments(text):
        if name not in ('disk', 'vif'):
            continue
        specs = list_value(value, name)
        if name == 'disk':
            new = rewrite_disks(specs, disk_mode, file_backend, disk_map)
        else:
            new = rewrite_vif(specs) if vif else specs
        if new == specs:
            continue
        changes.append({'name': name, 'before': specs, 'after': new})
        out.append(text[last:start])
        out.append(render_list(name, new, _quote_of(value)))
        last = end
    out.append(text[last:])
    return ''.join(out), changes


def config_lists(text):
    """Return ``{name: [strings]}`` for the ``disk`` and ``vif`` assignments of a config."""
    return dict((name, list_value(value, name)) for name, _s, _e, value in assignments(text)
                if name in ('disk', 'vif'))
