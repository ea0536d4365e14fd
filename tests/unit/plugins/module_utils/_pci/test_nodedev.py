"""L0: the PCI inventory, IOMMU groups, SR-IOV and holders, from node device XML and sysfs.

The node devices are those of tests/fixtures/nodedev/host.xml (the libvirt test-driver
file the L1 tests use), taken apart without libvirt.
"""

import os
import sys

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._pci import _nodedev

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'fixtures', 'nodedev'))

import nodedev_fixture  # noqa: E402


ALL_ADDRESSES = sorted(set(nodedev_fixture.drivers()) | {'0000:00:00.0'})  # every PCI device of host.xml


def inventory(driver_map=None, listed=None):
    """The fixture inventory with host drivers from sysfs; ``listed``: the devices sysfs lists
    (their driver, or its absence, is known), default every one."""
    pci, net = nodedev_fixture.device_xmls()
    sysfs = {'drivers': nodedev_fixture.drivers() if driver_map is None else driver_map,
             'devices': ALL_ADDRESSES if listed is None else listed}
    holdings = _nodedev.domain_holdings(nodedev_fixture.domains())
    return _nodedev.build_inventory(pci, net, sysfs, holdings)


def dev(devices, addr):
    return _nodedev.by_address(devices)[addr]


REAL_HOST_DEVICE = """<device>
  <name>pci_0000_00_03_0</name>
  <path>/sys/devices/pci0000:00/0000:00:03.0</path>
  <parent>computer</parent>
  <driver><name>virtio-pci</name></driver>
  <capability type='pci'>
    <class>0x020000</class>
    <domain>0</domain><bus>0</bus><slot>3</slot><function>0</function>
    <product id='0x1041'/>
    <vendor id='0x1af4'/>
  </capability>
</device>"""


def test_reads_a_device_as_real_libvirt_reports_it_without_iommu():
    found = _nodedev.pci_device_from_xml(REAL_HOST_DEVICE)
    assert found['address'] == '0000:00:03.0' and found['name'] == 'pci_0000_00_03_0'
    assert found['driver'] == 'virtio-pci'
    assert found['class'] == '0x020000' and found['class_name'] == 'network'
    assert found['vendor_id'] == '0x1af4' and found['vendor'] is None
    assert found['iommu_group'] is None and found['iommu_group_members'] == []
    assert not found['bridge']
    assert not _nodedev.iommu_enabled([found])


def test_non_pci_node_device_is_skipped():
    assert _nodedev.pci_device_from_xml("<device><name>computer</name><capability type='system'/></device>") is None


def test_fixture_inventory_has_ids_names_groups_and_numa():
    devices = inventory()
    gpu = dev(devices, '0000:01:00.0')
    assert gpu['vendor'] == 'NVIDIA Corporation' and gpu['product_id'] == '0x1e84'
    assert gpu['class_name'] == 'display' and gpu['driver'] == 'nouveau' and gpu['numa_node'] == 0
    assert gpu['iommu_group'] == 1
    assert gpu['iommu_group_members'] == ['0000:00:01.0', '0000:01:00.0', '0000:01:00.1']
    assert dev(devices, '0000:00:01.0')['bridge'] and not dev(devices, '0000:00:00.0')['bridge']
    assert _nodedev.iommu_enabled(devices)
    assert _nodedev.iommu_groups(devices)[2] == ['0000:02:00.0', '0000:02:00.1']


def test_sriov_pf_and_vfs_and_netdev_names():
    devices = inventory()
    pf = dev(devices, '0000:03:00.0')
    assert pf['sriov'] == {'physical_function': None, 'virtual_functions': ['0000:03:10.0', '0000:03:10.2'],
                           'max_vfs': 63, 'num_vfs': 2}
    assert pf['netdev'] == 'enp3s0f0'
    vf = dev(devices, '0000:03:10.2')
    assert vf['sriov']['physical_function'] == '0000:03:00.0'
    assert dev(devices, '0000:02:00.1')['netdev'] == 'enp2s0f1'
    assert dev(devices, '0000:04:00.0')['netdev'] is None


def test_vf_list_is_completed_from_the_vf_side():
    pf = REAL_HOST_DEVICE.replace('0x020000', '0x020000')
    vf = REAL_HOST_DEVICE.replace('<slot>3</slot>', '<slot>4</slot>').replace(
        '</capability>\n</device>',
        "<capability type='phys_function'><address domain='0' bus='0' slot='3' function='0'/></capability>"
        "</capability>\n</device>")
    devices = _nodedev.build_inventory([pf, vf])
    assert devices[0]['sriov']['virtual_functions'] == ['0000:00:04.0']
    assert devices[0]['sriov']['num_vfs'] == 1


def test_holders_running_and_defined_hostdev_and_interface():
    devices = inventory()
    assert dev(devices, '0000:04:00.0')['held_by'] == [{'domain': 'db01', 'running': True, 'as': 'hostdev'}]
    assert dev(devices, '0000:03:10.2')['held_by'] == [{'domain': 'vf-guest', 'running': True, 'as': 'interface'}]
    assert dev(devices, '0000:05:00.0')['held_by'] == [{'domain': 'spare', 'running': False, 'as': 'hostdev'}]
    assert dev(devices, '0000:02:00.0')['held_by'] == []


def test_gpu_alone_is_blocked_by_its_audio_function_not_by_the_root_port():
    devices = inventory()
    blockers = _nodedev.blocking_group_peers(devices, ['0000:01:00.0'])
    assert blockers == [{'address': '0000:01:00.1', 'driver': 'snd_hda_intel', 'iommu_group': 1,
                         'of': '0000:01:00.0', 'reason': 'host-driver'}]
    assert '0000:01:00.1 (driver snd_hda_intel, IOMMU group 1' in _nodedev.blockers_message(blockers)
    assert _nodedev.group_viable(devices, ['0000:01:00.0', '0000:01:00.1'])


def test_multifunction_nic_needs_both_ports():
    devices = inventory()
    assert [b['address'] for b in _nodedev.blocking_group_peers(devices, ['0000:02:00.0'])] == ['0000:02:00.1']
    assert _nodedev.group_viable(devices, ['0000:02:00.1', '0000:02:00.0'])


@pytest.mark.parametrize('driver', [None, 'vfio-pci', 'pci-stub', 'mlx5_vfio_pci'])
def test_unbound_vfio_and_stub_peers_do_not_block(driver):
    drivers = dict(nodedev_fixture.drivers())
    if driver is None:
        del drivers['0000:01:00.1']
    else:
        drivers['0000:01:00.1'] = driver
    assert _nodedev.group_viable(inventory(drivers), ['0000:01:00.0'])


def test_assignable_flag_per_device_and_with_a_request():
    devices = _nodedev.annotate_viability(inventory())
    assert dev(devices, '0000:01:00.0')['assignable'] is False
    assert dev(devices, '0000:01:00.0')['iommu_group_blockers'] == [
        {'address': '0000:01:00.1', 'driver': 'snd_hda_intel', 'reason': 'host-driver'}]
    assert dev(devices, '0000:03:10.0')['assignable'] is True
    assert dev(devices, '0000:00:01.0')['assignable'] is False
    assert dev(devices, '0000:00:00.0')['assignable'] is False  # a host bridge
    devices = _nodedev.annotate_viability(inventory(), ['0000:01:00.0', '0000:01:00.1'])
    assert dev(devices, '0000:01:00.0')['assignable'] is True


def test_without_iommu_nothing_is_invented():
    devices = _nodedev.annotate_viability(_nodedev.build_inventory([REAL_HOST_DEVICE]))
    assert devices[0]['assignable'] is None and devices[0]['iommu_group'] is None
    assert _nodedev.iommu_groups(devices) == {}
    assert _nodedev.blocking_group_peers(devices, ['0000:00:03.0']) == []


def test_sysfs_fills_driver_group_netdev_and_vf_count(tmp_path):
    root = nodedev_fixture.make_sysfs(tmp_path, {'0000:00:03.0': 'virtio-pci', '0000:00:04.0': 'virtio-pci'},
                                      {5: ['0000:00:03.0', '0000:00:04.0']})
    dev_dir = tmp_path / 'sys/bus/pci/devices/0000:00:03.0'
    (dev_dir / 'net' / 'ens3').mkdir(parents=True)
    (dev_dir / 'sriov_totalvfs').write_text('7\n')
    (dev_dir / 'sriov_numvfs').write_text('0\n')
    facts = _nodedev.read_sysfs(root)
    assert facts['iommu_groups'] == {5: ['0000:00:03.0', '0000:00:04.0']}
    assert facts['drivers']['0000:00:04.0'] == 'virtio-pci'
    bare = REAL_HOST_DEVICE.replace('<driver><name>virtio-pci</name></driver>', '')
    devices = _nodedev.build_inventory([bare], sysfs=facts)
    assert devices[0]['driver'] == 'virtio-pci' and devices[0]['iommu_group'] == 5
    assert devices[0]['iommu_group_members'] == ['0000:00:03.0', '0000:00:04.0']
    assert devices[0]['netdev'] == 'ens3' and devices[0]['sriov']['max_vfs'] == 7


def test_sysfs_of_a_host_without_iommu_is_empty(tmp_path):
    assert _nodedev.read_sysfs(nodedev_fixture.make_sysfs(tmp_path, {}))['iommu_groups'] == {}
    nowhere = str(tmp_path / 'nowhere')
    assert _nodedev.read_sysfs(nowhere) == {
        'iommu_groups': {}, 'drivers': {}, 'devices': [], 'netdevs': {}, 'sriov': {},
        'problems': [(nowhere + '/sys/kernel/iommu_groups', 'No such file or directory'),
                     (nowhere + '/sys/bus/pci/devices', 'No such file or directory')]}


@pytest.mark.parametrize('kw, expected', [
    ({'classes': ['network']}, ['0000:02:00.0', '0000:02:00.1', '0000:03:00.0', '0000:03:10.0', '0000:03:10.2']),
    ({'classes': ['display', '0x0403']}, ['0000:01:00.0', '0000:01:00.1']),
    ({'vendors': ['10de']}, ['0000:01:00.0', '0000:01:00.1']),
    ({'vendors': ['samsung']}, ['0000:04:00.0']),
    ({'drivers': ['vfio-pci']}, ['0000:03:10.2', '0000:04:00.0']),
    ({'drivers': ['none']}, ['0000:00:00.0']),
    ({'addresses': ['0000:05:00.0'], 'classes': ['serial']}, ['0000:05:00.0']),
    ({'addresses': ['0000:05:00.0'], 'classes': ['network']}, []),
])
def test_filters(kw, expected):
    assert [d['address'] for d in _nodedev.filter_devices(inventory(), **kw)] == expected


def test_unknown_address_message_lists_the_endpoints():
    msg = _nodedev.unknown_addresses_message(['0000:09:00.0'], inventory(), 'test:///x.xml')
    assert msg.startswith('PCI device(s) 0000:09:00.0 not found at test:///x.xml; the host has: 0000:00:00.0, 0000:01:00.0')
    assert '0000:00:01.0' not in msg


@pytest.mark.parametrize('uri, root, expected', [
    ('qemu:///system', '/', '/'),
    ('qemu:///system', '/mnt/host', '/mnt/host'),
    ('qemu+ssh://root@hv1/system', '/', None),
    ('test:///default', '/', None),
    ('test:///srv/node.xml', '/', None),
    ('test:///srv/node.xml', '/tmp/sysfs', '/tmp/sysfs'),
])
def test_sysfs_is_read_only_for_a_local_hypervisor(uri, root, expected):
    assert _nodedev.sysfs_root_for(uri, root) == expected


def test_iommu_off_note_points_at_the_role():
    assert 'virtops.devices.iommu_host role' in _nodedev.iommu_off_note('qemu:///system')


# --- peers that cannot be shown to be free (issue 8) --------------------------------------------------

def gpu_blockers(devices, **kw):
    return _nodedev.blocking_group_peers(devices, ['0000:01:00.0'], **kw)


def test_peer_whose_driver_nobody_can_tell_blocks_the_group():
    """The audio function is listed by libvirt, but neither libvirt (test driver) nor sysfs says
    whether it is bound: it is not free."""
    drivers = dict(nodedev_fixture.drivers())
    del drivers['0000:01:00.1']
    devices = inventory(drivers, listed=[a for a in ALL_ADDRESSES if a != '0000:01:00.1'])
    assert dev(devices, '0000:01:00.1')['driver'] is None and dev(devices, '0000:01:00.1')['driver_known'] is False
    blockers = gpu_blockers(devices)
    assert blockers == [{'address': '0000:01:00.1', 'driver': None, 'iommu_group': 1, 'of': '0000:01:00.0',
                         'reason': 'driver-unknown'}]
    assert _nodedev.blockers_message(blockers) == ('0000:01:00.1 (driver unknown, IOMMU group 1, shared with '
                                                   '0000:01:00.0)')
    assert not _nodedev.group_viable(devices, ['0000:01:00.0'])
    assert _nodedev.group_viable(devices, ['0000:01:00.0'], allow_unknown=True)
    assert _nodedev.unknown_group_peers(devices, ['0000:01:00.0']) == blockers
    annotated = _nodedev.annotate_viability(devices)
    assert dev(annotated, '0000:01:00.0')['assignable'] is False
    assert dev(annotated, '0000:01:00.0')['iommu_group_blockers'] == [
        {'address': '0000:01:00.1', 'driver': None, 'reason': 'driver-unknown'}]
    assert dev(_nodedev.annotate_viability(devices, allow_unknown=True), '0000:01:00.0')['assignable'] is True


def test_without_any_sysfs_the_test_driver_knows_no_driver_and_shared_groups_are_not_assignable():
    pci, net = nodedev_fixture.device_xmls()
    devices = _nodedev.annotate_viability(_nodedev.build_inventory(pci, net))
    assert all(d['driver'] is None and d['driver_known'] is False for d in devices)
    assert dev(devices, '0000:01:00.0')['assignable'] is False
    assert dev(devices, '0000:02:00.0')['iommu_group_blockers'][0]['reason'] == 'driver-unknown'
    assert dev(devices, '0000:03:10.0')['assignable'] is True  # alone in its group


def test_real_libvirt_without_driver_element_means_unbound():
    pci, net = nodedev_fixture.device_xmls()
    devices = _nodedev.annotate_viability(_nodedev.build_inventory(pci, net, libvirt_reports_drivers=True))
    assert all(d['driver_known'] for d in devices)
    assert dev(devices, '0000:01:00.0')['assignable'] is True


@pytest.mark.parametrize('uri, expected', [
    ('qemu:///system', True), ('qemu+ssh://root@kvm01/system', True), ('xen:///system', True),
    ('test:///default', False), ('test:///tmp/host.xml', False), ('test+unix:///x.xml', False),
])
def test_which_libvirt_reports_drivers(uri, expected):
    assert _nodedev.libvirt_reports_drivers(uri) is expected


def test_group_member_libvirt_does_not_list_blocks_the_group():
    """sysfs (or libvirt's iommuGroup) names a member libvirt has no node device for."""
    pci, net = nodedev_fixture.device_xmls()
    sysfs = {'drivers': nodedev_fixture.drivers(), 'devices': ALL_ADDRESSES,
             'iommu_groups': {1: ['0000:00:01.0', '0000:01:00.0', '0000:01:00.1', '0000:01:00.2']}}
    devices = _nodedev.build_inventory(pci, net, sysfs)
    blockers = _nodedev.blocking_group_peers(devices, ['0000:01:00.0', '0000:01:00.1'])
    assert blockers == [{'address': '0000:01:00.2', 'driver': None, 'iommu_group': 1,
                         'of': '0000:01:00.0', 'reason': 'not-listed'}]
    assert 'not listed by libvirt' in _nodedev.blockers_message(blockers)
    assert _nodedev.group_viable(devices, ['0000:01:00.0', '0000:01:00.1'], allow_unknown=True)
    note = _nodedev.unknown_peers_note(blockers)
    assert 'allow_unknown_group_peers is on: 0000:01:00.2 (not listed by libvirt' in note and 'DMA' in note


def test_sysfs_problems_and_unknown_drivers_are_told(tmp_path):
    pci, net = nodedev_fixture.device_xmls()
    nowhere = str(tmp_path / 'nowhere')
    facts = _nodedev.read_sysfs(nowhere)
    devices = _nodedev.build_inventory(pci, net, facts)
    notes = _nodedev.driver_notes('test:///h.xml', nowhere, facts, devices)
    assert notes[1] == ('cannot read %s/sys/bus/pci/devices (No such file or directory): the host drivers and '
                        'IOMMU groups it would tell come from libvirt only' % nowhere)
    assert notes[-1].startswith('host driver unknown for 0000:00:00.0, 0000:01:00.0')  # no root port
    assert 'sysfs under %s could not be read' % nowhere in notes[-1]
    assert 'driver: null and driver_known: false' in notes[-1] and 'not assignable' in notes[-1]
    not_read = _nodedev.driver_notes('test:///h.xml', None, None, devices)
    assert len(not_read) == 1 and 'sysfs is not read for test:///h.xml' in not_read[0]
    assert _nodedev.driver_notes('test:///h.xml', None, None, inventory()) == []


def test_sysfs_lists_unbound_devices_as_known(tmp_path):
    drivers = dict(nodedev_fixture.drivers())
    del drivers['0000:01:00.1']
    root = nodedev_fixture.make_sysfs(tmp_path, drivers)
    os.makedirs(os.path.join(root, 'sys', 'bus', 'pci', 'devices', '0000:01:00.1'))
    facts = _nodedev.read_sysfs(root)
    assert '0000:01:00.1' in facts['devices'] and '0000:01:00.1' not in facts['drivers']
    assert facts['problems'] == []
    pci, net = nodedev_fixture.device_xmls()
    devices = _nodedev.build_inventory(pci, net, facts)
    assert dev(devices, '0000:01:00.1')['driver_known'] is True
    assert _nodedev.group_viable(devices, ['0000:01:00.0'])
