"""playbooks/hotplug_disk.yml as an AWX job template runs it: inputs only through extra vars,
validated before anything changes; images created when a size is given; detach removes them."""

import json
import os

import pytest

import harness
from conftest import domain_xml_both

PLAYBOOK = os.path.join(harness.TOP, 'playbooks', 'hotplug_disk.yml')
pytestmark = pytest.mark.libvirt


def inventory(tmp_path):
    path = tmp_path / 'inventory.json'
    path.write_text(json.dumps({'all': {'hosts': {'localhost': {
        'ansible_connection': 'local', 'ansible_python_interpreter': harness.sys.executable}}}}))
    return str(path)


def test_missing_domain_is_refused_before_any_change(tmp_path):
    image = tmp_path / 'never.qcow2'
    proc = harness.run_playbook(PLAYBOOK, inventory=inventory(tmp_path), extra_vars={
        'hotplug_disks': [{'source': str(image), 'size': '1M'}]})
    assert proc.returncode != 0
    assert 'hotplug_domain' in proc.stdout and 'required' in proc.stdout
    assert not image.exists()


def test_bad_state_is_refused(tmp_path, shutoff_domain):
    proc = harness.run_playbook(PLAYBOOK, inventory=inventory(tmp_path), extra_vars={
        'hotplug_domain': shutoff_domain, 'hotplug_state': 'gone', 'hotplug_disks': []})
    assert proc.returncode != 0
    assert 'hotplug_state' in proc.stdout and 'present, absent' in proc.stdout


def test_creates_attaches_then_detaches_and_removes(tmp_path, shutoff_domain):
    image = str(tmp_path / 'job data.qcow2')
    disks = [{'source': image, 'size': '8M', 'serial': 'job-1'}]
    inv = inventory(tmp_path)
    first = harness.run_playbook(PLAYBOOK, inventory=inv, extra_vars={
        'hotplug_domain': shutoff_domain, 'hotplug_disks': disks})
    assert first.returncode == 0, first.stdout
    assert os.path.exists(image)
    assert image in domain_xml_both(shutoff_domain)[1]
    again = harness.run_playbook(PLAYBOOK, inventory=inv, extra_vars={
        'hotplug_domain': shutoff_domain, 'hotplug_disks': disks})
    assert again.returncode == 0 and 'changed=0' in again.stdout
    gone = harness.run_playbook(PLAYBOOK, inventory=inv, extra_vars={
        'hotplug_domain': shutoff_domain, 'hotplug_disks': disks, 'hotplug_state': 'absent',
        'hotplug_remove_images': True})
    assert gone.returncode == 0, gone.stdout
    assert image not in domain_xml_both(shutoff_domain)[1]
    assert not os.path.exists(image)
