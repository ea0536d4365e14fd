"""L1: the kvm_host role, run by ansible-playbook against this machine.

This machine is itself a VM: its CPU shows no vmx/svm flag, yet /dev/kvm
exists (a paravirtual kvm module) and libvirtd runs. The role must report
exactly that, and fail by default because hardware virtualization is absent.
A fake /proc + /sys + /dev shows an Intel host with nested support.
"""

import os
import stat
import sys

import pytest

import harness

sys.path.insert(0, os.path.join(harness.TOP, 'tests', 'fixtures', 'boot'))

import playbook_runs as runner  # noqa: E402


def cpu_flags():
    with open('/proc/cpuinfo') as handle:
        for line in handle:
            if line.startswith('flags'):
                return line.split(':', 1)[1].split()
    return []


def fake_intel_host(top):
    """/proc + /sys + /dev of an Intel host with vmx, kvm_intel loaded and nested on."""
    proc, sysfs, dev = (os.path.join(top, d) for d in ('proc', 'sys', 'dev'))
    os.makedirs(proc)
    os.makedirs(os.path.join(sysfs, 'module', 'kvm'))
    os.makedirs(os.path.join(sysfs, 'module', 'kvm_intel', 'parameters'))
    os.makedirs(dev)
    with open(os.path.join(proc, 'cpuinfo'), 'w') as handle:
        handle.write('processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme de pse vmx ept\n')
    with open(os.path.join(sysfs, 'module', 'kvm_intel', 'parameters', 'nested'), 'w') as handle:
        handle.write('Y\n')
    os.mknod(os.path.join(dev, 'kvm'), 0o660 | stat.S_IFCHR, os.makedev(10, 232))
    return {'kvm_host_proc': proc, 'kvm_host_sysfs': sysfs, 'kvm_host_dev': dev}


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Three scenarios in one check-mode playbook: this machine (report only), this machine
    (default: must fail without vmx/svm), and a fake Intel host."""
    top = str(tmp_path_factory.mktemp('kvm-host'))
    return runner.run_scenarios({
        'live': {'role': 'kvm_host', 'passes': [{'vars': {'kvm_host_require_virtualization': False}}]},
        'strict': {'role': 'kvm_host', 'passes': [{'vars': {}}]},
        'intel': {'role': 'kvm_host', 'passes': [{'vars': fake_intel_host(top)}]},
    }, check=True)


def test_this_machine_is_reported_as_it_is(runs):
    result = runs['live'][0]
    assert result['failure'] is None
    report = result['report']
    flags = [f for f in cpu_flags() if f in ('vmx', 'svm')]
    assert report['cpu_virtualization_flags'] == flags
    assert report['dev_kvm'] == os.path.exists('/dev/kvm')
    loaded = sorted(m for m in os.listdir('/sys/module') if m == 'kvm' or m.startswith('kvm_'))
    assert report['kvm_modules'] == loaded
    assert report['os_family'] == 'Debian'
    assert report['libvirt_daemon_running'] == any(
        os.path.exists('/proc/%s/comm' % p) and open('/proc/%s/comm' % p).read().strip() in ('libvirtd', 'virtqemud')
        for p in os.listdir('/proc') if p.isdigit())
    assert 'libguestfs-tools' in report['packages_wanted']
    assert report['libvirt_reachable'] is True and report['libvirt_error'] == ''
    assert 'qemu' in report['libvirt_domain_types']
    if not flags:
        assert report['ready'] is False


def test_fails_clearly_without_hardware_virtualization(runs):
    result = runs['strict'][0]
    if any(f in ('vmx', 'svm') for f in cpu_flags()):
        assert result['failure'] is None
        return
    assert result['failure'] and 'neither the vmx (Intel VT-x)' in result['failure']
    assert 'firmware' in result['failure']
    assert result['report'] is None


def test_intel_host_with_nested(runs):
    result = runs['intel'][0]
    assert result['failure'] is None
    report = result['report']
    assert report['cpu_vendor'] == 'intel'
    assert report['cpu_virtualization_flags'] == ['vmx']
    assert report['nested'] is True
    assert report['dev_kvm'] is True
    assert report['kvm_modules'] == ['kvm', 'kvm_intel']
