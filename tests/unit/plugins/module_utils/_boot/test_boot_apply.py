"""L0: carrying out a boot plan - the pure decisions, and the apply sequence on fixture trees
with a stand-in for the boot tool (no chroot, no root)."""

import os

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._boot import _boot_apply as ba

WANT = ['intel_iommu=on', 'iommu=pt']


def entry(file, kernel, args, title='t', changed=False):
    return {'file': file, 'title': title, 'kernel': kernel, 'args_before': args,
            'args_after': args, 'changed': changed}


def test_entries_after_pairs_by_file_and_kernel_in_order():
    before = [entry('/a', '/vmlinuz-1', 'ro'), entry('/a', '/vmlinuz-1', 'ro single'),
              entry('/b', '/vmlinuz-2', 'ro')]
    after = [entry('/a', '/vmlinuz-1', 'ro iommu=pt'), entry('/a', '/vmlinuz-1', 'ro single'),
             entry('/c', '/vmlinuz-3', 'ro')]
    paired = ba.entries_after(before, after)
    assert [(e['args_before'], e['args_after'], e['changed']) for e in paired] == [
        ('ro', 'ro iommu=pt', True), ('ro single', 'ro single', False), (None, 'ro', True)]
    assert [e['file'] for e in paired] == ['/a', '/a', '/c']


def test_reboot_required_live_compares_cmdline_else_follows_changed():
    assert ba.reboot_required('ro quiet', False, WANT, []) is True
    assert ba.reboot_required('ro intel_iommu=on iommu=pt', True, WANT, []) is False
    assert ba.reboot_required('ro intel_iommu=on iommu=pt intel_iommu=off', False, WANT,
                              ['intel_iommu=off']) is True
    assert ba.reboot_required(None, True, WANT, []) is True
    assert ba.reboot_required(None, False, WANT, []) is False


def test_plan_result_and_diffs_describe_the_plan():
    setup = {'name': 'debian', 'family': 'debian', 'firmware': 'auto', 'config': '/boot/grub/grub.cfg'}
    plan = {'files': {'/z': ('a\n', 'b\n'), '/y': (None, 'c\n')}, 'entries': [], 'tool': None,
            'protect': []}
    result = ba.plan_result(setup, plan, WANT, ['intel_iommu=off'])
    assert result == dict(changed=False, setup='debian', family='debian', firmware='auto',
                          config='/boot/grub/grub.cfg', tool=[], args=WANT,
                          remove_args=['intel_iommu=off'], entries=[], files_changed=['/y', '/z'])
    assert [d['before_header'] for d in ba.plan_diffs(plan)] == ['/y', '/z']
    assert ba.plan_diffs(plan)[0] == {'before': '', 'after': 'c\n', 'before_header': '/y',
                                      'after_header': '/y'}
    assert ba.plan_changes_something(plan)
    assert ba.plan_changes_something(dict(plan, files={}, tool=['/usr/sbin/update-grub']))
    assert not ba.plan_changes_something(dict(plan, files={}))


def test_after_run_problem_errors_warnings_and_ok():
    setup = {'name': 'bls', 'config': '/boot/loader/entries'}
    plan = {'tool': ['/usr/sbin/grubby', '--update-kernel=ALL'], 'entries': [entry('/e', '/k', 'ro')]}
    assert ba.after_run_problem(setup, plan, {'entries': []}) == (
        'after /usr/sbin/grubby --update-kernel=ALL no Linux boot entry is left in '
        '/boot/loader/entries; every file was put back', None)
    lacking = {'entries': [entry('/e', '/k', 'ro', title='Linux', changed=True)]}
    assert ba.after_run_problem(setup, plan, lacking) == (
        'after /usr/sbin/grubby --update-kernel=ALL these boot entries still lack the arguments: '
        'Linux; every file was put back', None)
    legacy = ({'name': 'legacy', 'config': '/boot/grub/grub.conf'}, dict(plan, tool=None))
    assert ba.after_run_problem(legacy[0], legacy[1], lacking)[0].startswith('after editing these')
    error, warning = ba.after_run_problem({'name': 'debian', 'config': '/boot/grub/grub.cfg'}, plan, lacking)
    assert error is None and warning.startswith('boot entries not generated from GRUB_CMDLINE_LINUX')
    assert 'lack the arguments: Linux; add them there' in warning
    assert ba.after_run_problem(setup, plan, {'entries': [entry('/e', '/k', 'ro iommu=pt')]}) == (None, None)


LEGACY_CONF = ('default=0\ntimeout=5\ntitle CentOS (2.6.18-128.el5)\n\troot (hd0,0)\n'
               '\tkernel /vmlinuz-2.6.18-128.el5 ro root=/dev/VolGroup00/LogVol00\n'
               '\tinitrd /initrd-2.6.18-128.el5.img\n')


def tree(tmp_path, files):
    for path, text in files.items():
        host = tmp_path / path.lstrip('/')
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_text(text)
    return str(tmp_path)


def no_tool(*_args, **_kwargs):
    raise AssertionError('no tool may run')


def test_apply_legacy_edits_the_entry_and_keeps_a_backup(tmp_path):
    root = tree(tmp_path, {'/etc/redhat-release': 'CentOS release 5.3 (Final)\n',
                           '/boot/grub/grub.conf': LEGACY_CONF})
    setup, plan = ba.read_boot_plan(root, 'auto', WANT, [], None)
    assert setup['name'] == 'legacy' and plan['tool'] is None
    result, warnings = ba.apply_boot_plan(root, setup, plan, WANT, [], True, no_tool, no_tool,
                                          ba.plan_result(setup, plan, WANT, []), ba.plan_diffs(plan))
    assert warnings == [] and result['changed'] is True
    assert result['files_changed'] == ['/boot/grub/grub.conf']
    assert 'intel_iommu=on iommu=pt' in (tmp_path / 'boot/grub/grub.conf').read_text()
    assert [(e['changed'], e['args_after']) for e in result['entries']] == [
        (True, 'ro root=/dev/VolGroup00/LogVol00 intel_iommu=on iommu=pt')]
    backup = result['backup_files']['/boot/grub/grub.conf']
    assert open(backup).read() == LEGACY_CONF and backup.startswith(root)


DEBIAN = {'/etc/os-release': 'ID=debian\n', '/etc/default/grub': 'GRUB_CMDLINE_LINUX=""\n',
          '/boot/grub/grub.cfg': "menuentry 'Debian' {\n\tlinux /vmlinuz root=/dev/vda1 ro\n}\n",
          '/usr/sbin/update-grub': '#!/bin/sh\n'}


def debian_tree(tmp_path):
    root = tree(tmp_path, DEBIAN)
    os.chmod(str(tmp_path / 'usr/sbin/update-grub'), 0o755)
    return root


def test_apply_runs_the_tool_in_the_tree_and_rolls_back_when_it_fails(tmp_path):
    root = debian_tree(tmp_path)
    setup, plan = ba.read_boot_plan(root, 'auto', WANT, [], None)
    calls = []

    def failing(argv, environ_update=None):
        calls.append((argv, environ_update))
        (tmp_path / 'boot/grub/grub.cfg').write_text('half written\n')
        return 1, 'out\n', 'broken\n'

    result = ba.plan_result(setup, plan, WANT, [])
    with pytest.raises(ba.BootApplyError) as err:
        ba.apply_boot_plan(root, setup, plan, WANT, [], True, failing, lambda: '/usr/sbin/chroot',
                           result, ba.plan_diffs(plan))
    assert calls == [(['/usr/sbin/chroot', root, '/usr/sbin/update-grub'], {'LC_ALL': 'C'})]
    assert err.value.msg == ('/usr/sbin/update-grub failed with exit status 1; every file was put back '
                             'as it was. Its output: out\nbroken')
    assert err.value.result == dict(result, tool_output='out\nbroken')
    assert (tmp_path / 'boot/grub/grub.cfg').read_text() == DEBIAN['/boot/grub/grub.cfg']
    assert not (tmp_path / 'etc/default/grub.d').exists() or \
        os.listdir(str(tmp_path / 'etc/default/grub.d')) == []
    assert sorted(p.name for p in (tmp_path / 'boot/grub').iterdir()) == ['grub.cfg']


def test_apply_refuses_an_unwritable_file_before_any_change(tmp_path):
    root = tree(tmp_path, {'/etc/redhat-release': 'CentOS release 5.3 (Final)\n',
                           '/boot/grub/grub.conf': LEGACY_CONF})
    os.chmod(str(tmp_path / 'boot/grub/grub.conf'), 0o444)
    setup, plan = ba.read_boot_plan(root, 'auto', WANT, [], None)
    try:
        with pytest.raises(ba.BootApplyError, match=r'cannot write /boot/grub/grub.conf \(.*\); '
                                                    r'make it writable, nothing was changed'):
            ba.apply_boot_plan(root, setup, plan, WANT, [], False, no_tool, no_tool, {}, [])
    finally:
        os.chmod(str(tmp_path / 'boot/grub/grub.conf'), 0o644)
    assert (tmp_path / 'boot/grub/grub.conf').read_text() == LEGACY_CONF


def test_after_run_problem_every_kernel_needs_a_regenerated_entry_with_the_args():
    setup = {'name': 'debian', 'config': '/boot/grub/grub.cfg'}
    plan = {'tool': ['/usr/sbin/update-grub'], 'entries': []}
    good = entry('/boot/grub/grub.cfg', '/boot/vmlinuz-6.1.0-27-amd64', 'ro iommu=pt')
    stale = entry('/boot/grub/grub.cfg', '/boot/vmlinuz-6.1.0-25-amd64', 'ro', changed=True)
    assert ba.kernels_lacking_args(['vmlinuz-6.1.0-27-amd64', 'vmlinuz-6.1.0-25-amd64', 'vmlinuz-x'],
                                   [good, stale]) == (['vmlinuz-x'], ['vmlinuz-6.1.0-25-amd64'])
    assert ba.after_run_problem(setup, plan, {'entries': []}, ['vmlinuz-6.1.0-27-amd64']) == (
        'after /usr/sbin/update-grub /boot/grub/grub.cfg has no boot entry for /boot/vmlinuz-6.1.0-27-amd64; '
        'every file was put back', None)
    assert ba.after_run_problem(setup, plan, {'entries': [good, stale]},
                                ['vmlinuz-6.1.0-27-amd64', 'vmlinuz-6.1.0-25-amd64']) == (
        'after /usr/sbin/update-grub no entry of /boot/vmlinuz-6.1.0-25-amd64 in /boot/grub/grub.cfg has the '
        'arguments; every file was put back', None)
    recovery = dict(stale, kernel='/boot/vmlinuz-6.1.0-25-amd64', changed=False)
    error, warning = ba.after_run_problem(setup, plan, {'entries': [good, stale, recovery]},
                                          ['vmlinuz-6.1.0-27-amd64', 'vmlinuz-6.1.0-25-amd64'])
    assert error is None and warning.startswith('boot entries not generated from GRUB_CMDLINE_LINUX')


def test_installed_kernel_images_skips_package_leftovers(tmp_path):
    root = tree(tmp_path, {'/boot/vmlinuz-6.1.0-27-amd64': '', '/boot/vmlinuz-6.1.0-25-amd64.dpkg-old': '',
                           '/boot/vmlinuz-0-rescue-abc': '', '/boot/config-6.1.0-27-amd64': ''})
    assert ba.installed_kernel_images(root) == ['vmlinuz-0-rescue-abc', 'vmlinuz-6.1.0-27-amd64']


def test_a_boot_tool_that_exits_0_but_generates_nothing_fails_and_puts_back(tmp_path):
    root = debian_tree(tmp_path)
    (tmp_path / 'boot/vmlinuz-6.1.0-27-amd64').write_text('')
    setup, plan = ba.read_boot_plan(root, 'auto', WANT, [], None)

    def does_nothing(argv, environ_update=None):
        return 0, '', ''
    with pytest.raises(ba.BootApplyError) as err:
        ba.apply_boot_plan(root, setup, plan, WANT, [], True, does_nothing, lambda: '/usr/sbin/chroot',
                           ba.plan_result(setup, plan, WANT, []), ba.plan_diffs(plan))
    assert err.value.msg == ('after /usr/sbin/update-grub /boot/grub/grub.cfg has no boot entry for '
                             '/boot/vmlinuz-6.1.0-27-amd64; every file was put back')
    assert (tmp_path / 'etc/default/grub').read_text() == DEBIAN['/etc/default/grub']
    assert sorted(p.name for p in (tmp_path / 'boot/grub').iterdir()) == ['grub.cfg']
    assert not (tmp_path / 'etc/default/grub.d').exists() or os.listdir(str(tmp_path / 'etc/default/grub.d')) == []
    assert sorted(p.name for p in (tmp_path / 'etc/default').iterdir()) in (['grub'], ['grub', 'grub.d'])


def test_a_boot_tool_timeout_puts_back(tmp_path):
    from ansible_collections.virtops.devices.plugins.module_utils._common import _tools
    root = debian_tree(tmp_path)
    setup, plan = ba.read_boot_plan(root, 'auto', WANT, [], None)

    def hangs(argv, environ_update=None):
        (tmp_path / 'boot/grub/grub.cfg.new').write_text('partial')
        return _tools.run_tool(['/bin/sleep', '30'], 1, watch_parent=False)
    with pytest.raises(ba.BootApplyError) as err:
        ba.apply_boot_plan(root, setup, plan, WANT, [], True, hangs, lambda: '/usr/sbin/chroot',
                           ba.plan_result(setup, plan, WANT, []), ba.plan_diffs(plan))
    assert err.value.msg == ('sleep did not finish within 1 seconds (tool_timeout) and was killed; raise '
                             'tool_timeout if it needs longer; every file was put back as it was')
    assert sorted(p.name for p in (tmp_path / 'boot/grub').iterdir()) == ['grub.cfg']
    assert (tmp_path / 'etc/default/grub').read_text() == DEBIAN['/etc/default/grub']


def test_a_locked_tree_is_refused_before_any_change(tmp_path):
    from ansible_collections.virtops.devices.plugins.module_utils._common import _files
    root = debian_tree(tmp_path)
    setup, plan = ba.read_boot_plan(root, 'auto', WANT, [], None)
    with _files.tree_lock(root):
        with pytest.raises(ba.BootApplyError, match='^another virtops.devices run holds the lock on %s' % root):
            ba.apply_boot_plan(root, setup, plan, WANT, [], True, no_tool, no_tool, {}, [], lock_wait=0.3)
    assert (tmp_path / 'etc/default/grub').read_text() == DEBIAN['/etc/default/grub']
