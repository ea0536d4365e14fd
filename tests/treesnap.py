"""Whole-tree snapshots for "nothing changed" and "nothing left behind" checks.

``snapshot(top)`` records every entry below ``top`` (files, directories,
symlinks): type, mode, owner, group, and the SHA-256 of a file's content or a
link's target. Two snapshots compare equal when the tree is the same in every
respect the issue-8 matrix cares about (content, owner, mode, links, file set).
Mount points listed in ``skip`` (a tree's bind-mounted ``/usr``...) are not entered.
"""

import fnmatch
import hashlib
import os
import stat

# names a crashed or careless writer leaves: editor-style backups, mkstemp
# files of _files.write_atomic (".<name>.<random>"), temp and partial outputs
LEFTOVER_PATTERNS = ('*~', '.*.tmp', '*.tmp', '.*.*', '*.partial', '*.new', '*.part')


def _entry(path):
    info = os.lstat(path)
    kind = stat.S_IFMT(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        detail = 'link:' + os.readlink(path)
    elif stat.S_ISREG(info.st_mode):
        digest = hashlib.sha256()
        with open(path, 'rb') as handle:
            for block in iter(lambda: handle.read(1 << 20), b''):
                digest.update(block)
        detail = digest.hexdigest()
    else:
        detail = ''
    return (kind, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid, detail)


def snapshot(top, skip=()):
    """Return ``{relative path: (type, mode, uid, gid, sha256 or link target)}`` of the tree."""
    top = str(top)
    found = {'.': _entry(top)}
    skipped = set(os.path.normpath(s.lstrip('/')) for s in skip)
    for dirpath, dirs, files in os.walk(top):
        rel_dir = os.path.relpath(dirpath, top)
        keep = []
        for name in dirs:
            rel = os.path.normpath(os.path.join(rel_dir, name))
            found[rel] = _entry(os.path.join(dirpath, name))
            if rel not in skipped and not os.path.islink(os.path.join(dirpath, name)):
                keep.append(name)
        dirs[:] = keep
        for name in files:
            rel = os.path.normpath(os.path.join(rel_dir, name))
            found[rel] = _entry(os.path.join(dirpath, name))
    return found


def changes(before, after):
    """Return a short readable list of what differs between two snapshots."""
    out = []
    for rel in sorted(set(before) | set(after)):
        if rel not in after:
            out.append('removed %s' % rel)
        elif rel not in before:
            out.append('added %s' % rel)
        elif before[rel] != after[rel]:
            fields = ('type', 'mode', 'uid', 'gid', 'content/target')
            what = [f for f, a, b in zip(fields, before[rel], after[rel]) if a != b]
            out.append('changed %s (%s)' % (rel, ', '.join(what)))
    return out


def leftovers(before, after, allowed=()):
    """Return the entries added between two snapshots whose names look like temp or backup files."""
    found = []
    for rel in sorted(set(after) - set(before)):
        name = os.path.basename(rel)
        if any(fnmatch.fnmatch(name, pattern) for pattern in allowed):
            continue
        if any(fnmatch.fnmatch(name, pattern) for pattern in LEFTOVER_PATTERNS):
            found.append(rel)
    return found
