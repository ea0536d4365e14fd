"""L0: the fleet report's rows, summary, AWX stats and HTML page (_fleet)."""

import json
import re

from ansible_collections.virtops.devices.plugins.module_utils._fleet import _aggregate, _html, _schema


def host_result(state='ready', reboot_owed=False, change=False, kvm=True, iommu=True, guests=None, pfs=None):
    return {'changed': False, 'host': {
        'kind': 'host', 'state': state, 'reasons': [] if state == 'ready' else ['why ' + state],
        'os': {'family': 'debian', 'name': 'Debian GNU/Linux', 'version': '12'},
        'kvm': {'ready': kvm}, 'iommu': {'enabled': iommu, 'groups': 8 if iommu else 0,
                                         'interrupt_remapping': 'enabled' if iommu else 'not reported'},
        'boot': {'setup': 'debian', 'change_needed': change, 'reboot_owed': reboot_owed,
                 'entries_lacking_args': [{'title': 't'}] if change else []},
        'pci': {'devices': [{'address': '0000:04:00.0', 'assignable': True},
                            {'address': '0000:05:00.0', 'assignable': False}]},
        'sriov': {'pfs': pfs or [{'vfs': 4, 'used': 1, 'free': 3}]},
        'guests': guests if guests is not None else [{'name': 'a', 'pv': True}, {'name': 'b', 'pv': False},
                                                     {'name': 'c', 'pv': None}],
        'problems': []}}


def guest_result(pv):
    return {'changed': False, 'host': {'kind': 'guest', 'state': 'pv' if pv else 'emulated',
                                       'reasons': [] if pv else ['/ is on sda1'], 'problems': [],
                                       'pv': {'pv_active': pv}}}


RESULTS = [
    ('hv1', host_result(), 'host'),
    ('hv2', host_result('reboot_owed', reboot_owed=True), 'host'),
    ('hv3', host_result('change_needed', change=True, iommu=False), 'host'),
    ('hv4', {'unreachable': True, 'msg': 'Failed to connect to the host via ssh: Connection refused'}, 'host'),
    ('hv5', {'failed': True, 'msg': 'root /x is not a directory'}, 'host'),
    ('hv6', None, 'host'),
    ('g1', guest_result(True), 'guest'),
    ('g2', guest_result(False), 'guest'),
]


def test_rows_keep_every_host_with_its_reason():
    doc = _aggregate.report(RESULTS, {'check_mode': True})
    rows = dict((r['name'], r) for r in doc['hosts'])
    assert [r['name'] for r in doc['hosts']] == sorted(rows)
    assert rows['hv4']['state'] == 'unreachable' and rows['hv4']['reachable'] is False
    assert 'Connection refused' in rows['hv4']['reasons'][0]
    assert rows['hv5']['state'] == 'error' and rows['hv5']['reasons'] == ['root /x is not a directory']
    assert rows['hv6']['state'] == 'error' and 'no result' in rows['hv6']['reasons'][0]
    assert rows['hv2']['reboot_owed'] is True and rows['hv2']['boot_change_needed'] is False
    assert rows['hv3']['entries_lacking_args'] == 1
    assert rows['hv1']['assignable_devices'] == 1 and rows['hv1']['devices'] == 2
    assert (rows['hv1']['vfs_total'], rows['hv1']['vfs_used'], rows['hv1']['vfs_free']) == (4, 1, 3)
    assert rows['hv1']['guests'] == 3 and rows['hv1']['guests_emulated'] == 1
    assert rows['g2']['kind'] == 'guest' and rows['g2']['pv'] is False
    assert doc['schema'] == _schema.SCHEMA and doc['schema_version'] == _schema.SCHEMA_VERSION
    assert doc['check_mode'] is True


def test_summary_counts_by_state_per_concern():
    summary = _aggregate.report(RESULTS)['summary']
    assert summary['hosts'] == 6 and summary['guest_hosts'] == 2
    assert summary['concerns']['state']['counts'] == {
        'unreachable': 1, 'error': 2, 'change_needed': 1, 'reboot_owed': 1, 'not_ready': 0, 'ready': 1}
    assert summary['concerns']['boot']['counts'] == {'ok': 1, 'change needed': 1, 'reboot owed': 1, 'unknown': 3}
    assert summary['concerns']['iommu']['counts'] == {'on': 2, 'off': 1, 'unknown': 3}
    assert summary['concerns']['kvm']['counts'] == {'ready': 3, 'not ready': 0, 'unknown': 3}
    # three hosts with guests a (pv), b (emulated), c (unknown), and the guest hosts g1, g2
    assert summary['concerns']['guests']['counts'] == {'pv': 4, 'emulated': 4, 'unknown': 3}
    assert summary['vfs'] == {'total': 12, 'used': 3, 'free': 9}
    assert summary['by_state']['pv'] == 1 and summary['by_state']['emulated'] == 1


def test_counts_keep_the_order_and_add_unexpected_values():
    assert list(_aggregate.count(['b', 'x', 'b'], ('a', 'b'))) == ['a', 'b', 'x']


def test_stats_are_small_and_name_the_hosts_by_state():
    stats = _aggregate.stats(_aggregate.report(RESULTS))
    assert stats['hosts_by_state']['error'] == ['hv5', 'hv6']
    assert set(stats['reasons']) == {'hv4', 'hv5', 'hv6'}
    assert 'hosts' not in stats and 'details' not in json.dumps(stats)


def test_the_page_is_self_contained_and_escapes_host_text():
    results = RESULTS + [('evil</script><img src=x>', {'failed': True, 'msg': '<script>alert(1)</script>'}, 'host')]
    page = _html.render(_aggregate.report(results))
    assert page.startswith('<!DOCTYPE html>')
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)=', page)
    assert 'http://' not in page and 'https://' not in page
    assert '<script>alert(1)' not in page and 'evil</script>' not in page
    assert page.count('</script>') == 3
    data = re.search(r'<script type="application/json" id="fleet-data">(.*?)</script>', page).group(1)
    assert any(r['name'] == 'evil</script><img src=x>' for r in json.loads(data)['hosts'])


def test_bar_chart_widths_follow_the_counts():
    chart = _html.bar_chart('IOMMU', {'on': 3, 'off': 1, 'unknown': 0})
    assert 'width:75.00%' in chart and 'width:25.00%' in chart and 'unknown' not in chart
