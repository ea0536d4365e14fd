"""L0: hostdev / hostdev-interface XML, input checks, planning and the host-side decisions
of virt_hostdev (IOMMU groups, holders, bridges, managed: false detach/reattach)."""

import os
import sys

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml, _pci_slots
from ansible_collections.virtops.devices.plugins.module_utils._pci import _hostdev, _nodedev
from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _hotplug
from ansible_collections.virtops.devices.plugins.module_utils._pci._hostdev import PlanError

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'fixtures', 'nodedev'))

import nodedev_fixture  # noqa: E402


def inventory(driver_map=None):
    pci, net = nodedev_fixture.device_xmls()
    sysfs = {'drivers': nodedev_fixture.drivers() if driver_map is None else driver_map}
    return _nodedev.build_inventory(pci, net, sysfs, _nodedev.domain_holdings(nodedev_fixture.domains()))


def request(**kw):
    params = {'devices': None, 'network': None, 'as_interface': False, 'mac': None, 'vlan': None,
              'virtualport': None, 'managed': True, 'driver': 'vfio'}
    params.update(kw)
    return _hostdev.normalize_request(params)


def domain(devices=''):
    return _domain_xml.parse("<domain type='qemu'><name>web01</name><os><type machine='pc'>hvm</type></os>"
                             "<devices>%s</devices></domain>" % devices)


HOSTDEV_0300 = ("<hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio'/><source>"
                "<address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source>"
                "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></hostdev>")


# --- XML ---------------------------------------------------------------------------------------

def test_hostdev_xml():
    node = _hostdev.build_hostdev('pci_0000_01_00_1')
    assert _domain_xml.canonical(node) == (
        '<hostdev managed="yes" mode="subsystem" type="pci"><driver name="vfio"/><source>'
        '<address bus="0x01" domain="0x0000" function="0x1" slot="0x00"/></source></hostdev>')
    assert _hostdev.build_hostdev('0000:01:00.1', managed=False).get('managed') == 'no'


def test_hostdev_interface_xml_with_mac_vlan_virtualport():
    req = request(devices=['03:10.0'], as_interface=True, mac='52:54:00:6D:90:02',
                  vlan={'tags': [42]}, virtualport={'type': '802.1Qbh', 'profileid': 'finance'})
    node = _hostdev.build_device(req, req['addresses'][0])
    assert _domain_xml.to_text(node) == (
        "<interface type=\"hostdev\" managed=\"yes\">\n"
        "  <mac address=\"52:54:00:6d:90:02\"/>\n"
        "  <driver name=\"vfio\"/>\n"
        "  <source>\n"
        "    <address domain=\"0x0000\" bus=\"0x03\" slot=\"0x10\" function=\"0x0\" type=\"pci\"/>\n"
        "  </source>\n"
        "  <vlan>\n"
        "    <tag id=\"42\"/>\n"
        "  </vlan>\n"
        "  <virtualport type=\"802.1Qbh\">\n"
        "    <parameters profileid=\"finance\"/>\n"
        "  </virtualport>\n"
        "</interface>\n")


def test_vlan_trunk_with_native_tag():
    vlan = _hostdev.normalize_vlan({'tags': [42, 47], 'native': 47, 'native_mode': 'tagged'})
    assert vlan == {'tags': [42, 47], 'trunk': True, 'native': 47, 'native_mode': 'tagged'}
    assert _domain_xml.canonical(_hostdev.build_vlan(vlan)) == (
        '<vlan trunk="yes"><tag id="42"/><tag id="47" nativeMode="tagged"/></vlan>')
    assert _hostdev.normalize_vlan({'tags': [5], 'native': 6})['tags'] == [5, 6]


def test_network_interface_xml():
    node = _hostdev.build_network_interface('vfpool0', '52:54:00:00:00:01')
    assert _domain_xml.canonical(node) == (
        '<interface type="network"><mac address="52:54:00:00:00:01"/><source network="vfpool0"/></interface>')


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize('vlan, why', [
    ({'tags': [4096]}, 'VLAN tag 4096 is out of range: VLAN ids are 0-4095'),
    ({'tags': [-1]}, 'VLAN tag -1 is out of range'),
    ({'tags': [10], 'native': 5000}, 'VLAN native tag 5000 is out of range'),
    ({'tags': []}, 'needs at least one tag'),
    ({'tags': [1, 2], 'trunk': False}, 'trunk is false'),
])
def test_bad_vlan(vlan, why):
    with pytest.raises(PlanError, match=why):
        _hostdev.normalize_vlan(vlan)


@pytest.mark.parametrize('mac, why', [
    ('52:54:00:6d:90', 'six hex octets'),
    ('52:54:00:6d:90:zz', 'six hex octets'),
    ('01:00:5e:00:00:01', 'multicast'),
    ('00:00:00:00:00:00', 'all zeros'),
])
def test_bad_mac(mac, why):
    with pytest.raises(PlanError) as err:
        _hostdev.normalize_mac(mac)
    assert why in str(err.value) and repr(mac) in str(err.value)


def test_mac_forms():
    assert _hostdev.normalize_mac('52-54-00-AA-BB-CC') == '52:54:00:aa:bb:cc'


@pytest.mark.parametrize('kw, why', [
    ({'devices': ['0000:01:00']}, "malformed PCI address '0000:01:00'"),
    ({'devices': ['01:00.0', 'pci_0000_01_00_0']}, '0000:01:00.0 is listed twice'),
    ({}, 'nothing to assign'),
    ({'devices': ['01:00.0'], 'network': 'pool'}, 'either devices or network'),
    ({'devices': ['01:00.0'], 'mac': '52:54:00:00:00:01'}, 'set as_interface: true'),
    ({'devices': ['03:10.0', '03:10.2'], 'as_interface': True, 'mac': '52:54:00:00:00:01'}, 'one device per task'),
    ({'network': 'pool', 'vlan': {'tags': [1]}}, 'give only mac with network'),
    ({'devices': ['03:10.0'], 'as_interface': True, 'virtualport': {'profileid': ' '}}, 'needs a profileid'),
])
def test_bad_requests(kw, why):
    with pytest.raises(PlanError, match=why):
        request(**kw)


# --- planning ----------------------------------------------------------------------------------

def test_plan_attaches_missing_devices_live_first_and_is_idempotent():
    req = request(devices=['0000:03:00.0', 'pci_0000_02_00_0'])
    trees = {'config': domain(HOSTDEV_0300), 'live': domain()}
    steps = _hostdev.plan(req, 'present', trees)
    assert _hotplug.step_texts(steps) == ['attach hostdev 0000:03:00.0 live', 'attach hostdev 0000:02:00.0 live',
                                          'attach hostdev 0000:02:00.0 config']
    after = dict((s, _hotplug.predicted_tree(r, steps, s)) for s, r in trees.items())
    assert _hostdev.plan(req, 'present', after) == []
    assert _hostdev.attached_addresses(steps) == ['0000:03:00.0', '0000:02:00.0']


def test_plan_detaches_the_element_the_domain_has():
    other = HOSTDEV_0300.replace("bus='0x03'", "bus='0x04'").replace("slot='0x05'", "slot='0x06'")
    trees = {'config': domain(HOSTDEV_0300 + other)}
    steps = _hostdev.plan(request(devices=['0000:03:00.0']), 'absent', trees)
    assert _hotplug.step_texts(steps) == ['detach hostdev 0000:03:00.0 config']
    after = _hotplug.predicted_tree(trees['config'], steps, 'config')
    assert _hostdev.find_assigned(after, '0000:03:00.0') is None
    assert _hostdev.find_assigned(after, '0000:04:00.0') is not None
    assert _hostdev.plan(request(devices=['0000:03:00.0']), 'absent', {'config': after}) == []


def test_existing_hostdev_asked_as_interface_is_refused():
    with pytest.raises(PlanError, match='already in the config definition as <hostdev>'):
        _hostdev.plan(request(devices=['0000:03:00.0'], as_interface=True), 'present',
                      {'config': domain(HOSTDEV_0300)})


def test_existing_interface_with_other_mac_or_vlan_is_refused_same_is_kept():
    req = request(devices=['03:10.0'], as_interface=True, mac='52:54:00:00:00:01', vlan={'tags': [42]})
    have = _domain_xml.to_text(_hostdev.build_device(req, '0000:03:10.0'))
    assert _hostdev.plan(req, 'present', {'config': domain(have)}) == []
    with pytest.raises(PlanError, match='with MAC 52:54:00:00:00:01, not 52:54:00:00:00:02'):
        _hostdev.plan(request(devices=['03:10.0'], as_interface=True, mac='52:54:00:00:00:02'), 'present',
                      {'config': domain(have)})
    with pytest.raises(PlanError, match='with another vlan'):
        _hostdev.plan(request(devices=['03:10.0'], as_interface=True, vlan={'tags': [43]}), 'present',
                      {'config': domain(have)})


def test_pool_interface_by_network_and_mac():
    req = request(network='vfpool0', mac='52:54:00:00:00:09')
    steps = _hostdev.plan(req, 'present', {'config': domain()})
    assert _hotplug.step_texts(steps) == ['attach interface network vfpool0 (52:54:00:00:00:09) config']
    after = _hotplug.predicted_tree(domain(), steps, 'config')
    assert _hostdev.plan(req, 'present', {'config': after}) == []
    assert _hostdev.device_results(req, after) == [{'network': 'vfpool0', 'present': True, 'mac': '52:54:00:00:00:09'}]
    assert len(_hostdev.plan(req, 'absent', {'config': after})) == 1


# --- checks against the host (fixture inventory) ----------------------------------------------------

@pytest.mark.parametrize('kw, why', [
    ({'devices': ['0000:09:00.0']}, 'PCI device(s) 0000:09:00.0 not found at test:///n.xml'),
    ({'devices': ['0000:00:01.0']}, 'PCI device 0000:00:01.0 is a PCI bridge/root port (class 0x060400)'),
    ({'devices': ['0000:00:00.0']}, 'PCI device 0000:00:00.0 is a host bridge'),
    ({'devices': ['0000:04:00.0']}, "PCI device 0000:04:00.0 is held by the running domain 'db01' (as <hostdev>)"),
    ({'devices': ['0000:03:10.2']}, "held by the running domain 'vf-guest' (as <interface>)"),
    ({'devices': ['0000:04:00.0'], 'as_interface': True}, "held by the running domain 'db01'"),
    ({'devices': ['0000:01:00.0'], 'as_interface': True}, 'PCI device 0000:01:00.0 is not a NIC (class 0x030000, display)'),
])
def test_device_refusals(kw, why):
    with pytest.raises(PlanError) as err:
        _hostdev.check_devices(inventory(), request(**kw), 'web01', 'test:///n.xml')
    assert why in str(err.value)


def test_device_held_by_a_shut_off_domain_is_a_note_and_own_holding_is_fine():
    notes = _hostdev.check_devices(inventory(), request(devices=['0000:05:00.0']), 'web01', 'u')
    assert notes == ["PCI device 0000:05:00.0 is also in the definition of the shut-off domain 'spare': only "
                     "one of them can run at a time"]
    assert _hostdev.check_devices(inventory(), request(devices=['0000:04:00.0']), 'db01', 'u') == []


def test_non_viable_group_names_the_peers_and_their_drivers():
    with pytest.raises(PlanError) as err:
        _hostdev.group_peers_to_detach(inventory(), ['0000:01:00.0'], False)
    msg = str(err.value)
    assert 'IOMMU group of 0000:01:00.0 is not viable' in msg
    assert '0000:01:00.1 (driver snd_hda_intel, IOMMU group 1' in msg
    assert 'detach_group_peers: true' in msg and '0000:00:01.0' not in msg


def test_group_peers_detached_when_asked_and_none_when_all_requested():
    assert _hostdev.group_peers_to_detach(inventory(), ['0000:02:00.0'], True) == ['0000:02:00.1']
    assert _hostdev.group_peers_to_detach(inventory(), ['0000:01:00.0', '0000:01:00.1'], False) == []


def _steps(state, req, trees):
    return _hostdev.plan(req, state, trees)


def test_iommu_off_refuses_live_and_managed_false_warns_for_config():
    live = _steps('present', request(devices=['0000:03:00.0']), {'live': domain(), 'config': domain()})
    with pytest.raises(PlanError) as err:
        _hostdev.check_iommu(False, live, True, 'web01', 'qemu:///system')
    assert 'cannot assign hostdev 0000:03:00.0 to the running domain' in str(err.value)
    assert 'virtops.devices.iommu_host role' in str(err.value) and 'live: false' in str(err.value)
    config = _steps('present', request(devices=['0000:03:00.0']), {'config': domain()})
    notes = _hostdev.check_iommu(False, config, True, 'web01', 'qemu:///system')
    assert 'only the persistent definition' in notes[0] and 'iommu_host' in notes[0]
    with pytest.raises(PlanError, match='managed: false needs the device bound to vfio-pci'):
        _hostdev.check_iommu(False, config, False, 'web01', 'qemu:///system')
    assert _hostdev.check_iommu(True, live, True, 'web01', 'u') == []
    assert _hostdev.check_iommu(False, [], False, 'web01', 'u') == []


def test_managed_false_detaches_devices_not_on_vfio_and_peers():
    inv = inventory()
    req = request(devices=['0000:02:00.0', '0000:04:00.0'], managed=False)
    steps = _steps('present', req, {'config': domain()})
    assert steps[0]['device'].get('managed') == 'no'
    assert _hostdev.host_detaches(inv, req, steps, ['0000:02:00.1']) == ['0000:02:00.1', '0000:02:00.0']
    managed = request(devices=['0000:02:00.0'])
    assert _hostdev.host_detaches(inv, managed, _steps('present', managed, {'config': domain()}), []) == []


def test_managed_false_reattaches_only_released_vfio_devices():
    inv = inventory()
    have = HOSTDEV_0300.replace("bus='0x03'", "bus='0x04'")
    req = request(devices=['0000:04:00.0'], managed=False)
    steps = _steps('absent', req, {'config': domain(have)})
    # db01 (running) still holds 04:00.0 in the fixture: not given back
    assert _hostdev.host_reattaches(inv, req, steps, 'web01', set()) == []
    # as db01 itself, released in every scope: given back to the host
    assert _hostdev.host_reattaches(inv, req, steps, 'db01', set()) == ['0000:04:00.0']
    # still held live (only config changed): kept
    assert _hostdev.host_reattaches(inv, req, steps, 'db01', {'0000:04:00.0'}) == []
    # a device on its own host driver is never "reattached"
    igb = request(devices=['0000:02:00.0'], managed=False)
    igb_steps = _steps('absent', igb, {'config': domain(HOSTDEV_0300.replace("bus='0x03'", "bus='0x02'"))})
    assert _hostdev.host_reattaches(inv, igb, igb_steps, 'web01', set()) == []
    assert _hostdev.host_reattaches(inv, request(devices=['0000:04:00.0']), steps, 'db01', set()) == []


def test_live_slots_counted_before_change():
    q35 = _domain_xml.parse("<domain><os><type machine='pc-q35-7.2'>hvm</type></os><devices>"
                            "<controller type='pci' index='0' model='pcie-root'/></devices></domain>")
    steps = _steps('present', request(devices=['0000:03:10.0']), {'live': q35})
    with pytest.raises(PlanError, match='0 free PCI hotplug slot'):
        _hostdev.check_live_slots('web01', steps, q35)
    _hostdev.check_live_slots('web01', steps, domain())


def test_interface_source_address_is_no_guest_slot():
    iface = _domain_xml.to_text(_hostdev.build_hostdev_interface('0000:00:07.0'))
    assert (0, 7) not in _pci_slots.pci_addresses(domain(iface))


def test_device_results_and_held_addresses():
    root = domain(HOSTDEV_0300)
    assert _hostdev.device_results(request(devices=['03:00.0', '02:00.0']), root) == [
        {'address': '0000:03:00.0', 'name': 'pci_0000_03_00_0', 'present': True, 'as': 'hostdev', 'mac': None},
        {'address': '0000:02:00.0', 'name': 'pci_0000_02_00_0', 'present': False, 'as': None, 'mac': None}]
    assert _hostdev.held_addresses({'config': root}) == set(['0000:03:00.0'])


def test_canonical_keeps_the_source_address():
    a = _domain_xml.parse(HOSTDEV_0300)
    b = _domain_xml.parse(HOSTDEV_0300.replace("bus='0x03'", "bus='0x04'"))
    assert _domain_xml.canonical(a) != _domain_xml.canonical(b)
    assert 'slot="0x05"' not in _domain_xml.canonical(a)


# --- SR-IOV VF pool networks --------------------------------------------------------------------

def test_vf_pool_network_xml():
    node = _hostdev.build_vf_pool_network('vfpool0', 'enp3s0f0')
    assert _domain_xml.canonical(node) == (
        '<network><name>vfpool0</name><forward managed="yes" mode="hostdev"><driver name="vfio"/>'
        '<pf dev="enp3s0f0"/></forward></network>')


LIVE_POOL = ("<network><name>vfpool0</name><uuid>u</uuid><forward mode='hostdev' managed='yes'>"
             "<driver name='vfio'/><pf dev='enp3s0f0'/>"
             "<address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x0'/>"
             "<address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x2'/></forward></network>")


def test_vf_pool_actions():
    want = _hostdev.build_vf_pool_network('vfpool0', 'enp3s0f0')
    assert _hostdev.vf_pool_actions(None, want, 'present', True, True) == ['define', 'start', 'autostart on']
    have = {'xml': _domain_xml.parse(LIVE_POOL), 'active': True, 'autostart': True}
    assert _hostdev.vf_pool_actions(have, want, 'present', True, True) == []  # libvirt's VF list is ignored
    assert _hostdev.vf_pool_actions(dict(have, active=False), want, 'present', False, False) == ['autostart off']
    other = _hostdev.build_vf_pool_network('vfpool0', 'enp4s0f0')
    assert _hostdev.vf_pool_actions(have, other, 'present', True, True) == ['define']
    assert _hostdev.vf_pool_actions(have, None, 'absent', True, True) == ['stop', 'undefine']
    assert _hostdev.vf_pool_actions(None, None, 'absent', True, True) == []


def test_vf_pool_after_keeps_uuid_and_changes_forward():
    after = _hostdev.vf_pool_after(_domain_xml.parse(LIVE_POOL), _hostdev.build_vf_pool_network('vfpool0', 'enp4s0f0'))
    assert after.findtext('uuid') == 'u' and after.find('forward/pf').get('dev') == 'enp4s0f0'


def test_existing_bridge_network_is_never_turned_into_a_pool():
    bridge = {'xml': _domain_xml.parse("<network><name>lan</name><forward mode='nat'/></network>")}
    with pytest.raises(PlanError, match="network 'lan' exists with forward mode nat, not a VF pool"):
        _hostdev.check_existing_network(bridge, 'lan')
    _hostdev.check_existing_network({'xml': _domain_xml.parse(LIVE_POOL)}, 'vfpool0')


def test_pool_vfs_from_the_running_network_else_from_the_pf():
    pf = _nodedev.by_address(inventory())['0000:03:00.0']
    assert _hostdev.pool_vfs(_domain_xml.parse(LIVE_POOL), pf) == (['0000:03:10.0', '0000:03:10.2'], 'network')
    assert _hostdev.pool_vfs(None, pf) == (['0000:03:10.0', '0000:03:10.2'], 'nodedev')
    assert _hostdev.pool_vfs(None, None) == ([], 'none')


def test_pf_by_name_or_address_and_its_problems():
    inv = inventory()
    assert _hostdev.resolve_pf(inv, 'pci_0000_03_00_0', 'u')[0] == 'enp3s0f0'
    pf, dev = _hostdev.resolve_pf(inv, 'enp3s0f0', 'u')
    assert dev['address'] == '0000:03:00.0' and _hostdev.pf_problem(pf, dev, inv) is None
    with pytest.raises(PlanError, match='0000:04:00.0 has no network interface'):
        _hostdev.resolve_pf(inv, '0000:04:00.0', 'u')
    assert "no host NIC called 'eth9'" in _hostdev.pf_problem('eth9', None, inv)
    assert 'is itself a VF of 0000:03:00.0' in _hostdev.pf_problem(*_hostdev.resolve_pf(inv, 'enp3s16', 'u'), devices=inv)
    assert 'not an SR-IOV physical function' in _hostdev.pf_problem(*_hostdev.resolve_pf(inv, 'enp2s0f0', 'u'), devices=inv)


def test_pool_network_must_exist_and_be_a_pool():
    with pytest.raises(PlanError, match="network 'vfpool9' not found; known networks: lan"):
        _hostdev.check_pool_network('vfpool9', None, ['lan'])
    with pytest.raises(PlanError, match="network 'lan' forwards in mode bridge"):
        _hostdev.check_pool_network('lan', 'bridge', ['lan'])
    _hostdev.check_pool_network('vfpool0', 'hostdev', ['vfpool0'])


# --- peers that cannot be shown to be free (issue 8) --------------------------------------------------

def unknown_audio_inventory():
    """The audio function of the GPU's group listed by libvirt (test driver), sysfs silent on it."""
    drivers = dict(nodedev_fixture.drivers())
    del drivers['0000:01:00.1']
    return inventory(drivers)


def test_peer_with_unknown_driver_refuses_naming_it_and_the_opt_in():
    with pytest.raises(PlanError) as err:
        _hostdev.group_peers_to_detach(unknown_audio_inventory(), ['0000:01:00.0'], False)
    msg = str(err.value)
    assert msg.startswith('the IOMMU group of 0000:01:00.0 is not viable: 0000:01:00.1 (driver unknown, '
                          'IOMMU group 1, shared with 0000:01:00.0) cannot be shown to be free.')
    assert 'for 0000:01:00.1 (driver unknown)' in msg and 'allow_unknown_group_peers: true (dangerous)' in msg


def test_peer_with_unknown_driver_is_detached_when_asked_or_taken_as_free_on_opt_in():
    inv = unknown_audio_inventory()
    assert _hostdev.group_peers_to_detach(inv, ['0000:01:00.0'], True) == ['0000:01:00.1']
    assert _hostdev.group_peers_to_detach(inv, ['0000:01:00.0'], False, True) == []
    # the opt-in does not free a peer known to be on a host driver
    with pytest.raises(PlanError, match=r'0000:02:00.1 \(driver igb, IOMMU group 2'):
        _hostdev.group_peers_to_detach(inventory(), ['0000:02:00.0'], False, True)


def test_peer_libvirt_does_not_list_cannot_be_detached_and_refuses_even_with_detach_group_peers():
    pci, net = nodedev_fixture.device_xmls()
    sysfs = {'drivers': nodedev_fixture.drivers(),
             'iommu_groups': {7: ['0000:05:00.0', '0000:05:00.3']}}
    inv = _nodedev.build_inventory(pci, net, sysfs)
    for detach in (False, True):
        with pytest.raises(PlanError) as err:
            _hostdev.group_peers_to_detach(inv, ['0000:05:00.0'], detach)
        assert ('0000:05:00.3 (not listed by libvirt, IOMMU group 7, shared with 0000:05:00.0) cannot be shown '
                'to be free (libvirt does not list it') in str(err.value)
        assert 'allow_unknown_group_peers: true (dangerous)' in str(err.value)
    assert _hostdev.group_peers_to_detach(inv, ['0000:05:00.0'], False, True) == []
