"""L0: atomic writes, backups and the all-or-nothing file transaction."""

import os
import stat

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._common import _files


def test_root_path_joins_and_refuses_escape(tmp_path):
    assert _files.root_path(str(tmp_path), '/etc/fstab') == str(tmp_path / 'etc' / 'fstab')
    assert _files.root_path('/', '/etc/fstab') == '/etc/fstab'
    with pytest.raises(ValueError, match='leaves the root'):
        _files.root_path(str(tmp_path), '/../../etc/passwd')


def test_write_atomic_keeps_mode_and_leaves_no_temp(tmp_path):
    target = tmp_path / 'fstab'
    target.write_text('old\n')
    os.chmod(target, 0o600)
    _files.write_atomic(str(target), 'new\n')
    assert target.read_text() == 'new\n'
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ['fstab']


def test_transaction_commits_only_changed_files_with_backup(tmp_path):
    same, other = tmp_path / 'same', tmp_path / 'other'
    same.write_text('a\n')
    other.write_text('b\n')
    txn = _files.FileTransaction(backup=True)
    txn.stage(str(same), 'a\n')
    txn.stage(str(other), 'c\n')
    assert txn.commit() == [str(other)]
    assert other.read_text() == 'c\n'
    assert open(txn.backups[str(other)]).read() == 'b\n'
    assert str(same) not in txn.backups


def test_transaction_rollback_restores_and_removes_new_files(tmp_path):
    old, new = tmp_path / 'old', tmp_path / 'new'
    old.write_text('before\n')
    os.chmod(old, 0o640)
    txn = _files.FileTransaction()
    txn.stage(str(old), 'after\n')
    txn.stage(str(new), 'created\n')
    txn.commit()
    assert old.read_text() == 'after\n' and new.exists()
    txn.rollback()
    assert old.read_text() == 'before\n'
    assert stat.S_IMODE(os.stat(old).st_mode) == 0o640
    assert not new.exists()


def test_transaction_refuses_before_writing_anything(tmp_path):
    first, locked = tmp_path / 'first', tmp_path / 'locked'
    first.write_text('1\n')
    locked.write_text('2\n')
    os.chmod(locked, 0o444)
    txn = _files.FileTransaction()
    txn.stage(str(first), 'changed\n')
    txn.stage(str(locked), 'changed\n')
    with pytest.raises(OSError):
        txn.commit()
    assert first.read_text() == '1\n'
    assert locked.read_text() == '2\n'


def test_unified_diff_names_the_file():
    text = _files.unified_diff('a\nb\n', 'a\nc\n', '/etc/fstab')
    assert '-b' in text and '+c' in text and '/etc/fstab' in text
