"""L0: carrying out a PV migration plan on a fixture tree with stand-ins for the initrd tool."""

import collections

import pytest

from ansible_collections.virtops.devices.plugins.module_utils import _pv_apply

Plan = collections.namedtuple('Plan', 'order files commands')

KVER = '2.6.18-128.el5'


def guest(tmp_path):
    (tmp_path / 'boot').mkdir()
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'boot' / ('initrd-%s.img' % KVER)).write_bytes(b'emulated')
    (tmp_path / 'etc' / 'fstab').write_text('/dev/hda1 / ext3 defaults 1 1\n')
    return str(tmp_path)


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
        (tmp_path / 'boot' / ('initrd-%s.img' % KVER)).write_bytes(b'pv')
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
