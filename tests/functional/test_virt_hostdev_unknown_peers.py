"""IOMMU-group peers that cannot be shown to be free (issue 8), through virt_pci_info and virt_hostdev
run by ansible-playbook.

L1: libvirt's test driver on tests/fixtures/nodedev/host.xml. Three hosts, as sysfs tells them:
- ``none``: no sysfs read at all (the test driver keeps no host drivers): every driver is unknown;
- ``silent``: a sysfs tree that lists every device but the GPU's audio function 0000:01:00.1;
- ``extra``: a full sysfs tree whose IOMMU group of the USB controller 0000:05:00.0 also holds
  0000:05:00.3, a function libvirt does not list.
A device sharing its group with such a peer is not assignable, with the reason naming the peer,
unless allow_unknown_group_peers (then a warning names it). All cases in one ansible-playbook run.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'nodedev'))

import nodedev_fixture  # noqa: E402

CHECK = {'check_mode': True}


@pytest.fixture(scope='module')
def fx(tmp_path_factory):
    drivers = dict(nodedev_fixture.drivers())
    del drivers['0000:01:00.1']
    silent = nodedev_fixture.make_sysfs(tmp_path_factory.mktemp('silent'), drivers)
    extra = nodedev_fixture.make_sysfs(tmp_path_factory.mktemp('extra'),
                                       iommu_groups={7: ['0000:05:00.0', '0000:05:00.3']})
    missing = str(tmp_path_factory.mktemp('missing') / 'no-such-root')
    uri = nodedev_fixture.URI
    cases = [
        ('info_none', 'virt_pci_info', {'uri': uri}),
        ('info_missing_root', 'virt_pci_info', {'uri': uri, 'root': missing}),
        ('info_silent', 'virt_pci_info', {'uri': uri, 'root': silent}),
        ('info_silent_allowed', 'virt_pci_info', {'uri': uri, 'root': silent, 'address': ['0000:01:00.0'],
                                                  'allow_unknown_group_peers': True}),
        ('info_extra', 'virt_pci_info', {'uri': uri, 'root': extra}),
        ('hostdev_none', 'virt_hostdev', {'uri': uri, 'name': 'web01', 'devices': ['0000:02:00.0']}),
        ('hostdev_silent', 'virt_hostdev', {'uri': uri, 'root': silent, 'name': 'web01', 'devices': ['0000:01:00.0']}),
        ('hostdev_silent_allowed', 'virt_hostdev', {'uri': uri, 'root': silent, 'name': 'web01',
                                                    'devices': ['0000:01:00.0'], 'allow_unknown_group_peers': True},
         CHECK),
        ('hostdev_extra', 'virt_hostdev', {'uri': uri, 'root': extra, 'name': 'web01', 'devices': ['0000:05:00.0'],
                                           'detach_group_peers': True}),
        ('hostdev_alone_is_fine', 'virt_hostdev', {'uri': uri, 'name': 'web01', 'devices': ['0000:03:10.0']}, CHECK),
    ]
    runs = nodedev_fixture.run_tasks([case[1:] for case in cases])
    return dict(zip([case[0] for case in cases], runs))


def by_addr(result):
    return dict((d['address'], d) for d in result['devices'])


def test_without_sysfs_drivers_are_unknown_and_said_so(fx):
    result = fx['info_none']
    assert not result.get('failed'), result.get('msg')
    devs = by_addr(result)
    assert devs['0000:01:00.1']['driver'] is None and devs['0000:01:00.1']['driver_known'] is False
    assert devs['0000:01:00.0']['assignable'] is False
    assert devs['0000:01:00.0']['iommu_group_blockers'] == [
        {'address': '0000:01:00.1', 'driver': None, 'reason': 'driver-unknown'}]
    assert devs['0000:03:10.0']['assignable'] is True  # alone in its group
    (note,) = result['notes']
    assert note.startswith('host driver unknown for 0000:00:00.0, 0000:01:00.0, 0000:01:00.1, 0000:02:00.0')
    assert 'sysfs is not read for %s' % nodedev_fixture.URI in note and 'not assignable' in note


def test_unreadable_sysfs_is_named_in_the_notes(fx):
    result = fx['info_missing_root']
    assert not result.get('failed'), result.get('msg')
    assert any(n.startswith('cannot read ') and 'no-such-root/sys/bus/pci/devices (No such file or directory)' in n
               for n in result['notes'])
    assert any('could not be read' in n and 'driver_known: false' in n for n in result['notes'])
    assert all(d['driver_known'] is False for d in result['devices'])


def test_a_device_sysfs_does_not_list_blocks_its_group(fx):
    result = fx['info_silent']
    devs = by_addr(result)
    assert devs['0000:01:00.1']['driver_known'] is False and devs['0000:01:00.0']['driver_known'] is True
    assert devs['0000:01:00.0']['assignable'] is False
    assert devs['0000:02:00.0']['iommu_group_blockers'] == [
        {'address': '0000:02:00.1', 'driver': 'igb', 'reason': 'host-driver'}]
    assert any(n.startswith('host driver unknown for 0000:01:00.1: sysfs under ') for n in result['notes'])
    allowed = fx['info_silent_allowed']
    assert by_addr(allowed)['0000:01:00.0']['assignable'] is True
    assert any(n.startswith('allow_unknown_group_peers is on: 0000:01:00.1 (driver unknown') for n in allowed['notes'])


def test_a_group_member_libvirt_does_not_list_blocks_its_group(fx):
    devs = by_addr(fx['info_extra'])
    assert devs['0000:05:00.0']['iommu_group_members'] == ['0000:05:00.0', '0000:05:00.3']
    assert devs['0000:05:00.0']['assignable'] is False
    assert devs['0000:05:00.0']['iommu_group_blockers'] == [
        {'address': '0000:05:00.3', 'driver': None, 'reason': 'not-listed'}]


def test_virt_hostdev_refuses_a_peer_with_unknown_driver(fx):
    for name, peer in (('hostdev_none', '0000:02:00.1'), ('hostdev_silent', '0000:01:00.1')):
        result = fx[name]
        assert result['failed'], name
        assert '%s (driver unknown, IOMMU group' % peer in result['msg']
        assert 'cannot be shown to be free' in result['msg']
        assert 'allow_unknown_group_peers: true (dangerous)' in result['msg']
        assert result['detached_from_host'] == []


def test_virt_hostdev_opt_in_plans_with_a_warning(fx):
    result = fx['hostdev_silent_allowed']
    assert not result.get('failed'), result.get('msg')
    assert result['actions'] == ['attach hostdev 0000:01:00.0 config']
    assert any(n.startswith('allow_unknown_group_peers is on: 0000:01:00.1 (driver unknown, IOMMU group 1')
               for n in result['notes'])
    assert any('host driver unknown for 0000:01:00.1' in n for n in result['notes'])


def test_virt_hostdev_refuses_a_peer_libvirt_does_not_list_even_with_detach_group_peers(fx):
    result = fx['hostdev_extra']
    assert result['failed']
    assert ('0000:05:00.3 (not listed by libvirt, IOMMU group 7, shared with 0000:05:00.0) cannot be shown to be '
            'free') in result['msg']
    assert result['detached_from_host'] == []


def test_a_device_alone_in_its_group_needs_no_driver_knowledge(fx):
    result = fx['hostdev_alone_is_fine']
    assert not result.get('failed'), result.get('msg')
    assert result['actions'] == ['attach hostdev 0000:03:10.0 config']
