"""L1: pv_driver_migrate run by Ansible on guest trees modelled on the runbooks (root=).

Red Hat mkinitrd and dracut are the recording stand-in (tests/fixtures/guests/standin.sh),
run by the module in a chroot of the tree; the tests check the exact command lines.
"""

import os
import shutil
import stat
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'guests'))
import trees  # noqa: E402

K5 = '2.6.18-128.el5'
SEED001 = {'target': 'xen', 'fstab': 'device', 'filesystems': trees.SEED001_FILESYSTEMS}


def read(root, path):
    with open(os.path.join(str(root), path.lstrip('/'))) as handle:
        return handle.read()


def exists(root, path):
    return os.path.lexists(os.path.join(str(root), path.lstrip('/')))


def args(root, **kw):
    out = dict(SEED001, root=str(root))
    out.update(kw)
    return out


def unchanged_snapshot(root):
    snap = trees.snapshot(root)
    snap.pop(trees.RECORD.lstrip('/'), None)
    return snap


def test_seed001_both_passes_check_diff_idempotence_backup(run_module, tmp_path):
    """Runbook 001 end to end on its CentOS 5.3 tree: check mode, first pass, again, second pass, again."""
    trees.centos53_hvm(tmp_path)
    before = trees.snapshot(tmp_path)
    old_initrd = before['boot/initrd-%s.img' % K5]

    result = run_module('pv_driver_migrate', args(tmp_path), check=True, diff=True)
    assert result['changed'] and not result.get('failed'), result.get('msg')
    assert trees.snapshot(tmp_path) == before and trees.recorded(tmp_path) == []
    assert [step.get('path') or step['argv'][0] for step in result['plan']] == [
        '/etc/modules.conf', '/etc/fstab', '/boot/grub/device.map', '/boot/grub/grub.conf', '/sbin/mkinitrd']
    assert {d['before_header'] for d in result['diff']} == {
        '/etc/modules.conf', '/etc/fstab', '/boot/grub/device.map', '/boot/grub/grub.conf'}

    result = run_module('pv_driver_migrate', args(tmp_path, backup=True), diff=True)
    assert result['changed'] and result['reboot_required'], result.get('msg')
    # the runbook's command, exactly
    assert trees.recorded(tmp_path) == [
        ['/sbin/mkinitrd', '--preload=xen_vbd', '/boot/initrd-%s.pv.img' % K5, K5]]
    assert read(tmp_path, '/etc/modules.conf') == 'alias eth0 xen-vnif\n'
    assert read(tmp_path, '/etc/fstab') == trees.SEED001_FSTAB_AFTER
    grub = read(tmp_path, '/boot/grub/grub.conf')
    assert grub.startswith(trees.CENTOS5_GRUB)        # the original entry untouched, still the default
    assert grub[len(trees.CENTOS5_GRUB):] == (
        'title CentOS (%s) (xen PV drivers)\n        root (hd0,0)\n'
        '        kernel /boot/vmlinuz-%s ro root=LABEL=/ rhgb quiet\n'
        '        initrd /boot/initrd-%s.pv.img\n' % (K5, K5, K5))
    assert os.path.islink(os.path.join(str(tmp_path), 'boot/grub/menu.lst'))
    assert stat.S_IMODE(os.stat(os.path.join(str(tmp_path), 'boot/grub/grub.conf')).st_mode) == 0o600
    assert read(tmp_path, '/boot/grub/device.map').endswith('(hd0)     /dev/xvda\n')
    assert trees.snapshot(tmp_path)['boot/initrd-%s.img' % K5] == old_initrd
    assert exists(tmp_path, '/boot/initrd-%s.pv.img' % K5)
    assert set(os.path.basename(p) for p in result['backups']) == {'modules.conf', 'fstab', 'device.map',
                                                                   'grub.conf'}
    assert open(result['backups'][os.path.join(str(tmp_path), 'etc/fstab')]).read() == trees.SEED001_FSTAB_BEFORE

    again = run_module('pv_driver_migrate', args(tmp_path))
    assert again['changed'] is False and again['plan'] == []
    assert len(trees.recorded(tmp_path)) == 1

    # second pass, after the reboot on xvd: no ata_piix in the initrd, back to LABEL=
    result = run_module('pv_driver_migrate', args(tmp_path, remove_emulated=True, fstab='label'))
    assert result['changed'], result.get('msg')
    assert read(tmp_path, '/etc/fstab') == trees.SEED001_FSTAB_FINAL
    assert trees.recorded(tmp_path)[-1] == [
        '/sbin/mkinitrd', '-f', '--preload=xen_vbd', '--builtin=ata_piix', '--builtin=ata_generic',
        '--builtin=pata_acpi', '--builtin=ahci', '/boot/initrd-%s.pv.img' % K5, K5]
    again = run_module('pv_driver_migrate', args(tmp_path, remove_emulated=True, fstab='label'))
    assert again['changed'] is False


def test_tool_failing_halfway_puts_every_file_back(run_module, tmp_path):
    trees.centos53_hvm(tmp_path)
    trees.write(tmp_path, '/etc/standin-fail', '')
    before = unchanged_snapshot(tmp_path)
    result = run_module('pv_driver_migrate', args(tmp_path))
    assert result['failed']
    assert 'mkinitrd' in result['msg'] and 'simulated failure' in result['msg'] and 'put back' in result['msg']
    assert unchanged_snapshot(tmp_path) == before          # no pv initrd, old initrd, every file as it was
    assert len(trees.recorded(tmp_path)) == 1               # the tool did run


def test_kernel_without_pv_driver_fails_before_touching_anything(run_module, tmp_path):
    trees.centos53_hvm(tmp_path, kmod_xenpv=False)
    before = trees.snapshot(tmp_path)
    result = run_module('pv_driver_migrate', args(tmp_path))
    assert result['failed']
    assert 'kernel %s has no paravirtual block and network driver' % K5 in result['msg']
    assert 'kmod-xenpv' in result['msg'] and 'nothing was changed' in result['msg']
    assert trees.snapshot(tmp_path) == before


def test_boot_full_fails_before_touching_anything(run_module, tmp_path):
    trees.centos53_hvm(tmp_path)
    boot = os.path.join(str(tmp_path), 'boot')
    saved = str(tmp_path / 'boot.saved')
    os.rename(boot, saved)
    os.mkdir(boot)
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', boot], check=False).returncode != 0:
        pytest.skip('cannot mount a tmpfs here')
    try:
        subprocess.run(['cp', '-a', saved + '/.', boot], check=True)
        trees.write(tmp_path, '/boot/initrd-%s.img' % K5, os.urandom(120 * 1024))
        before = trees.snapshot(tmp_path)
        result = run_module('pv_driver_migrate', args(tmp_path))
        assert result['failed'] and '/boot has' in result['msg'] and 'KiB are needed' in result['msg']
        assert trees.snapshot(tmp_path) == before
    finally:
        subprocess.run(['umount', boot], check=True)


def test_rhel7_grub2_rebuilds_in_place_and_keeps_the_old_initrd(run_module, tmp_path):
    facts = trees.rhel7(tmp_path)
    kver = facts['kver']
    params = {'root': str(tmp_path), 'target': 'virtio'}
    old = open(os.path.join(str(tmp_path), 'boot/initramfs-%s.img' % kver), 'rb').read()
    result = run_module('pv_driver_migrate', params)
    assert result['changed'], result.get('msg')
    assert trees.recorded(tmp_path) == [
        ['/usr/bin/dracut', '-f', '--no-hostonly', '--add-drivers', 'virtio_pci virtio_blk',
         '/boot/initramfs-%s.img' % kver, kver]]
    assert open(os.path.join(str(tmp_path), 'boot/initramfs-%s.img.pre-pv' % kver), 'rb').read() == old
    assert any('generates its entries' in note for note in result['notes'])
    assert read(tmp_path, '/etc/fstab').startswith('/dev/mapper/rhel-root')
    assert run_module('pv_driver_migrate', params)['changed'] is False


def test_rhel7_failure_restores_initrd_and_removes_kept_copy(run_module, tmp_path):
    facts = trees.rhel7(tmp_path)
    trees.write(tmp_path, '/etc/standin-fail', '')
    before = unchanged_snapshot(tmp_path)
    result = run_module('pv_driver_migrate', {'root': str(tmp_path), 'target': 'virtio'})
    assert result['failed'] and 'dracut' in result['msg']
    assert unchanged_snapshot(tmp_path) == before
    assert not exists(tmp_path, '/boot/initramfs-%s.img.pre-pv' % facts['kver'])


def test_rhel3_legacy_drivers_from_rc_local_and_xvd_nodes(run_module, tmp_path):
    """Runbook 002: modules copied for the running kernel, alias eth0 xen-vnif, rc.local loads and mknods."""
    facts = trees.rhel3(tmp_path)
    kver = facts['kver']
    params = {'root': str(tmp_path), 'target': 'xen', 'kernel': [kver]}
    result = run_module('pv_driver_migrate', params)
    assert result['changed'] and result['plan'][0]['action'] == 'write', result.get('msg')
    assert not any(step['action'] == 'run' for step in result['plan'])
    moddir = '/lib/modules/%s/extra/xenpv/0.1-5.el' % kver
    assert read(tmp_path, moddir + '/xen-vbd.o') == '\x7fELF xen-vbd\n'
    assert read(tmp_path, '/etc/modules.conf') == 'alias eth0 xen-vnif\nalias usb-controller usb-uhci\n'
    assert os.path.islink(os.path.join(str(tmp_path), 'etc/rc.local'))
    assert read(tmp_path, '/etc/fstab').startswith('LABEL=/')          # still boots from hda
    assert run_module('pv_driver_migrate', params)['changed'] is False

    # run the rc.local block as the guest would, in a chroot: busybox applets, uname and
    # insmod stubbed as shell functions, a /proc/devices where the xvd driver got major 202
    for applet in ('awk', 'mknod', 'chgrp', 'chmod', 'touch'):
        trees.symlink(tmp_path, '/bin/' + applet, 'sh')
    trees.write(tmp_path, '/boot-test.sh', 'uname() { echo %s; }\ninsmod() { echo "$1" >> /var/log/insmod; }\n'
                '. /etc/rc.local\n' % kver)
    trees.write(tmp_path, '/proc/devices', 'Block devices:\n  3 ide0\n202 xvd\n253 device-mapper\n')
    trees.write(tmp_path, '/etc/group', 'root:x:0:\ndisk:x:6:\n')
    os.makedirs(os.path.join(str(tmp_path), 'dev'), exist_ok=True)
    os.makedirs(os.path.join(str(tmp_path), 'var/lock/subsys'), exist_ok=True)
    proc = subprocess.run([shutil.which('chroot'), str(tmp_path), '/bin/sh', '/boot-test.sh'], capture_output=True,
                          text=True, env={'PATH': '/bin:/sbin'}, check=False)
    assert proc.returncode == 0, proc.stderr
    assert read(tmp_path, '/var/log/insmod').split() == [
        '%s/%s.o' % (moddir, m) for m in ('xen-platform-pci', 'xen-balloon', 'xen-vbd', 'xen-vnif')]
    for node, minor in (('xvdb', 0), ('xvdb1', 1), ('xvdb15', 15), ('xvdc', 16), ('xvdc1', 17), ('xvdd', 32)):
        st = os.stat(os.path.join(str(tmp_path), 'dev', node))
        assert stat.S_ISBLK(st.st_mode) and os.major(st.st_rdev) == 202 and os.minor(st.st_rdev) == minor
        assert stat.S_IMODE(st.st_mode) == 0o664 and st.st_gid == 6


def test_rhel6_dracut_two_kernels_odd_fstab(run_module, tmp_path):
    """RHEL 6 on SATA/e1000 to virtio: dracut stand-in, both kernels, modprobe.d, UUID= fstab, legacy GRUB."""
    facts = trees.rhel6(tmp_path)
    params = {'root': str(tmp_path), 'target': 'virtio', 'kernel': ['all'], 'boot_entry': 'default',
              'filesystems': trees.RHEL6_FILESYSTEMS}
    result = run_module('pv_driver_migrate', params, diff=True)
    assert result['changed'] and result['initrd_tool'] == 'dracut', result.get('msg')
    assert trees.recorded(tmp_path) == [
        ['/sbin/dracut', '-f', '--no-hostonly', '--add-drivers', 'virtio_pci virtio_blk',
         '/boot/initramfs-%s.pv.img' % k, k] for k in (facts['old'], facts['kver'])]
    assert read(tmp_path, '/etc/modprobe.d/anaconda.conf').startswith(
        'alias eth0 virtio_net\nalias scsi_hostadapter virtio_blk\noptions e1000')
    fstab = read(tmp_path, '/etc/fstab')
    assert fstab.count('UUID=0a1b2c3d') == 2 and '/srv/data/www           /var/www' in fstab
    grub = read(tmp_path, '/boot/grub/grub.conf')
    assert grub.startswith('default=3\n') and grub.count('title ') == 4
    assert grub.count('resume=/dev/sda3') == 2 and grub.count('resume=UUID=0a1b2c3d-0000-4000-8000-00000000aaaa') == 2
    assert run_module('pv_driver_migrate', params)['changed'] is False


INJECTIONS = [
    # (extra params, text the refusal must hold: the option and the value)
    ({'disk_map': {'hda': 'xvda; rm -rf /'}}, "disk_map.hda: 'xvda; rm -rf /' is not allowed"),
    ({'disk_map': {'hda': '../sda'}}, "disk_map.hda: '../sda' is not allowed"),
    ({'disk_map': {'hda': ['xvdb']}}, "disk_map.hda: ['xvdb'] is not allowed"),
    ({'disk_map': {'hda': 'vdb'}}, "disk_map.hda: 'vdb' is not allowed: a whole-disk name of the xvd family"),
    ({'filesystems': [{'device': '/dev/hda1',
                       'uuid': '0b6d7a42-4d3e-4b4e-9d35-6f1c7e1b2a11\n/dev/hdb1 / ext3 defaults 0 0'}]},
     'filesystems[0].uuid: '),
    ({'filesystems': [{'device': '/dev/hda1', 'label': 'my "root"'}]}, 'filesystems[0].label: '),
    ({'filesystems': [{'device': '/dev/hda1 / ext3 defaults 0 0\n/dev/hdb1'}]}, 'filesystems[0].device: '),
    ({'legacy_disks': ['xvdb', 'xvdc; wget x|sh']}, "legacy_disks[1]: 'xvdc; wget x|sh' is not allowed"),
    ({'legacy_disks': ['../../tmp/xvdb']}, "legacy_disks[0]: '../../tmp/xvdb' is not allowed"),
    ({'kernel': ['../../../etc']}, "kernel[0]: '../../../etc' is not allowed: a kernel version"),
    ({'kernel': ['all', K5]}, 'kernel: '),
]


@pytest.mark.parametrize('extra,named', INJECTIONS)
def test_injections_are_refused_naming_the_option_and_nothing_changes(run_module, tmp_path, extra, named):
    """Issue 8: option values reach fstab, device.map, grub.conf, rc.local only through their grammar."""
    trees.centos53_hvm(tmp_path)
    before = trees.snapshot(tmp_path)
    result = run_module('pv_driver_migrate', args(tmp_path, **extra))
    assert result.get('failed') and named in result['msg'], result.get('msg')
    assert 'nothing was changed' in result['msg'] and 'Traceback' not in result.get('module_stderr', '')
    assert trees.snapshot(tmp_path) == before and trees.recorded(tmp_path) == []


def test_disk_map_given_as_a_string_fails_cleanly(run_module, tmp_path):
    trees.centos53_hvm(tmp_path)
    before = trees.snapshot(tmp_path)
    result = run_module('pv_driver_migrate', args(tmp_path, disk_map='hda'))
    assert result.get('failed') and 'disk_map' in result['msg'], result.get('msg')
    assert 'Traceback' not in result.get('module_stderr', '')
    assert trees.snapshot(tmp_path) == before


def test_rhel3_keeps_the_scsi_hostadapter_the_guest_boots_from(run_module, tmp_path):
    facts = trees.rhel3(tmp_path)
    trees.write(tmp_path, '/etc/modules.conf', 'alias eth0 8139too\nalias scsi_hostadapter aic7xxx\n')
    result = run_module('pv_driver_migrate', {'root': str(tmp_path), 'target': 'xen', 'kernel': [facts['kver']]})
    assert result['changed'] and not result.get('failed'), result.get('msg')
    assert read(tmp_path, '/etc/modules.conf') == 'alias eth0 xen-vnif\nalias scsi_hostadapter aic7xxx\n'
    assert any('alias scsi_hostadapter aic7xxx in /etc/modules.conf kept' in note for note in result['notes'])
