# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""modprobe configuration (``/etc/modprobe.d/*.conf``, ``/etc/modprobe.conf``,
``/etc/modules.conf``): parse and rewrite ``options``, ``alias``, ``install``,
``blacklist``, ``softdep`` lines, idempotently.

Every ``with_*``/``without_*`` function takes the text of one file and returns
the new text (the same object when nothing changes); comments, blank lines and
lines it does not own are kept as they are. Module names compare the way
modprobe does (``vfio-pci`` == ``vfio_pci``). Continuation lines (``\\`` at
the end) are read as one line. Pure standard library.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

KINDS = ('options', 'alias', 'install', 'remove', 'blacklist', 'softdep')

_NOT_A_WORD = re.compile(r'[\s\x00-\x1f\x7f#]')


def check_word(value):
    """Return ``value`` when it is one word of a modprobe directive, else raise ``ValueError``.

    Whitespace would add words, a newline a directive, ``#`` a comment: refused
    whatever the caller validated before.
    """
    if not isinstance(value, str) or not value or _NOT_A_WORD.search(value):
        raise ValueError('refusing to write %r into a modprobe file: not one word' % (value,))
    return value


def module_name(name):
    """Return the canonical form of a module name (``-`` and ``_`` are the same)."""
    return name.replace('-', '_')


def parse_modprobe(text):
    """Return the logical lines of a modprobe file.

    Each is a dict: ``first``/``last`` (physical line indexes), ``kind`` (one of
    ``KINDS``, ``comment``, ``blank`` or ``other``), ``words`` (the words after
    the keyword) and ``raw`` (the physical lines joined).
    """
    physical = text.splitlines(True)
    lines = []
    index = 0
    while index < len(physical):
        first = index
        joined = physical[index].rstrip('\n')
        while joined.endswith('\\') and index + 1 < len(physical):
            index += 1
            joined = joined[:-1] + ' ' + physical[index].rstrip('\n')
        stripped = joined.strip()
        words = stripped.split()
        if not stripped:
            kind = 'blank'
        elif stripped.startswith('#'):
            kind = 'comment'
        elif words[0] in KINDS:
            kind = words[0]
        else:
            kind = 'other'
        lines.append({'first': first, 'last': index, 'kind': kind,
                      'words': words[1:] if kind in KINDS else [], 'raw': joined})
        index += 1
    return lines


def module_options(text, module):
    """Return ``{name: value}`` of the ``options <module>`` lines (a later value wins; a bare flag is ``None``)."""
    found = {}
    for line in parse_modprobe(text):
        if line['kind'] == 'options' and line['words'] and \
                module_name(line['words'][0]) == module_name(module):
            for word in line['words'][1:]:
                name, _sep, value = word.partition('=')
                found[name] = value if _sep else None
    return found


def aliases(text):
    """Return ``{alias: module}`` of the file's ``alias`` lines (a later line wins)."""
    found = {}
    for line in parse_modprobe(text):
        if line['kind'] == 'alias' and len(line['words']) >= 2:
            found[line['words'][0]] = line['words'][1]
    return found


def _replace(text, line, new_lines):
    physical = text.splitlines(True)
    physical[line['first']:line['last'] + 1] = [item + '\n' for item in new_lines]
    return ''.join(physical)


def _append(text, new_line):
    if text and not text.endswith('\n'):
        text += '\n'
    return text + new_line + '\n'


def _option_lines(text, module):
    return [line for line in parse_modprobe(text)
            if line['kind'] == 'options' and line['words'] and
            module_name(line['words'][0]) == module_name(module)]


def _sets(word, name):
    return word.partition('=')[0] == name


def with_module_option(text, module, name, value=None):
    """Return ``text`` with ``options <module> name=value`` set exactly once.

    An existing value is changed in place (other copies dropped); otherwise the
    option joins the first ``options <module>`` line, or a new line is added.
    ``value`` ``None`` writes a bare flag.
    """
    check_word(module)
    word = check_word(name if value is None else '%s=%s' % (name, value))
    lines = _option_lines(text, module)
    holders = [line for line in lines if any(_sets(w, name) for w in line['words'][1:])]
    if not holders:
        if lines:
            return _replace(text, lines[0], ['options ' + ' '.join(lines[0]['words'] + [word])])
        return _append(text, 'options %s %s' % (module, word))
    result = text
    for line in reversed(holders):
        words = []
        for item in line['words'][1:]:
            if not _sets(item, name):
                words.append(item)
            elif line is holders[0] and word not in words:
                words.append(word)
        new = ['options ' + ' '.join([line['words'][0]] + words)] if words else []
        if new and new[0].split() == line['raw'].split():
            continue
        result = _replace(result, line, new)
    return result


def without_module_option(text, module, name):
    """Return ``text`` with ``name`` gone from every ``options <module>`` line (empty lines dropped)."""
    result = text
    for line in reversed(parse_modprobe(text)):
        if line['kind'] != 'options' or not line['words'] or \
                module_name(line['words'][0]) != module_name(module):
            continue
        others = [w for w in line['words'][1:] if w.partition('=')[0] != name]
        if len(others) == len(line['words']) - 1:
            continue
        result = _replace(result, line, ['options ' + ' '.join([line['words'][0]] + others)]
                          if others else [])
    return result


def with_alias(text, alias, module):
    """Return ``text`` with exactly one ``alias <alias> <module>`` (other targets replaced)."""
    check_word(alias)
    check_word(module)
    result = text
    placed = False
    for line in reversed(parse_modprobe(text)):
        if line['kind'] == 'alias' and line['words'][:1] == [alias]:
            wanted = 'alias %s %s' % (alias, module)
            if not placed and line['raw'].strip().split() == wanted.split():
                placed = True
                continue
            if not placed:
                result = _replace(result, line, [wanted])
                placed = True
            else:
                result = _replace(result, line, [])
    return result if placed else _append(result, 'alias %s %s' % (alias, module))


def without_alias(text, alias):
    """Return ``text`` without any ``alias <alias> ...`` line."""
    return without_lines(text, lambda line: line['kind'] == 'alias' and line['words'][:1] == [alias])


def with_line(text, line_text):
    """Return ``text`` with the directive ``line_text`` present (compared word by word)."""
    wanted = line_text.split()
    for line in parse_modprobe(text):
        if line['raw'].split() == wanted:
            return text
    return _append(text, ' '.join(wanted))


def without_lines(text, predicate):
    """Return ``text`` without the logical lines for which ``predicate(line)`` is true."""
    result = text
    for line in reversed(parse_modprobe(text)):
        if predicate(line):
            result = _replace(result, line, [])
    return result


def option_settings(texts, module, name):
    """Return ``[(path, value)]`` for each file of ``{path: text}`` that sets ``module``'s option ``name``."""
    found = []
    for path in sorted(texts):
        options = module_options(texts[path], module)
        if name in options:
            found.append((path, options[name]))
    return found
