"""L0: initrd tools, PV driver detection, command lines, space check, initrd contents."""

import gzip
import lzma
import os
import sys

from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'fixtures', 'guests'))
import trees  # noqa: E402


def test_seed001_mkinitrd_command_line():
    argv = _initrd.initrd_command('mkinitrd', '/sbin/mkinitrd', '2.6.18-128.el5',
                                  '/boot/initrd-2.6.18-128.el5.pv.img', ['xen-vbd'])
    assert argv == ['/sbin/mkinitrd', '--preload=xen_vbd', '/boot/initrd-2.6.18-128.el5.pv.img', '2.6.18-128.el5']


def test_second_pass_mkinitrd_forces_and_leaves_out_ata_piix():
    argv = _initrd.initrd_command('mkinitrd', '/sbin/mkinitrd', 'k', '/boot/i.pv.img', ['xen-vbd'],
                                  omit=('ata_piix',), force=True)
    assert argv == ['/sbin/mkinitrd', '-f', '--preload=xen_vbd', '--builtin=ata_piix', '/boot/i.pv.img', 'k']


def test_old_rhel_virtio_uses_with():
    argv = _initrd.initrd_command('mkinitrd', '/sbin/mkinitrd', 'k', '/boot/i.img', ['virtio_pci', 'virtio_blk'],
                                  preload=False)
    assert argv == ['/sbin/mkinitrd', '--with=virtio_pci', '--with=virtio_blk', '/boot/i.img', 'k']


def test_dracut_update_initramfs_and_suse_command_lines():
    assert _initrd.initrd_command('dracut', '/usr/bin/dracut', 'k', '/boot/initramfs-k.img',
                                  ['virtio_pci', 'virtio_blk'], omit=('ata_piix', 'ahci'), offline=True) == \
        ['/usr/bin/dracut', '-f', '--no-hostonly', '--add-drivers', 'virtio_pci virtio_blk',
         '--omit-drivers', 'ata_piix ahci', '/boot/initramfs-k.img', 'k']
    assert _initrd.initrd_command('update-initramfs', '/usr/sbin/update-initramfs', 'k', '/boot/initrd.img-k',
                                  ['virtio_blk']) == ['/usr/sbin/update-initramfs', '-c', '-k', 'k']
    assert _initrd.initrd_command('mkinitrd-suse', '/sbin/mkinitrd', 'k', '/boot/initrd-k.pv',
                                  ['xen-blkfront']) == \
        ['/sbin/mkinitrd', '-k', '/boot/vmlinuz-k', '-i', '/boot/initrd-k.pv', '-m', 'xen_blkfront']


def test_detect_tool_prefers_dracut_and_tells_suse_apart():
    def tree(*paths):
        return lambda path: path in paths
    assert _initrd.detect_initrd_tool(tree('/sbin/dracut', '/sbin/mkinitrd')) == 'dracut'
    assert _initrd.detect_initrd_tool(tree('/sbin/mkinitrd')) == 'mkinitrd'
    assert _initrd.detect_initrd_tool(tree('/sbin/mkinitrd', '/etc/SuSE-release')) == 'mkinitrd-suse'
    assert _initrd.detect_initrd_tool(tree('/usr/sbin/update-initramfs')) == 'update-initramfs'
    assert _initrd.detect_initrd_tool(tree()) is None


def test_available_driver_from_modules_or_kconfig():
    assert _initrd.available_driver('xen', 'block', {'xen_vbd', 'ata_piix'}) == 'xen-vbd'
    assert _initrd.available_driver('xen', 'block', {'xen_blkfront'}) == 'xen-blkfront'
    assert _initrd.available_driver('xen', 'block', {'ata_piix'}) is None
    assert _initrd.available_driver('virtio', 'block', set(), 'CONFIG_VIRTIO_BLK=y\n') == 'virtio_blk'
    assert _initrd.available_driver('virtio', 'nic', set(), '# CONFIG_VIRTIO_NET is not set\n') is None


def test_module_names():
    assert _initrd.module_name('/lib/modules/k/extra/xenpv/0.1/xen-vbd.ko') == 'xen_vbd'
    assert _initrd.module_name('virtio_blk.ko.xz') == 'virtio_blk'
    assert _initrd.module_name('xen-vnif.o') == 'xen_vnif'
    assert not _initrd.is_module_file('modules.dep')


def test_paths():
    assert _initrd.pv_initrd_path('/boot/initrd-2.6.18-128.el5.img') == '/boot/initrd-2.6.18-128.el5.pv.img'
    assert _initrd.pv_initrd_path('/boot/initrd-3.0.101-default') == '/boot/initrd-3.0.101-default.pv'
    assert _initrd.kept_initrd_path('/boot/initrd.img-6.1.0-13-amd64') == '/boot/initrd.img-6.1.0-13-amd64.pre-pv'
    assert _initrd.current_initrd('k', lambda p: p == '/boot/initrd-k.img') == '/boot/initrd-k.img'


def test_space_problem():
    assert _initrd.space_problem(10 << 20, 4 << 20, False) is None
    message = _initrd.space_problem(5 << 20, 4 << 20, True)
    assert '/boot has 5120 KiB free, 10240 KiB are needed' in message


def test_initrd_modules_gzip_xz_and_unreadable():
    cpio = trees.cpio_newc(['init', 'lib/ata_piix.ko', 'lib/xen-vbd.ko', 'usr/lib/modules/k/virtio_blk.ko.xz'])
    assert _initrd.initrd_modules(gzip.compress(cpio)) == {'ata_piix', 'xen_vbd', 'virtio_blk'}
    assert _initrd.initrd_modules(lzma.compress(cpio)) == {'ata_piix', 'xen_vbd', 'virtio_blk'}
    assert _initrd.initrd_modules(b'(\xb5/\xfd zstd') is None
    assert _initrd.initrd_modules(b'\x1f\x8b broken') is None


def _modules_cpio():
    return trees.cpio_newc(['init', 'usr/lib/modules/6.1.0-27-amd64/kernel/drivers/block/virtio_blk.ko',
                            'lib/modules/k/extra/xen-vbd.ko.xz'])


def test_initrd_members_every_format_and_an_early_microcode_prefix():
    import bz2
    main = _modules_cpio()
    early = trees.cpio_newc(['kernel', 'kernel/x86/microcode/GenuineIntel.bin'])
    for packed in (main, gzip.compress(main), lzma.compress(main), bz2.compress(main),
                   lzma.compress(main, format=lzma.FORMAT_ALONE)):
        names = _initrd.initrd_members(early + b'\0' * 8 + packed + b'\0' * 16)
        assert 'kernel/x86/microcode/GenuineIntel.bin' in names
        assert _initrd.modules_in(names) == {'virtio_blk', 'xen_vbd'}


def test_initrd_members_zstd_through_the_decompress_callback():
    import shutil
    import subprocess
    zstd = shutil.which('zstd')
    if not zstd:
        import pytest
        pytest.skip('zstd not installed')
    packed = subprocess.run([zstd, '-q', '-c'], input=_modules_cpio(), capture_output=True, check=True).stdout
    assert _initrd.compression_of(packed) == 'zstd'
    try:
        _initrd.initrd_members(packed)
        raise AssertionError('a zstd image must not be readable without a tool')
    except ValueError as exc:
        assert str(exc) == 'zstd-compressed; install zstd to read it'

    def decompress(kind, data):
        return subprocess.run([zstd, '-dcq'], input=data, capture_output=True, check=True).stdout
    assert _initrd.modules_in(_initrd.initrd_members(packed, decompress)) == {'virtio_blk', 'xen_vbd'}


def test_initrd_problem_messages():
    good = gzip.compress(_modules_cpio())
    assert _initrd.initrd_problem('/boot/i', good, ['virtio_blk', 'xen-vbd']) is None
    assert _initrd.initrd_problem('/boot/i', None, ['virtio_blk']) == \
        'the tool reported success but wrote no /boot/i'
    assert _initrd.initrd_problem('/boot/i', b'', ['virtio_blk']) == 'the tool left /boot/i empty'
    assert _initrd.initrd_problem('/boot/i', b'partial\n', ['virtio_blk']) == \
        'cannot read /boot/i: not an initrd (no cpio archive, unknown compression at segment 1)'
    assert _initrd.initrd_problem('/boot/i', good[:len(good) // 2], ['virtio_blk']).startswith('cannot read /boot/i')
    assert _initrd.initrd_problem('/boot/i', good, ['virtio_pci', 'virtio_blk', 'virtio_net']) == \
        '/boot/i lacks the drivers virtio_pci, virtio_net'
    # built into the kernel: no file needed
    builtin = _initrd.builtin_drivers('kernel/drivers/virtio/virtio_pci.ko\n', 'CONFIG_VIRTIO_NET=y\n')
    assert builtin == {'virtio_pci', 'virtio_net'}
    assert _initrd.initrd_problem('/boot/i', good, ['virtio_pci', 'virtio_blk', 'virtio_net'], builtin) is None
