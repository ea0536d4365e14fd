"""L0: module aliases in modules.conf / modprobe.conf / modprobe.d and initramfs-tools/modules."""

from ansible_collections.virtops.devices.plugins.module_utils._guest import _modulesconf


def test_seed001_modules_conf_for_xen():
    before = 'alias eth0 8139cp\nalias scsi_hostadapter ata_piix\n'
    assert _modulesconf.rewrite_aliases(before, 'xen-vnif', None) == 'alias eth0 xen-vnif\n'


def test_virtio_first_scsi_hostadapter_becomes_virtio_blk_others_removed():
    before = ('# comment about NICs\nalias eth0 e1000\nalias eth1   8139too  # second nic\n'
              'alias scsi_hostadapter ahci\nalias scsi_hostadapter1 ata_piix\n'
              'options e1000 InterruptThrottleRate=3000\nalias bond0 bonding\nalias eth2 bonding\n'
              'alias char-major-10-175 agpgart\n')
    after = _modulesconf.rewrite_aliases(before, 'virtio_net', 'virtio_blk')
    assert after == ('# comment about NICs\nalias eth0 virtio_net\nalias eth1   virtio_net  # second nic\n'
                     'alias scsi_hostadapter virtio_blk\n'
                     'options e1000 InterruptThrottleRate=3000\nalias bond0 bonding\nalias eth2 bonding\n'
                     'alias char-major-10-175 agpgart\n')
    assert _modulesconf.rewrite_aliases(after, 'virtio_net', 'virtio_blk') == after


def test_rewrite_keeps_file_without_aliases():
    text = 'install pcspkr /bin/true\nblacklist i8xx_tco\n'
    assert _modulesconf.rewrite_aliases(text, 'virtio_net', 'virtio_blk') == text
    assert not _modulesconf.has_alias_lines(text)


def test_add_nic_aliases_only_missing():
    assert _modulesconf.add_nic_aliases('alias eth0 xen-vnif\n', ['eth0', 'eth1'], 'xen-vnif') == \
        'alias eth0 xen-vnif\nalias eth1 xen-vnif\n'
    assert _modulesconf.add_nic_aliases('alias eth0 xen-vnif', ['eth0'], 'xen-vnif') == 'alias eth0 xen-vnif'


def test_initramfs_modules_appended_once():
    text = '# List of modules\n#virtio_blk\nraid1\n'
    after = _modulesconf.add_initramfs_modules(text, ['virtio_pci', 'virtio_blk'])
    assert after == text + 'virtio_pci\nvirtio_blk\n'
    assert _modulesconf.add_initramfs_modules(after, ['virtio-pci', 'virtio_blk']) == after


def test_continuation_lines_are_one_alias():
    before = 'alias eth0 \\\n    e1000\nalias scsi_hostadapter ahci\n'
    assert _modulesconf.rewrite_aliases(before, 'virtio_net', 'virtio_blk') == \
        'alias eth0 virtio_net\nalias scsi_hostadapter virtio_blk\n'


def test_keep_block_keeps_every_scsi_hostadapter_line():
    text = 'alias eth0 8139too\nalias scsi_hostadapter aic7xxx\nalias scsi_hostadapter1 ips\n'
    assert _modulesconf.rewrite_aliases(text, 'xen-vnif', None, keep_block=True) == (
        'alias eth0 xen-vnif\nalias scsi_hostadapter aic7xxx\nalias scsi_hostadapter1 ips\n')
    assert _modulesconf.rewrite_aliases(text, 'xen-vnif', None) == 'alias eth0 xen-vnif\n'


def test_added_lines_are_one_word_each():
    import pytest
    with pytest.raises(ValueError):
        _modulesconf.add_initramfs_modules('', ['virtio_blk\nmalicious'])
    with pytest.raises(ValueError):
        _modulesconf.add_nic_aliases('', ['eth0'], 'xen-vnif x')
