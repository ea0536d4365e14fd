"""L0: modprobe.d parsing and idempotent rewriting."""

from ansible_collections.virtops.devices.plugins.module_utils._guest import _modprobe as mp

TEXT = '''# vfio
options vfio-pci ids=10de:1b80 disable_vga=1
alias eth0 8139cp
install foo /bin/true
options vfio_iommu_type1 \\
    allow_unsafe_interrupts=1
'''


def test_parse_joins_continuations_and_names_kinds():
    lines = mp.parse_modprobe(TEXT)
    assert [line['kind'] for line in lines] == ['comment', 'options', 'alias', 'install', 'options']
    assert lines[-1]['words'] == ['vfio_iommu_type1', 'allow_unsafe_interrupts=1']
    assert (lines[-1]['first'], lines[-1]['last']) == (4, 5)


def test_module_options_treat_dash_and_underscore_alike():
    assert mp.module_options(TEXT, 'vfio_pci') == {'ids': '10de:1b80', 'disable_vga': '1'}
    assert mp.module_options('options kvm_intel nested\n', 'kvm-intel') == {'nested': None}


def test_set_option_in_place_append_or_new_line():
    changed = mp.with_module_option(TEXT, 'vfio-pci', 'ids', '8086:10fb')
    assert 'options vfio-pci ids=8086:10fb disable_vga=1\n' in changed
    assert mp.with_module_option(changed, 'vfio-pci', 'ids', '8086:10fb') == changed
    added = mp.with_module_option(TEXT, 'vfio_pci', 'enable_sriov', '1')
    assert 'options vfio-pci ids=10de:1b80 disable_vga=1 enable_sriov=1\n' in added
    new = mp.with_module_option('', 'vfio_iommu_type1', 'allow_unsafe_interrupts', '1')
    assert new == 'options vfio_iommu_type1 allow_unsafe_interrupts=1\n'


def test_unchanged_text_is_the_same_object():
    text = 'options kvm_amd nested=1\n'
    assert mp.with_module_option(text, 'kvm_amd', 'nested', '1') is text
    assert mp.without_module_option(text, 'kvm_amd', 'npt') is text


def test_duplicates_across_lines_collapse():
    text = 'options kvm nested=0\noptions kvm ignore_msrs=1 nested=1\n'
    assert mp.with_module_option(text, 'kvm', 'nested', '1') == 'options kvm nested=1\noptions kvm ignore_msrs=1\n'


def test_remove_option_drops_empty_lines_including_continuations():
    text = mp.without_module_option(TEXT, 'vfio_iommu_type1', 'allow_unsafe_interrupts')
    assert 'allow_unsafe_interrupts' not in text and text.endswith('install foo /bin/true\n')


def test_alias_set_replace_remove():
    text = mp.with_alias(TEXT, 'eth0', 'xen-vnif')
    assert 'alias eth0 xen-vnif\n' in text and '8139cp' not in text
    assert mp.with_alias(text, 'eth0', 'xen-vnif') == text
    assert mp.aliases(mp.with_alias('', 'scsi_hostadapter', 'virtio_blk')) == {'scsi_hostadapter': 'virtio_blk'}
    assert 'alias eth0' not in mp.without_alias(TEXT, 'eth0')


def test_with_line_and_without_lines():
    text = mp.with_line(TEXT, 'softdep  nouveau pre: vfio-pci')
    assert text.endswith('softdep nouveau pre: vfio-pci\n')
    assert mp.with_line(text, 'softdep nouveau pre: vfio-pci') == text
    assert 'install foo' not in mp.without_lines(TEXT, lambda line: line['kind'] == 'install')


def test_option_settings_across_files():
    texts = {'/etc/modprobe.d/a.conf': TEXT, '/etc/modprobe.d/b.conf': 'options kvm nested=1\n'}
    assert mp.option_settings(texts, 'vfio_iommu_type1', 'allow_unsafe_interrupts') == \
        [('/etc/modprobe.d/a.conf', '1')]


def test_writers_refuse_more_than_one_word():
    import pytest
    for call in (lambda: mp.with_alias('', 'eth0', 'virtio_net\ninstall x /bin/sh'),
                 lambda: mp.with_alias('', 'eth0 x', 'virtio_net'),
                 lambda: mp.with_module_option('', 'vfio_pci', 'ids', '8086:10d3 x=1'),
                 lambda: mp.with_module_option('', 'vfio pci', 'ids', '1'),
                 lambda: mp.with_module_option('', 'vfio_pci', 'ids', '1#x')):
        with pytest.raises(ValueError):
            call()
    assert mp.with_alias('', 'eth0', 'virtio_net') == 'alias eth0 virtio_net\n'
