"""L0: the migration plan (pure) computed from guest trees built in tmp_path (no Ansible, no tool run)."""

import os
import sys

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._common import _files
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_plan
from ansible_collections.virtops.devices.plugins.module_utils._common import _validate as v

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'fixtures', 'guests'))
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


def test_rhel3_keeps_the_scsi_hostadapter_it_boots_from(tmp_path):
    """The 2.4 path never removes the emulated disk driver: the guest keeps booting from it."""
    facts = trees.rhel3(tmp_path)
    trees.write(tmp_path, '/etc/modules.conf', 'alias eth0 8139too\nalias scsi_hostadapter aic7xxx\n'
                'alias scsi_hostadapter1 ips\n')
    _f, plan = plan_for(tmp_path, target='xen', kernel=[facts['kver']])
    assert plan.problems == []
    assert plan.files['/etc/modules.conf'][1] == ('alias eth0 xen-vnif\nalias scsi_hostadapter aic7xxx\n'
                                                  'alias scsi_hostadapter1 ips\n')
    assert any('alias scsi_hostadapter aic7xxx, alias scsi_hostadapter1 ips in /etc/modules.conf kept' in note
               for note in plan.notes)


@pytest.mark.parametrize('kver,modules,disks', [
    ('2.4.21-52.EL; reboot', ['xen-vbd.o'], ['xvdb']),
    ('2.4.21-52.EL', ['xen-vbd.o; reboot'], ['xvdb']),
    ('2.4.21-52.EL', ['xen-vbd.o'], ['xvdb; rm -rf /']),
    ('2.4.21-52.EL', ['xen-vbd.o'], ['../../etc/xvdb']),
    ('2.4.21-52.EL', ['xen-vbd.o'], ['sdb']),
])
def test_rc_local_block_refuses_what_is_not_one_word(kver, modules, disks):
    with pytest.raises(ValueError):
        _pv_plan.rc_local_block(kver, '/lib/modules/%s/extra/xenpv/0.1' % '2.4.21-52.EL', modules, disks, True)


def test_rc_local_block_refuses_a_module_dir_leaving_the_tree():
    with pytest.raises(ValueError):
        _pv_plan.rc_local_block('2.4.21-52.EL', '/lib/modules/../../tmp', ['xen-vbd.o'], ['xvdb'], True)


def test_device_map_check():
    _pv_plan.check_device_map('/boot/grub/device.map', '# this device map was generated by anaconda\n'
                              '(fd0)     /dev/fda\n(hd0)     /dev/xvda\n(hd1) /dev/mapper/x\n')
    for bad in ('(hd0) /dev/xvda; rm -rf /\n', '(hd0) /dev/../sda\n', '(hd0) /dev/xvda extra\n', 'hd0 /dev/xvda\n'):
        with pytest.raises(ValueError):
            _pv_plan.check_device_map('/boot/grub/device.map', bad)


@pytest.mark.parametrize('params,option', [
    ({'kernel': ['../../etc']}, 'kernel[0]'),
    ({'kernel': ['all', '2.6.18-128.el5']}, 'kernel'),
    ({'disk_map': 'hdc'}, 'disk_map'),
    ({'disk_map': {'hdc': ['xvdb']}}, 'disk_map.hdc'),
    ({'disk_map': {'hdc': 'xvda; rm -rf /'}}, 'disk_map.hdc'),
    ({'disk_map': {'hdc': '../sda'}}, 'disk_map.hdc'),
    ({'disk_map': {'hdc': 'vdb'}}, 'disk_map.hdc'),             # not the xen bus
    ({'disk_map': {'xvda': 'xvdb'}}, 'disk_map.xvda'),          # not an emulated disk
    ({'filesystems': [{'device': '/dev/sda1', 'uuid': '1234-ABCD\n/dev/sdb1 / ext3 defaults 0 0'}]},
     'filesystems[0].uuid'),
    ({'filesystems': [{'device': '/dev/sda1', 'label': 'my data'}]}, 'filesystems[0].label'),
    ({'filesystems': [{'device': '/dev/sda1 / ext3'}]}, 'filesystems[0].device'),
    ({'legacy_disks': ['xvdb', 'xvdc;id']}, 'legacy_disks[1]'),
    ({'legacy_disks': ['../xvdb']}, 'legacy_disks[0]'),
    ({'legacy_disks': ['/dev/xvdb']}, 'legacy_disks[0]'),
])
def test_migration_rules_refuse_naming_the_option(params, option):
    with pytest.raises(v.InvalidValue) as err:
        v.check_params(params, _pv_plan.migration_rules('xen'))
    assert err.value.option == option


def test_migration_rules_accept_the_documented_forms():
    params = {'kernel': ['all'], 'disk_map': {'hdc': 'vdb', '/dev/sdb': '/dev/vdc', 'cciss/c0d1': 'vdd'},
              'filesystems': [{'device': '/dev/mapper/VolGroup-lv_root', 'uuid': None, 'label': '/'},
                              {'device': '/dev/sda1', 'uuid': '0b6d7a42-4d3e-4b4e-9d35-6f1c7e1b2a11', 'label': None}],
              'legacy_disks': ['xvdb', 'xvdc']}
    assert v.check_params(params, _pv_plan.migration_rules('virtio')) == params


def test_blkid_values_outside_their_grammar_are_dropped():
    entries = _pv_plan.checked_filesystems([
        {'device': '/dev/sda1', 'uuid': '1234-ABCD', 'label': 'my data', 'type': 'ext3'},
        {'device': '/dev/sdb1 x', 'uuid': '1234-ABCD', 'label': None, 'type': 'ext3'},
    ])
    assert entries == [{'device': '/dev/sda1', 'uuid': '1234-ABCD', 'label': None, 'type': 'ext3'}]
