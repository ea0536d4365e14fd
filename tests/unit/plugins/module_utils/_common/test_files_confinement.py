"""L0: tree confinement (symlinks followed inside the tree), CRLF kept, backups dropped on
rollback, the tree lock."""

import fcntl
import os

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._common import _files


def make(tmp_path, path, text='x'):
    host = tmp_path / path.lstrip('/')
    host.parent.mkdir(parents=True, exist_ok=True)
    host.write_text(text)
    return host


def test_absolute_link_is_rerooted_inside_the_tree(tmp_path):
    outside = tmp_path / 'outside'
    make(outside, '/etc/grub.conf', 'HOST FILE\n')
    root = tmp_path / 'root'
    make(root, '/etc/grub.conf', 'guest file\n')
    (root / 'boot').mkdir()
    (root / 'boot' / 'menu.lst').symlink_to('/etc/grub.conf')
    host = _files.root_path(str(root), '/boot/menu.lst')
    assert host == str(root / 'etc' / 'grub.conf')
    assert _files.read_text(host) == 'guest file\n'


def test_relative_and_dotdot_links_never_climb_above_the_root(tmp_path):
    root = tmp_path / 'root'
    make(root, '/etc/fstab')
    (root / 'etc' / 'up').symlink_to('../../../../../etc/fstab')
    assert _files.root_path(str(root), '/etc/up') == str(root / 'etc' / 'fstab')
    (root / 'lib').symlink_to('usr/lib')
    make(root, '/usr/lib/modules/k/modules.builtin')
    assert _files.root_path(str(root), '/lib/modules/k/modules.builtin') == \
        str(root / 'usr/lib/modules/k/modules.builtin')


def test_directory_links_in_the_middle_and_missing_tails(tmp_path):
    root = tmp_path / 'root'
    (root / 'real').mkdir(parents=True)
    (root / 'etc').symlink_to('/real')
    assert _files.root_path(str(root), '/etc/xen/auto/guest') == str(root / 'real/xen/auto/guest')


def test_link_loop_is_refused_with_a_clear_error(tmp_path):
    root = tmp_path / 'root'
    root.mkdir()
    (root / 'a').symlink_to('/b')
    (root / 'b').symlink_to('/a')
    with pytest.raises(_files.TreePathError, match='too many levels of symbolic links resolving /a'):
        _files.root_path(str(root), '/a')


def test_written_dotdot_leaving_the_root_is_refused(tmp_path):
    with pytest.raises(ValueError, match='leaves the root'):
        _files.root_path(str(tmp_path), '/etc/../../x')


def test_follow_false_keeps_the_last_link(tmp_path):
    root = tmp_path / 'root'
    (root / 'sys/class/net').mkdir(parents=True)
    (root / 'sys/class/net/eth0').symlink_to('../../devices/eth0')
    assert _files.root_path(str(root), '/sys/class/net/eth0', follow=False) == str(root / 'sys/class/net/eth0')
    assert _files.root_path(str(root), '/sys/class/net/eth0') == str(root / 'sys/devices/eth0')


def test_inside_root(tmp_path):
    assert _files.inside_root(str(tmp_path), str(tmp_path / 'etc/fstab')) == '/etc/fstab'
    assert _files.inside_root(str(tmp_path), str(tmp_path)) == '/'
    assert _files.inside_root('/', '/etc/fstab') == '/etc/fstab'


def test_editing_through_an_absolute_link_edits_the_target_and_keeps_the_link(tmp_path):
    outside = make(tmp_path, '/host/etc/xen/guest.cfg', 'HOST\n')
    root = tmp_path / 'root'
    make(root, '/etc/xen/guest.cfg', 'name = "g"\n')
    (root / 'etc/xen/auto').mkdir()
    (root / 'etc/xen/auto/guest').symlink_to('/etc/xen/guest.cfg')
    txn = _files.tree_transaction(str(root), [('/etc/xen/auto/guest', 'name = "new"\n', None)], [])
    txn.commit()
    assert os.readlink(str(root / 'etc/xen/auto/guest')) == '/etc/xen/guest.cfg'
    assert (root / 'etc/xen/guest.cfg').read_text() == 'name = "new"\n'
    assert outside.read_text() == 'HOST\n'


def test_crlf_file_stays_crlf(tmp_path):
    target = make(tmp_path, '/etc/fstab', '')
    target.write_bytes(b'a b c\r\nd e f\r\n')
    assert _files.line_ending(target.read_bytes().decode()) == '\r\n'
    after = _files.keep_line_ending('a b c\r\nd e f\r\n', 'a b c\r\nd e f\r\nnew line\n')
    assert after == 'a b c\r\nd e f\r\nnew line\r\n'
    txn = _files.FileTransaction()
    txn.stage(str(target), 'a b c\nd e f\nnew\n')
    txn.commit()
    assert target.read_bytes() == b'a b c\r\nd e f\r\nnew\r\n'
    assert _files.keep_line_ending('lf\n', 'x\r\ny\n') == 'x\r\ny\n'      # LF files as the planner wrote them
    assert _files.keep_line_ending(None, 'x\n') == 'x\n'


def test_rollback_removes_the_backups_it_made(tmp_path):
    target = make(tmp_path, '/etc/fstab', 'old\n')
    txn = _files.FileTransaction(backup=True)
    txn.stage(str(target), 'new\n')
    txn.commit()
    backups = list(txn.backups.values())
    assert len(backups) == 1 and os.path.exists(backups[0])
    txn.rollback()
    assert target.read_text() == 'old\n'
    assert sorted(p.name for p in target.parent.iterdir()) == ['fstab']


def test_commit_in_two_steps(tmp_path):
    first = make(tmp_path, '/etc/fstab', 'old\n')
    second = make(tmp_path, '/boot/grub.conf', 'old\n')
    txn = _files.FileTransaction()
    txn.stage(str(first), 'new\n')
    txn.stage(str(second), 'new\n')
    assert txn.commit([str(first)]) == [str(first)]
    assert second.read_text() == 'old\n'
    assert txn.commit() == [str(second)]
    txn.rollback()
    assert first.read_text() == 'old\n' and second.read_text() == 'old\n'


def test_tree_lock_excludes_a_second_holder_and_creates_no_file(tmp_path):
    before = sorted(os.listdir(str(tmp_path)))
    with _files.tree_lock(str(tmp_path), wait=1):
        fd = os.open(str(tmp_path), os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        with pytest.raises(_files.TreeLocked, match='another virtops.devices run holds the lock on %s'
                           % str(tmp_path)):
            with _files.tree_lock(str(tmp_path), wait=0.3):
                pass
    with _files.tree_lock(str(tmp_path), wait=0):
        pass
    assert sorted(os.listdir(str(tmp_path))) == before


def test_files_changed_since(tmp_path):
    make(tmp_path, '/etc/fstab', 'now\n')
    assert _files.files_changed_since(str(tmp_path), {'/etc/fstab': 'now\n', '/etc/new': None}) == []
    assert _files.files_changed_since(str(tmp_path), {'/etc/fstab': 'then\n'}) == ['/etc/fstab']
