# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files inside hosts and guests: atomic writes that keep owner and mode,
backups, unified diffs, and a transaction that puts every file back on failure.

Pure standard library, so it is usable from modules and from unit tests alike.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import difflib
import errno
import fcntl
import os
import shutil
import stat
import tempfile
import time


MAX_LINKS = 40


class TreePathError(ValueError):
    """A path cannot be resolved inside the tree (it leaves it, or its links loop)."""


def _split(path):
    return [part for part in path.split('/') if part and part != '.']


def resolve_in_root(root, path, follow_last=True, max_links=MAX_LINKS):
    """Return the host path of ``path`` as the system in the tree at ``root`` sees it.

    Every symbolic link met on the way is followed as inside the tree (after
    a chroot): an absolute link target starts again at ``root``, a relative
    one at the link's directory, and ``..`` never climbs above ``root``. The
    host's own files are never looked at. With ``follow_last=False`` a link in
    the last component is kept (``lstat`` view: for ``readlink``/``islink``).
    A missing component ends the walk; the rest is appended as it is.
    Raises ``TreePathError`` after ``max_links`` links (a loop).
    """
    root = os.path.abspath(root or '/')
    parts = _split(path)
    resolved = []             # components below root, all existing and no link
    links = 0
    missing = False
    while parts:
        part = parts.pop(0)
        if part == '..':
            if resolved:
                resolved.pop()
            continue
        candidate = resolved + [part]
        if missing or (not parts and not follow_last):
            resolved = candidate
            continue
        host = os.path.join(root, *candidate)
        try:
            mode = os.lstat(host).st_mode
        except OSError:
            missing = True
            resolved = candidate
            continue
        if not stat.S_ISLNK(mode):
            resolved = candidate
            continue
        links += 1
        if links > max_links:
            raise TreePathError('too many levels of symbolic links resolving %s inside %s (a link loop?)'
                                % (path, root))
        target = os.readlink(host)
        if target.startswith('/'):
            resolved = []
        parts = _split(target) + parts
    return os.path.join(root, *resolved) if resolved else root


def root_path(root, path, follow=True):
    """Return ``path`` (absolute, as seen inside the tree) below ``root``, confined to it.

    ``root_path('/mnt/guest', '/etc/fstab') == '/mnt/guest/etc/fstab'``.
    Symbolic links are followed inside the tree (``resolve_in_root``): a file
    reached through a link is the link's target, never a file outside
    ``root``; with ``follow=False`` a link in the last component is not
    followed. Refuses (``TreePathError``, a ``ValueError``) a path that would
    leave the root through ``..`` as written.
    """
    root = os.path.abspath(root or '/')
    joined = os.path.normpath(os.path.join(root, path.lstrip('/')))
    if root != '/' and joined != root and not joined.startswith(root + os.sep):
        raise TreePathError('path %r leaves the root %r' % (path, root))
    return resolve_in_root(root, path, follow_last=follow)


def inside_root(root, host_path):
    """Return ``host_path`` (below ``root``) as a path inside the tree: ``/etc/fstab``."""
    root = os.path.abspath(root or '/')
    if root == '/':
        return host_path
    rel = os.path.relpath(host_path, root)
    return '/' if rel == '.' else '/' + rel


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


def line_ending(text):
    """Return the dominant line ending of ``text``: ``'\\r\\n'`` or ``'\\n'`` (the default)."""
    if not isinstance(text, str):
        return '\n'
    crlf = text.count('\r\n')
    return '\r\n' if crlf and crlf * 2 > text.count('\n') else '\n'


def keep_line_ending(before, after):
    """Return ``after`` with every line ending as the dominant one of ``before``.

    A CRLF file edited by a planner that writes ``\\n`` comes back all CRLF
    (never mixed); an LF file is returned as the planner wrote it.
    """
    if not isinstance(before, str) or not isinstance(after, str) or line_ending(before) != '\r\n':
        return after
    return after.replace('\r\n', '\n').replace('\n', '\r\n')


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
    target = path
    while not os.path.exists(target):
        parent = os.path.dirname(target) or '.'
        if parent == target:
            break
        target = parent
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
    changed paths; ``commit(paths)`` writes only those, so a transaction can
    write the inputs of a tool first and what points at the tool's result
    after it was verified. ``rollback()`` puts every file that was written (or
    protected) back as it was, removes files that did not exist and the
    backups it made. Use it around any further step (such as running an
    initrd or boot-loader tool) whose failure must leave the tree untouched::

        txn = FileTransaction()
        txn.stage('/etc/fstab', new_text)
        try:
            txn.commit()
            run_tool()
        except BaseException:
            txn.rollback()
            raise
    """

    def __init__(self, backup=False):
        self.backup = backup
        self._staged = []          # [(path, text, mode)]
        self._saved = []           # [(path, original bytes or None, stat or None)]
        self._committed = set()
        self._created_dirs = []
        self.backups = {}          # path -> backup file

    def stage(self, path, text, mode=None):
        """Record that ``path`` must contain ``text``; writes nothing yet.

        A missing parent directory is created (0755) by ``commit``, and
        removed again by ``rollback``.
        """
        self._staged.append((path, text, mode))

    def _make_parents(self, path):
        missing = []
        parent = os.path.dirname(path)
        while parent and not os.path.isdir(parent):
            missing.append(parent)
            parent = os.path.dirname(parent)
        for directory in reversed(missing):
            os.mkdir(directory, 0o755)
            os.chmod(directory, 0o755)
            self._created_dirs.append(directory)

    def staged_paths(self):
        return [path for path, _text, _mode in self._staged]

    def protect(self, path):
        """Save ``path`` (a file some tool will rewrite or create) so rollback restores it."""
        self._save(path)

    def _save(self, path):
        if any(saved[0] == path for saved in self._saved):
            return
        if os.path.lexists(path):
            with open(path, 'rb') as handle:
                self._saved.append((path, handle.read(), os.stat(path)))
        else:
            self._saved.append((path, None, None))

    def commit(self, paths=None):
        """Write the staged files (all, or those in ``paths``) not written yet; on any
        error (or signal) restore every file and re-raise."""
        todo = [(path, text, mode) for path, text, mode in self._staged
                if path not in self._committed and (paths is None or path in paths)]
        changed = []
        for path, _text, _mode in todo:
            check_writable(path)
        path = None
        try:
            for path, text, mode in todo:
                self._committed.add(path)
                current = read_text(path) if os.path.exists(path) else None
                text = keep_line_ending(current, text)
                if current == text:
                    continue
                self._save(path)
                self._make_parents(path)
                if self.backup and current is not None:
                    self.backups[path] = backup_name(path)
                    shutil.copy2(path, self.backups[path])
                write_atomic(path, text, mode)
                changed.append(path)
        except EnvironmentError as exc:
            if not exc.filename:
                exc.filename = path     # a write or fsync error (ENOSPC) names no file by itself
            self.rollback()
            raise
        except BaseException:
            self.rollback()
            raise
        return changed

    def rollback(self):
        """Put every saved file back as it was before this transaction; remove its backups.

        Goes on past a file it cannot restore and raises the first error at the end.
        """
        first_error = None
        for path, data, st in reversed(self._saved):
            try:
                if data is None:
                    if os.path.lexists(path):
                        os.unlink(path)
                    continue
                if _same_file(path, data, st):
                    continue      # never written (its write failed): rewriting it could fail, on a full disk
                write_atomic(path, data.decode('utf-8', 'surrogateescape'))
                _copy_attributes(st, path)
            except (IOError, OSError) as exc:
                first_error = first_error or exc
        for name in self.backups.values():
            if os.path.lexists(name):
                os.unlink(name)
        for directory in reversed(self._created_dirs):
            try:
                os.rmdir(directory)
            except OSError:
                pass              # a tool put something there: leave it rather than lose it
        self.backups = {}
        self._saved = []
        self._committed = set()
        self._created_dirs = []
        if first_error is not None:
            raise first_error


def _same_file(path, data, st):
    """Return True when ``path`` still holds ``data`` with the owner and mode of ``st``."""
    try:
        now = os.stat(path)
        with open(path, 'rb') as handle:
            same = handle.read() == data
    except (IOError, OSError):
        return False
    return same and (now.st_mode, now.st_uid, now.st_gid) == (st.st_mode, st.st_uid, st.st_gid)


class TreeLocked(Exception):
    """Another run holds the lock on the tree."""


LOCK_WAIT = 10


@contextlib.contextmanager
def tree_lock(root, wait=LOCK_WAIT):
    """Hold an exclusive ``flock`` on the tree's root directory for the ``with`` block.

    Locking the directory itself creates no file (nothing to clean up, and
    a read-only tree can be locked). Waits up to ``wait`` seconds for another
    run, then raises ``TreeLocked``.
    """
    fd = os.open(os.path.abspath(root or '/'), os.O_RDONLY | os.O_DIRECTORY)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise TreeLocked('another virtops.devices run holds the lock on %s (waited %d s); '
                                     'wait for it to finish and run again' % (root, wait))
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)


def files_changed_since(root, befores):
    """Return the paths (inside the tree) whose text is no longer ``befores[path]``
    (``None``: the file did not exist) - another writer came in between."""
    changed = []
    for path, before in sorted(befores.items()):
        host = root_path(root, path)
        now = read_text(host) if os.path.isfile(host) else None
        if now != before:
            changed.append(path)
    return changed


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
