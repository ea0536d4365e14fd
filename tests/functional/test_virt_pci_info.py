"""virt_pci_info run by ansible-playbook.

L1: libvirt's test driver on tests/fixtures/nodedev/host.xml (a GPU + audio behind a root
port, a two-port NIC sharing a group, an SR-IOV PF with VFs, devices held by running and
shut-off domains), host drivers from a sysfs tree built in a tmp dir. The L1 runs share one
ansible-playbook run (start-up dominates the time).
L2: the real libvirtd of this machine (qemu:///system), whose IOMMU is off.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'nodedev'))

import nodedev_fixture  # noqa: E402


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    node = {'uri': nodedev_fixture.URI, 'root': nodedev_fixture.make_sysfs(tmp_path_factory.mktemp('host'))}
    runs = nodedev_fixture.run_tasks([
        ('virt_pci_info', node),
        ('virt_pci_info', dict(node, address=['01:00.0', 'pci_0000_01_00_1'])),
        ('virt_pci_info', dict(node, **{'class': ['network'], 'vendor': ['0x8086'], 'driver': ['igb', 'ixgbe']})),
        ('virt_pci_info', {'uri': nodedev_fixture.URI, 'address': ['0000:01:00']}),
        ('virt_pci_info', {'uri': nodedev_fixture.URI, 'address': ['0000:09:00.0']}),
    ], check=False)
    return dict(zip(['all', 'gpu', 'filtered', 'malformed', 'unknown'], runs))


def by_addr(result):
    return dict((d['address'], d) for d in result['devices'])


def test_fixture_inventory(results):
    result = results['all']
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    assert result['iommu_enabled'] is True and result['notes'] == []
    assert result['iommu_groups']['1'] == ['0000:00:01.0', '0000:01:00.0', '0000:01:00.1']
    devs = by_addr(result)
    assert len(devs) == 11
    gpu = devs['0000:01:00.0']
    assert gpu['name'] == 'pci_0000_01_00_0' and gpu['driver'] == 'nouveau' and gpu['class_name'] == 'display'
    assert gpu['vendor'] == 'NVIDIA Corporation' and gpu['numa_node'] == 0
    assert gpu['assignable'] is False
    assert gpu['iommu_group_blockers'] == [
        {'address': '0000:01:00.1', 'driver': 'snd_hda_intel', 'reason': 'host-driver'}]
    assert gpu['driver_known'] is True
    assert devs['0000:00:01.0']['bridge'] is True and devs['0000:00:01.0']['driver'] == 'pcieport'
    pf = devs['0000:03:00.0']
    assert pf['netdev'] == 'enp3s0f0'
    assert pf['sriov']['virtual_functions'] == ['0000:03:10.0', '0000:03:10.2'] and pf['sriov']['max_vfs'] == 63
    assert devs['0000:03:10.2']['sriov']['physical_function'] == '0000:03:00.0'
    assert devs['0000:03:10.2']['held_by'] == [{'domain': 'vf-guest', 'running': True, 'as': 'interface'}]
    assert devs['0000:04:00.0']['held_by'] == [{'domain': 'db01', 'running': True, 'as': 'hostdev'}]
    assert devs['0000:05:00.0']['held_by'] == [{'domain': 'spare', 'running': False, 'as': 'hostdev'}]


def test_address_filter_in_both_forms_counts_as_one_request(results):
    assert sorted(by_addr(results['gpu'])) == ['0000:01:00.0', '0000:01:00.1']
    assert all(d['assignable'] for d in results['gpu']['devices'])


def test_class_vendor_driver_filters(results):
    assert sorted(by_addr(results['filtered'])) == ['0000:02:00.0', '0000:02:00.1', '0000:03:00.0']


def test_malformed_address_is_named(results):
    assert results['malformed']['failed']
    assert "malformed PCI address '0000:01:00'" in results['malformed']['msg']


def test_unknown_address_is_a_note(results):
    result = results['unknown']
    assert not result.get('failed') and result['devices'] == []
    assert any('0000:09:00.0 not found at %s' % nodedev_fixture.URI in n for n in result['notes'])


@pytest.mark.libvirt
def test_real_host_without_iommu_invents_no_group(run_module):
    if os.listdir('/sys/kernel/iommu_groups'):
        pytest.skip('this host has IOMMU groups')
    result = run_module('virt_pci_info', {})
    assert not result.get('failed'), result.get('msg')
    assert result['iommu_enabled'] is False and result['iommu_groups'] == {}
    assert 'virtops.devices.iommu_host role' in result['notes'][0]
    assert result['devices'], 'libvirt lists no PCI device on this host'
    for dev in result['devices']:
        assert dev['iommu_group'] is None
        assert dev['assignable'] is (False if dev['class_name'] == 'bridge' else None)
        assert dev['address'] in os.listdir('/sys/bus/pci/devices')
