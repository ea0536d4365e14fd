# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' input checks, through the same grammars the modules use (``_validate``)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.virtops.devices.plugins.module_utils._common import _validate as v
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_plan

_INTEGER = re.compile(r'^-?[0-9]+$')


def _whole_seconds(option, value):
    if isinstance(value, str) and _INTEGER.match(value):
        value = int(value)
    return v.check_seconds(option, value)


def _xen_disk(option, value):
    return v.check_disk_name(option, value, families=('xvd',), allow_dev=False)


def _disk_map(target):
    return dict(_pv_plan.migration_rules(target))['disk_map']


GRAMMARS = {
    'kernel_arg': v.check_kernel_arg,
    'module_name': v.check_module_name,
    'pci_id': v.check_pci_id,
    'tree_path': v.check_tree_path,
    'xen_target': v.check_xen_target,
    'domain_name': v.check_domain_name,
    'kernel_versions': _pv_plan.check_kernels,
    'xen_disk': _xen_disk,
    'disk_map_virtio': _disk_map('virtio'),
    'disk_map_xen': _disk_map('xen'),
    'seconds': _whole_seconds,
}


def refused_values(checks):
    """Return one message per value in ``checks`` that its grammar refuses.

    Each check is ``{option, grammar, value}``; ``grammar`` is a name in
    ``GRAMMARS``, with ``[]`` appended for a list of such values.
    """
    refused = []
    for check in checks:
        name = check['grammar']
        each = name.endswith('[]')
        grammar = GRAMMARS.get(name[:-2] if each else name)
        if grammar is None:
            raise AnsibleFilterError('refused_values: unknown grammar %r; known: %s'
                                     % (name, ', '.join(sorted(GRAMMARS))))
        refused.extend(_refusals(check['option'], check['value'], grammar, each))
    return refused


def _refusals(option, value, grammar, each):
    """The messages of every refused value of one check (each item of a list on its own)."""
    if each and isinstance(value, (list, tuple)):
        checks = [('%s[%d]' % (option, index), item) for index, item in enumerate(value)]
    else:
        checks = [(option, value)]
        grammar = v.check_list(grammar) if each else grammar
    messages = []
    for name, item in checks:
        try:
            grammar(name, item)
        except v.InvalidValue as exc:
            messages.append(str(exc))
    return messages


class FilterModule(object):
    """The collection's filters."""

    def filters(self):
        return {'refused_values': refused_values}
