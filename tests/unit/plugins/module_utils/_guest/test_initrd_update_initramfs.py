"""L0: Debian's update-initramfs initrd tool module: detection, argv shape, modules list."""

from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd
from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd_update_initramfs as tool


def test_update_initramfs_is_detected_and_rebuilds_in_place():
    assert _initrd.detect_initrd_tool({'/sbin/update-initramfs'}.__contains__) == tool.NAME
    assert not tool.WRITES_BESIDE and not tool.CAN_OMIT


def test_update_initramfs_argv_and_modules_list():
    assert tool.command('/u', 'k', '/o', ['virtio_blk'], (), False, True, False) == ['/u', '-c', '-k', 'k']
    assert 'virtio_blk' in tool.config_text('# modules\n', ['virtio_blk'], ()).splitlines()
    assert tool.CONFIG_FILE == '/etc/initramfs-tools/modules'
