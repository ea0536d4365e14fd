"""L0: the grub2-mkconfig boot setup module: detection, BIOS output, argv."""

from ansible_collections.virtops.devices.plugins.module_utils._boot import _setup_mkconfig as setup

G = '/etc/default/grub'
STATE = {'files': {G: 'GRUB_CMDLINE_LINUX="ro"\n'}, 'real': {G: G}, 'tools': {'grub2-mkconfig': '/usr/sbin/grub2-mkconfig'},
         'bls': [], 'dropins': [], 'efi_cfgs': []}


def test_mkconfig_detected_with_default_grub():
    found = setup.detect(STATE, 'redhat', 'auto', None)
    assert found['tool'] == ['/usr/sbin/grub2-mkconfig', '-o', '/boot/grub2/grub.cfg'] and found['firmware'] == 'bios'
    assert setup.detect(dict(STATE, files={}), 'redhat', 'auto', None) is None


def test_mkconfig_edits_default_grub_and_regenerates():
    found = setup.detect(STATE, 'suse', 'auto', None)
    assert 'iommu=pt' in setup.config_texts(found, STATE, ['iommu=pt'], [])[G]
    assert setup.tool_argv(found, STATE, {}, [], [], []) == found['tool']
