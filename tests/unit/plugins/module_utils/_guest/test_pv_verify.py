"""L0: the after-reboot verdict: root, swap and NICs on PV devices, no emulated disk driver in use."""

from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_verify


def test_disk_bus():
    assert _pv_verify.disk_bus('/dev/xvda1') == 'xen'
    assert _pv_verify.disk_bus('vdb') == 'virtio'
    assert _pv_verify.disk_bus('hda1') == 'emulated'
    assert _pv_verify.disk_bus('/dev/sda12') == 'emulated'
    assert _pv_verify.disk_bus('dm-0') == 'other'


def test_proc_parsers():
    mounts = 'rootfs / rootfs rw 0 0\n/dev/root / ext3 rw 0 0\n/dev/xvda1 / ext3 rw 0 0\nproc /proc proc rw 0 0\n'
    assert _pv_verify.mounted_root(mounts) == '/dev/xvda1'
    swaps = 'Filename\tType\tSize\tUsed\tPriority\n/dev/xvda2  partition  265064  0  -1\n'
    assert _pv_verify.active_swaps(swaps) == [('/dev/xvda2', 'partition')]
    assert _pv_verify.loaded_modules('ata_piix 22853 0 - Live 0xf8\nxen_vbd 19845 3 - Live 0xf88\n') == \
        {'ata_piix': 0, 'xen_vbd': 3}


def test_nic_bus_from_sysfs_links():
    assert _pv_verify.nic_bus('../../../devices/xen/vif-0', None) == ('xen', 'vif')
    assert _pv_verify.nic_bus('../../../devices/pci0000:00/0000:00:03.0/virtio0',
                              '../../../../bus/virtio/drivers/virtio_net') == ('virtio', 'virtio_net')
    assert _pv_verify.nic_bus('../../../devices/pci0000:00/0000:00:03.0', '../../bus/pci/drivers/8139cp') == \
        ('emulated', '8139cp')


def test_verdict_seed001_after_first_pass_and_before():
    nics = [{'name': 'eth0', 'bus': 'xen', 'driver': 'vif'}]
    assert _pv_verify.verdict(['xvda1'], [('/dev/xvda2', 'xen')], nics, {'ata_piix': 0}, 'xen') == (True, [])
    active, problems = _pv_verify.verdict(['hda1'], [('/dev/hda2', 'emulated')],
                                          [{'name': 'eth0', 'bus': 'emulated', 'driver': '8139cp'}],
                                          {'ata_piix': 2}, 'xen')
    assert not active
    assert problems == ['/ is on hda1 (emulated bus)', 'swap /dev/hda2 is on the emulated bus',
                        'eth0 uses the emulated driver 8139cp', 'the emulated disk driver ata_piix is in use (2 users)']


def test_verdict_wrong_family_and_unknown_root():
    active, problems = _pv_verify.verdict(['xvda1'], [], [], {}, 'virtio')
    assert not active and problems == ['/ is on xvda1 (xen bus)']
    assert _pv_verify.verdict([], [], [], {})[1] == ['the disk under / is not known']


EVIDENCE = """==mounts
rootfs / rootfs rw 0 0
/dev/hda1 / ext3 rw 0 0
==swaps
Filename\tType\tSize\tUsed\tPriority
/dev/hda2  partition  265064  0  -1
==modules
xen_vnif 28481 0 - Live
xen_vbd 19845 1 - Live
==slaves dm-0 sda3 sdb1
==link /dev/mapper/vg-root ../dm-0
==end
"""


def test_parse_evidence_sections():
    state = _pv_verify.parse_evidence(EVIDENCE)
    assert state['mounts'] == 'rootfs / rootfs rw 0 0\n/dev/hda1 / ext3 rw 0 0\n'
    assert state['slaves'] == {'dm-0': ['sda3', 'sdb1']}
    assert _pv_verify.disks_under(state, '/dev/mapper/vg-root') == ['sda3', 'sdb1']
    assert _pv_verify.disks_under(state, '/dev/hda1') == ['hda1']


def test_rhel3_without_sysfs_judged_by_loaded_nic_driver():
    """Runbook 002: / stays on hda, no /sys; xen-vnif loaded stands in for the NIC check."""
    state = _pv_verify.parse_evidence(EVIDENCE)
    facts = _pv_verify.report(state, 'xen', check_root=False)
    assert facts['pv_active'] is True and facts['root']['disks'] == ['hda1']
    state['modules'] = 'ata_piix 1 1 - Live\n'
    facts = _pv_verify.report(state, 'xen', check_root=False)
    assert facts['problems'] == ['no NIC found in /sys and no paravirtual NIC driver loaded']
    assert _pv_verify.report(_pv_verify.parse_evidence(EVIDENCE), 'xen')['problems'] == [
        '/ is on hda1 (emulated bus)', 'swap /dev/hda2 is on the emulated bus']
