"""L0: disk target naming, the <disk> element, finding disks, guest paths."""

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._disks import _disk
from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml

DOMAIN = """
<domain type='qemu'><name>g</name><os><type machine='pc-i440fx-7.2'>hvm</type></os>
<devices>
  <disk type='file' device='disk'><source file='/img/root.qcow2'/><target dev='vda' bus='virtio'/>
    <serial>root</serial><address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></disk>
  <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>
  <disk type='block' device='disk'><source dev='/dev/vg/data'/><target dev='sda' bus='scsi'/></disk>
</devices></domain>"""


@pytest.mark.parametrize('index,name', [(0, 'vda'), (1, 'vdb'), (25, 'vdz'), (26, 'vdaa'), (27, 'vdab'),
                                        (701, 'vdzz'), (702, 'vdaaa')])
def test_target_name_and_index_are_inverse(index, name):
    assert _disk.target_name('vd', index) == name
    assert _disk.target_index(name, 'vd') == index


def test_target_index_rejects_other_prefixes():
    assert _disk.target_index('sda', 'vd') is None
    assert _disk.target_index('vd1', 'vd') is None
    assert _disk.target_index('vd', 'vd') is None


def test_next_free_target_fills_gaps_per_bus():
    assert _disk.next_free_target('virtio', {'vda', 'vdc', 'sda'}) == 'vdb'
    assert _disk.next_free_target('scsi', {'vda', 'sda', 'sdb'}) == 'sdc'
    assert _disk.next_free_target('ide', set()) == 'hda'
    assert _disk.next_free_target('virtio', set(_disk.target_name('vd', i) for i in range(26))) == 'vdaa'


def test_target_matches_bus():
    assert _disk.target_matches_bus('vdb', 'virtio')
    assert _disk.target_matches_bus('sdc', 'sata')
    assert not _disk.target_matches_bus('sdb', 'virtio')
    assert not _disk.target_matches_bus('vdb', 'scsi')


def test_detect_format(tmp_path):
    qcow, raw = tmp_path / 'a.qcow2', tmp_path / 'b.img'
    qcow.write_bytes(b'QFI\xfb\x00\x00\x00\x03' + b'\0' * 100)
    raw.write_bytes(b'\0' * 512)
    assert _disk.detect_format(str(qcow)) == 'qcow2'
    assert _disk.detect_format(str(raw)) == 'raw'
    assert _disk.source_kind(str(raw)) == 'file'


def test_find_disk_by_source_only_among_disks():
    root = _domain_xml.parse(DOMAIN)
    assert _disk.disk_target(_disk.find_disk(root, '/img/root.qcow2')) == 'vda'
    assert _disk.disk_target(_disk.find_disk(root, '/img/../img/root.qcow2')) == 'vda'
    assert _disk.disk_target(_disk.find_disk(root, '/dev/vg/data')) == 'sda'
    assert _disk.find_disk(root, '/img/other.raw') is None
    assert _disk.targets_in_use(root) == {'vda', 'hdc', 'sda'}


def test_build_disk_escapes_awkward_paths():
    path = '/srv/a & b <"quoted"> \'x\'.img'
    spec = {'source': path, 'type': 'file', 'format': 'raw', 'bus': 'scsi', 'serial': 'S&1',
            'readonly': True, 'cache': 'none'}
    text = _domain_xml.to_text(_disk.build_disk(spec, 'sdb'))
    assert '&amp;' in text and '&lt;' in text
    again = _domain_xml.parse(text)
    assert _disk.disk_source(again) == path
    assert _disk.disk_serial(again) == 'S&1'
    assert again.find('readonly') is not None
    assert again.find('driver').get('cache') == 'none'
    assert again.find('target').attrib == {'dev': 'sdb', 'bus': 'scsi'}


def test_disk_report_and_guest_paths():
    root = _domain_xml.parse(DOMAIN)
    report = _disk.disk_report(_disk.find_disk(root, '/img/root.qcow2'))
    assert report['guest_path'] == '/dev/disk/by-id/virtio-root'
    assert report['address']['slot'] == '0x04'
    assert _disk.guest_path('scsi', 'logs') == '/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_logs'
    assert _disk.guest_path('virtio', 'x' * 30) == '/dev/disk/by-id/virtio-' + 'x' * 20
    assert _disk.guest_path('virtio', None) is None
