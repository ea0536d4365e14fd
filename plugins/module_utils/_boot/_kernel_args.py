# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel command-line arguments: split, name, add, remove and replace.

Rules (the same for every boot setup):

* an argument to add that is already present (exactly) is left alone, and
  extra exact copies of it are dropped;
* an argument ``name=value`` to add replaces every other value of ``name``
  (``intel_iommu=off`` becomes ``intel_iommu=on``), except for names the
  kernel accepts several times (``console=``...), which are only appended;
* an argument to remove given as ``name=value`` removes exactly that token;
  a bare ``name`` removes ``name`` and ``name=<any value>``;
* arguments after ``--`` belong to init and are never touched; new arguments
  go before it.

Pure standard library.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.virtops.devices.plugins.module_utils._common import _validate

# Names the kernel (or dracut) reads more than once: adding one value must
# not replace the others.
MULTI_VALUED = frozenset([
    'console', 'earlycon', 'rd.lvm.lv', 'rd.luks.uuid', 'rd.md.uuid', 'ip',
    'rd.driver.pre', 'rd.driver.blacklist', 'modprobe.blacklist', 'module_blacklist',
])

# Arguments accepted for compatibility with old runbooks that the kernel
# does not act on.
NO_OP_ARGS = {
    'amd_iommu=on': 'amd_iommu=on is not a value the kernel knows (the AMD IOMMU is on by '
                    'default; valid values are off, force_isolation, ...): it is not written',
}

VENDOR_ARGS = {
    'intel': (['intel_iommu=on'], ['intel_iommu=off']),
    'amd': ([], ['amd_iommu=off']),
    'none': ([], []),
}

_BAD_CHARS = re.compile(r'[\s"\'`$\\;|&<>(){}]')


class WantedArgsError(Exception):
    """The requested arguments cannot be used; the message says what to change."""


def split_args(text):
    """Return the tokens of a command line, honouring double quotes (``a="b c"``)."""
    tokens = []
    current = []
    quoted = False
    started = False
    for char in text or '':
        if char == '"':
            quoted = not quoted
            current.append(char)
            started = True
        elif char.isspace() and not quoted:
            if started:
                tokens.append(''.join(current))
                current = []
                started = False
        else:
            current.append(char)
            started = True
    if started:
        tokens.append(''.join(current))
    return tokens


def join_args(tokens):
    """Return the command line made of ``tokens``."""
    return ' '.join(tokens)


def arg_name(token):
    """Return the name of an argument: ``intel_iommu`` for ``intel_iommu=on``."""
    return token.split('=', 1)[0]


def invalid_args(args):
    """Return the arguments that cannot be written as one kernel argument.

    Spaces, quotes and shell characters are refused: each list item must be
    one plain ``name`` or ``name=value`` token.
    """
    return [arg for arg in args if not arg or arg.startswith('=') or arg == '--'
            or _BAD_CHARS.search(arg)]


def checked_args(args, remove_args):
    """Return ``(args, remove_args)`` with each item checked by :func:`_validate.check_kernel_arg`.

    Raises ``WantedArgsError`` naming the option and item (``args[1]``), the
    value and the grammar.
    """
    try:
        return (_validate.check_list(_validate.check_kernel_arg)('args', list(args)),
                _validate.check_list(_validate.check_kernel_arg)('remove_args', list(remove_args)))
    except _validate.InvalidValue as exc:
        raise WantedArgsError('invalid kernel argument %s' % exc)


def no_op_args(args):
    """Return ``{arg: reason}`` for requested arguments the kernel ignores."""
    return dict((arg, NO_OP_ARGS[arg]) for arg in args if arg in NO_OP_ARGS)


def effective_wanted(args, remove_args, vendor):
    """Return ``(args, remove_args)`` after adding the vendor's and dropping no-ops."""
    vendor_add, vendor_remove = VENDOR_ARGS[vendor]
    wanted = _unique([arg for arg in list(vendor_add) + list(args) if arg not in NO_OP_ARGS])
    remove = _unique([arg for arg in list(vendor_remove) + list(remove_args)
                      if arg not in wanted])
    return wanted, remove


def conflicting_requests(args, remove_args):
    """Return arguments both asked for and asked away (``a=1`` and ``a`` / ``a=1``),
    or asked for with two values of a name that takes one (``a=1`` and ``a=2``)."""
    conflicts = []
    for index, arg in enumerate(args):
        name = arg_name(arg)
        if name in MULTI_VALUED:
            continue
        for other in args[index + 1:]:
            if arg_name(other) == name and other != arg:
                conflicts.extend([arg, other])
    for arg in args:
        for rem in remove_args:
            if rem == arg or ('=' not in rem and rem == arg_name(arg)):
                conflicts.append(arg)
    return _unique(conflicts)


def wanted_args(args, remove_args, vendor, cpuinfo_text=None):
    """Validate the requested arguments; return ``(args, remove_args, warnings)``.

    ``vendor`` is ``intel``, ``amd``, ``none`` or ``auto`` (then read from
    ``cpuinfo_text``, the text of ``/proc/cpuinfo``). Raises ``WantedArgsError``.
    An argument both asked for and asked away is an error (checked before the
    vendor's removals are filtered, so a removal is never silently dropped).
    Only no-op arguments (``amd_iommu=on``) and nothing else: no error, empty
    lists and the warning.
    """
    args, remove_args = checked_args(args, remove_args)
    bad = invalid_args(list(args) + list(remove_args))
    if bad:
        raise WantedArgsError('invalid kernel argument(s) %s: give one plain name or name=value per '
                              'list item, without spaces, quotes or shell characters' % ', '.join(
                                  repr(arg) for arg in bad))
    if vendor == 'auto':
        vendor = cpu_vendor(cpuinfo_text)
        if vendor is None:
            raise WantedArgsError('vendor=auto: the CPU vendor in /proc/cpuinfo is neither Intel nor '
                                  'AMD; set vendor to intel, amd or none')
    vendor_add, vendor_remove = VENDOR_ARGS[vendor]
    conflicts = conflicting_requests(_unique(list(vendor_add) + list(args)),
                                     _unique(list(vendor_remove) + list(remove_args)))
    wanted, remove = effective_wanted(args, remove_args, vendor)
    if conflicts:
        raise WantedArgsError('kernel argument(s) %s are both wanted and removed (or wanted with two '
                              'values); fix args, remove_args or vendor' % ', '.join(conflicts))
    warnings = ['%s' % reason for reason in no_op_args(args).values()]
    if not wanted and not remove and not warnings:
        raise WantedArgsError('nothing to do: give args, remove_args or a vendor')
    return wanted, remove, warnings


def cpu_vendor(cpuinfo_text):
    """Return ``intel``, ``amd`` or ``None`` from the text of ``/proc/cpuinfo``."""
    match = re.search(r'^vendor_id\s*:\s*(\S+)', cpuinfo_text or '', re.M)
    if not match:
        return None
    return {'GenuineIntel': 'intel', 'AuthenticAMD': 'amd', 'HygonGenuine': 'amd',
            'CentaurHauls': 'intel'}.get(match.group(1))


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def is_removed_by(token, remove_args):
    """Return True when ``remove_args`` ask ``token`` away."""
    for rem in remove_args:
        if '=' in rem:
            if token == rem:
                return True
        elif arg_name(token) == rem:
            return True
    return False


def is_replaced_by(token, args):
    """Return True when a wanted arg sets another value of ``token``'s (single-valued) name."""
    name = arg_name(token)
    if name in MULTI_VALUED:
        return False
    return any(arg_name(arg) == name and arg != token for arg in args)


def args_after(tokens, args, remove_args):
    """Return the token list ``tokens`` becomes with ``args`` present and ``remove_args`` gone."""
    if '--' in tokens:
        index = tokens.index('--')
        head, tail = tokens[:index], tokens[index:]
    else:
        head, tail = list(tokens), []
    kept = []
    for token in head:
        if is_removed_by(token, remove_args) or is_replaced_by(token, args):
            continue
        if token in args and token in kept:
            continue
        kept.append(token)
    for arg in args:
        if arg not in kept:
            kept.append(arg)
    return kept + tail


def args_missing(tokens, args):
    """Return the wanted ``args`` not present in ``tokens``."""
    return [arg for arg in args if arg not in tokens]


def args_to_remove(tokens, args, remove_args):
    """Return the tokens of ``tokens`` that are asked away or replaced by a wanted value."""
    if '--' in tokens:
        tokens = tokens[:tokens.index('--')]
    return [token for token in tokens
            if is_removed_by(token, remove_args) or is_replaced_by(token, args)]


def args_differ(tokens, args, remove_args):
    """Return True when ``tokens`` lack a wanted arg or hold one to remove or replace.

    Extra exact copies of a wanted arg do not count: they do no harm, and a
    tool such as grubby would not remove them.
    """
    if '--' in tokens:
        tokens = tokens[:tokens.index('--')]
    return bool(args_missing(tokens, args) or args_to_remove(tokens, args, remove_args))


def reboot_required(running_tokens, args, remove_args):
    """Return True when the running command line (``/proc/cmdline``) differs from what is wanted."""
    return args_differ(running_tokens, args, remove_args)
