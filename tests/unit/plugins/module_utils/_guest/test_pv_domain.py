"""L0: a libvirt domain definition moved to virtio / Xen PV disks and NICs (lxml, no libvirt)."""

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_domain

DOMAIN = '''<domain type='qemu'><name>g</name><devices>
  <controller type='scsi' index='0' model='lsilogic'/>
  <controller type='scsi' index='1' model='virtio-scsi'/>
  <disk type='file' device='disk'><source file='/img/a.img'/><target dev='hda' bus='ide'/>
    <address type='drive' controller='0' bus='0' target='0' unit='0'/></disk>
  <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>
  <disk type='file' device='disk'><source file='/img/b.img'/><target dev='sda' bus='sata'/></disk>
  <disk type='file' device='disk'><source file='/img/c.img'/><target dev='sdb' bus='scsi'/>
    <address type='drive' controller='0' bus='0' target='0' unit='1'/></disk>
  <disk type='file' device='disk'><source file='/img/d.img'/><target dev='sdc' bus='scsi'/>
    <address type='drive' controller='1' bus='0' target='0' unit='0'/></disk>
  <disk type='file' device='disk'><source file='/img/e.img'/><target dev='vdb' bus='virtio'/></disk>
  <interface type='user'><mac address='52:54:00:00:00:01'/><model type='e1000'/></interface>
  <interface type='user'><mac address='52:54:00:00:00:02'/></interface>
  <interface type='user'><mac address='52:54:00:00:00:03'/><model type='virtio'/></interface>
</devices></domain>'''


def targets(root):
    return [(d.get('device'), d.find('target').get('dev'), d.find('target').get('bus'))
            for d in _domain_xml.find_devices(root, 'disk')]


def test_virtio_moves_emulated_disks_and_nics_once():
    root = _domain_xml.parse(DOMAIN)
    moved = _pv_domain.move_disks(root, 'virtio')
    # sda -> vda would clash with hda -> vda, sdb -> vdb with the existing vdb: next free names
    assert moved == [('hda', 'vda'), ('sda', 'vdc'), ('sdb', 'vdd')]
    assert targets(root) == [('disk', 'vda', 'virtio'), ('cdrom', 'hdc', 'ide'), ('disk', 'vdc', 'virtio'),
                             ('disk', 'vdd', 'virtio'), ('disk', 'sdc', 'scsi'), ('disk', 'vdb', 'virtio')]
    first = _domain_xml.find_devices(root, 'disk')[0]
    assert first.find('address') is None                 # the IDE drive address went with the bus
    assert _pv_domain.move_nics(root, 'virtio') == [('52:54:00:00:00:01', 'e1000', 'virtio'),
                                                    ('52:54:00:00:00:02', None, 'virtio')]
    assert _pv_domain.move_disks(root, 'virtio') == [] and _pv_domain.move_nics(root, 'virtio') == []


def test_xen_names_and_netfront():
    root = _domain_xml.parse("<domain type='xen'><name>g</name><devices>"
                             "<disk type='file' device='disk'><target dev='hda' bus='ide'/></disk>"
                             "<interface type='bridge'><model type='rtl8139'/></interface></devices></domain>")
    assert _pv_domain.move_disks(root, 'xen', {'hda': 'xvdb'}) == [('hda', 'xvdb')]
    assert _pv_domain.move_nics(root, 'xen') == [('0', 'rtl8139', 'netfront')]
    assert targets(root) == [('disk', 'xvdb', 'xen')]


# --- option grammar (issue 8) -------------------------------------------------------------------------

import pytest  # noqa: E402

from ansible_collections.virtops.devices.plugins.module_utils._common._validate import InvalidValue  # noqa: E402


def opts(**kw):
    params = {'name': 'g', 'target': 'virtio', 'disk_map': {}, 'shutdown_timeout': 300}
    params.update(kw)
    return params


@pytest.mark.parametrize('kw, option, why', [
    ({'shutdown_timeout': -1}, 'shutdown_timeout', 'a whole number from 1 to 86400'),
    ({'shutdown_timeout': 0}, 'shutdown_timeout', 'a whole number from 1 to 86400'),
    ({'shutdown_timeout': 86401}, 'shutdown_timeout', 'a whole number from 1 to 86400'),
    ({'disk_map': {'hdc': 'vdb; rm -rf /'}}, 'disk_map.hdc', 'vd family'),
    ({'disk_map': {'hdc': '../sda'}}, 'disk_map.hdc', 'vd family'),
    ({'disk_map': {'hdc': 'vdb1'}}, 'disk_map.hdc', 'vd family'),
    ({'disk_map': {'hdc': 'xvdb'}}, 'disk_map.hdc', 'vd family'),
    ({'target': 'xen', 'disk_map': {'hdc': 'vdb'}}, 'disk_map.hdc', 'xvd family'),
    ({'disk_map': {'hdc': ['vdb']}}, 'disk_map.hdc', 'vd family'),
    ({'disk_map': {'../hdc': 'vdb'}}, 'disk_map.../hdc', 'whole-disk name'),
    ({'disk_map': 'hdc=vdb'}, 'disk_map', 'a dict'),
])
def test_bad_options_are_refused_naming_the_option(kw, option, why):
    with pytest.raises(InvalidValue) as err:
        _pv_domain.checked_options(opts(**kw))
    assert err.value.option == option and why in str(err.value)
    assert str(err.value).startswith('%s: ' % option)


def test_good_options_pass_unchanged():
    good = opts(disk_map={'hdc': 'vdb', '/dev/sda': 'vdc'}, shutdown_timeout=1)
    assert _pv_domain.checked_options(good) == good
    xen = opts(target='xen', disk_map={'hda': 'xvda'}, shutdown_timeout=86400)
    assert _pv_domain.checked_options(xen) == xen
