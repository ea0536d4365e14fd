"""L0: the dracut initrd tool module: detection, argv shape, its dracut.conf.d text."""

from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd
from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd_dracut as tool


def test_dracut_is_detected_by_any_of_its_paths():
    assert _initrd.detect_initrd_tool({'/usr/sbin/dracut'}.__contains__) == tool.NAME
    assert _initrd.tool_binary(tool.NAME, {'/sbin/dracut'}.__contains__) == '/sbin/dracut'


def test_dracut_argv_adds_and_omits_drivers_and_writes_beside():
    assert tool.command('/d', 'k', '/o', ['virtio_blk'], ('ahci',), True, True, False) == \
        ['/d', '-f', '--no-hostonly', '--add-drivers', 'virtio_blk', '--omit-drivers', 'ahci', '/o', 'k']
    assert tool.WRITES_BESIDE and tool.CAN_OMIT and tool.INITRD_NAME % 'k' == '/boot/initramfs-k.img'
    assert 'add_drivers+=" xen_blkfront "' in tool.config_text('', ['xen-blkfront'], ())
