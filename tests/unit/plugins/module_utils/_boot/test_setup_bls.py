"""L0: the BLS boot setup module: detection on a tiny state, grubby argv."""

from ansible_collections.virtops.devices.plugins.module_utils._boot import _setup_bls as setup

E = '/boot/loader/entries/a.conf'
STATE = {'files': {E: 'title A\nlinux /vmlinuz\noptions ro quiet\n'}, 'real': {E: E},
         'tools': {'grubby': '/usr/sbin/grubby'}, 'bls': [E], 'dropins': [], 'efi_cfgs': []}


def test_bls_detected_unless_debian():
    assert setup.detect(STATE, 'redhat', 'auto', None)['tool'] == ['/usr/sbin/grubby']
    assert setup.detect(STATE, 'debian', 'auto', None) is None


def test_bls_entries_and_grubby_argv():
    found = setup.detect(STATE, 'redhat', 'auto', None)
    assert [e['file'] for e in setup.entries(found, STATE)] == [E]
    assert setup.tool_argv(found, STATE, {}, [], ['intel_iommu=on'], []) == \
        ['/usr/sbin/grubby', '--update-kernel=ALL', '--args=intel_iommu=on']
