# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GRUB files: ``/etc/default/grub`` (and its drop-ins), generated ``grub.cfg``,
BLS entries with ``grubenv``, and legacy ``menu.lst``/``grub.conf``.

Parsing and rewriting only; pure standard library. Argument rules are in
``_kernel_args``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.virtops.devices.plugins.module_utils._boot import _kernel_args as ka

CMDLINE_VARS = ('GRUB_CMDLINE_LINUX', 'GRUB_CMDLINE_LINUX_DEFAULT')

_ASSIGNMENT = re.compile(r'^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)=(.*)$')
_REFERENCE = re.compile(r'\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))')


# --------------------------------------------------------------------------
# /etc/default/grub and /etc/default/grub.d/*.cfg (shell assignments)

def _closing_quote(text, start, quote):
    """Return the index of the quote closing a value opened at ``start`` (or -1)."""
    index = start
    while index < len(text):
        char = text[index]
        if quote == '"' and char == '\\':
            index += 2
            continue
        if char == quote:
            return index
        index += 1
    return -1


def shell_assignments(text):
    """Return every ``NAME=value`` assignment of a shell-style config file.

    Each is a dict: ``start``/``end`` (line indexes, ``end`` inclusive; a
    double-quoted value may span lines), ``prefix`` (indent, ``export``),
    ``name``, ``quote`` (``"``, ``'`` or ``''``), ``value`` (unquoted text,
    references such as ``$GRUB_CMDLINE_LINUX`` kept) and ``suffix`` (what
    follows the closing quote, e.g. a comment).
    """
    lines = text.splitlines(True)
    found = []
    index = 0
    while index < len(lines):
        match = _ASSIGNMENT.match(lines[index].rstrip('\n'))
        if not match:
            index += 1
            continue
        prefix, name, rest = match.groups()
        start = index
        if rest[:1] in ('"', "'"):
            quote = rest[0]
            body = rest[1:]
            close = _closing_quote(body, 0, quote)
            while close < 0 and index + 1 < len(lines):
                index += 1
                body += '\n' + lines[index].rstrip('\n')
                close = _closing_quote(body, 0, quote)
            if close < 0:
                raise ValueError('unterminated %s quote in the value of %s (line %d)'
                                 % (quote, name, start + 1))
            value, suffix = body[:close], body[close + 1:]
            if quote == '"':
                value = re.sub(r'\\(["\\$`])', r'\1', value)
        else:
            quote = ''
            parts = re.match(r'^(\S*)(.*)$', rest)
            value, suffix = parts.group(1), parts.group(2)
        found.append({'start': start, 'end': index, 'prefix': prefix, 'name': name,
                      'quote': quote, 'value': value, 'suffix': suffix})
        index += 1
    return found


def expand_references(value, env):
    """Return ``value`` with ``$NAME``/``${NAME}`` replaced from ``env`` (unset: empty)."""
    return _REFERENCE.sub(lambda m: env.get(m.group(1) or m.group(2), ''), value)


def evaluate_assignments(texts, env=None):
    """Return the variables set by sourcing ``texts`` in order (like grub-mkconfig does)."""
    env = dict(env or {})
    for text in texts:
        for item in shell_assignments(text):
            if item['quote'] == "'":
                env[item['name']] = item['value']
            else:
                env[item['name']] = expand_references(item['value'], env)
    return env


def effective_cmdline(texts, name='GRUB_CMDLINE_LINUX'):
    """Return the tokens of ``name`` after sourcing ``texts`` in order."""
    return ka.split_args(evaluate_assignments(texts).get(name, ''))


def _quote_value(value, quote):
    if quote == "'" and "'" not in value:
        return "'%s'" % value
    return '"%s"' % re.sub(r'(["\\`])', r'\\\1', value)


def _replace_assignment(lines, item, new_value):
    new_line = '%s%s=%s%s\n' % (item['prefix'], item['name'],
                                _quote_value(new_value, item['quote']), item['suffix'])
    lines[item['start']:item['end'] + 1] = [new_line]


def tokens_kept(tokens, args, remove_args, drop_wanted=False):
    """Return ``tokens`` without removed or replaced args, each wanted arg once.

    Tokens that are shell references (``$GRUB_CMDLINE_LINUX``) are always kept.
    With ``drop_wanted`` exact copies of wanted args are dropped too (they are
    kept in ``GRUB_CMDLINE_LINUX`` instead, so recovery entries get them).
    """
    kept = []
    for token in tokens:
        if token.startswith('$'):
            kept.append(token)
            continue
        if drop_wanted and token in args:
            continue
        if token in args and token in kept:
            continue
        if ka.is_removed_by(token, remove_args) or ka.is_replaced_by(token, args):
            continue
        kept.append(token)
    return kept


def default_grub_with_args(text, args, remove_args, add=True, base_env=None):
    """Return ``text`` (``/etc/default/grub`` or a drop-in) with the args rules applied.

    Removed and replaced args go from every ``GRUB_CMDLINE_LINUX`` and
    ``GRUB_CMDLINE_LINUX_DEFAULT`` assignment; wanted args present in
    ``..._DEFAULT`` move to ``GRUB_CMDLINE_LINUX``. With ``add`` the wanted
    args missing from the resulting ``GRUB_CMDLINE_LINUX`` are appended to its
    last assignment (or a new line is added at the end).
    """
    lines = text.splitlines(True)
    if lines and not lines[-1].endswith('\n'):
        lines[-1] += '\n'
    items = shell_assignments(text)
    # Work from the bottom so line numbers above stay valid.
    for item in reversed(items):
        if item['name'] not in CMDLINE_VARS or item['quote'] == "'" and '$' in item['value']:
            continue
        tokens = ka.split_args(item['value'])
        kept = tokens_kept(tokens, args, remove_args,
                           drop_wanted=item['name'] == 'GRUB_CMDLINE_LINUX_DEFAULT')
        if kept != tokens:
            _replace_assignment(lines, item, ka.join_args(kept))
    new_text = ''.join(lines)
    if not add:
        return new_text
    current = effective_cmdline([new_text], 'GRUB_CMDLINE_LINUX') if base_env is None else \
        ka.split_args(evaluate_assignments([new_text], base_env).get('GRUB_CMDLINE_LINUX', ''))
    missing = ka.args_missing(current, args)
    if not missing:
        return new_text
    linux_items = [item for item in shell_assignments(new_text) if item['name'] == 'GRUB_CMDLINE_LINUX']
    lines = new_text.splitlines(True)
    if linux_items:
        last = linux_items[-1]
        tokens = ka.split_args(last['value']) + missing
        if last['quote'] == "'":
            last = dict(last, quote='"')
        _replace_assignment(lines, last, ka.join_args(tokens))
    else:
        lines.append('GRUB_CMDLINE_LINUX="%s"\n' % ka.join_args(missing))
    return ''.join(lines)


def dropin_text(missing, owner='virtops.devices.iommu_grub'):
    """Return the text of the drop-in that appends ``missing`` to ``GRUB_CMDLINE_LINUX``."""
    header = '# Managed by %s: kernel arguments for all boot entries.\n' % owner
    if not missing:
        return header + '# Nothing to add: every wanted argument is set elsewhere.\n'
    return header + 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX %s"\n' % ka.join_args(missing)


# --------------------------------------------------------------------------
# generated grub.cfg (grub2-mkconfig / update-grub output)

_MENUENTRY = re.compile(r'''^\s*menuentry\s+(?:'([^']*)'|"([^"]*)"|(\S+))''')
_LINUX_CMD = re.compile(r'^(\s*)(linux|linux16|linuxefi)(\s+)(\S+)(.*)$')


def _is_linux_image(path):
    return 'memtest' not in path.rsplit('/', 1)[-1]


def grub_cfg_entries(text):
    """Return the Linux boot entries of a generated ``grub.cfg``.

    Each is a dict ``title``, ``kernel`` and ``args`` (tokens of the
    ``linux``/``linux16``/``linuxefi`` line after the image). Memory testers
    are not Linux entries and are left out.
    """
    entries = []
    title = None
    for line in text.splitlines():
        menu = _MENUENTRY.match(line)
        if menu:
            title = next(group for group in menu.groups() if group is not None)
            continue
        match = _LINUX_CMD.match(line)
        if match and _is_linux_image(match.group(4)):
            entries.append({'title': title, 'kernel': match.group(4),
                            'args': ka.split_args(match.group(5))})
    return entries


def grub_cfg_is_stub(text):
    """Return True for an EFI ``grub.cfg`` that only loads another config (EL 9+, Fedora 34+, SUSE)."""
    return bool(re.search(r'^\s*configfile\b', text, re.M)) and not _MENUENTRY.search(text) \
        and not re.search(r'^\s*(?:insmod\s+)?blscfg\b', text, re.M)


# --------------------------------------------------------------------------
# BLS entries (/boot/loader/entries/*.conf) and grubenv

def bls_fields(text):
    """Return the ``[(key, value)]`` lines of a BLS entry file (comments skipped)."""
    fields = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith('#'):
            continue
        parts = stripped.split(None, 1)
        fields.append((parts[0], parts[1] if len(parts) > 1 else ''))
    return fields


def grubenv_vars(text):
    """Return the variables of a GRUB environment block (``grubenv``)."""
    env = {}
    for line in (text or '').splitlines():
        if line.startswith('#') or '=' not in line:
            continue
        key, value = line.split('=', 1)
        env[key] = value
    return env


def bls_entry(text, grubenv=None):
    """Return ``title``, ``kernel`` and ``args`` of a BLS entry, ``$var`` taken from ``grubenv``."""
    fields = bls_fields(text)
    first = dict(reversed(fields))
    options = ' '.join(value for key, value in fields if key == 'options')
    expanded = expand_references(options, grubenv or {})
    return {'title': first.get('title'), 'kernel': first.get('linux'),
            'args': ka.split_args(expanded), 'raw_options': options}


# --------------------------------------------------------------------------
# legacy GRUB (menu.lst / grub.conf)

_LEGACY_TITLE = re.compile(r'^\s*title\s+(.*?)\s*$')
_LEGACY_KERNEL = re.compile(r'^(\s*)(kernel|module)(\s+|=)(\S+)(.*)$')


def _is_hypervisor(path):
    return path.rsplit('/', 1)[-1].startswith('xen')


def legacy_linux_lines(text):
    """Return ``[(line_index, title)]`` of the lines that carry a Linux command line.

    That is each entry's ``kernel`` line, or for a Xen entry (``kernel
    /xen.gz``) its first ``module`` line.
    """
    found = []
    title = None
    want_module = False
    for index, line in enumerate(text.splitlines()):
        heading = _LEGACY_TITLE.match(line)
        if heading:
            title = heading.group(1)
            want_module = False
            continue
        match = _LEGACY_KERNEL.match(line)
        if not match or title is None:
            continue
        keyword, image = match.group(2), match.group(4)
        if keyword == 'kernel':
            if _is_hypervisor(image):
                want_module = True
            else:
                found.append((index, title))
        elif want_module:
            found.append((index, title))
            want_module = False
    return found


def legacy_entries(text):
    """Return the Linux entries of a ``menu.lst``/``grub.conf``: ``title``, ``kernel``, ``args``."""
    lines = text.splitlines()
    entries = []
    for index, title in legacy_linux_lines(text):
        match = _LEGACY_KERNEL.match(lines[index])
        entries.append({'title': title, 'kernel': match.group(4),
                        'args': ka.split_args(match.group(5))})
    return entries


def legacy_with_args(text, args, remove_args):
    """Return ``menu.lst``/``grub.conf`` text with every Linux line holding ``args`` and not ``remove_args``."""
    lines = text.splitlines(True)
    for index, _title in legacy_linux_lines(text):
        line = lines[index]
        ending = '\n' if line.endswith('\n') else ''
        match = _LEGACY_KERNEL.match(line.rstrip('\n'))
        tokens = ka.split_args(match.group(5))
        new_tokens = ka.args_after(tokens, args, remove_args)
        if new_tokens != tokens:
            lines[index] = '%s%s%s%s %s%s' % (
                match.group(1), match.group(2), match.group(3), match.group(4),
                ka.join_args(new_tokens), ending)
    return ''.join(lines)


# --------------------------------------------------------------------------
# /etc/kernel/cmdline (kernel-install, EL 9+ / Fedora)

def kernel_cmdline_with_args(text, args, remove_args):
    """Return the text of ``/etc/kernel/cmdline`` with the args rules applied."""
    tokens = ka.split_args(text)
    new_tokens = ka.args_after(tokens, args, remove_args)
    if new_tokens == tokens:
        return text
    return ka.join_args(new_tokens) + '\n'
