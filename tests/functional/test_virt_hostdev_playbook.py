"""playbooks/assign_pci_device.yml, L1: run by ansible-playbook against libvirt's test driver on
tests/fixtures/nodedev/host.xml (host drivers from a sysfs tree in tmp_path), as an AWX job
template would (extra vars; lists also as comma-separated survey text)."""

import os
import sys

import harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'nodedev'))

import nodedev_fixture  # noqa: E402

PLAYBOOK = os.path.join(harness.TOP, 'playbooks', 'assign_pci_device.yml')


def run(tmp_path, check=False, **extra):
    extra = dict({'pci_uri': nodedev_fixture.URI, 'pci_root': nodedev_fixture.make_sysfs(tmp_path / 'host')}, **extra)
    proc = harness.run_playbook(PLAYBOOK, check=check, diff=check, extra_vars=extra)
    return proc.returncode, proc.stdout + proc.stderr


def test_list_network_devices_from_a_survey_string(tmp_path):
    rc, out = run(tmp_path, pci_class='network, display')
    assert rc == 0, out
    assert '0000:03:10.2  network  vfio-pci  5  True  vf-guest' in out
    assert '0000:01:00.0  display  nouveau  1  False' in out
    assert '0000:04:00.0' not in out


def test_list_everything_with_groups(tmp_path):
    rc, out = run(tmp_path)
    assert rc == 0, out
    assert '0000:00:00.0  bridge  unbound  0  False' in out
    assert '0000:04:00.0  storage  vfio-pci  6  True  db01' in out


def test_assign_the_gpu_group_in_check_mode(tmp_path):
    rc, out = run(tmp_path, check=True, pci_action='assign', pci_domain='web01',
                  pci_devices='0000:01:00.0,pci_0000_01_00_1')
    assert rc == 0, out
    assert 'attach hostdev 0000:01:00.0 config' in out and 'attach hostdev 0000:01:00.1 config' in out
    assert 'changed=1' in out


def test_assign_without_domain_stops_before_any_change(tmp_path):
    rc, out = run(tmp_path, pci_action='release', pci_devices=['0000:03:10.0'])
    assert rc != 0
    assert 'pci_action=release needs pci_domain and pci_devices' in out
    assert 'Read the host' not in out
