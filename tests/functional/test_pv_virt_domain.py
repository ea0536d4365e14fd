"""L2: virt_pv_domain against the real libvirtd (qemu:///system) on a defined, shut-off domain."""

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml

pytestmark = pytest.mark.libvirt

NAME = 'pytest-pv-domain'
XML = """<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
<devices>
  <disk type='file' device='disk'><driver name='qemu' type='raw'/>
    <source file='/var/lib/libvirt/images/pytest-pv-domain.img'/><target dev='hda' bus='ide'/></disk>
  <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>
  <interface type='user'><mac address='52:54:00:7a:00:01'/><model type='e1000'/></interface>
</devices></domain>""" % NAME


@pytest.fixture
def ide_domain():
    libvirt = pytest.importorskip('libvirt')
    libvirt.registerErrorHandler(lambda *_a: None, None)
    try:
        conn = libvirt.open('qemu:///system')
    except libvirt.libvirtError as exc:
        pytest.skip('no libvirtd: %s' % exc)
    try:
        conn.lookupByName(NAME).undefine()
    except libvirt.libvirtError:
        pass
    dom = conn.defineXML(XML)
    yield dom
    dom.undefine()


def disks_and_nics(dom):
    import libvirt
    root = _domain_xml.parse(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    disks = [(d.get('device'), d.find('target').get('dev'), d.find('target').get('bus'))
             for d in _domain_xml.find_devices(root, 'disk')]
    return disks, [n.find('model').get('type') for n in _domain_xml.find_devices(root, 'interface')]


def test_ide_e1000_domain_to_virtio(run_module, ide_domain):
    before = disks_and_nics(ide_domain)
    result = run_module('virt_pv_domain', {'name': NAME, 'target': 'virtio'}, check=True, diff=True)
    assert result['changed'] and disks_and_nics(ide_domain) == before
    assert "bus='virtio'" in result['diff']['after'] or 'bus="virtio"' in result['diff']['after']
    result = run_module('virt_pv_domain', {'name': NAME, 'target': 'virtio'})
    assert result['changed'] and result['restart_required'] is False
    assert result['disks'] == [{'old': 'hda', 'new': 'vda'}]
    assert result['nics'] == [{'mac': '52:54:00:7a:00:01', 'old': 'e1000', 'new': 'virtio'}]
    assert disks_and_nics(ide_domain) == ([('disk', 'vda', 'virtio'), ('cdrom', 'hdc', 'ide')], ['virtio'])
    assert run_module('virt_pv_domain', {'name': NAME, 'target': 'virtio'})['changed'] is False
