"""L1: virtops.devices.iommu_grub run by ansible-playbook on fixture root trees.

One tree per boot setup (tests/fixtures/boot/boot_trees.py). Debian's own
``update-grub``/``grub-mkconfig`` run for real inside the trees (chroot with
the machine's /usr mounted read-only); ``grubby`` and ``grub2-mkconfig``,
which Debian does not ship, are recording stand-ins, and the tests check the
exact command lines they recorded.

To keep the suite fast, the module runs for all trees in one playbook per
phase: check mode, first run, second run, check mode again.
"""

import os
import stat
import sys

import pytest

import harness

sys.path.insert(0, os.path.join(harness.TOP, 'tests', 'fixtures', 'boot'))

import boot_trees as bt  # noqa: E402
import playbook_runs as runner  # noqa: E402

from ansible_collections.virtops.devices.plugins.module_utils._boot import _bootsetup  # noqa: E402

WANTED = ['intel_iommu=on', 'iommu=pt']
GRUBBY = ['/sbin/grubby', '--update-kernel=ALL', '--args=intel_iommu=on iommu=pt',
          '--remove-args=intel_iommu=off']
EXPECTED = {
    # tree: (setup, tool command line, recorded by a stand-in)
    'el7_bios': ('mkconfig', ['/sbin/grub2-mkconfig', '-o', '/boot/grub2/grub.cfg'], True),
    'el7_uefi': ('mkconfig', ['/sbin/grub2-mkconfig', '-o', '/boot/efi/EFI/centos/grub.cfg'], True),
    'el8_bls': ('bls', GRUBBY, True),
    'el9_bls_efi': ('bls', GRUBBY, True),
    'debian12': ('debian', ['/usr/sbin/update-grub'], False),
    'suse': ('mkconfig', ['/sbin/grub2-mkconfig', '-o', '/boot/grub2/grub.cfg'], True),
    'centos5': ('legacy', [], False),
    'rhel6': ('legacy', [], False),
}
TREES = sorted(EXPECTED)


def run_tasks(tasks):
    return runner.run_tasks('iommu_grub', tasks)


class Trees:
    """Builds trees under a directory and keeps their chroot mounts until closed."""

    def __init__(self, top):
        self.top = str(top)
        self.mounts = []

    def make(self, name, label=None):
        dest = os.path.join(self.top, label or name)
        os.makedirs(dest)
        spec = bt.build(name, dest)
        if spec['chroot']:
            mounts = bt.ChrootMounts(dest)
            mounts.__enter__()
            self.mounts.append(mounts)
        bt.pregenerate(name, dest)
        return dest

    def close(self):
        for mounts in reversed(self.mounts):
            mounts.__exit__(None, None, None)


@pytest.fixture(scope='module')
def trees(tmp_path_factory):
    made = Trees(tmp_path_factory.mktemp('boot-trees'))
    yield made
    made.close()


@pytest.fixture(scope='module')
def phases(trees):
    """Run the four phases on every tree; return ``{tree: {phase: result}}`` and snapshots."""
    roots = dict((name, trees.make(name)) for name in TREES)
    data = dict((name, {'root': root, 'snap0': bt.snapshot(root)}) for name, root in roots.items())
    args = dict((name, {'root': roots[name], 'args': WANTED, 'remove_args': ['intel_iommu=off']})
                for name in TREES)
    for phase, check in (('check1', True), ('run1', False), ('run2', False), ('check2', True)):
        results = run_tasks([(args[name], check) for name in TREES])
        for name, result in zip(TREES, results):
            data[name][phase] = result
            data[name]['snap_' + phase] = bt.snapshot(roots[name])
            data[name]['recorded_' + phase] = bt.recorded(roots[name])
    return data


def entries_on_disk(root):
    """Read the tree's boot entries back with the module's own parsers (independent of its result)."""
    state = _bootsetup.read_boot_state(root)
    setup = _bootsetup.boot_setup(state)
    return _bootsetup.boot_entries(setup, state)


def assert_changing_run(result, name):
    """The run succeeded, changed something, found the expected setup and chose the expected tool."""
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is True
    assert result['setup'] == EXPECTED[name][0]
    assert result['tool'] == EXPECTED[name][1]


@pytest.mark.parametrize('name', TREES)
def test_check_mode_writes_nothing_and_runs_no_tool(phases, name):
    data = phases[name]
    result = data['check1']
    assert_changing_run(result, name)
    assert data['snap_check1'] == data['snap0']
    assert data['recorded_check1'] == []
    assert all('intel_iommu=on' in e['args_after'].split() for e in result['entries'])
    assert result['diff'], 'check mode shows the diff of the files it would edit'


@pytest.mark.parametrize('name', TREES)
def test_every_entry_gets_the_args_and_the_conflict_goes(phases, name):
    data = phases[name]
    result = data['run1']
    assert_changing_run(result, name)
    assert result['reboot_required'] is True
    entries = entries_on_disk(data['root'])
    assert len(entries) >= 2
    for entry in entries:
        assert 'intel_iommu=on' in entry['args'] and 'iommu=pt' in entry['args'], entry
        assert 'intel_iommu=off' not in entry['args'], entry
    for entry in result['entries']:
        assert 'intel_iommu=off' not in entry['args_after'].split()
    headers = set(d['before_header'] for d in result['diff'])
    assert headers == set(result['files_changed'])
    assert data['snap_run1'] != data['snap0']


@pytest.mark.parametrize('name', TREES)
def test_the_right_tool_ran_with_the_right_arguments(phases, name):
    data = phases[name]
    _setup, tool, standin = EXPECTED[name]
    if standin:
        assert data['recorded_run1'] == [tool]
    else:
        assert data['recorded_run1'] == []
    if name == 'debian12':
        cfg = open(bt.host(data['root'], '/boot/grub/grub.cfg')).read()
        assert 'DO NOT EDIT THIS FILE' in cfg  # written by the real grub-mkconfig
        assert 'Generating grub configuration file' in data['run1']['tool_output']


@pytest.mark.parametrize('name', TREES)
def test_second_run_changes_nothing(phases, name):
    data = phases[name]
    for phase in ('run2', 'check2'):
        result = data[phase]
        assert not result.get('failed'), result.get('msg')
        assert result['changed'] is False, (phase, result)
        assert result['tool'] == []
        assert not any(entry['changed'] for entry in result['entries'])
    assert data['snap_run2'] == data['snap_run1']
    assert data['recorded_run2'] == data['recorded_run1']


def test_debian_uses_a_dropin_and_removes_the_conflict_where_it_is(phases):
    root = phases['debian12']['root']
    dropin = open(bt.host(root, '/etc/default/grub.d/99-virtops-iommu.cfg')).read()
    assert 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX intel_iommu=on iommu=pt"' in dropin
    default = open(bt.host(root, '/etc/default/grub')).read()
    assert 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"' in default
    recovery = [e for e in entries_on_disk(root) if 'single' in e['args']]
    assert recovery and all('iommu=pt' in e['args'] for e in recovery)


def test_el7_keeps_the_sysconfig_symlink(phases):
    root = phases['el7_bios']['root']
    assert os.path.islink(bt.host(root, '/etc/sysconfig/grub'))
    text = open(bt.host(root, '/etc/default/grub')).read()
    assert 'rhgb quiet intel_iommu=on iommu=pt"' in text


def test_el9_keeps_the_efi_stub_and_updates_kernel_cmdline(phases):
    data = phases['el9_bls_efi']
    root = data['root']
    stub = '/boot/efi/EFI/almalinux/grub.cfg'
    assert open(bt.host(root, stub)).read() == bt.EL_STUB_CFG
    assert open(bt.host(root, '/etc/kernel/cmdline')).read().split()[-2:] == WANTED


def test_el8_kernelopts_in_grubenv(phases):
    root = phases['el8_bls']['root']
    env = open(bt.host(root, '/boot/grub2/grubenv')).read()
    assert 'intel_iommu=on iommu=pt' in env and 'intel_iommu=off' not in env


def test_xen_entry_gets_args_on_its_module_line(phases):
    text = open(bt.host(phases['centos5']['root'], '/boot/grub/grub.conf')).read()
    assert 'kernel /xen.gz-2.6.18-398.el5 dom0_mem=1024M\n' in text
    assert 'module /vmlinuz-2.6.18-398.el5xen ro root=/dev/VolGroup00/LogVol00 rhgb quiet intel_iommu=on iommu=pt' in text
    assert os.path.islink(bt.host(phases['centos5']['root'], '/boot/grub/menu.lst'))


# --------------------------------------------------------------------------
# bad input: one playbook for all cases

@pytest.fixture(scope='module')
def bad(trees, tmp_path_factory):
    empty = str(tmp_path_factory.mktemp('empty-tree'))
    os.makedirs(os.path.join(empty, 'etc'))
    readonly = trees.make('rhel6', 'rhel6-readonly')
    conf = bt.host(readonly, '/boot/grub/grub.conf')
    os.chmod(conf, 0o444)
    failing = trees.make('debian12', 'debian12-failing')
    bt.write(failing, '/etc/grub.d/15_broken', '#!/bin/sh\necho "broken script" >&2\nexit 1\n', 0o755)
    failing_grubby = trees.make('el8_bls', 'el8-failing')
    bt.write(failing_grubby, '/etc/standin-fail', '')
    no_kernels = trees.make('debian12', 'debian12-no-kernels')
    for name in os.listdir(bt.host(no_kernels, '/boot')):
        if name.startswith(('vmlinuz-', 'initrd.img-')):
            os.unlink(os.path.join(bt.host(no_kernels, '/boot'), name))
    legacy = trees.make('centos5', 'centos5-backup')
    bls_backup = trees.make('el9_bls_efi', 'el9-backup')
    cases = {
        'no_setup': {'root': empty, 'args': WANTED},
        'vendor': {'root': legacy, 'vendor': 'via', 'args': WANTED},
        'spaces': {'root': legacy, 'args': ['intel_iommu=on iommu=pt']},
        'quotes': {'root': legacy, 'args': ['foo="a b"']},
        'both': {'root': legacy, 'args': ['iommu=pt'], 'remove_args': ['iommu']},
        'readonly': {'root': readonly, 'args': WANTED},
        'failing': {'root': failing, 'args': WANTED},
        'failing_grubby': {'root': failing_grubby, 'args': WANTED},
        'no_kernels': {'root': no_kernels, 'args': WANTED},
        'bls_backup': {'root': bls_backup, 'vendor': 'intel', 'args': ['iommu=pt'], 'backup': True},
        'amd_noop': {'root': legacy, 'args': ['amd_iommu=on', 'iommu=pt'], 'vendor': 'amd',
                     'backup': True},
    }
    snaps = {'no_kernels': bt.snapshot(no_kernels),
             'readonly': bt.snapshot(readonly), 'failing': bt.snapshot(failing),
             'failing_grubby': bt.snapshot(failing_grubby), 'legacy': bt.snapshot(legacy)}
    names = sorted(cases)
    results = dict(zip(names, run_tasks([(cases[n], False) for n in names])))
    after = {'no_kernels': bt.snapshot(no_kernels),
             'readonly': bt.snapshot(readonly), 'failing': bt.snapshot(failing),
             'failing_grubby': bt.snapshot(failing_grubby), 'legacy': bt.snapshot(legacy)}
    return {'results': results, 'before': snaps, 'after': after, 'legacy': legacy,
            'readonly_mode': stat.S_IMODE(os.stat(conf).st_mode)}


def test_no_recognisable_boot_setup(bad):
    result = bad['results']['no_setup']
    assert result['failed'] and 'no boot setup recognised' in result['msg']


def test_unknown_vendor(bad):
    result = bad['results']['vendor']
    assert result['failed'] and 'vendor' in result['msg'] and 'intel' in result['msg']


@pytest.mark.parametrize('case', ['spaces', 'quotes'])
def test_argument_with_spaces_or_quotes(bad, case):
    result = bad['results'][case]
    assert result['failed'] and 'invalid kernel argument' in result['msg']


def test_argument_both_wanted_and_removed(bad):
    result = bad['results']['both']
    assert result['failed'] and 'both wanted and removed' in result['msg']


def test_read_only_boot_file_is_left_alone(bad):
    result = bad['results']['readonly']
    assert result['failed'] and 'cannot write /boot/grub/grub.conf' in result['msg']
    assert bad['after']['readonly'] == bad['before']['readonly']
    assert bad['readonly_mode'] == 0o444


@pytest.mark.parametrize('case', ['failing', 'failing_grubby'])
def test_failing_tool_puts_every_file_back(bad, case):
    result = bad['results'][case]
    assert result['failed'] and 'failed with exit status' in result['msg']
    assert 'every file was put back' in result['msg']
    assert bad['after'][case] == bad['before'][case]
    if case == 'failing':
        assert 'broken script' in result['msg']


def test_amd_iommu_on_is_a_reported_no_op_and_backup_is_kept(bad):
    result = bad['results']['amd_noop']
    assert not result.get('failed'), result.get('msg')
    assert any('amd_iommu=on' in w for w in result.get('warnings', []))
    assert result['args'] == ['iommu=pt']
    assert result['remove_args'] == ['amd_iommu=off']
    text = open(bt.host(bad['legacy'], '/boot/grub/grub.conf')).read()
    assert 'amd_iommu=on' not in text and 'iommu=pt' in text
    backup = list(result['backup_files'].values())[0]
    assert os.path.exists(backup)
    assert open(backup).read() == bt.CENTOS5_GRUB_CONF


def test_backup_covers_the_files_the_tool_rewrites(bad):
    result = bad['results']['bls_backup']
    assert not result.get('failed'), result.get('msg')
    entry = '/boot/loader/entries/abc-5.14.0-427.el9.x86_64.conf'
    assert set(result['backup_files']) >= set(['/etc/default/grub', '/etc/kernel/cmdline', entry])
    assert 'intel_iommu=off' in open(result['backup_files'][entry]).read()
    # the entry that already had iommu=pt but not intel_iommu=on changed too; nothing else was backed up
    assert all(os.path.exists(name) for name in result['backup_files'].values())


def test_a_regenerated_config_without_entries_is_refused(bad):
    result = bad['results']['no_kernels']
    assert result['failed'] and 'no Linux boot entry is left in /boot/grub/grub.cfg' in result['msg']
    assert bad['after']['no_kernels'] == bad['before']['no_kernels']


@pytest.mark.parametrize('params,named', [
    ({'args': ['iommu=pt$(reboot)']}, "args[0]: 'iommu=pt$(reboot)' is not allowed"),
    ({'args': ['iommu=pt', 'intel_iommu=on\ninit=/bin/sh']}, 'args[1]: '),
    ({'args': ['iommu=pt'], 'remove_args': ['quiet;id']}, "remove_args[0]: 'quiet;id' is not allowed"),
    ({'args': ['iommu=pt', 'rhgb'], 'remove_args': ['rhgb']}, 'kernel argument(s) rhgb are both wanted and removed'),
    ({'args': ['iommu=pt'], 'remove_args': ['iommu=pt']}, 'kernel argument(s) iommu=pt are both wanted and removed'),
])
def test_bad_arguments_are_refused_by_name_and_the_tree_is_unchanged(run_module, tmp_path, params, named):
    bt.build('centos5', str(tmp_path))
    before = bt.snapshot(tmp_path)
    result = run_module('iommu_grub', dict(params, root=str(tmp_path)))
    assert result['failed'] and named in result['msg'], result.get('msg')
    assert 'Traceback' not in result.get('module_stderr', '')
    assert bt.snapshot(tmp_path) == before


def test_amd_iommu_on_alone_warns_and_changes_nothing(run_module, tmp_path):
    bt.build('centos5', str(tmp_path))
    before = bt.snapshot(tmp_path)
    result = run_module('iommu_grub', {'root': str(tmp_path), 'args': ['amd_iommu=on']})
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False and result['args'] == [] and result['remove_args'] == []
    assert any('amd_iommu=on is not a value the kernel knows' in w for w in result.get('warnings', []))
    assert bt.snapshot(tmp_path) == before
