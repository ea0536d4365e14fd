"""L0: carrying out a PV migration plan on a fixture tree with stand-ins for the initrd tool."""

import collections
import gzip
import os
import signal
import sys
import threading
import time

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._common import _files
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_apply
from ansible_collections.virtops.devices.plugins.module_utils._common import _tools

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'fixtures', 'guests'))
import trees  # noqa: E402

Plan = collections.namedtuple('Plan', 'order files commands')

KVER = '2.6.18-128.el5'


def guest(tmp_path):
    (tmp_path / 'boot').mkdir()
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'boot' / ('initrd-%s.img' % KVER)).write_bytes(b'emulated')
    (tmp_path / 'etc' / 'fstab').write_text('/dev/hda1 / ext3 defaults 1 1\n')
    return str(tmp_path)


PV_INITRD = gzip.compress(trees.cpio_newc(['init', 'lib/modules/%s/extra/xen-vbd.ko' % KVER]))


def plan(keep=False):
    initrd = '/boot/initrd-%s.img' % KVER
    cmd = {'kernel': KVER, 'argv': ['/sbin/mkinitrd', '-f', initrd, KVER], 'output': initrd}
    if keep:
        cmd['keep'] = [initrd, initrd + '.pre-pv']
    return Plan(order=['/etc/fstab', '/etc/modprobe.d/pv.conf'],
                files={'/etc/fstab': ('/dev/hda1 / ext3 defaults 1 1\n', '/dev/xvda1 / ext3 defaults 1 1\n', None),
                       '/etc/modprobe.d/pv.conf': (None, 'alias eth0 xen-vnif\n', None)},
                commands=[cmd])


def test_initrd_rewrites_lists_outputs_and_kept_copies():
    assert _pv_apply.initrd_rewrites(plan(keep=True).commands) == [
        '/boot/initrd-%s.img' % KVER, '/boot/initrd-%s.img.pre-pv' % KVER]
    assert _pv_apply.initrd_rewrites(plan().commands) == ['/boot/initrd-%s.img' % KVER]


def test_apply_writes_keeps_the_initrd_and_runs_in_the_tree(tmp_path):
    root = guest(tmp_path)
    calls = []

    def run(argv):
        calls.append(argv)
        (tmp_path / 'boot' / ('initrd-%s.img' % KVER)).write_bytes(PV_INITRD)
        return 0, '', ''

    assert _pv_apply.apply_migration(root, plan(keep=True), False, run, lambda: '/usr/sbin/chroot') == {}
    assert calls == [['/usr/sbin/chroot', root] + plan().commands[0]['argv']]
    assert (tmp_path / 'etc' / 'fstab').read_text().startswith('/dev/xvda1')
    assert (tmp_path / 'etc' / 'modprobe.d' / 'pv.conf').exists()
    assert (tmp_path / 'boot' / ('initrd-%s.img.pre-pv' % KVER)).read_bytes() == b'emulated'


def test_a_failing_tool_puts_every_file_back(tmp_path):
    root = guest(tmp_path)

    def run(argv):
        (tmp_path / 'boot' / ('initrd-%s.img' % KVER)).write_bytes(b'half')
        return 1, 'some output', 'No module xen-vbd found for kernel %s\n' % KVER

    with pytest.raises(_pv_apply.MigrationApplyError) as err:
        _pv_apply.apply_migration(root, plan(keep=True), True, run, lambda: '/usr/sbin/chroot')
    assert str(err.value) == ('/sbin/mkinitrd -f /boot/initrd-%s.img %s failed (rc=1) for kernel %s: '
                              'No module xen-vbd found for kernel %s; every file was put back as it was'
                              % (KVER, KVER, KVER, KVER))
    assert (tmp_path / 'boot' / ('initrd-%s.img' % KVER)).read_bytes() == b'emulated'
    assert sorted(p.name for p in (tmp_path / 'boot').iterdir()) == ['initrd-%s.img' % KVER]
    assert (tmp_path / 'etc' / 'fstab').read_text() == '/dev/hda1 / ext3 defaults 1 1\n'
    assert not (tmp_path / 'etc' / 'modprobe.d' / 'pv.conf').exists()


def test_a_missing_initrd_to_keep_puts_every_file_back(tmp_path):
    root = guest(tmp_path)
    (tmp_path / 'boot' / ('initrd-%s.img' % KVER)).unlink()

    def run(argv):
        raise AssertionError('the tool must not run')

    with pytest.raises(_pv_apply.MigrationApplyError, match='^could not write the guest files: .*; every file '
                                                            'was put back as it was$'):
        _pv_apply.apply_migration(root, plan(keep=True), False, run, lambda: '/usr/sbin/chroot')
    assert (tmp_path / 'etc' / 'fstab').read_text() == '/dev/hda1 / ext3 defaults 1 1\n'


def full_plan():
    """A plan that also writes a boot entry pointing at the new initrd (written after verification)."""
    base = plan(keep=True)
    base.commands[0]['drivers'] = ['xen-vbd']
    order = base.order + ['/boot/grub/grub.conf']
    files = dict(base.files)
    files['/boot/grub/grub.conf'] = ('title old\n', 'title old\ntitle pv\n', None)
    return Plan(order=order, files=files, commands=base.commands)


def guest_with_grub(tmp_path):
    root = guest(tmp_path)
    (tmp_path / 'boot' / 'grub').mkdir()
    (tmp_path / 'boot' / 'grub' / 'grub.conf').write_text('title old\n')
    return root


def listing(tmp_path):
    return sorted(os.path.relpath(os.path.join(d, f), str(tmp_path))
                  for d, _dirs, files in os.walk(str(tmp_path)) for f in files)


def test_boot_entry_is_written_only_after_the_initrd_was_verified(tmp_path):
    root = guest_with_grub(tmp_path)
    seen = []

    def run(argv):
        seen.append(((tmp_path / 'etc/fstab').read_text(), (tmp_path / 'boot/grub/grub.conf').read_text()))
        (tmp_path / 'boot' / ('initrd-%s.img' % KVER)).write_bytes(PV_INITRD)
        return 0, '', ''

    _pv_apply.apply_migration(root, full_plan(), False, run, lambda: '/usr/sbin/chroot')
    assert seen == [('/dev/xvda1 / ext3 defaults 1 1\n', 'title old\n')]     # inputs first, entry not yet
    assert (tmp_path / 'boot/grub/grub.conf').read_text() == 'title old\ntitle pv\n'


@pytest.mark.parametrize('writes, message', [
    (None, 'the tool reported success but wrote no /boot/initrd-%s.img' % KVER),
    (b'', 'the tool left /boot/initrd-%s.img empty' % KVER),
    (gzip.compress(trees.cpio_newc(['init']), mtime=0), '/boot/initrd-%s.img lacks the drivers xen-vbd' % KVER),
], ids=['no-initrd', 'empty-initrd', 'initrd-without-the-driver'])
def test_a_tool_that_exits_0_without_a_good_initrd_puts_everything_back(tmp_path, writes, message):
    root = guest_with_grub(tmp_path)
    before = listing(tmp_path)

    def run(argv):
        target = tmp_path / 'boot' / ('initrd-%s.img' % KVER)
        if writes is None:
            target.unlink()
        else:
            target.write_bytes(writes)
        return 0, '', ''

    with pytest.raises(_pv_apply.MigrationApplyError) as err:
        _pv_apply.apply_migration(root, full_plan(), True, run, lambda: '/usr/sbin/chroot')
    assert str(err.value) == ('/sbin/mkinitrd -f /boot/initrd-%s.img %s for kernel %s: %s; every file was put '
                              'back as it was' % (KVER, KVER, KVER, message))
    assert listing(tmp_path) == before                       # no backups, no kept copy, no pv.conf
    assert (tmp_path / 'boot' / ('initrd-%s.img' % KVER)).read_bytes() == b'emulated'
    assert (tmp_path / 'boot/grub/grub.conf').read_text() == 'title old\n'
    assert (tmp_path / 'etc/fstab').read_text() == '/dev/hda1 / ext3 defaults 1 1\n'


def test_a_driver_built_into_the_kernel_needs_no_file(tmp_path):
    root = guest_with_grub(tmp_path)
    (tmp_path / 'lib/modules' / KVER).mkdir(parents=True)
    (tmp_path / 'lib/modules' / KVER / 'modules.builtin').write_text('kernel/drivers/xen/xen-vbd.ko\n')

    def run(argv):
        (tmp_path / 'boot' / ('initrd-%s.img' % KVER)).write_bytes(gzip.compress(trees.cpio_newc(['init'])))
        return 0, '', ''
    _pv_apply.apply_migration(root, full_plan(), False, run, lambda: '/usr/sbin/chroot')
    assert (tmp_path / 'boot/grub/grub.conf').read_text() == 'title old\ntitle pv\n'


def fake_chroot(tmp_path):
    """A 'chroot' that runs the tool on the host (the unit tests need no root)."""
    path = tmp_path.parent / ('fake-%s' % tmp_path.name) / 'chroot'
    path.parent.mkdir(exist_ok=True)
    path.write_text('#!/bin/sh\nshift\nexec "$@"\n')
    os.chmod(str(path), 0o755)
    return str(path)


def sleeping_plan(tmp_path, pidfile):
    base = full_plan()
    base.commands[0]['argv'] = ['/bin/sh', '-c', 'echo $$ > %s; exec sleep 60' % pidfile]
    return base


def test_a_hanging_tool_is_killed_after_tool_timeout_and_everything_put_back(tmp_path):
    root = guest_with_grub(tmp_path)
    before = listing(tmp_path)
    pidfile = tmp_path.parent / ('pid-%s' % tmp_path.name)
    with pytest.raises(_pv_apply.MigrationApplyError) as err:
        _pv_apply.apply_migration(root, sleeping_plan(tmp_path, pidfile), True, _tools.bounded_run(1),
                                  lambda: fake_chroot(tmp_path))
    assert str(err.value) == ('sh did not finish within 1 seconds (tool_timeout) and was killed; raise '
                              'tool_timeout if it needs longer; every file was put back as it was')
    assert listing(tmp_path) == before
    assert not os.path.exists('/proc/%s' % pidfile.read_text().strip()) or \
        open('/proc/%s/stat' % pidfile.read_text().strip()).read().split(') ')[1][0] == 'Z'


def test_sigterm_while_the_tool_runs_kills_it_and_puts_everything_back(tmp_path):
    root = guest_with_grub(tmp_path)
    before = listing(tmp_path)
    pidfile = tmp_path.parent / ('pid-%s' % tmp_path.name)
    handler_before = signal.getsignal(signal.SIGTERM)  # not SIG_DFL in a pytest-xdist worker

    def terminate_when_running():
        for _attempt in range(100):
            if pidfile.exists() and pidfile.read_text().strip():
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.05)
    thread = threading.Thread(target=terminate_when_running)
    thread.start()
    try:
        with pytest.raises(_pv_apply.MigrationApplyError) as err:
            _pv_apply.apply_migration(root, sleeping_plan(tmp_path, pidfile), True, _tools.bounded_run(30),
                                      lambda: fake_chroot(tmp_path))
    finally:
        thread.join()
    assert str(err.value) == ('interrupted: the module received SIGTERM; the tool was killed and every file '
                              'was put back as it was')
    assert listing(tmp_path) == before
    assert signal.getsignal(signal.SIGTERM) == handler_before


def test_a_second_run_on_a_locked_tree_fails_clearly(tmp_path):
    root = guest_with_grub(tmp_path)
    before = listing(tmp_path)
    with _files.tree_lock(root):
        with pytest.raises(_pv_apply.MigrationApplyError) as err:
            _pv_apply.apply_migration(root, full_plan(), False, None, None, lock_wait=0.5)
    assert str(err.value) == ('another virtops.devices run holds the lock on %s (waited 0 s); wait for it to '
                              'finish and run again; nothing was changed' % root)
    assert listing(tmp_path) == before


def test_a_file_changed_after_planning_is_not_overwritten(tmp_path):
    root = guest_with_grub(tmp_path)
    (tmp_path / 'etc/fstab').write_text('/dev/sda1 / ext4 defaults 1 1\n')
    with pytest.raises(_pv_apply.MigrationApplyError, match='^/etc/fstab changed while this run was planning'):
        _pv_apply.apply_migration(root, full_plan(), False, None, None)
    assert (tmp_path / 'etc/fstab').read_text() == '/dev/sda1 / ext4 defaults 1 1\n'
