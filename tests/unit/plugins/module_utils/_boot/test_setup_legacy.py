"""L0: the legacy GRUB boot setup module: detection, entries, no tool."""

from ansible_collections.virtops.devices.plugins.module_utils._boot import _setup_legacy as setup

M = '/boot/grub/menu.lst'
STATE = {'files': {M: 'title L\n\troot (hd0,0)\n\tkernel /vmlinuz ro\n\tinitrd /initrd\n'}, 'real': {M: M},
         'tools': {}, 'bls': [], 'dropins': [], 'efi_cfgs': []}


def test_legacy_detected_by_its_config():
    assert setup.detect(STATE, None, 'auto', None)['config'] == M
    assert setup.detect(dict(STATE, files={}), None, 'auto', None) is None


def test_legacy_entries_and_no_tool():
    found = setup.detect(STATE, None, 'auto', None)
    assert [e['title'] for e in setup.entries(found, STATE)] == ['L']
    assert 'noapic' in setup.config_texts(found, STATE, ['noapic'], [])[M]
    assert setup.tool_argv(found, STATE, {}, [], [], []) is None and setup.tool_outputs(found, STATE) == []
