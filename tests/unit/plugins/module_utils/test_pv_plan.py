"""L0: the migration plan (pure) computed from guest trees built in tmp_path (no Ansible, no tool run)."""

import os
import sys

from ansible_collections.virtops.devices.plugins.module_utils import _files
from ansible_collections.virtops.devices.plugins.module_utils import _pv_plan

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'guests'))
import trees  # noqa: E402

K5 = '2.6.18-128.el5'


def plan_for(root, **params):
    params.setdefault('fstab', 'uuid')
    params.setdefault('boot_entry', 'add')
    facts = _pv_plan.read_guest(_pv_plan.GuestTree(str(root)), params)
    return facts, _pv_plan.plan_migration(facts, params)


def apply_plan(root, plan):
    """What the module does, without tools: write the files, make the outputs exist."""
    for path in plan.order:
        host = _files.root_path(str(root), path)
        os.makedirs(os.path.dirname(host), exist_ok=True)
        _files.write_atomic(host, plan.files[path][1])
    for cmd in plan.commands:
        with open(_files.root_path(str(root), cmd['output']), 'w') as handle:
            handle.write('built')
        if cmd['keep']:
            with open(_files.root_path(str(root), cmd['keep'][1]), 'w') as handle:
                handle.write('kept')


def test_two_kernels_each_get_initrd_and_entry_newest_is_default(tmp_path):
    trees.centos53_hvm(tmp_path, kernels=(K5, '2.6.18-164.el5'))
    params = dict(target='xen', fstab='device', filesystems=trees.SEED001_FILESYSTEMS, kernel=['all'],
                  boot_entry='default')
    _facts, plan = plan_for(tmp_path, **params)
    assert plan.problems == []
    assert [c['argv'][-1] for c in plan.commands] == [K5, '2.6.18-164.el5']
    grub = plan.files['/boot/grub/grub.conf'][1]
    assert grub.count('title ') == 4 and 'default=3\n' in grub
    assert grub.splitlines()[-1] == '        initrd /boot/initrd-2.6.18-164.el5.pv.img'
    apply_plan(tmp_path, plan)
    _facts, again = plan_for(tmp_path, **params)
    assert again.order == [] and again.commands == []


def test_default_kernel_offline_is_the_default_entry(tmp_path):
    trees.centos53_hvm(tmp_path, kernels=(K5, '2.6.18-164.el5'))
    facts, _plan = plan_for(tmp_path, target='xen', fstab='device')
    assert list(facts['kernels']) == [K5]


def test_rhel6_virtio_two_kernels_uuid(tmp_path):
    facts = trees.rhel6(tmp_path)
    _f, plan = plan_for(tmp_path, target='virtio', kernel=['all'], filesystems=trees.RHEL6_FILESYSTEMS)
    assert plan.problems == []
    assert sorted(c['argv'] for c in plan.commands) == sorted(
        ['/sbin/dracut', '-f', '--no-hostonly', '--add-drivers', 'virtio_pci virtio_blk',
         '/boot/initramfs-%s.pv.img' % k, k] for k in (facts['kver'], facts['old']))
    assert plan.files['/etc/modprobe.d/anaconda.conf'][1] == (
        'alias eth0 virtio_net\nalias scsi_hostadapter virtio_blk\noptions e1000 InterruptThrottleRate=3000\n')
    assert '/etc/modprobe.d/blacklist.conf' not in plan.files
    assert plan.files[_pv_plan.DRACUT_CONF][1].endswith('add_drivers+=" virtio_pci virtio_blk "\n')
    fstab = plan.files['/etc/fstab'][1]
    assert 'UUID=0a1b2c3d-0000-4000-8000-00000000aaaa\tswap\tswap\tdefaults\t0 0\n' in fstab
    grub = plan.files['/boot/grub/grub.conf'][1]
    assert grub.count('resume=/dev/sda3') == 2                       # originals untouched
    assert grub.count('resume=UUID=0a1b2c3d-0000-4000-8000-00000000aaaa') == 2
    assert grub.count('\tinitrd /initramfs-%s.pv.img' % facts['kver']) == 1
    apply_plan(tmp_path, plan)
    _f, again = plan_for(tmp_path, target='virtio', kernel=['all'], filesystems=trees.RHEL6_FILESYSTEMS)
    assert again.order == [] and again.commands == []


def test_uuid_mode_without_ids_is_a_problem_naming_the_device(tmp_path):
    trees.rhel6(tmp_path)
    _f, plan = plan_for(tmp_path, target='virtio')
    assert any('no UUID known for /dev/sda3' in p for p in plan.problems)


def test_unknown_kernel_is_a_problem(tmp_path):
    trees.centos53_hvm(tmp_path)
    _f, plan = plan_for(tmp_path, target='xen', kernel=['2.6.18-999.el5'])
    assert plan.problems == ['kernel 2.6.18-999.el5 is not installed (no /lib/modules/2.6.18-999.el5)']


def test_missing_tool_is_a_problem(tmp_path):
    trees.centos53_hvm(tmp_path)
    os.unlink(os.path.join(str(tmp_path), 'sbin/mkinitrd'))
    _f, plan = plan_for(tmp_path, target='xen', fstab='device')
    assert plan.problems and 'no initrd tool' in plan.problems[0]


def test_second_pass_rebuilds_when_initrd_still_holds_ata_piix(tmp_path):
    trees.centos53_hvm(tmp_path)
    params = dict(target='xen', fstab='device', filesystems=trees.SEED001_FILESYSTEMS)
    apply_plan(tmp_path, plan_for(tmp_path, **params)[1])
    # what the real mkinitrd leaves after the first pass: ata_piix (root detection) and xen-vbd
    trees.write(tmp_path, '/boot/initrd-%s.pv.img' % K5, trees.fake_initrd(['ata_piix', 'xen-vbd', 'ext3']))
    _f, plan = plan_for(tmp_path, remove_emulated=True, **params)
    assert plan.order == [] and [c['reasons'] for c in plan.commands] == [['emulated driver still in initrd']]
    assert '--builtin=ata_piix' in plan.commands[0]['argv'] and '-f' in plan.commands[0]['argv']
    trees.write(tmp_path, '/boot/initrd-%s.pv.img' % K5, trees.fake_initrd(['xen-vbd', 'ext3']))
    _f, plan = plan_for(tmp_path, remove_emulated=True, **params)
    assert plan.commands == []
    trees.write(tmp_path, '/boot/initrd-%s.pv.img' % K5, trees.fake_initrd(['ext3']))
    _f, plan = plan_for(tmp_path, **params)
    assert [c['reasons'] for c in plan.commands] == [['driver missing from initrd']]


def test_virtio_on_a_2_4_kernel_is_a_problem(tmp_path):
    facts = trees.rhel3(tmp_path)
    _f, plan = plan_for(tmp_path, target='virtio', kernel=[facts['kver']])
    assert plan.problems and 'only Xen PV drivers' in plan.problems[0]


def test_rhel3_plan(tmp_path):
    facts = trees.rhel3(tmp_path)
    _f, plan = plan_for(tmp_path, target='xen', kernel=[facts['kver']], legacy_disks=['xvdb', 'xvdc'])
    assert plan.problems == [] and plan.commands == []
    moddir = '/lib/modules/%s/extra/xenpv/0.1-5.el' % facts['kver']
    assert sorted(p for p in plan.files if p.startswith(moddir)) == sorted(
        '%s/%s.o' % (moddir, m) for m in ('xen-platform-pci', 'xen-balloon', 'xen-vbd', 'xen-vnif'))
    assert plan.files['/etc/modules.conf'][1] == 'alias eth0 xen-vnif\nalias usb-controller usb-uhci\n'
    rc = plan.files['/etc/rc.d/rc.local'][1]
    assert rc.startswith('#!/bin/sh\n\ntouch /var/lock/subsys/local\n' + _pv_plan.MARK_BEGIN)
    loads = [line.split('/')[-1] for line in rc.splitlines() if 'insmod' in line]
    assert loads == ['xen-platform-pci.o', 'xen-balloon.o', 'xen-vbd.o', 'xen-vnif.o']
    assert '        [ -b /dev/xvdc1 ] || mknod /dev/xvdc1 b $major 17\n' in rc
    assert '/etc/fstab' not in plan.files and '/boot/grub/grub.conf' not in plan.files


def test_with_block_replaces_in_place():
    text = '#!/bin/sh\n' + _pv_plan.MARK_BEGIN + '\nold\n' + _pv_plan.MARK_END + '\necho after\n'
    assert _pv_plan.with_block(text, _pv_plan.MARK_BEGIN + '\nnew\n' + _pv_plan.MARK_END + '\n') == \
        '#!/bin/sh\n' + _pv_plan.MARK_BEGIN + '\nnew\n' + _pv_plan.MARK_END + '\necho after\n'
    assert _pv_plan.with_block('', 'B\n') == '#!/bin/sh\nB\n'


def test_version_key_orders_kernels():
    kernels = ['2.6.18-164.el5', '2.6.18-128.el5', '4.19.0-rc1', '4.19.0-1', '2.6.18-8.el5']
    assert sorted(kernels, key=_pv_plan.version_key) == [
        '2.6.18-8.el5', '2.6.18-128.el5', '2.6.18-164.el5', '4.19.0-1', '4.19.0-rc1']


def test_grub2_guest_with_device_resume_gets_a_note_and_crypttab_is_renamed(tmp_path):
    facts = trees.rhel7(tmp_path)
    trees.write(tmp_path, '/etc/default/grub', 'GRUB_CMDLINE_LINUX="crashkernel=auto resume=/dev/sda2 rhgb"\n')
    trees.write(tmp_path, '/etc/crypttab', 'luks-data /dev/sdb1 none\n')
    _f, plan = plan_for(tmp_path, target='virtio', fstab='device')
    assert plan.problems == []
    assert plan.files['/etc/crypttab'][1] == 'luks-data /dev/vdb1 none\n'
    assert any('/etc/default/grub boots with /dev/sda2' in note for note in plan.notes)
    assert [c['argv'][-1] for c in plan.commands] == [facts['kver']]
