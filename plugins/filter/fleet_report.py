# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report on the controller: rows from every host's fleet_host_info result, the HTML page, AWX stats."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtops.devices.plugins.module_utils._fleet import _aggregate, _html


def _plain(value):
    """Plain dicts, lists and strings (Ansible's own wrappers of registered results dropped)."""
    if isinstance(value, dict) or hasattr(value, 'items'):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return value
    return str(value)


def fleet_report(hosts, hostvars, result_var='fleet_host_result', meta=None):
    """The report (see docs/fleet_report.md) for ``hosts`` from their ``result_var`` in ``hostvars``."""
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError('fleet_report: give the list of host names (ansible_play_hosts_all)')
    results = []
    for name in hosts:
        try:
            variables = hostvars[name]
        except KeyError:
            variables = {}
        result = variables.get(result_var) if hasattr(variables, 'get') else None
        kind = variables.get('fleet_kind', 'host') if hasattr(variables, 'get') else 'host'
        results.append((str(name), _plain(result) if result is not None else None, str(kind or 'host')))
    return _aggregate.report(results, _plain(meta or {}))


def fleet_report_html(doc, title='Fleet preflight report'):
    """The self-contained HTML page of a report."""
    if not isinstance(doc, dict) or 'hosts' not in doc:
        raise AnsibleFilterError('fleet_report_html: give the output of virtops.devices.fleet_report')
    return _html.render(_plain(doc), title)


def fleet_report_stats(doc):
    """The summary and host names by state, for ansible.builtin.set_stats (AWX)."""
    if not isinstance(doc, dict) or 'hosts' not in doc:
        raise AnsibleFilterError('fleet_report_stats: give the output of virtops.devices.fleet_report')
    return _aggregate.stats(_plain(doc))


class FilterModule(object):
    """The fleet report filters."""

    def filters(self):
        return {'fleet_report': fleet_report, 'fleet_report_html': fleet_report_html,
                'fleet_report_stats': fleet_report_stats}
