"""L1: the iommu_host role, run by ansible-playbook.

The boot side works on Debian fixture trees (real update-grub in a chroot,
see tests/fixtures/boot/boot_trees.py) through ``iommu_host_root``; the
verification side reads this machine's real /proc and /sys, where the IOMMU is
off, and must say so truthfully. Fake /proc + /sys trees show "booted with the
arguments but IOMMU off" (must fail with the firmware hint) and "IOMMU on".

All scenarios run as inventory hosts of one playbook (one for normal mode,
one for check mode) to keep the suite fast.
"""

import os
import sys

import pytest

import harness

sys.path.insert(0, os.path.join(harness.TOP, 'tests', 'fixtures', 'boot'))

import boot_trees as bt  # noqa: E402
import playbook_runs as runner  # noqa: E402

INTEL = {'iommu_host_vendor': 'intel'}


def fake_kernel(top, cmdline, groups, units=()):
    """A /proc + /sys stand-in for a kernel that booted with ``cmdline``."""
    proc = os.path.join(top, 'proc')
    sysfs = os.path.join(top, 'sys')
    os.makedirs(proc)
    with open(os.path.join(proc, 'cmdline'), 'w') as handle:
        handle.write(cmdline + '\n')
    os.makedirs(os.path.join(sysfs, 'kernel', 'iommu_groups'))
    for group in range(groups):
        os.makedirs(os.path.join(sysfs, 'kernel', 'iommu_groups', str(group), 'devices'))
    for unit in units:
        os.makedirs(os.path.join(sysfs, 'class', 'iommu', unit))
    return {'iommu_host_proc': proc, 'iommu_host_sysfs': sysfs}


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Normal-mode scenarios (two passes where a second run matters) and check-mode ones."""
    top = str(tmp_path_factory.mktemp('iommu-host'))
    trees = {}
    stack = []
    for name in ('run', 'unsafe', 'off', 'check', 'bad'):
        context = bt.mounted_tree('debian12', os.path.join(top, name))
        trees[name] = context.__enter__()
        stack.append(context)
    try:
        booted = 'BOOT_IMAGE=/vmlinuz ro intel_iommu=on iommu=pt'
        early = dict(INTEL, iommu_host_root=trees['run'], iommu_host_vfio_pci_ids=['10de:1b80'],
                     iommu_host_vfio_softdep_drivers=['nouveau'])
        local_conf = bt.host(trees['unsafe'], '/etc/modprobe.d/local.conf')
        live = runner.run_scenarios({
            # first run, then (as after a reboot) a second run on a kernel booted with the args
            'run': {'role': 'iommu_host', 'passes': [{'vars': early}, {'vars': dict(
                early, **fake_kernel(os.path.join(top, 'k-on'), booted, 8, ['dmar0']))}]},
            'unsafe': {'role': 'iommu_host', 'passes': [
                {'vars': dict(INTEL, iommu_host_root=trees['unsafe'], iommu_host_verify=False,
                              iommu_host_allow_unsafe_interrupts=True)},
                {'vars': dict(INTEL, iommu_host_root=trees['unsafe'], iommu_host_verify=False,
                              iommu_host_allow_unsafe_interrupts=False),
                 'files': {local_conf: 'options vfio_iommu_type1 allow_unsafe_interrupts=1\n'}}]},
            'off': {'role': 'iommu_host', 'passes': [{'vars': dict(
                INTEL, iommu_host_root=trees['off'], **fake_kernel(os.path.join(top, 'k-off'), booted, 0))}]},
        })
        before = dict((name, bt.snapshot(trees[name])) for name in ('check', 'bad'))
        checked = runner.run_scenarios({
            'check': {'role': 'iommu_host', 'passes': [{'vars': dict(INTEL, iommu_host_root=trees['check'])}]},
            'bad': {'role': 'iommu_host', 'passes': [{'vars': dict(
                iommu_host_root=trees['bad'], iommu_host_vfio_pci_ids=['10de:1b80; reboot'])}]},
        }, check=True)
        after = dict((name, bt.snapshot(trees[name])) for name in ('check', 'bad'))
        yield {'live': live, 'check': checked, 'trees': trees, 'before': before, 'after': after}
    finally:
        for context in reversed(stack):
            context.__exit__(None, None, None)


def read(root, path):
    with open(bt.host(root, path)) as handle:
        return handle.read()


def test_check_mode_reports_the_pending_change_and_writes_nothing(runs):
    result = runs['check']['check'][0]
    assert result['failure'] is None
    report = result['report']
    assert report['boot_changed'] is True and report['boot_setup'] == 'debian'
    assert report['reboot_pending'] is True
    assert '/etc/modprobe.d/virtops-vfio.conf' in report['files_changed']
    assert runs['after']['check'] == runs['before']['check']


def test_run_on_a_tree_then_the_live_iommu_is_reported_off(runs):
    first, second = runs['live']['run']
    root = runs['trees']['run']
    assert first['failure'] is None
    report = first['report']
    assert report['boot_changed'] is True
    assert report['kernel_args'] == ['intel_iommu=on', 'iommu=pt']
    # this machine runs without those arguments and without an IOMMU: pending, not failed
    assert report['running_cmdline_has_args'] is False
    assert report['reboot_pending'] is True and report['rebooted'] is False
    assert report['iommu_groups'] == len(os.listdir('/sys/kernel/iommu_groups'))
    assert any('reboot pending' in w for w in report['warnings'])
    modprobe = read(root, '/etc/modprobe.d/virtops-vfio.conf')
    assert 'options vfio-pci ids=10de:1b80\n' in modprobe
    assert 'softdep nouveau pre: vfio-pci\n' in modprobe
    assert 'allow_unsafe_interrupts' not in modprobe
    assert 'vfio_iommu_type1' in read(root, '/etc/modules-load.d/virtops-vfio.conf')
    assert 'vfio_pci' in read(root, '/etc/initramfs-tools/modules')
    assert report['allow_unsafe_interrupts']['requested'] is False
    # second run: nothing left to change
    assert second['failure'] is None
    assert second['report']['boot_changed'] is False and second['report']['files_changed'] == []


def test_unsafe_interrupts_only_on_opt_in_and_with_a_warning(runs):
    opted_in, opted_out = runs['live']['unsafe']
    root = runs['trees']['unsafe']
    assert opted_in['failure'] is None
    assert any('allow_unsafe_interrupts is ON' in w for w in opted_in['report']['warnings'])
    assert opted_in['report']['allow_unsafe_interrupts']['set_in_files'] == ['/etc/modprobe.d/virtops-vfio.conf']
    # turning the opt-in off removes it again, and a setting made elsewhere is reported
    assert opted_out['failure'] is None
    assert 'allow_unsafe_interrupts' not in read(root, '/etc/modprobe.d/virtops-vfio.conf')
    assert '/etc/modprobe.d/virtops-vfio.conf' in opted_out['report']['files_changed']
    assert any('set outside this role' in w and 'local.conf' in w for w in opted_out['report']['warnings'])


def test_fails_when_booted_with_the_args_but_the_iommu_is_off(runs):
    result = runs['live']['off'][0]
    assert result['failure'] and 'Enable Intel VT-d or AMD-Vi' in result['failure']
    assert 'firmware' in result['failure']
    assert result['report'] is None


def test_iommu_on_after_reboot(runs):
    result = runs['live']['run'][1]
    assert result['failure'] is None
    report = result['report']
    assert report['running_cmdline_has_args'] is True and report['reboot_pending'] is False
    assert report['iommu_groups'] == 8 and report['iommu_units'] == ['dmar0']
    assert report['dmar_enabled'] is True


def test_bad_role_input_is_refused_before_any_change(runs):
    result = runs['check']['bad'][0]
    assert result['failure'] and 'vendor:device' in result['failure']
    assert runs['after']['bad'] == runs['before']['bad']
