"""L0: device-name remapping for the switch to Xen (xvd*) and virtio (vd*) disks."""

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._guest import _devnames


@pytest.mark.parametrize('old,target,new', [
    ('/dev/hda', 'xen', '/dev/xvda'),
    ('/dev/hda1', 'xen', '/dev/xvda1'),
    ('/dev/hdb2', 'virtio', '/dev/vdb2'),
    ('/dev/sda', 'virtio', '/dev/vda'),
    ('/dev/sdc15', 'virtio', '/dev/vdc15'),
    ('/dev/sda10', 'xen', '/dev/xvda10'),          # partitions > 9
    ('/dev/sdaa3', 'virtio', '/dev/vdaa3'),         # disk 27
    ('/dev/cciss/c0d0', 'virtio', '/dev/vda'),
    ('/dev/cciss/c0d1p2', 'xen', '/dev/xvdb2'),
    ('/dev/cciss/c0d0p11', 'virtio', '/dev/vda11'),
    ('/dev/nvme0n1', 'virtio', '/dev/vda'),
    ('/dev/nvme1n1p3', 'virtio', '/dev/vdb3'),
    ('/dev/nvme0n1p12', 'xen', '/dev/xvda12'),
    ('/dev/xvda1', 'virtio', '/dev/vda1'),          # Xen guest moving to KVM
    ('/dev/vda1', 'virtio', '/dev/vda1'),           # already there
    ('/dev/xvdb', 'xen', '/dev/xvdb'),
])
def test_remap_device_name(old, target, new):
    assert _devnames.remap_device_name(old, target) == new


@pytest.mark.parametrize('spec', [
    'LABEL=/', 'UUID=5c1f0d3e-7a61-4f1f-9b0e-2f1c3a7d9e10', '/dev/mapper/VolGroup-lv_root',
    '/dev/VolGroup00/LogVol00', '/dev/md0', '/dev/dm-0', '/dev/cciss/c1d0p1', '/dev/nvme0n2p1',
    'tmpfs', 'nfs01:/export', '/swapfile', '/dev/disk/by-uuid/abc', '/dev/sr0',
])
def test_non_disk_names_untouched(spec):
    assert _devnames.remap_device_spec(spec, 'xen') == spec


def test_root_arg_values_with_equal_sign_untouched():
    assert _devnames.remap_device_spec('LABEL=/', 'virtio') == 'LABEL=/'
    assert _devnames.remap_device_spec('PARTUUID=1234-01', 'virtio') == 'PARTUUID=1234-01'
    assert _devnames.remap_device_spec('/dev/hda1', 'virtio') == '/dev/vda1'


def test_disk_map_overrides_default_order():
    # IDE secondary master hdc becomes the second PV disk, partitions kept
    assert _devnames.remap_device_name('/dev/hdc3', 'xen', {'hdc': 'xvdb'}) == '/dev/xvdb3'
    assert _devnames.remap_device_name('/dev/hdc', 'xen', {'/dev/hdc': '/dev/xvdb'}) == '/dev/xvdb'
    assert _devnames.remap_device_name('/dev/hda1', 'xen', {'hdc': 'xvdb'}) == '/dev/xvda1'


def test_disk_index_and_letters_round_trip():
    for index in (0, 1, 25, 26, 27, 51, 52, 701, 702):
        assert _devnames.disk_index(_devnames.disk_letters(index)) == index
    assert _devnames.disk_letters(26) == 'aa'
    assert _devnames.disk_index('z') == 25


def test_is_emulated_device():
    assert _devnames.is_emulated_device('/dev/hda1')
    assert _devnames.is_emulated_device('/dev/cciss/c0d0p1')
    assert not _devnames.is_emulated_device('/dev/xvda1')
    assert not _devnames.is_emulated_device('LABEL=/')


def test_xvd_nodes_minors_step_16_with_15_partitions():
    nodes = _devnames.xvd_device_nodes(['xvdb', 'xvdc', 'xvdd'])
    assert len(nodes) == 48
    assert nodes[0] == ('xvdb', 0) and nodes[1] == ('xvdb1', 1) and nodes[15] == ('xvdb15', 15)
    assert ('xvdc', 16) in nodes and ('xvdc1', 17) in nodes
    assert ('xvdd', 32) in nodes and ('xvdd1', 33) in nodes


@pytest.mark.parametrize('name', ['/dev/sda\n', '/dev/xvda1\n', '/dev/cciss/c0d0\n', '/dev/nvme0n1\n'])
def test_a_trailing_newline_is_not_a_device_name(name):
    assert _devnames.parse_device_name(name) is None
    assert _devnames.remap_device_name(name, 'xen') == name
