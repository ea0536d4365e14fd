"""virt_hostdev_network (SR-IOV VF pools) and virt_hostdev's pool interfaces, run by ansible-playbook.

L1: libvirt's test driver on tests/fixtures/nodedev/host.xml (PF enp3s0f0 = 0000:03:00.0 with two
VFs, a bridged network 'lan'); the test driver starts a fresh node per connection, so each run
starts from the file: define + start + autostart and the VF report are proven here, idempotence
on the real libvirtd.
L2: the real libvirtd (qemu:///system): a pool on this machine's NIC, defined and autostarted but
never started (the NIC has no VFs; starting is refused), idempotent, removed again.
"""

import os
import sys

import pytest

from conftest import PREFIX, libvirt_conn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'nodedev'))

import nodedev_fixture  # noqa: E402


@pytest.fixture(scope='module')
def fx(tmp_path_factory):
    node = {'uri': nodedev_fixture.URI, 'root': nodedev_fixture.make_sysfs(tmp_path_factory.mktemp('host'))}
    cases = [
        ('planned', 'virt_hostdev_network', dict(node, name='vfpool0', pf='enp3s0f0'),
         {'check_mode': True, 'diff': True}),
        ('by_address', 'virt_hostdev_network', dict(node, name='vfpool0', pf='pci_0000_03_00_0')),
        ('no_such_nic', 'virt_hostdev_network', dict(node, name='vfpool0', pf='eth9')),
        ('not_sriov', 'virt_hostdev_network', dict(node, name='vfpool0', pf='enp2s0f0')),
        ('a_vf', 'virt_hostdev_network', dict(node, name='vfpool0', pf='enp3s16')),
        ('bridge', 'virt_hostdev_network', dict(node, name='lan', pf='enp3s0f0')),
        ('gone', 'virt_hostdev_network', dict(node, name='lan', state='absent'), {'check_mode': True}),
        ('absent_missing', 'virt_hostdev_network', dict(node, name='vfpool0', state='absent')),
        ('iface_missing_pool', 'virt_hostdev', dict(node, name='web01', network='vfpool0')),
        ('iface_bridge', 'virt_hostdev', dict(node, name='web01', network='lan')),
    ]
    runs = nodedev_fixture.run_tasks([case[1:] for case in cases])
    return dict(zip([case[0] for case in cases], runs))


def test_pool_plan_in_check_mode_with_diff(fx):
    result = fx['planned']
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] and result['actions'] == ['define', 'start', 'autostart on']
    assert result['pf'] == 'enp3s0f0' and result['pf_address'] == '0000:03:00.0'
    assert result['diff']['before'] == ''
    assert "<forward mode=\"hostdev\" managed=\"yes\">" in result['diff']['after']
    assert '<pf dev="enp3s0f0"/>' in result['diff']['after']


def test_pool_defined_started_autostarted_and_its_vfs_reported(fx):
    result = fx['by_address']
    assert not result.get('failed'), result.get('msg')
    assert result['actions'] == ['define', 'start', 'autostart on'] and result['pf'] == 'enp3s0f0'
    assert result['vfs'] == ['0000:03:10.0', '0000:03:10.2'] and result['vfs_source'] in ('network', 'nodedev')


@pytest.mark.parametrize('case, message', [
    ('no_such_nic', "cannot start VF pool 'vfpool0': no host NIC called 'eth9'; the host has: enp2s0f0"),
    ('not_sriov', 'enp2s0f0 (0000:02:00.0) is not an SR-IOV physical function'),
    ('a_vf', 'enp3s16 (0000:03:10.0) is itself a VF of 0000:03:00.0'),
    ('bridge', "network 'lan' exists with forward mode bridge, not a VF pool"),
    ('iface_missing_pool', "network 'vfpool0' not found; known networks: lan"),
    ('iface_bridge', "network 'lan' forwards in mode bridge, it is no SR-IOV VF pool"),
])
def test_refusals(fx, case, message):
    assert fx[case]['failed'] and message in fx[case]['msg'], fx[case]['msg']


def test_absent(fx):
    assert fx['gone']['changed'] and fx['gone']['actions'] == ['stop', 'undefine']
    assert fx['absent_missing']['changed'] is False and fx['absent_missing']['actions'] == []


@pytest.mark.libvirt
def test_real_libvirtd_pool_defined_autostarted_idempotent_and_removed():
    import libvirt
    (info,) = nodedev_fixture.run_tasks([('virt_pci_info', {'class': ['network']})])
    nics = [d['netdev'] for d in info['devices'] if d['netdev']]
    pf = nics[0] if nics else 'virtops-nopf0'
    name = PREFIX + 'vfpool'
    args = {'name': name, 'pf': pf, 'active': False}
    try:
        first, again, start, planned = nodedev_fixture.run_tasks([
            ('virt_hostdev_network', args), ('virt_hostdev_network', args),
            ('virt_hostdev_network', dict(args, active=True)),
            ('virt_hostdev_network', {'name': name, 'state': 'absent'}, {'check_mode': True})])
        assert not first.get('failed'), first.get('msg')
        assert first['changed'] and first['actions'] == ['define', 'autostart on']
        assert any('cannot start yet' in n for n in first['notes'])
        net = libvirt_conn().networkLookupByName(name)
        assert net.autostart() and not net.isActive()
        assert "<pf dev='%s'/>" % pf in net.XMLDesc(0)
        assert again['changed'] is False and again['actions'] == []
        assert start['failed'] and "cannot start VF pool '%s'" % name in start['msg']
        assert not libvirt_conn().networkLookupByName(name).isActive()
        assert planned['changed'] and planned['actions'] == ['undefine']
        (gone,) = nodedev_fixture.run_tasks([('virt_hostdev_network', {'name': name, 'state': 'absent'})])
        assert gone['changed'] and name not in [n.name() for n in libvirt_conn().listAllNetworks(0)]
    finally:
        try:
            libvirt_conn().networkLookupByName(name).undefine()
        except libvirt.libvirtError:
            pass
