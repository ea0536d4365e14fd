"""L0: legacy GRUB entry cloning for the new initrd, default switching, device.map."""

import os
import sys

from ansible_collections.virtops.devices.plugins.module_utils._guest import _bootentry

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'fixtures', 'guests'))
import trees  # noqa: E402

KVER = '2.6.18-128.el5'
NEW = 'initrd-2.6.18-128.el5.pv.img'
SEED_ENTRY = ('title CentOS (2.6.18-128.el5) (xen PV drivers)\n'
              '        root (hd0,0)\n'
              '        kernel /boot/vmlinuz-2.6.18-128.el5 ro root=LABEL=/ rhgb quiet\n'
              '        initrd /boot/initrd-2.6.18-128.el5.pv.img\n')


def keep(value):
    return value


def test_seed001_entry_added_next_to_untouched_original():
    after, problem = _bootentry.plan_boot_entry(trees.CENTOS5_GRUB, KVER, NEW, 'add', keep, ' (xen PV drivers)')
    assert problem is None
    assert after == trees.CENTOS5_GRUB + SEED_ENTRY
    again, _p = _bootentry.plan_boot_entry(after, KVER, NEW, 'add', keep, ' (xen PV drivers)')
    assert again == after


def test_default_mode_points_default_at_the_copy():
    after, _p = _bootentry.plan_boot_entry(trees.CENTOS5_GRUB, KVER, NEW, 'default', keep, ' (xen PV drivers)')
    header, entries = _bootentry.parse_menu(after)
    assert _bootentry.default_index(header) == 1
    assert _bootentry.entry_value(entries[1], 'initrd') == '/boot/' + NEW
    assert 'default=0' not in after and 'default=1\n' in after


def test_root_and_resume_renamed_only_in_the_copy():
    text = ('default 0\ntitle RHEL (2.6.32)\n\troot (hd0,0)\n'
            '\tkernel /vmlinuz-2.6.32 ro root=/dev/sda2 resume=/dev/sda3 quiet\n\tinitrd /initramfs-2.6.32.img\n'
            '\ntitle Other\n\tkernel /vmlinuz-2.6.18 ro root=/dev/sda2\n\tinitrd /initrd-2.6.18.img\n')

    def rename(value):
        return value.replace('/dev/sd', '/dev/vd')
    after, problem = _bootentry.plan_boot_entry(text, '2.6.32', 'initramfs-2.6.32.pv.img', 'default', rename,
                                                ' (virtio)')
    assert problem is None
    assert after.startswith('default 2\ntitle RHEL (2.6.32)\n')
    assert after.count('root=/dev/sda2') == 2          # both originals untouched
    assert after.endswith('title RHEL (2.6.32) (virtio)\n\troot (hd0,0)\n'
                          '\tkernel /vmlinuz-2.6.32 ro root=/dev/vda2 resume=/dev/vda3 quiet\n'
                          '\tinitrd /initramfs-2.6.32.pv.img\n')


def test_existing_copy_only_gets_sources_updated():
    text = trees.CENTOS5_GRUB + SEED_ENTRY
    after, _p = _bootentry.plan_boot_entry(text, KVER, NEW, 'add', lambda v: 'LABEL=root' if v == 'LABEL=/' else v,
                                           ' (xen PV drivers)')
    assert after.count('title') == 2
    assert after.endswith('root=LABEL=root rhgb quiet\n        initrd /boot/initrd-2.6.18-128.el5.pv.img\n')
    assert 'kernel /boot/vmlinuz-2.6.18-128.el5 ro root=LABEL=/ rhgb' in after


def test_missing_kernel_entry_is_a_problem():
    after, problem = _bootentry.plan_boot_entry(trees.CENTOS5_GRUB, '2.6.18-164.el5', NEW, 'add', keep, ' x')
    assert after == trees.CENTOS5_GRUB and 'vmlinuz-2.6.18-164.el5' in problem


def test_file_without_final_newline():
    text = trees.CENTOS5_GRUB.rstrip('\n')
    after, _p = _bootentry.plan_boot_entry(text, KVER, NEW, 'add', keep, ' (xen PV drivers)')
    assert after == trees.CENTOS5_GRUB + SEED_ENTRY


def test_device_map_renamed():
    text = '# generated\n(fd0)     /dev/fd0\n(hd0)     /dev/hda\n(hd1)\t/dev/sdb\n'
    assert _bootentry.rewrite_device_map(text, 'virtio') == \
        '# generated\n(fd0)     /dev/fd0\n(hd0)     /dev/vda\n(hd1)\t/dev/vdb\n'
