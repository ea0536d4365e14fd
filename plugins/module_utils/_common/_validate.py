# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One grammar for every value that lands in a boot file or on a command line.

Each ``check_<thing>(option, value)`` returns the value (normalised where
the grammar says so) or raises :class:`InvalidValue`, whose message names
the option, the bad value and what is allowed. Wrong types (a list where a
string is expected, a string where a dict is expected) are refused the same
way. Modules declare their rules as data and run :func:`check_params` before
anything is read or planned.

Decisions:

* filesystem labels are **refused**, not escaped, when they hold whitespace,
  quotes, a backslash or control characters: a label lands both in
  ``/etc/fstab`` (``LABEL=x``, octal escapes) and on kernel command lines
  (``root=LABEL=x``, no common escape). :func:`fstab_escape` exists for
  callers that write other fstab fields (mount points) and need the escapes.
* ``..`` is refused in every path-like value, never normalised away.

Pure standard library.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import posixpath
import re

_STR_TYPES = (str,)

DISK_FAMILIES = ('hd', 'sd', 'xvd', 'vd', 'cciss', 'nvme')

_DISK_RES = {
    'lettered': re.compile(r'^(hd|sd|xvd|vd)[a-z]{1,4}\Z'),
    'cciss': re.compile(r'^cciss/c\d{1,3}d\d{1,3}\Z'),
    'nvme': re.compile(r'^nvme\d{1,3}n\d{1,3}\Z'),
}
_PART_RES = (
    re.compile(r'^(hd|sd|xvd|vd)[a-z]{1,4}[1-9]\d{0,2}\Z'),
    re.compile(r'^cciss/c\d{1,3}d\d{1,3}p[1-9]\d{0,2}\Z'),
    re.compile(r'^nvme\d{1,3}n\d{1,3}p[1-9]\d{0,2}\Z'),
)
_UUID_RES = (
    re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z'),
    re.compile(r'^[0-9a-fA-F]{4}-[0-9a-fA-F]{4}\Z'),       # FAT volume serial
    re.compile(r'^[0-9a-fA-F]{16}\Z'),                      # NTFS volume serial
)
_KVER = re.compile(r'^[0-9][A-Za-z0-9._+~-]{0,63}\Z')
_MODULE = re.compile(r'^[A-Za-z0-9_-]{1,56}\Z')
_KARG_NAME = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.-]*\Z')
_KARG_BAD = re.compile(r'[\s"\'`$;\\|&<>(){}\x00-\x1f\x7f]')
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
_LABEL_BAD = re.compile(r'[\s"\'`\\\x00-\x1f\x7f]')
_XEN_TARGET_BAD = re.compile(r'[\s,\'"=:\\`$;\x00-\x1f\x7f]')
_DEV_NAME_PART = re.compile(r'^[A-Za-z0-9_.+-]+\Z')
_PCI_ID = re.compile(r'^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}\Z')
_DOMAIN = re.compile(r'^[A-Za-z0-9_.+][A-Za-z0-9_.+:@-]{0,127}\Z')

LABEL_MAX_BYTES = 16
KERNEL_ARG_MAX = 1024

DISK_ALLOWED = ("a whole-disk name such as hda, sdb, xvdc, vdd, cciss/c0d1, nvme0n1 "
                "(letters and digits only, no '/' except cciss/, no '..')")
PARTITION_ALLOWED = ("a partition name such as hda1, sdb2, xvdc3, vdd15, cciss/c0d1p2, nvme0n1p3 "
                     "(a whole-disk name and a partition number 1-999)")
UUID_ALLOWED = ("a filesystem UUID: 8-4-4-4-12 hex digits (0b6d7a42-4d3e-4b4e-9d35-6f1c7e1b2a11), "
                "or the FAT (1234-ABCD) or NTFS (16 hex digits) serial form")
LABEL_ALLOWED = ("a filesystem label of 1 to %d bytes (the ext2/3/4 limit) without whitespace, "
                 "quotes, backquote, backslash or control characters" % LABEL_MAX_BYTES)
KVER_ALLOWED = ("a kernel version such as 2.6.18-128.el5, 6.1.0-27-amd64, 2.4.21-4.ELsmp "
                "(starts with a digit; letters, digits and . _ + ~ - only, at most 64 characters, no '..')")
MODULE_ALLOWED = 'a kernel module name: letters, digits, _ and - only (at most 56 characters)'
TREE_PATH_ALLOWED = "an absolute path without '..' components, whitespace at either end or control characters"
KARG_ALLOWED = ("one kernel argument, name or name=value (name: letters, digits, _ . -), without "
                "whitespace, quotes, backquote, backslash, $ ; | & < > ( ) {} or control characters")
PCI_ID_ALLOWED = 'a PCI vendor:device id, four hex digits, a colon, four hex digits (10de:1b80)'
DOMAIN_ALLOWED = ("a domain name of letters, digits and _ . + : @ - (at most 128, not starting with '-'; "
                  "no '/', whitespace or shell characters)")
XEN_TARGET_ALLOWED = ("an absolute path to a disk image or block device without '..' components, "
                      "whitespace, commas, quotes, '=', ':', backslash or control characters")


class InvalidValue(ValueError):
    """A value outside its grammar: ``option``, ``value`` and what is ``allowed``."""

    def __init__(self, option, value, allowed):
        self.option = option
        self.value = value
        self.allowed = allowed
        super(InvalidValue, self).__init__('%s: %r is not allowed: %s' % (option, value, allowed))


def _string(option, value, allowed):
    if not isinstance(value, _STR_TYPES) or isinstance(value, bool):
        raise InvalidValue(option, value, allowed)
    return value


def _strip_dev(option, value, allowed, allow_dev):
    value = _string(option, value, allowed)
    if value.startswith('/dev/'):
        if not allow_dev:
            raise InvalidValue(option, value, allowed + ' (without /dev/)')
        return '/dev/', value[len('/dev/'):]
    return '', value


def disk_family(name):
    """Return the family (``hd``, ``sd``, ``xvd``, ``vd``, ``cciss``, ``nvme``) of a disk or partition name."""
    name = name[len('/dev/'):] if name.startswith('/dev/') else name
    for family in ('xvd', 'vd', 'hd', 'sd', 'cciss', 'nvme'):
        if name.startswith(family):
            return family
    return None


def check_disk_name(option, value, families=None, allow_dev=True):
    """Return ``value`` when it is a whole-disk name (``hda``, ``/dev/xvdb``, ``cciss/c0d1``, ``nvme0n1``).

    ``families`` limits the accepted families (e.g. ``('xvd',)``); ``allow_dev``
    accepts a leading ``/dev/``. The value comes back as given.
    """
    allowed = DISK_ALLOWED
    if families:
        allowed = 'a whole-disk name of the %s family, such as %s (no /, no ..)' % (
            '/'.join(families), ', '.join(f + ('a' if f in ('hd', 'sd', 'xvd', 'vd') else '') for f in families))
    _prefix, name = _strip_dev(option, value, allowed, allow_dev)
    if not any(regex.match(name) for regex in _DISK_RES.values()):
        raise InvalidValue(option, value, allowed)
    if families and disk_family(name) not in families:
        raise InvalidValue(option, value, allowed)
    return value


def check_partition_name(option, value, allow_dev=True):
    """Return ``value`` when it names a partition (``hda1``, ``/dev/xvdb2``, ``cciss/c0d0p1``, ``nvme0n1p2``)."""
    _prefix, name = _strip_dev(option, value, PARTITION_ALLOWED, allow_dev)
    if not any(regex.match(name) for regex in _PART_RES):
        raise InvalidValue(option, value, PARTITION_ALLOWED)
    return value


def check_device_path(option, value):
    """Return ``value`` when it is ``/dev/`` and a whole-disk or partition name."""
    allowed = 'a device path /dev/<disk> or /dev/<partition>, such as /dev/hda, /dev/sdb2, /dev/xvdc, ' \
              '/dev/cciss/c0d0p1, /dev/nvme0n1p2'
    value = _string(option, value, allowed)
    if not value.startswith('/dev/'):
        raise InvalidValue(option, value, allowed)
    name = value[len('/dev/'):]
    if not (any(regex.match(name) for regex in _DISK_RES.values()) or any(regex.match(name) for regex in _PART_RES)):
        raise InvalidValue(option, value, allowed)
    return value


def check_block_device(option, value):
    """Return ``value`` when it names a block device a filesystem lives on.

    A disk or partition path (:func:`check_device_path`), or ``/dev/mapper/<name>``,
    ``/dev/md<N>``, ``/dev/<vg>/<lv>`` made of letters, digits and ``_ . + -``.
    """
    allowed = ('a device path: /dev/<disk or partition> (/dev/sda1, /dev/xvdb), /dev/mapper/<name>, '
               '/dev/md<N> or /dev/<vg>/<lv> (letters, digits, _ . + - only, no ..)')
    value = _string(option, value, allowed)
    try:
        return check_device_path(option, value)
    except InvalidValue:
        pass
    parts = value.split('/')
    if (value.startswith('/dev/') and len(parts) in (3, 4)
            and all(_DEV_NAME_PART.match(part) and part not in ('.', '..') for part in parts[2:])):
        return value
    raise InvalidValue(option, value, allowed)


def check_uuid(option, value):
    """Return ``value`` when it is a filesystem UUID (8-4-4-4-12 hex, or FAT/NTFS serial)."""
    value = _string(option, value, UUID_ALLOWED)
    if not any(regex.match(value) for regex in _UUID_RES):
        raise InvalidValue(option, value, UUID_ALLOWED)
    return value


def check_label(option, value, max_bytes=LABEL_MAX_BYTES):
    """Return ``value`` when it is a label that fstab and a kernel command line can carry as is."""
    allowed = LABEL_ALLOWED if max_bytes == LABEL_MAX_BYTES else LABEL_ALLOWED.replace(
        str(LABEL_MAX_BYTES), str(max_bytes), 1)
    value = _string(option, value, allowed)
    if not value or _LABEL_BAD.search(value) or len(value.encode('utf-8')) > max_bytes:
        raise InvalidValue(option, value, allowed)
    return value


def fstab_escape(field):
    """Return ``field`` with the octal escapes fstab(5) reads (space, tab, newline, backslash)."""
    out = []
    for char in field:
        if char in ' \t\n\\':
            out.append('\\%03o' % ord(char))
        else:
            out.append(char)
    return ''.join(out)


def check_kernel_version(option, value):
    """Return ``value`` when it is a kernel version (``2.6.18-128.el5``); ``all`` is the caller's business."""
    value = _string(option, value, KVER_ALLOWED)
    if not _KVER.match(value) or '..' in value:
        raise InvalidValue(option, value, KVER_ALLOWED)
    return value


def check_module_name(option, value):
    """Return ``value`` when it is a kernel module name (``xen-vbd``, ``virtio_blk``)."""
    value = _string(option, value, MODULE_ALLOWED)
    if not _MODULE.match(value):
        raise InvalidValue(option, value, MODULE_ALLOWED)
    return value


def check_tree_path(option, value):
    """Return the normalised absolute path (``//etc/./xen`` -> ``/etc/xen``); ``..`` is refused."""
    value = _string(option, value, TREE_PATH_ALLOWED)
    if (not value.startswith('/') or _CONTROL.search(value) or value != value.strip()
            or '..' in value.split('/')):
        raise InvalidValue(option, value, TREE_PATH_ALLOWED)
    normal = posixpath.normpath(value)
    if normal.startswith('//'):
        normal = '/' + normal.lstrip('/')
    return normal


def check_kernel_arg(option, value):
    """Return ``value`` when it is one kernel argument, ``name`` or ``name=value``."""
    value = _string(option, value, KARG_ALLOWED)
    name = value.split('=', 1)[0]
    if (not value or len(value) > KERNEL_ARG_MAX or value == '--' or not _KARG_NAME.match(name)
            or _KARG_BAD.search(value)):
        raise InvalidValue(option, value, KARG_ALLOWED)
    return value


def check_xen_target(option, value):
    """Return the normalised path of a Xen disk backend (``/var/lib/xen/images/g.img``, ``/dev/vg/lv``)."""
    value = _string(option, value, XEN_TARGET_ALLOWED)
    if not value.startswith('/') or _XEN_TARGET_BAD.search(value) or '..' in value.split('/'):
        raise InvalidValue(option, value, XEN_TARGET_ALLOWED)
    return check_tree_path(option, value)


def check_pci_id(option, value):
    """Return ``value`` when it is a PCI ``vendor:device`` id (``10de:1b80``), lower-cased."""
    value = _string(option, value, PCI_ID_ALLOWED)
    if not _PCI_ID.match(value):
        raise InvalidValue(option, value, PCI_ID_ALLOWED)
    return value.lower()


def check_domain_name(option, value):
    """Return ``value`` when it can name a domain on a tool's command line and in a file name."""
    value = _string(option, value, DOMAIN_ALLOWED)
    if not _DOMAIN.match(value) or value in ('.', '..'):
        raise InvalidValue(option, value, DOMAIN_ALLOWED)
    return value


def check_whole_number(low, high, meaning):
    """Return a check accepting whole numbers from ``low`` to ``high``; ``meaning`` says what the number is."""
    allowed = 'a whole number from %d to %d (%s)' % (low, high, meaning)

    def _check(option, value):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidValue(option, value, allowed)
        return value
    return _check


SECONDS_MAX = 86400


# a time limit in whole seconds, from 1 to a day (tool_timeout, reboot waits)
check_seconds = check_whole_number(1, SECONDS_MAX, 'seconds, at most a day')


# every module that runs external tools checks its tool_timeout with the other values
TOOL_TIMEOUT_RULE = ('tool_timeout', check_seconds)


def check_one_of(choices):
    """Return a check accepting only the strings in ``choices``."""
    allowed = 'one of %s' % ', '.join(choices)

    def _check(option, value):
        if not isinstance(value, _STR_TYPES) or value not in choices:
            raise InvalidValue(option, value, allowed)
        return value
    return _check


def check_mapping(option, value, key_check, value_check):
    """Return a new dict with each key and value checked; errors name ``<option>.<key>``."""
    if not isinstance(value, dict):
        raise InvalidValue(option, value, 'a dict (mapping) of names, e.g. {hdc: xvdb}')
    out = {}
    for key, item in value.items():
        sub = '%s.%s' % (option, key)
        new_key = key_check(sub, key)
        out[new_key] = value_check(sub, item)
    return out


def check_list(check):
    """Return a check of a list whose items all pass ``check`` (options ``<option>[i]``)."""
    def _check(option, value):
        if not isinstance(value, (list, tuple)):
            raise InvalidValue(option, value, 'a list')
        return [check('%s[%d]' % (option, index), item) for index, item in enumerate(value)]
    return _check


def _apply_rule(params, path, check):
    """Apply one rule to ``params`` (a new dict is returned); see :func:`check_params`."""
    name, _dot, sub = path.partition('.')
    each = name.endswith('[]')
    name = name[:-2] if each else name
    value = params.get(name)
    if value is None:
        return params
    out = dict(params)
    if not each:
        out[name] = check(name, value)
        return out
    if not isinstance(value, (list, tuple)):
        raise InvalidValue(name, value, 'a list')
    items = []
    for index, item in enumerate(value):
        option = '%s[%d]' % (name, index)
        if not sub:
            items.append(check(option, item))
            continue
        if not isinstance(item, dict):
            raise InvalidValue(option, item, 'a dict')
        item = dict(item)
        if item.get(sub) is not None:
            item[sub] = check('%s.%s' % (option, sub), item[sub])
        items.append(item)
    out[name] = items
    return out


def check_params(params, rules):
    """Return ``params`` with every rule applied, or raise the first :class:`InvalidValue`.

    ``rules`` is a list of ``(path, check)``: ``name`` checks ``params[name]``;
    ``name[]`` each item of a list; ``name[].key`` the ``key`` of each dict of a
    list. ``None`` values (options not given) are skipped. ``params`` is not changed.
    """
    out = dict(params)
    for path, check in rules:
        out = _apply_rule(out, path, check)
    return out


def fail_on_invalid(module, params, rules):
    """Return the checked params, or ``module.fail_json`` with the message of the first bad value."""
    try:
        return check_params(params, rules)
    except InvalidValue as exc:
        module.fail_json(msg='%s; nothing was changed' % exc, option=exc.option)
