"""disk_rescan role.

L2: on a booted tiny guest (busybox, no Python) reached by Ansible over SSH: a SCSI disk
the guest has forgotten (sysfs delete, as if it was added without a hotplug event) comes
back after the role's sysfs scan, under its serial.
L1: the legacy /proc/scsi/scsi path (kernels of the CentOS 5 era; Debian's kernel has no
SCSI procfs) and FreeBSD's camcontrol path, run on fixture trees and recording stand-ins.
"""

import json
import os
import subprocess

import pytest

import harness
import tiny_guest
from conftest import wait_serials

SCRIPT = os.path.join(harness.TOP, 'roles', 'disk_rescan', 'files', 'disk_rescan.sh')


def run_role(guest_name, tmp_path, **role_vars):
    inv = tmp_path / 'inventory.json'
    inv.write_text(json.dumps({'guest': {'hosts': {'g': tiny_guest.inventory(guest_name)}}}))
    out = tmp_path / 'result.json'
    extra = dict(role_vars, out=str(out))
    proc = harness.run_playbook(os.path.join(harness.TOP, 'tests', 'functional', 'playbooks', 'disk_rescan.yml'),
                                extra_vars=extra, inventory=str(inv))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


@pytest.mark.guest
def test_forgotten_scsi_disk_comes_back_after_sysfs_scan(run_module, pc_guest, images, tmp_path):
    name = pc_guest['name']
    path = images('rescan.raw')
    attached = run_module('virt_disk_hotplug', {'name': name, 'disks': [
        {'source': path, 'bus': 'scsi', 'serial': 'rescan-me'}]})
    assert attached['changed'], attached.get('msg')
    try:
        disks = wait_serials(name, present={'rescan-me'})
        dev = [d['name'] for d in disks if d['serial'] == 'rescan-me'][0]
        rc, out = tiny_guest.run(name, 'echo 1 > /sys/block/%s/device/delete' % dev)
        assert rc == 0, out
        wait_serials(name, absent={'rescan-me'})

        first = run_role(name, tmp_path, disk_rescan_expect=1, disk_rescan_wait=20)
        assert first['changed']
        assert first['result']['method'] == 'sysfs'
        assert first['result']['new_devices'] == [dev]
        wait_serials(name, present={'rescan-me'}, timeout=5)

        second = run_role(name, tmp_path)
        assert not second['changed'] and second['result']['new_devices'] == []
    finally:
        run_module('virt_disk_hotplug', {'name': name, 'state': 'absent', 'disks': [{'source': path}]})


def test_missing_disk_fails_with_a_clear_message(pc_guest, tmp_path):
    inv = tmp_path / 'inventory.json'
    inv.write_text(json.dumps({'guest': {'hosts': {'g': tiny_guest.inventory(pc_guest['name'])}}}))
    proc = harness.run_playbook(os.path.join(harness.TOP, 'tests', 'functional', 'playbooks', 'disk_rescan.yml'),
                                extra_vars={'out': str(tmp_path / 'x'), 'disk_rescan_expect': 1,
                                            'disk_rescan_wait': 2}, inventory=str(inv))
    assert proc.returncode != 0
    assert '1 new disk(s) expected, 0 appeared' in proc.stdout


def run_script(root, env_path=None, args=('auto', 'false', '3', '0', '0')):
    env = dict(os.environ, DISK_RESCAN_ROOT=str(root))
    if env_path:
        env['PATH'] = '%s:%s' % (env_path, env['PATH'])
    proc = subprocess.run(['sh', SCRIPT] + list(args), env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def test_legacy_proc_scsi_path_probes_missing_ids(tmp_path):
    scsi = tmp_path / 'proc' / 'scsi'
    (scsi / 'sym53c8xx').mkdir(parents=True)
    (scsi / 'sym53c8xx' / '0').write_text('')
    (scsi / 'scsi').write_text('Attached devices:\nHost: scsi0 Channel: 00 Id: 00 Lun: 00\n'
                               '  Vendor: QEMU     Model: QEMU HARDDISK    Rev: 0.12\n')
    (tmp_path / 'proc' / 'partitions').write_text('major minor  #blocks  name\n\n   3     0   5242880 hda\n'
                                                  '   3     1    104391 hda1\n')
    fields = run_script(tmp_path)
    assert fields['method'] == 'procfs'
    assert fields['scanned'] == ['scsi0']
    assert fields['before'] == ['hda']
    written = (scsi / 'scsi').read_text().splitlines()[3:]
    assert written == ['scsi add-single-device 0 0 %d 0' % i for i in (1, 2, 3)]


def test_freebsd_uses_camcontrol_rescan_all(tmp_path):
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    log = tmp_path / 'camcontrol.log'
    stand_ins = {
        'uname': 'echo FreeBSD',
        'camcontrol': 'echo "$@" >> %s' % log,
        'sysctl': 'if [ -s %s ]; then echo "ada0 da0"; else echo ada0; fi' % log,
    }
    for tool, body in stand_ins.items():
        (bindir / tool).write_text('#!/bin/sh\n%s\n' % body)
        (bindir / tool).chmod(0o755)
    fields = run_script(tmp_path, env_path=str(bindir))
    assert fields['method'] == 'camcontrol'
    assert log.read_text() == 'rescan all\n'
    assert fields['new_devices'] == ['da0']


def acpiphp_stand_ins(tmp_path, loads=True):
    """A Linux 'uname' and a recording 'modprobe' (exit 0, or 1 when it cannot load)."""
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    log = tmp_path / 'modprobe.log'
    stand_ins = {
        'uname': 'case "$1" in -r) echo 2.6.18-128.el5 ;; *) echo Linux ;; esac',
        'modprobe': 'echo "$@" >> %s; exit %d' % (log, 0 if loads else 1),
    }
    for tool, body in stand_ins.items():
        (bindir / tool).write_text('#!/bin/sh\n%s\n' % body)
        (bindir / tool).chmod(0o755)
    (tmp_path / 'proc').mkdir()
    (tmp_path / 'proc' / 'partitions').write_text('major minor  #blocks  name\n\n   3     0   5242880 hda\n')
    return str(bindir), log


def test_acpiphp_is_loaded_when_the_kernel_has_it_as_a_module(tmp_path):
    bindir, log = acpiphp_stand_ins(tmp_path)
    module = tmp_path / 'lib' / 'modules' / '2.6.18-128.el5' / 'kernel' / 'drivers' / 'pci' / 'hotplug'
    module.mkdir(parents=True)
    (module / 'acpiphp.ko').write_text('')
    (tmp_path / 'proc' / 'modules').write_text('ata_piix 22853 2 - Live\n')
    assert run_script(tmp_path, env_path=bindir)['acpiphp'] == 'loaded'
    assert log.read_text() == 'acpiphp\n'


def test_acpiphp_already_loaded_built_in_or_missing_is_left_alone(tmp_path):
    bindir, log = acpiphp_stand_ins(tmp_path)
    module = tmp_path / 'lib' / 'modules' / '2.6.18-128.el5'
    module.mkdir(parents=True)
    assert run_script(tmp_path, env_path=bindir)['acpiphp'] == 'not-available'
    (module / 'acpiphp.ko.xz').write_text('')
    (tmp_path / 'proc' / 'modules').write_text('acpiphp 24001 0 - Live\n')
    assert run_script(tmp_path, env_path=bindir)['acpiphp'] == 'present'
    (tmp_path / 'proc' / 'modules').write_text('')
    (tmp_path / 'sys' / 'module' / 'acpiphp').mkdir(parents=True)  # built in
    assert run_script(tmp_path, env_path=bindir)['acpiphp'] == 'present'
    assert run_script(tmp_path, env_path=bindir, args=('auto', 'false', '3', '0', '0', 'false'))['acpiphp'] == 'skipped'
    assert not log.exists()


def test_a_failing_modprobe_does_not_stop_the_scan(tmp_path):
    bindir, log = acpiphp_stand_ins(tmp_path, loads=False)
    module = tmp_path / 'lib' / 'modules' / '2.6.18-128.el5'
    module.mkdir(parents=True)
    (module / 'acpiphp.o').write_text('')  # a 2.4-style module name
    fields = run_script(tmp_path, env_path=bindir)
    assert fields['acpiphp'] == 'failed' and fields['before'] == ['hda']
    assert log.read_text() == 'acpiphp\n'
