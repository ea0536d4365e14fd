"""L0: what a libvirt domain runs on (disk buses, NIC models, PV or emulated)."""

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_domain

DOMAIN = '''<domain type='kvm'><name>d</name><devices>
  <disk type='file' device='disk'><target dev='hda' bus='ide'/></disk>
  <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>
  <disk type='file' device='disk'><target dev='sda' bus='scsi'/><address type='drive' controller='0'/></disk>
  <controller type='scsi' index='0' model='virtio-scsi'/>
  <interface type='network'><mac address='52:54:00:00:00:01'/><model type='e1000'/></interface>
  <interface type='hostdev'><mac address='52:54:00:00:00:02'/></interface>
</devices></domain>'''


def test_domain_pv_facts():
    facts = _pv_domain.domain_pv_facts(_domain_xml.parse(DOMAIN))
    assert facts['disks'] == [{'target': 'hda', 'bus': 'ide'}, {'target': 'sda', 'bus': 'scsi'}]
    assert facts['nics'] == [{'mac': '52:54:00:00:00:01', 'model': 'e1000'}]
    assert facts['emulated'] == ['disk hda on ide', 'NIC 52:54:00:00:00:01 model e1000']
    assert facts['pv'] is False


def test_a_domain_without_disks_or_nics_is_unknown():
    facts = _pv_domain.domain_pv_facts(_domain_xml.parse("<domain><name>x</name><devices/></domain>"))
    assert facts['pv'] is None
