"""L0: the Debian boot setup module: detection, drop-in text, update-grub argv."""

from ansible_collections.virtops.devices.plugins.module_utils._boot import _setup_debian as setup

G = '/etc/default/grub'
STATE = {'files': {G: 'GRUB_CMDLINE_LINUX=""\n'}, 'real': {G: G}, 'tools': {'update-grub': '/usr/sbin/update-grub'},
         'bls': [], 'dropins': [], 'efi_cfgs': []}


def test_debian_detected_only_on_debian_family():
    assert setup.detect(STATE, 'debian', 'auto', None)['tool'] == ['/usr/sbin/update-grub']
    assert setup.detect(STATE, 'redhat', 'auto', None) is None


def test_debian_writes_its_dropin_and_runs_update_grub():
    found = setup.detect(STATE, 'debian', 'auto', None)
    assert 'intel_iommu=on' in setup.config_texts(found, STATE, ['intel_iommu=on'], [])[setup.DROPIN]
    assert setup.tool_argv(found, STATE, {}, [], [], []) == ['/usr/sbin/update-grub']
    assert setup.tool_outputs(found, STATE) == ['/boot/grub/grub.cfg', '/boot/grub/grub.cfg.new']
