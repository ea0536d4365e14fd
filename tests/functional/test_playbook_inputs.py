"""L1: the job-template playbooks refuse a host pattern that matches nothing and survey values that
Jinja would coerce ('x' | int == 0, 'x' | bool == false), before anything runs (issue 8).

Each case is one ansible-playbook run on the harness inventory (localhost only); the assertions check
the message names the variable and that no later play or task ran.
"""

import os

import pytest

import harness


def run(playbook, **extra):
    proc = harness.run_playbook(os.path.join(harness.TOP, 'playbooks', playbook), extra_vars=extra)
    return proc.returncode, proc.stdout + proc.stderr


NOTHING_MATCHES = [
    ('migrate_to_pv.yml', {'pv_guest_target': 'virtio'}, 'pv_guests=pv_guests matches no host of the inventory',
     'Move guests to paravirtual drivers'),
    ('migrate_to_pv.yml', {'pv_guests': 'nosuch', 'pv_guest_target': 'virtio'}, 'pv_guests=nosuch matches no host',
     'Move guests to paravirtual drivers'),
    ('prepare_passthrough_host.yml', {'passthrough_become': False}, 'target_hosts=hypervisors matches no host',
     'Prepare passthrough hosts'),
    ('assign_pci_device.yml', {'pci_hypervisors': 'kvm*'}, 'pci_hypervisors=kvm* matches no host',
     'List, assign or release host PCI devices'),
    ('hotplug_disk.yml', {'hotplug_hypervisors': 'nosuch', 'hotplug_domain': 'd', 'hotplug_disks': []},
     'hotplug_hypervisors=nosuch matches no host', 'Attach or detach disks on the hypervisor'),
    ('hotplug_disk.yml', {'hotplug_guest': 'web99', 'hotplug_domain': 'd', 'hotplug_disks': []},
     'hotplug_guest=web99 matches no host', 'Attach or detach disks on the hypervisor'),
]


@pytest.mark.parametrize('playbook, extra, message, later', NOTHING_MATCHES,
                         ids=['%s-%s' % (c[0], c[2].split('=')[0]) for c in NOTHING_MATCHES])
def test_a_pattern_matching_no_host_fails_the_job_first(playbook, extra, message, later):
    rc, out = run(playbook, **extra)
    assert rc != 0, out
    assert message in out and 'nothing would be done' in out, out
    assert 'PLAY [%s]' % later not in out


COERCIONS = [
    ('assign_pci_device.yml', {'pci_action': 'assign', 'pci_domain': 'web01', 'pci_devices': '0000:03:10.0',
                               'pci_as_interface': True, 'pci_vlan_tags': 'x'}, 'pci_vlan_tags'),
    ('assign_pci_device.yml', {'pci_action': 'assign', 'pci_domain': 'web01', 'pci_devices': '0000:03:10.0',
                               'pci_as_interface': True, 'pci_vlan_tags': '42,x'}, 'pci_vlan_tags'),
    ('assign_pci_device.yml', {'pci_action': 'assign', 'pci_domain': 'web01', 'pci_devices': '0000:03:10.0',
                               'pci_live': 'x'}, 'pci_live'),
    ('assign_pci_device.yml', {'pci_devices': {'a': 1}}, 'pci_devices'),
    ('prepare_passthrough_host.yml', {'target_hosts': 'localhost', 'passthrough_become': False,
                                      'passthrough_fail_hosts': 'x'}, 'passthrough_fail_hosts'),
    ('prepare_passthrough_host.yml', {'target_hosts': 'localhost', 'passthrough_become': 'x'}, 'passthrough_become'),
    ('migrate_to_pv.yml', {'pv_guests': 'localhost', 'pv_guest_target': 'virtio', 'pv_serial': 'x'}, 'pv_serial=x'),
]


@pytest.mark.parametrize('playbook, extra, option', COERCIONS, ids=['%s-%s' % (c[0], c[2]) for c in COERCIONS])
def test_survey_values_are_refused_not_coerced(playbook, extra, option):
    rc, out = run(playbook, **extra)
    assert rc != 0, out
    assert option in out, out
    for later in ('TASK [Read the host', 'TASK [Assign or release', 'PLAY [Prepare passthrough hosts]',
                  'PLAY [Move guests'):
        assert later not in out, out


# --- role inputs that reach files and command lines, refused before the first change -------------------

ROLE_CASES = [
    ('iommu_host', {'iommu_host_args': ['intel_iommu=on;reboot', 'quiet splash'], 'iommu_host_vendor': 'intel'},
     ["iommu_host_args[0]: 'intel_iommu=on;reboot' is not allowed: one kernel argument",
      "iommu_host_args[1]: 'quiet splash' is not allowed"]),
    ('iommu_host', {'iommu_host_remove_args': ['$(reboot)'], 'iommu_host_vfio_pci_ids': ['10de:1b80 x'],
                    'iommu_host_vendor': 'intel'},
     ["iommu_host_vfio_pci_ids[0]: '10de:1b80 x' is not allowed: a PCI vendor:device id",
      "iommu_host_remove_args[0]: '$(reboot)' is not allowed"]),
    ('pv_guest', {'pv_guest_target': 'virtio', 'pv_guest_kernel': ['../../boot/x'],
                  'pv_guest_legacy_disks': ['xvdb;reboot'], 'pv_guest_disk_map': {'hdc': '../sda'},
                  'pv_guest_reboot_timeout': -1},
     ["pv_guest_kernel[0]: '../../boot/x' is not allowed", "pv_guest_legacy_disks[0]: 'xvdb;reboot' is not allowed",
      "pv_guest_disk_map.hdc: '../sda' is not allowed: a whole-disk name of the vd family",
      "pv_guest_reboot_timeout: -1 is not allowed: a whole number from 1 to 86400"]),
    ('pv_guest', {'pv_guest_target': 'xen', 'pv_guest_domain': '-F', 'pv_guest_hypervisor': 'localhost',
                  'pv_guest_hypervisor_type': 'xen_config', 'pv_guest_xen_config': '/etc/xen/../g,w'},
     ["pv_guest_domain: '-F' is not allowed: a domain name", "not starting with '-'",
      "pv_guest_xen_config: '/etc/xen/../g,w' is not allowed"]),
]


@pytest.mark.parametrize('role, role_vars, messages', ROLE_CASES, ids=['%s-%d' % (c[0], n) for n, c in enumerate(ROLE_CASES)])
def test_role_input_is_refused_before_any_step(tmp_path, role, role_vars, messages):
    import json
    import treesnap
    tree = tmp_path / 'tree'
    (tree / 'etc').mkdir(parents=True)
    (tree / 'etc' / 'fstab').write_text('/dev/hda1 / ext3 defaults 1 1\n')
    root_var = {'iommu_host': 'iommu_host_root', 'pv_guest': 'pv_guest_root'}[role]
    before = treesnap.snapshot(tree)
    book = tmp_path / 'play.yml'
    book.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'the role', 'ansible.builtin.include_role': {'name': 'virtops.devices.%s' % role}}]}]))
    proc = harness.run_playbook(str(book), extra_vars=dict(role_vars, **{root_var: str(tree)}))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    for message in messages:
        assert message in out, out
    assert 'nothing was changed' in out
    assert treesnap.changes(before, treesnap.snapshot(tree)) == []
    for later in ('Put the IOMMU kernel arguments', 'Decide where files go', 'Find out whether the guest',
                  'Prepare the guest'):
        assert later not in out, out
