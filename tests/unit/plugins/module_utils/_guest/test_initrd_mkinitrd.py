"""L0: the Red Hat mkinitrd initrd tool module: detection, argv shape."""

from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd
from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd_mkinitrd as tool


def test_mkinitrd_is_detected_without_suse_markers():
    assert _initrd.detect_initrd_tool({'/usr/sbin/mkinitrd'}.__contains__) == tool.NAME
    assert not tool.MARKERS and tool.CONFIG_FILE is None


def test_mkinitrd_argv_preloads_or_adds_with():
    assert tool.command('/m', 'k', '/o', ['xen_vbd'], (), True, False, True) == ['/m', '-f', '--preload=xen_vbd', '/o', 'k']
    assert tool.command('/m', 'k', '/o', ['virtio_blk'], ('ahci',), False, False, False) == \
        ['/m', '--with=virtio_blk', '--builtin=ahci', '/o', 'k']
    assert tool.INITRD_NAME % 'k' == '/boot/initrd-k.img'
