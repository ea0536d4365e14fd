"""L1: every job-template playbook run the way AWX runs a job: through ansible-runner, from a private
data dir laid out as AWX lays it out (``project/`` holding the playbooks, ``inventory/``,
``env/extravars``, ``env/envvars``, ``env/cmdline``), with the extra variables a job template builds
from its survey (``playbooks/surveys/<playbook>.json``: the answers, AWX's types — a multiple
choice is a string, so booleans arrive as 'true'/'false' — and each unanswered question's default)
plus the job template's own extra variables. Every input is safe on this machine: fixture trees,
libvirt's test:/// driver, check mode where the playbook would change the host.

Each test checks the job's artifacts as AWX reads them: status and rc, the stats per host, the job
events (the validation task ran, nothing failed), and set_stats artifacts.
"""

import json
import os
import shutil
import sys

import pytest

import awx_survey
import harness

ansible_runner = pytest.importorskip('ansible_runner')

FIXTURES = os.path.join(harness.TOP, 'tests', 'fixtures')
for _sub in ('nodedev', 'guests', 'boot'):
    sys.path.insert(0, os.path.join(FIXTURES, _sub))

import boot_trees  # noqa: E402
import nodedev_fixture  # noqa: E402
import trees  # noqa: E402


def survey_extravars(playbook, answers):
    """The extra variables AWX sends for ``answers`` to the playbook's survey (the rest: defaults)."""
    survey = awx_survey.load_survey(playbook)
    extravars = {}
    questions = {q['variable']: q for q in survey['spec']}
    for variable in answers:
        assert variable in questions, '%s is not a question of the %s survey' % (variable, playbook)
    for variable, question in questions.items():
        if variable in answers:
            value = answers[variable]
        elif 'default' in question:
            value = question['default']
        else:
            assert not question['required'], 'the job needs an answer for %s' % variable
            continue
        if question['type'] == 'multiplechoice':
            assert isinstance(value, str) and value in question['choices'], (variable, value)
        elif question['type'] == 'integer':
            assert isinstance(value, int), (variable, value)
        else:
            assert isinstance(value, str), (variable, value)
        extravars[variable] = value
    return extravars


def run_job(tmp_path, playbook, answers, template_vars=None, check=False, groups=('hypervisors',)):
    """Lay out a private data dir like AWX's for one job and run it; return the runner object."""
    data = tmp_path / 'job'
    # the project is this repository as AWX checks it out: playbooks/ beside roles/ (a playbook may
    # read a role's defaults and argument spec next to it)
    for part in ('playbooks', 'roles'):
        shutil.copytree(os.path.join(harness.TOP, part), data / 'project' / part)
    (data / 'inventory').mkdir(parents=True)
    host = 'localhost ansible_connection=local ansible_python_interpreter=%s' % sys.executable
    (data / 'inventory' / 'hosts').write_text(''.join('[%s]\n%s\n\n' % (g, host) for g in groups))
    (data / 'env').mkdir()
    extravars = dict(survey_extravars(playbook, answers), **(template_vars or {}))
    (data / 'env' / 'extravars').write_text(json.dumps(extravars, indent=2))
    envvars = {k: v for k, v in harness.ansible_env().items() if k.startswith('ANSIBLE_')}
    # the ansible-playbook of this Python first (an execution environment has one ansible-core)
    envvars['PATH'] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get('PATH', '')])
    (data / 'env' / 'envvars').write_text(json.dumps(envvars, indent=2))
    (data / 'env' / 'settings').write_text(json.dumps({'idle_timeout': 120, 'job_timeout': 180}))
    if check:
        (data / 'env' / 'cmdline').write_text('--check --diff')
    runner = ansible_runner.run(
        private_data_dir=str(data), playbook='playbooks/%s.yml' % playbook, ident='job', quiet=True)
    return runner, data / 'artifacts' / 'job'


def assert_successful(runner, artifacts, host='localhost'):
    events = list(runner.events)
    failed = [e for e in events if e['event'] in ('runner_on_failed', 'runner_on_unreachable')
              and not e.get('event_data', {}).get('ignore_errors')]
    stdout = runner.stdout.read()
    assert runner.status == 'successful' and runner.rc == 0, stdout[-4000:]
    assert failed == [], stdout[-4000:]
    # the artifacts AWX reads back
    assert (artifacts / 'status').read_text() == 'successful'
    assert (artifacts / 'rc').read_text() == '0'
    assert len(os.listdir(artifacts / 'job_events')) == len(events)
    kinds = [e['event'] for e in events]
    assert kinds[0] == 'playbook_on_start' and kinds[-1] == 'playbook_on_stats'
    stats = runner.stats
    assert stats['failures'] == {} and stats['dark'] == {}, stats
    assert host in stats['ok'], stats
    return events


def task_results(events, task):
    return [e['event_data'] for e in events if e['event'] == 'runner_on_ok' and e['event_data'].get('task') == task]


def test_assign_pci_device_lists_from_survey_text(tmp_path):
    runner, artifacts = run_job(tmp_path, 'assign_pci_device', {'pci_class': 'network, display'}, template_vars={
        'pci_uri': nodedev_fixture.URI, 'pci_root': nodedev_fixture.make_sysfs(tmp_path / 'host')})
    events = assert_successful(runner, artifacts)
    assert task_results(events, "Validate the job's variables")
    shown = task_results(events, 'Show the devices')[0]['res']['msg']
    assert '0000:03:10.2  network  vfio-pci  5  True  vf-guest' in shown
    assert not any(line.startswith('0000:04:00.0') for line in shown)
    assert runner.stats['changed'] == {}


def test_hotplug_disk_in_check_mode_on_the_test_driver(tmp_path):
    existing, new = tmp_path / 'data.img', tmp_path / 'new.qcow2'
    existing.write_bytes(b'\0' * 4096)
    runner, artifacts = run_job(tmp_path, 'hotplug_disk', {
        'hotplug_domain': 'test', 'hotplug_uri': 'test:///default', 'hotplug_live': 'false'},
        template_vars={'hotplug_disks': [{'source': str(existing), 'serial': 'awx-data'},
                                         {'source': str(new), 'serial': 'awx-new', 'size': '1G'}]}, check=True)
    events = assert_successful(runner, artifacts)
    # the image a real run would create is not created in check mode; the other disk is planned
    assert not new.exists()
    pending = task_results(events, 'Say which disks a real run would create and then attach')
    assert [r['msg'] for e in pending for r in e['res']['results']] == [
        'check mode: %s would be created and then attached' % new]
    result = task_results(events, 'Attach or detach the disks')[0]['res']
    assert result['changed'] is True
    assert [d['source'] for d in result['disks']] == [str(existing)]


def test_prepare_passthrough_host_check_mode_fleet_report(tmp_path):
    with boot_trees.mounted_tree('debian12', tmp_path / 'debian12') as root:
        before = boot_trees.snapshot(root)
        runner, artifacts = run_job(tmp_path, 'prepare_passthrough_host', {
            'target_hosts': 'hypervisors', 'passthrough_become': 'false', 'iommu_host_vendor': 'intel',
            'kvm_host_require_virtualization': 'false', 'iommu_host_allow_unsafe_interrupts': 'false',
            'iommu_host_reboot': 'false'},
            template_vars={'iommu_host_root': root}, check=True)
        after = boot_trees.snapshot(root)
    events = assert_successful(runner, artifacts)
    assert after == before
    report = [e['event_data'] for e in events if e['event'] == 'playbook_on_stats'][0]['artifact_data']
    assert report['passthrough_report']['needs_change'] == ['localhost']
    assert report['passthrough_report']['reboot_pending'] == ['localhost']
    assert report['passthrough_report']['check_mode'] is True
    # 'false' from the survey is false: no unsafe interrupts in the vfio options, no warning about them
    vfio = [e['event_data'] for e in events if e['event'] == 'runner_on_ok'
            and e['event_data'].get('task', '').startswith('Write vfio options')]
    assert vfio, 'the vfio options task did not run'
    assert 'allow_unsafe_interrupts=1' not in json.dumps(vfio)
    assert 'allow_unsafe_interrupts=1' not in json.dumps(events)
    warnings = [json.dumps(e['event_data'].get('res', {})) for e in events
                if e['event'] in ('runner_on_ok', 'runner_item_on_ok') and e['event_data'].get('task') == 'Warnings']
    assert not any('allow_unsafe_interrupts is ON' in w for w in warnings), warnings


def test_migrate_to_pv_check_mode_on_a_guest_tree(tmp_path):
    guest = tmp_path / 'guest'
    trees.centos53_hvm(guest)
    xm = tmp_path / 'centos53.cfg'
    xm_text = 'name = "centos53"\nbuilder = "hvm"\ndisk = [ "file:/var/lib/xen/images/centos53.img,hda,w" ]\n'
    xm.write_text(xm_text)
    before = trees.snapshot(guest)
    runner, artifacts = run_job(tmp_path, 'migrate_to_pv', {
        'pv_guests': 'pv_guests', 'pv_guest_target': 'xen', 'pv_guest_fstab': 'device',
        'pv_guest_hypervisor': 'localhost', 'pv_guest_hypervisor_type': 'xen_config',
        'pv_guest_xen_config': str(xm), 'pv_guest_backup': 'false', 'pv_guest_second_pass': 'true'},
        template_vars={'pv_guest_root': str(guest), 'pv_guest_filesystems': trees.SEED001_FILESYSTEMS},
        check=True, groups=('pv_guests',))
    events = assert_successful(runner, artifacts)
    assert trees.snapshot(guest) == before and xm.read_text() == xm_text
    assert any('has been prepared; shut the domain down' in json.dumps(e.get('event_data', {}).get('res', {}))
               for e in events)


def test_fleet_report_on_this_machine(tmp_path):
    out = tmp_path / 'report'
    runner, artifacts = run_job(tmp_path, 'fleet_report', {
        'target_hosts': 'hypervisors', 'fleet_report_dir': str(out), 'fleet_kernel_args': 'iommu=pt',
        'fleet_become': 'false'})
    events = assert_successful(runner, artifacts)
    stats = [e['event_data'] for e in events if e['event'] == 'playbook_on_stats'][0]['artifact_data']
    assert 'fleet_report' in stats, sorted(stats)
    with open(out / 'fleet-report.json') as handle:
        report = json.load(handle)
    hosts = [row['name'] for row in report['hosts']]
    assert hosts == ['localhost'], hosts
    assert (out / 'fleet-report.html').read_text().lstrip().lower().startswith('<!doctype html')
