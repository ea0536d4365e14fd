"""L0: host facts from a libvirt capabilities document."""

from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _capabilities

CAPS = """<capabilities><host><cpu><arch>x86_64</arch><model>kvm64</model><vendor>AMD</vendor></cpu>
<iommu support='no'/></host>
<guest><os_type>hvm</os_type><arch name='x86_64'><machine>pc-q35-7.2</machine><machine>pc</machine>
<domain type='qemu'/><domain type='kvm'/></arch></guest>
<guest><os_type>hvm</os_type><arch name='i686'><machine>pc</machine><domain type='qemu'/></arch></guest>
</capabilities>"""


def test_host_facts():
    facts = _capabilities.host_facts(CAPS)
    assert facts['host_cpu'] == {'arch': 'x86_64', 'vendor': 'AMD', 'model': 'kvm64'}
    assert facts['iommu_support'] is False
    assert facts['domain_types'] == ['kvm', 'qemu']
    assert facts['guests'][1] == {'os_type': 'hvm', 'arch': 'i686', 'domain_types': ['qemu'], 'machines': ['pc']}


def test_iommu_unknown_when_libvirt_does_not_say():
    assert _capabilities.host_facts('<capabilities><host/></capabilities>')['iommu_support'] is None


def test_version_text():
    assert _capabilities.version_text(9000000) == '9.0.0'
    assert _capabilities.version_text(7002022) == '7.2.22'
    assert _capabilities.version_text(0) is None
