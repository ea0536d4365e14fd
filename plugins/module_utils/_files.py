# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files inside hosts and guests: atomic writes that keep owner and mode,
backups, unified diffs, and a transaction that puts every file back on failure.

Pure standard library, so it is usable from modules and from unit tests alike.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib
import errno
import os
import shutil
import stat
import tempfile
import time


def root_path(root, path):
    """Return ``path`` (absolute, as seen inside the tree) below ``root``.

    ``root_path('/mnt/guest', '/etc/fstab') == '/mnt/guest/etc/fstab'``.
    Refuses a path that would leave the root through ``..``.
    """
    root = os.path.abspath(root or '/')
    joined = os.path.normpath(os.path.join(root, path.lstrip('/')))
    if root != '/' and joined != root and not joined.startswith(root + os.sep):
        raise ValueError('path %r leaves the root %r' % (path, root))
    return joined


def is_host_root(root):
    """Return True when ``root`` is the running system's ``/`` (not a mounted tree)."""
    return os.path.realpath(root) == '/'


def chroot_argv(root, argv, find_chroot):
    """Return the command that runs ``argv`` inside the tree at ``root``.

    ``argv`` itself on the running system, else ``[chroot, root] + argv``;
    ``find_chroot()`` returns the path of ``chroot`` and is only called when
    it is needed.
    """
    if is_host_root(root):
        return list(argv)
    return [find_chroot(), root] + list(argv)


def read_text(path, default=None):
    """Return the text of ``path``, or ``default`` when it does not exist."""
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('utf-8', 'surrogateescape')
    except IOError as exc:
        if exc.errno == errno.ENOENT and default is not None:
            return default
        raise


def unified_diff(before, after, path):
    """Return a unified diff of two texts, labelled with ``path``."""
    return ''.join(difflib.unified_diff(
        (before or '').splitlines(True), (after or '').splitlines(True),
        fromfile='before: %s' % path, tofile='after: %s' % path))


def ansible_diff(before, after, path):
    """Return a diff dict in the shape Ansible's ``--diff`` expects."""
    return {'before': before or '', 'after': after or '',
            'before_header': path, 'after_header': path}


def backup_name(path, stamp=None):
    """Return the name of a backup of ``path``: ``path.<timestamp>~``."""
    stamp = stamp or time.strftime('%Y-%m-%d@%H:%M:%S')
    return '%s.%s~' % (path, stamp)


def _copy_attributes(src_stat, dest):
    os.chmod(dest, stat.S_IMODE(src_stat.st_mode))
    try:
        os.chown(dest, src_stat.st_uid, src_stat.st_gid)
    except OSError as exc:
        if exc.errno != errno.EPERM:
            raise


def _copy_selinux_context(src, dest):
    try:
        context = os.getxattr(src, 'security.selinux')
    except (OSError, AttributeError):
        return
    try:
        os.setxattr(dest, 'security.selinux', context)
    except OSError:
        pass


def write_atomic(path, text, mode=None):
    """Write ``text`` to ``path`` atomically.

    A temporary file in the same directory is written, flushed to disk and
    renamed over ``path``. An existing file keeps its owner, group, mode and
    SELinux label; a new file gets ``mode`` (default 0644).
    """
    directory = os.path.dirname(path) or '.'
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(text.encode('utf-8', 'surrogateescape'))
            handle.flush()
            os.fsync(handle.fileno())
        if os.path.exists(path):
            _copy_attributes(os.stat(path), tmp)
            _copy_selinux_context(path, tmp)
        else:
            os.chmod(tmp, 0o644 if mode is None else mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_writable(path):
    """Raise ``OSError`` naming ``path`` when it (or its directory) cannot be written."""
    target = path if os.path.exists(path) else (os.path.dirname(path) or '.')
    if not os.access(target, os.W_OK):
        raise OSError(errno.EACCES, 'not writable', target)
    if os.path.exists(path) and os.stat(path).st_mode & 0o222 == 0 and os.geteuid() == 0:
        # root may write anywhere; a file with no write bit at all is a
        # deliberate "do not touch" that we respect.
        raise OSError(errno.EACCES, 'file has no write permission bit', path)


class FileTransaction:
    """Collects file writes and commits them all, or none.

    ``stage(path, text)`` records the wanted content; ``commit()`` writes every
    staged file atomically (optionally leaving backups) and returns the list of
    changed paths. ``rollback()`` puts every file that was written back as it
    was, including removing files that did not exist. Use it around any
    further step (such as running an initrd or boot-loader tool) whose failure
    must leave the tree untouched::

        txn = FileTransaction()
        txn.stage('/etc/fstab', new_text)
        try:
            txn.commit()
            run_tool()
        except Exception:
            txn.rollback()
            raise
    """

    def __init__(self, backup=False):
        self.backup = backup
        self._staged = []          # [(path, text, mode)]
        self._saved = []           # [(path, original bytes or None, stat or None)]
        self.backups = {}          # path -> backup file

    def stage(self, path, text, mode=None):
        """Record that ``path`` must contain ``text``; writes no file yet.

        A missing parent directory is created (0755) now; it stays on
        rollback, the file written into it does not.
        """
        parent = os.path.dirname(path)
        if parent and not os.path.isdir(parent):
            os.makedirs(parent, 0o755)
        self._staged.append((path, text, mode))

    def staged_paths(self):
        return [path for path, _text, _mode in self._staged]

    def protect(self, path):
        """Save ``path`` (a file some tool will rewrite) so rollback restores it."""
        self._save(path)

    def _save(self, path):
        if any(saved[0] == path for saved in self._saved):
            return
        if os.path.lexists(path):
            with open(path, 'rb') as handle:
                self._saved.append((path, handle.read(), os.stat(path)))
        else:
            self._saved.append((path, None, None))

    def commit(self):
        """Write every staged file; on any error restore all and re-raise."""
        changed = []
        for path, _text, _mode in self._staged:
            check_writable(path)
        try:
            for path, text, mode in self._staged:
                if os.path.exists(path) and read_text(path) == text:
                    continue
                self._save(path)
                if self.backup and os.path.exists(path):
                    self.backups[path] = backup_name(path)
                    shutil.copy2(path, self.backups[path])
                write_atomic(path, text, mode)
                changed.append(path)
        except BaseException:
            self.rollback()
            raise
        return changed

    def rollback(self):
        """Put every saved file back as it was before this transaction."""
        for path, data, st in reversed(self._saved):
            if data is None:
                if os.path.lexists(path):
                    os.unlink(path)
                continue
            write_atomic(path, data.decode('utf-8', 'surrogateescape'))
            _copy_attributes(st, path)
        self._saved = []


def tree_transaction(root, files, rewritten, backup=False):
    """Return a ``FileTransaction`` for files inside the tree at ``root``.

    ``files`` is a list of ``(path, text, mode)`` to write and ``rewritten``
    the paths a tool will rewrite (saved so that rollback restores them),
    all as seen inside the tree.
    """
    txn = FileTransaction(backup=backup)
    for path, text, mode in files:
        txn.stage(root_path(root, path), text, mode)
    for path in rewritten:
        txn.protect(root_path(root, path))
    return txn
