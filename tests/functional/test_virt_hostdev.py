"""virt_hostdev run by ansible-playbook.

L1: libvirt's test driver on tests/fixtures/nodedev/host.xml with host drivers from a sysfs
tree in tmp_path: IOMMU-group refusals that name the peers, holders, bridges, NIC checks,
check-mode plans with diffs, and the test driver's missing nodedev detach / device attach
turned into clear messages (it has neither, so nothing real is changed there).
L2: the real libvirtd (qemu:///system, IOMMU off): config-only assignment of a real host
PCI address (from virt_pci_info) to a defined, never started domain, accepted by libvirt,
idempotent, and detached again; bad input fails with a message and changes nothing; a live
assignment to a running (empty, transient) domain is refused with a pointer at iommu_host.
No domain is ever started with a host device and no host device is ever detached from its driver.
"""

import os
import sys

import pytest

from conftest import PREFIX, domain_xml_both, libvirt_conn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'nodedev'))

import nodedev_fixture  # noqa: E402


# --- L1: the test-driver node -----------------------------------------------------------------

CHECK, DIFF = {'check_mode': True}, {'diff': True}
BAD_INPUT = [
    ({'devices': ['0000:01:00']}, "malformed PCI address '0000:01:00'"),
    ({'devices': ['0000:09:00.0']}, 'PCI device(s) 0000:09:00.0 not found at test://'),
    ({'devices': ['0000:00:01.0']}, 'PCI device 0000:00:01.0 is a PCI bridge/root port'),
    ({'devices': ['0000:04:00.0']}, "0000:04:00.0 is held by the running domain 'db01'"),
    ({'devices': ['0000:03:10.2'], 'as_interface': True}, "0000:03:10.2 is held by the running domain 'vf-guest'"),
    ({'devices': ['0000:03:10.0'], 'as_interface': True, 'vlan': {'tags': [4096]}}, 'VLAN tag 4096 is out of range'),
    ({'devices': ['0000:03:10.0'], 'as_interface': True, 'mac': '01:00:5e:00:00:01'}, 'multicast'),
    ({'devices': ['0000:05:00.0'], 'as_interface': True}, '0000:05:00.0 is not a NIC (class 0x0c0330, serial)'),
    ({'name': 'nope', 'devices': ['0000:05:00.0']}, "domain 'nope' not found"),
]


@pytest.fixture(scope='module')
def fx(tmp_path_factory):
    """Every L1 case in one ansible-playbook run against the fixture node; results by case name."""
    node = {'uri': nodedev_fixture.URI, 'root': nodedev_fixture.make_sysfs(tmp_path_factory.mktemp('host'))}
    web01 = dict(node, name='web01')
    cases = [
        ('gpu_alone', dict(web01, devices=['0000:01:00.0'])),
        ('nic_port_alone', dict(web01, devices=['pci_0000_02_00_0'])),
        ('gpu_group', dict(web01, devices=['01:00.0', 'pci_0000_01_00_1']), dict(CHECK, **DIFF)),
        ('peers_planned', dict(web01, devices=['0000:02:00.0'], detach_group_peers=True), CHECK),
        ('peers', dict(web01, devices=['0000:02:00.0'], detach_group_peers=True)),
        ('unmanaged_planned', dict(web01, devices=['0000:03:10.0'], managed=False), dict(CHECK, **DIFF)),
        ('unmanaged', dict(web01, devices=['0000:03:10.0'], managed=False)),
        ('attach', dict(web01, devices=['0000:03:10.0'])),
        ('vf_interface', dict(node, name='app01', devices=['0000:03:10.0'], as_interface=True,
                              mac='52:54:00:00:03:10', vlan={'tags': [42, 47], 'native': 47},
                              virtualport={'profileid': 'finance'}), dict(CHECK, **DIFF)),
        ('also_in_spare', dict(web01, devices=['0000:05:00.0']), CHECK),
    ] + [('bad%d' % n, dict(web01, **args)) for n, (args, _msg) in enumerate(BAD_INPUT)]
    runs = nodedev_fixture.run_tasks([('virt_hostdev',) + case[1:] for case in cases])
    return dict(zip([case[0] for case in cases], runs))


def test_gpu_without_its_audio_function_is_refused_naming_it(fx):
    result = fx['gpu_alone']
    assert result['failed']
    assert 'IOMMU group of 0000:01:00.0 is not viable' in result['msg']
    assert '0000:01:00.1 (driver snd_hda_intel, IOMMU group 1' in result['msg']
    assert '0000:00:01.0' not in result['msg']  # the root port of the group does not count
    assert result['detached_from_host'] == []


def test_one_port_of_a_multifunction_nic_is_refused(fx):
    result = fx['nic_port_alone']
    assert result['failed'] and '0000:02:00.1 (driver igb, IOMMU group 2' in result['msg']


def test_whole_group_in_check_mode_plans_config_only_on_a_shut_off_domain(fx):
    result = fx['gpu_group']
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] and result['iommu_enabled']
    assert result['actions'] == ['attach hostdev 0000:01:00.0 config', 'attach hostdev 0000:01:00.1 config']
    assert any("'web01' is not running" in n for n in result['notes'])
    assert [d['present'] for d in result['devices']] == [True, True]
    (diff,) = result['diff']
    assert 'bus="0x01" slot="0x00" function="0x1"' in diff['after']
    assert 'hostdev' not in diff['before']


def test_detach_group_peers_asks_libvirt_and_reports_unsupported(fx):
    planned = fx['peers_planned']
    assert planned['changed'] and planned['detached_from_host'] == ['0000:02:00.1']
    assert any('would detach' in n and '0000:02:00.1' in n for n in planned['notes'])
    result = fx['peers']
    assert result['failed']
    assert 'cannot detach PCI device 0000:02:00.1 from its host driver (virsh nodedev-detach)' in result['msg']
    assert 'not supported' in result['msg'] and 'The domain was not changed' in result['msg']


def test_managed_false_detaches_the_device_itself_first(fx):
    planned = fx['unmanaged_planned']
    assert planned['detached_from_host'] == ['0000:03:10.0']
    assert 'managed="no"' in planned['diff'][0]['after']
    result = fx['unmanaged']
    assert result['failed'] and 'cannot detach PCI device 0000:03:10.0' in result['msg']


def test_attach_on_the_test_driver_is_reported_as_unsupported(fx):
    result = fx['attach']
    assert result['failed']
    assert "libvirt refused to attach hostdev 0000:03:10.0 (config) on domain 'web01'" in result['msg']


def test_vf_as_interface_live_and_config_in_check_mode(fx):
    result = fx['vf_interface']
    assert not result.get('failed'), result.get('msg')
    assert result['actions'] == ['attach interface hostdev 0000:03:10.0 live',
                                 'attach interface hostdev 0000:03:10.0 config']
    after = result['diff'][0]['after']
    for text in ('<mac address="52:54:00:00:03:10"/>', '<vlan trunk="yes">', 'nativeMode="untagged"',
                 '<parameters profileid="finance"/>'):
        assert text in after


@pytest.mark.parametrize('number', range(len(BAD_INPUT)), ids=[m for _a, m in BAD_INPUT])
def test_bad_input_on_the_fixture(fx, number):
    result, message = fx['bad%d' % number], BAD_INPUT[number][1]
    assert result['failed'] and message in result['msg'], result['msg']
    assert result.get('detached_from_host', []) == []


def test_device_in_a_shut_off_domain_is_a_warning(fx):
    result = fx['also_in_spare']
    assert result['changed'] and any("shut-off domain 'spare'" in n for n in result['notes'])


# --- L2: the real libvirtd --------------------------------------------------------------------

@pytest.fixture(scope='module')
def real_devices():
    (result,) = nodedev_fixture.run_tasks([('virt_pci_info', {})])
    assert not result.get('failed'), result.get('msg')
    assert result['iommu_enabled'] is False
    return result['devices']


def pick(devices, classes):
    """A real host PCI device of one of ``classes`` that no domain holds (never started, never detached)."""
    for dev in devices:
        if dev['class_name'] in classes and not dev['bridge'] and not dev['held_by']:
            return dev['address']
    pytest.skip('no %s PCI device on this host' % '/'.join(classes))


OTHER = ('unclassified', 'unassigned', 'storage', 'multimedia', 'display')


@pytest.fixture
def no_iommu():
    if os.path.isdir('/sys/kernel/iommu_groups') and os.listdir('/sys/kernel/iommu_groups'):
        pytest.skip('this host has an IOMMU; these tests are for a host without one')


@pytest.fixture
def running_empty_domain():
    """A running, transient domain with no disk, no NIC and no host device (QEMU sits in its BIOS)."""
    import libvirt
    name = PREFIX + 'hostdev-running'
    conn = libvirt_conn()
    try:
        conn.lookupByName(name).destroy()
    except libvirt.libvirtError:
        pass
    dom = conn.createXML("<domain type='qemu'><name>%s</name><memory unit='MiB'>32</memory>"
                         "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices/></domain>" % name, 0)
    yield name
    dom.destroy()


def source_address_xml(addr):
    bus, rest = addr.split(':')[1:]
    slot, function = rest.split('.')
    return "<address domain='0x0000' bus='0x%s' slot='0x%s' function='0x%s'/>" % (bus, slot, function)


@pytest.mark.libvirt
def test_config_only_assignment_of_a_real_device(shutoff_domain, no_iommu, real_devices):
    addr = pick(real_devices, OTHER + ('network',))
    args = {'name': shutoff_domain, 'devices': [addr]}
    first, again, planned = nodedev_fixture.run_tasks([
        ('virt_hostdev', args, {'diff': True}),
        ('virt_hostdev', dict(args, devices=['pci_' + addr.replace(':', '_').replace('.', '_')])),
        ('virt_hostdev', dict(args, state='absent'), {'check_mode': True}),
    ])
    assert not first.get('failed'), first.get('msg')
    assert first['changed'] and first['actions'] == ['attach hostdev %s config' % addr]
    assert any('is not running' in n for n in first['notes'])
    assert any('only the persistent definition' in n and 'iommu_host' in n for n in first['notes'])
    assert first['detached_from_host'] == [] and first['devices'][0]['present']
    assert '<hostdev' in first['diff'][0]['after'] and '<hostdev' not in first['diff'][0]['before']
    live, config = domain_xml_both(shutoff_domain)
    assert live is None
    assert source_address_xml(addr) in config  # libvirt accepted and kept the device
    assert "managed='yes'" in config and "<driver name='vfio'/>" in config
    assert not again.get('failed') and again['changed'] is False and again['actions'] == []
    assert planned['changed'] and planned['actions'] == ['detach hostdev %s config' % addr]

    gone, gone_again = nodedev_fixture.run_tasks([
        ('virt_hostdev', dict(args, state='absent')), ('virt_hostdev', dict(args, state='absent'))])
    assert gone['changed'] and gone['actions'] == ['detach hostdev %s config' % addr]
    assert gone['reattached_to_host'] == [] and gone['detached_from_host'] == []
    assert '<hostdev' not in domain_xml_both(shutoff_domain)[1]
    assert gone_again['changed'] is False


@pytest.mark.libvirt
def test_config_only_nic_as_interface_with_mac_vlan_virtualport(shutoff_domain, no_iommu, real_devices):
    addr = pick(real_devices, ('network',))
    args = {'name': shutoff_domain, 'devices': [addr], 'as_interface': True, 'mac': '52:54:00:6d:90:02',
            'vlan': {'tags': [42]}, 'virtualport': {'profileid': 'finance'}}
    first, again = nodedev_fixture.run_tasks([('virt_hostdev', args), ('virt_hostdev', args)])
    assert not first.get('failed'), first.get('msg')
    config = domain_xml_both(shutoff_domain)[1]
    for text in ("<interface type='hostdev' managed='yes'>", "<mac address='52:54:00:6d:90:02'/>",
                 "<tag id='42'/>", "<virtualport type='802.1Qbh'>", "<parameters profileid='finance'/>"):
        assert text in config
    assert again['changed'] is False
    (gone,) = nodedev_fixture.run_tasks([('virt_hostdev', {'name': shutoff_domain, 'devices': [addr],
                                                           'state': 'absent'})])
    assert gone['actions'] == ['detach interface hostdev %s config' % addr]
    assert '<interface' not in domain_xml_both(shutoff_domain)[1]


REAL_BAD_INPUT = [
    ({'devices': ['0000:00:04']}, "malformed PCI address '0000:00:04'"),
    ({'devices': ['0000:7f:1f.7']}, 'PCI device(s) 0000:7f:1f.7 not found at qemu:///system'),
    ({'devices': ['0000:00:00.0']}, 'PCI device 0000:00:00.0 is a host bridge'),
    ({'devices': ['NIC'], 'as_interface': True, 'vlan': {'tags': [5000]}},
     'VLAN tag 5000 is out of range: VLAN ids are 0-4095'),
    ({'devices': ['NIC'], 'as_interface': True, 'mac': '52:54:00:6d:90'}, "bad MAC address '52:54:00:6d:90'"),
    ({'devices': ['OTHER'], 'as_interface': True}, 'is not a NIC'),
    ({'devices': ['OTHER'], 'managed': False}, 'managed: false needs the device bound to vfio-pci'),
]


@pytest.mark.libvirt
def test_bad_input_changes_nothing(shutoff_domain, no_iommu, real_devices):
    swap = {'NIC': pick(real_devices, ('network',)), 'OTHER': pick(real_devices, OTHER)}
    before = domain_xml_both(shutoff_domain)
    results = nodedev_fixture.run_tasks([
        ('virt_hostdev', dict(args, name=shutoff_domain, devices=[swap.get(a, a) for a in args['devices']]))
        for args, _message in REAL_BAD_INPUT])
    for result, (_args, message) in zip(results, REAL_BAD_INPUT):
        assert result['failed'] and message in result['msg'], (message, result['msg'])
    assert domain_xml_both(shutoff_domain) == before


@pytest.mark.libvirt
def test_live_assignment_without_iommu_is_refused(running_empty_domain, no_iommu, real_devices):
    addr = pick(real_devices, OTHER)
    before = domain_xml_both(running_empty_domain)
    (result,) = nodedev_fixture.run_tasks([('virt_hostdev', {'name': running_empty_domain, 'devices': [addr]})])
    assert result['failed']
    assert "cannot assign hostdev %s to the running domain '%s'" % (addr, running_empty_domain) in result['msg']
    assert 'virtops.devices.iommu_host role' in result['msg']
    assert domain_xml_both(running_empty_domain) == before
