"""L0: SUSE's mkinitrd initrd tool module: detection by marker, argv shape."""

from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd
from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd_mkinitrd_suse as tool


def test_suse_mkinitrd_needs_a_marker_file():
    assert _initrd.detect_initrd_tool({'/sbin/mkinitrd', '/lib/mkinitrd/setup'}.__contains__) == tool.NAME
    assert _initrd.detect_initrd_tool({'/sbin/mkinitrd'}.__contains__) != tool.NAME


def test_suse_mkinitrd_argv_names_kernel_initrd_and_modules():
    assert tool.command('/m', 'k', '/o', ['xen_vbd', 'xen_vnif'], (), True, False, False) == \
        ['/m', '-k', '/boot/vmlinuz-k', '-i', '/o', '-m', 'xen_vbd xen_vnif']
    assert not tool.CAN_OMIT and tool.INITRD_NAME % 'k' == '/boot/initrd-k'
