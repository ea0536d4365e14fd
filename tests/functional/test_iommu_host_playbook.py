"""L1: playbooks/prepare_passthrough_host.yml in check mode on this machine.

The boot side is a Debian fixture tree (iommu_host_root); the run must write
nothing and report this host as needing a change and owing a reboot.
"""

import os
import sys

import harness

sys.path.insert(0, os.path.join(harness.TOP, 'tests', 'fixtures', 'boot'))

import boot_trees as bt  # noqa: E402

PLAYBOOK = os.path.join(harness.TOP, 'playbooks', 'prepare_passthrough_host.yml')


def test_check_mode_fleet_report(tmp_path):
    with bt.mounted_tree('debian12', tmp_path / 'debian12') as root:
        before = bt.snapshot(root)
        proc = harness.run_playbook(PLAYBOOK, check=True, diff=True, extra_vars={
            'target_hosts': 'localhost', 'passthrough_become': False,
            'kvm_host_require_virtualization': False,
            'iommu_host_root': root, 'iommu_host_vendor': 'intel'})
        after = bt.snapshot(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert after == before
    report = proc.stdout[proc.stdout.index('"passthrough_report"'):]
    needs = report[report.index('"needs_change"'):report.index(']', report.index('"needs_change"'))]
    assert '"localhost"' in needs
    pending = report[report.index('"reboot_pending"'):report.index(']', report.index('"reboot_pending"'))]
    assert '"localhost"' in pending
    assert '"check_mode": true' in report


def test_a_host_without_virtualization_is_reported_and_failed(tmp_path):
    with open('/proc/cpuinfo') as handle:
        if any(f in handle.read().split() for f in ('vmx', 'svm')):
            return
    proc = harness.run_playbook(PLAYBOOK, check=True, extra_vars={
        'target_hosts': 'localhost', 'passthrough_become': False,
        'iommu_host_root': str(tmp_path)})
    assert proc.returncode != 0
    report = proc.stdout[proc.stdout.index('"passthrough_report"'):]
    assert '"failed": {' in report and 'neither the vmx' in report
