"""virt_disk_hotplug, level L2: run by ansible-playbook against the real libvirtd and
booted tiny guests. Every bad input must fail with a message that names it and leave
the domain (live and persistent) as it was.

The happy path on pc and q35 (attach virtio + scsi with serials, idempotence, check mode,
detach) is the Molecule scenario extensions/molecule/disk_hotplug.
"""

import pytest

import tiny_guest
from conftest import domain_xml_both, guest_serials, libvirt_conn, wait_serials

pytestmark = [pytest.mark.libvirt, pytest.mark.guest]


def detach(run_module, name, *paths):
    result = run_module('virt_disk_hotplug', {'name': name, 'state': 'absent',
                                              'disks': [{'source': p} for p in paths]})
    assert not result.get('failed'), result.get('msg')


def test_unknown_domain_names_the_known_ones(run_module, pc_guest, images):
    result = run_module('virt_disk_hotplug', {'name': 'no-such-guest', 'disks': [{'source': images('a.raw')}]})
    assert result['failed']
    assert "domain 'no-such-guest' not found at qemu:///system" in result['msg']
    assert pc_guest['name'] in result['msg']


def test_missing_source_changes_nothing(run_module, pc_guest, images, tmp_path):
    name = pc_guest['name']
    before = domain_xml_both(name)
    result = run_module('virt_disk_hotplug', {'name': name, 'disks': [
        {'source': images('ok.raw'), 'serial': 'ok'}, {'source': str(tmp_path / 'missing.qcow2')}]})
    assert result['failed']
    assert 'missing.qcow2 does not exist on the hypervisor' in result['msg']
    assert domain_xml_both(name) == before


def test_target_used_by_another_disk_is_refused(run_module, pc_guest, images):
    name = pc_guest['name']
    first, second = images('first.raw'), images('second.raw')
    attached = run_module('virt_disk_hotplug', {'name': name, 'disks': [{'source': first, 'target': 'vdc'}]})
    assert attached['changed'] and attached['disks'][0]['target'] == 'vdc'
    try:
        before = domain_xml_both(name)
        result = run_module('virt_disk_hotplug', {'name': name, 'disks': [{'source': second, 'target': 'vdc'}]})
        assert result['failed']
        assert 'target vdc is already used by disk %s' % first in result['msg']
        assert domain_xml_both(name) == before
    finally:
        detach(run_module, name, first)


def test_ide_on_a_running_domain_is_refused(run_module, pc_guest, images):
    name = pc_guest['name']
    before = domain_xml_both(name)
    result = run_module('virt_disk_hotplug', {'name': name, 'disks': [{'source': images('ide.raw'), 'bus': 'ide'}]})
    assert result['failed']
    assert "bus 'ide' cannot be hot-plugged into the running domain" in result['msg']
    assert 'live: false' in result['msg']
    assert domain_xml_both(name) == before


def test_live_on_a_shut_off_domain_changes_config_and_says_so(run_module, shutoff_domain, images):
    path = images('cold.qcow2', 'qcow2')
    result = run_module('virt_disk_hotplug', {'name': shutoff_domain, 'disks': [{'source': path, 'bus': 'sata'}]})
    assert not result.get('failed'), result.get('msg')
    assert result['changed']
    assert any('is not running' in note for note in result['notes'])
    assert result['actions'] == ['attach disk sda (%s) config' % path]
    live, config = domain_xml_both(shutoff_domain)
    assert live is None and path in config and "type='qcow2'" in config
    again = run_module('virt_disk_hotplug', {'name': shutoff_domain, 'disks': [{'source': path, 'bus': 'sata'}]})
    assert not again['changed']


def test_q35_without_free_slot_is_refused_and_scsi_still_fits(run_module, q35_one_port_guest, images):
    name = q35_one_port_guest['name']
    a, b = images('a.raw'), images('b.raw')
    before = domain_xml_both(name)
    result = run_module('virt_disk_hotplug', {'name': name, 'disks': [{'source': a}, {'source': b}]})
    assert result['failed']
    assert '1 free PCI hotplug slot(s) but this change needs 2' in result['msg']
    assert 'pcie-root-port' in result['msg'] and 'bus: scsi' in result['msg']
    assert domain_xml_both(name) == before
    scsi = run_module('virt_disk_hotplug', {'name': name, 'disks': [
        {'source': a, 'bus': 'scsi', 'serial': 'q35-a'}, {'source': b, 'bus': 'scsi', 'serial': 'q35-b'}]})
    assert scsi['changed'], scsi.get('msg')
    wait_serials(name, present={'q35-a', 'q35-b'})
    detach(run_module, name, a, b)
    wait_serials(name, absent={'q35-a', 'q35-b'})


def test_awkward_source_path_is_valid_xml_and_works(run_module, pc_guest, images):
    name = pc_guest['name']
    path = images('data & logs <new> "quoted" \'single\'.qcow2', 'qcow2')
    result = run_module('virt_disk_hotplug', {'name': name, 'disks': [{'source': path, 'serial': 'awkward'}]},
                        diff=True)
    assert result['changed'], result.get('msg')
    assert result['disks'][0]['source'] == path
    assert '&amp;' in result['diff'][0]['after'] and '&lt;new&gt;' in result['diff'][0]['after']
    wait_serials(name, present={'awkward'})
    detach(run_module, name, path)
    wait_serials(name, absent={'awkward'})


def test_detach_waits_for_the_guest_and_keeps_config_on_timeout(run_module, pc_guest, images):
    name = pc_guest['name']
    path = images('held.raw')
    assert run_module('virt_disk_hotplug', {'name': name, 'disks': [{'source': path, 'serial': 'held'}]})['changed']
    wait_serials(name, present={'held'})
    dom = libvirt_conn().lookupByName(name)
    dom.suspend()  # a paused guest cannot answer the ACPI unplug request
    try:
        result = run_module('virt_disk_hotplug', {'name': name, 'state': 'absent', 'detach_timeout': 3,
                                                  'disks': [{'source': path}]})
        assert result['failed']
        assert 'did not release disk' in result['msg'] and 'within 3 s' in result['msg']
        live, config = domain_xml_both(name)
        assert path in live and path in config
    finally:
        dom.resume()
    detach(run_module, name, path)
    live, config = domain_xml_both(name)
    assert path not in live and path not in config
    assert 'held' not in guest_serials(name)


def test_check_mode_diff_shows_the_disk_and_changes_nothing(run_module, pc_guest, images):
    name = pc_guest['name']
    path = images('check.raw')
    before = domain_xml_both(name)
    guest_before = tiny_guest.guest_disks(name)
    result = run_module('virt_disk_hotplug', {'name': name, 'disks': [{'source': path, 'bus': 'scsi'}]},
                        check=True, diff=True)
    assert result['changed']
    headers = [d['before_header'] for d in result['diff']]
    assert headers == ['domain %s (live)' % name, 'domain %s (persistent definition)' % name]
    for entry in result['diff']:
        assert path not in entry['before'] and path in entry['after']
    assert domain_xml_both(name) == before
    assert tiny_guest.guest_disks(name) == guest_before
