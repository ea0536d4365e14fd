"""L0: running tools inside a tree (chroot) and transactions over files inside a tree."""

import os

from ansible_collections.virtops.devices.plugins.module_utils._common import _files


def no_chroot():
    raise AssertionError('chroot is not needed on /')


def test_chroot_argv_only_for_a_tree(tmp_path):
    assert _files.chroot_argv('/', ('/usr/sbin/update-grub',), no_chroot) == ['/usr/sbin/update-grub']
    assert _files.chroot_argv(str(tmp_path), ['/sbin/dracut', '-f'], lambda: '/usr/sbin/chroot') == \
        ['/usr/sbin/chroot', str(tmp_path), '/sbin/dracut', '-f']
    link = tmp_path / 'slash'
    link.symlink_to('/')
    assert _files.is_host_root(str(link)) and not _files.is_host_root(str(tmp_path))


def test_commit_creates_the_directories_and_rollback_removes_them(tmp_path):
    target = tmp_path / 'etc' / 'default' / 'grub.d' / '99-virtops-iommu.cfg'
    txn = _files.FileTransaction()
    txn.stage(str(target), 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX iommu=pt"\n')
    assert not target.parent.exists()                      # nothing is created before commit
    assert txn.commit() == [str(target)]
    assert stat_mode(target.parent) & 0o022 == 0
    txn.rollback()
    assert not target.exists() and not target.parent.exists()          # the directories it made go too
    assert (tmp_path / 'etc').is_dir() is False


def stat_mode(path):
    return os.stat(str(path)).st_mode


def test_tree_transaction_stages_inside_the_root_and_protects_rewritten(tmp_path):
    (tmp_path / 'boot').mkdir()
    initrd = tmp_path / 'boot' / 'initrd.img'
    initrd.write_bytes(b'old initrd')
    txn = _files.tree_transaction(str(tmp_path), [('/etc/modprobe.d/pv.conf', 'alias eth0 xen-vnif\n', 0o600)],
                                  ['/boot/initrd.img', '/boot/initrd.img.pre-pv'], backup=True)
    assert txn.staged_paths() == [str(tmp_path / 'etc' / 'modprobe.d' / 'pv.conf')]
    txn.commit()
    assert stat_mode(tmp_path / 'etc' / 'modprobe.d' / 'pv.conf') & 0o777 == 0o600
    initrd.write_bytes(b'new initrd')
    (tmp_path / 'boot' / 'initrd.img.pre-pv').write_bytes(b'old initrd')
    txn.rollback()
    assert initrd.read_bytes() == b'old initrd'
    assert sorted(os.listdir(str(tmp_path / 'boot'))) == ['initrd.img']
    assert sorted(os.listdir(str(tmp_path))) == ['boot']          # etc/modprobe.d, made by commit, gone too
