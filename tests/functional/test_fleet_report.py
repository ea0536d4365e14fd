"""L1: playbooks/fleet_report.yml on a simulated fleet of 50 hypervisors and 4 guests, the page in Chromium.

The fleet (tests/fixtures/fleet/fleet_sim.py) is fixture root trees of every boot setup with
libvirt test-driver nodes; five hosts are unreachable (ssh to a closed port on 127.0.0.1) and five
are broken (no tree, no boot configuration, a node file libvirt cannot read). The run is in check
mode, as an operator would start it; it must finish, report every host (the broken and unreachable
ones as rows with their reason), change nothing in the trees, and write a page that loads without
console errors and whose "reboot_owed" filter shows exactly the hosts owing a reboot.
The page's screenshot is kept at tests/output/fleet-report.png.
"""

import hashlib
import json
import os
import sys

import pytest

import harness

sys.path.insert(0, os.path.join(harness.TOP, 'tests', 'fixtures', 'fleet'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fleet_sim  # noqa: E402
import cdp_browser  # noqa: E402

PLAYBOOK = os.path.join(harness.TOP, 'playbooks', 'fleet_report.yml')
SCREENSHOT = os.path.join(harness.TOP, 'tests', 'output', 'fleet-report.png')
HOSTS = 50


def tree_digest(top):
    """A digest of every path, link target and file content under ``top``."""
    digest = hashlib.sha256()
    for directory, dirs, files in sorted(os.walk(top)):
        dirs.sort()
        for name in sorted(dirs + files):
            path = os.path.join(directory, name)
            digest.update(path.encode())
            if os.path.islink(path):
                digest.update(os.readlink(path).encode())
            elif os.path.isfile(path):
                with open(path, 'rb') as handle:
                    digest.update(handle.read())
    return digest.hexdigest()


@pytest.fixture(scope='module')
def fleet_run(tmp_path_factory):
    top = tmp_path_factory.mktemp('fleet')
    inventory = fleet_sim.generate(top / 'sim', HOSTS)
    before = tree_digest(str(top / 'sim'))
    out = top / 'report'
    out.mkdir()
    proc = harness.run_playbook(PLAYBOOK, check=True, inventory=inventory,
                                extra_vars={'fleet_report_dir': str(out), 'fleet_vendor': 'intel'},
                                env={'ANSIBLE_FORKS': '25', 'ANSIBLE_SSH_RETRIES': '0'})
    after = tree_digest(str(top / 'sim'))
    with open(str(out / 'fleet-report.json')) if (out / 'fleet-report.json').exists() else open(os.devnull) as handle:
        text = handle.read()
    return {'proc': proc, 'before': before, 'after': after, 'doc': json.loads(text) if text else None,
            'html': str(out / 'fleet-report.html'), 'expected': fleet_sim.expected_states(top / 'sim')}


def test_every_host_is_a_row_and_nothing_changed(fleet_run):
    proc, doc, expected = fleet_run['proc'], fleet_run['doc'], fleet_run['expected']
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert fleet_run['after'] == fleet_run['before']
    assert doc['schema'] == 'virtops.devices/fleet-report' and doc['schema_version'] == 1
    assert doc['check_mode'] is True
    states = dict((row['name'], row['state']) for row in doc['hosts'])
    assert states == expected
    for row in doc['hosts']:
        if row['state'] in ('unreachable', 'error'):
            assert row['reasons'] and all(row['reasons']), row
    assert doc['summary']['hosts'] == HOSTS and doc['summary']['guest_hosts'] == 4
    assert set(['ready', 'reboot_owed', 'change_needed', 'not_ready', 'error', 'unreachable']) <= set(states.values())


def test_a_host_row_has_what_the_platform_team_asks(fleet_run):
    rows = dict((row['name'], row) for row in fleet_run['doc']['hosts'])
    ready = next(r for r in rows.values() if r['state'] == 'ready')
    details = ready['details']
    assert details['iommu']['enabled'] and details['iommu']['interrupt_remapping'] == 'enabled'
    assert details['kvm']['ready'] is True
    assert details['sriov']['numa'] == {'0': {'pfs': 1, 'total': 2, 'used': 1, 'free': 1},
                                        '1': {'pfs': 1, 'total': 4, 'used': 1, 'free': 3}}
    gpu = next(d for d in details['pci']['devices'] if d['address'] == '0000:04:00.0')
    assert gpu['held_by'] == ['db01']
    web01 = next(g for g in details['guests'] if g['name'] == 'web01')
    assert web01['pv'] is False and web01['disks'] == [{'target': 'hda', 'bus': 'ide'}]
    owing = next(r for r in rows.values() if r['state'] == 'reboot_owed')
    assert owing['reboot_owed'] is True and owing['boot_change_needed'] is False
    needing = next(r for r in rows.values() if r['state'] == 'change_needed')
    assert needing['details']['boot']['entries_lacking_args'][0]['missing']
    assert rows['guest00-emulated']['pv'] is False and rows['guest01-virtio']['pv'] is True


def test_the_page_in_a_browser(fleet_run):
    if not cdp_browser.find_chromium():
        pytest.fail('chromium is not installed: apt-get install chromium (scripts/setup.sh does)')
    doc = fleet_run['doc']
    owing = sorted(r['name'] for r in doc['hosts'] if r['state'] == 'reboot_owed')
    assert owing
    with cdp_browser.Browser() as browser:
        page = browser.open('file://' + fleet_run['html'])
        page.wait_for("document.body.getAttribute('data-ready') === '1'")
        assert page.evaluate("document.querySelectorAll('tr.host-row').length") == len(doc['hosts'])
        assert page.evaluate("document.querySelectorAll('#summary .card .bar').length") >= 6
        page.evaluate("(function(){var s=document.getElementById('filter-state'); s.value='reboot_owed';"
                      "s.dispatchEvent(new Event('change'));}())")
        shown = page.evaluate("Array.prototype.map.call(document.querySelectorAll('tr.host-row'),"
                              "function(r){return r.getAttribute('data-host');})")
        assert sorted(shown) == owing
        page.evaluate("document.querySelector('tr.host-row').click()")
        detail = page.evaluate("document.querySelector('tr.detail-row').textContent")
        assert 'NUMA node' in detail and 'Guests' in detail
        page.evaluate("(function(){var s=document.getElementById('filter-state'); s.value='';"
                      "s.dispatchEvent(new Event('change'));}())")
        page.evaluate("(function(){var t=document.getElementById('filter-text'); t.value='debian';"
                      "t.dispatchEvent(new Event('input'));}())")
        assert 0 < page.evaluate("document.querySelectorAll('tr.host-row').length") < len(doc['hosts'])
        page.evaluate("(function(){var t=document.getElementById('filter-text'); t.value='';"
                      "t.dispatchEvent(new Event('input'));}())")
        page.evaluate("document.querySelector('th[data-key=state]').click()")
        first = page.evaluate("document.querySelector('tr.host-row').getAttribute('data-state')")
        assert first == sorted(r['state'] for r in doc['hosts'])[0]
        os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
        page.screenshot(SCREENSHOT)
        assert page.errors == []
    assert os.path.getsize(SCREENSHOT) > 10000
