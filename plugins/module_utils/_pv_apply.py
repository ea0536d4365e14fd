# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carrying out a PV driver migration plan (``_pv_plan.plan_migration``) on a guest tree.

``apply_migration`` writes every planned file, keeps a copy of each initrd
rebuilt in place and runs the initrd commands inside the tree; on any failure
every file (the old initrds included) is put back and ``MigrationApplyError``
says what went wrong.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shutil

from ansible_collections.virtops.devices.plugins.module_utils import _files


class MigrationApplyError(Exception):
    """A step failed and every file was put back; the message says which."""


class ToolFailed(Exception):
    """An initrd command exited with a non-zero status."""


def initrd_rewrites(commands):
    """Return the paths the initrd commands write: each output and each kept copy."""
    paths = []
    for cmd in commands:
        paths.append(cmd['output'])
        if cmd.get('keep'):
            paths.append(cmd['keep'][1])
    return paths


def keep_initrd(root, cmd):
    """Copy the initrd a command rebuilds in place to its kept name (``<initrd>.pre-pv``)."""
    if cmd.get('keep'):
        shutil.copy2(_files.root_path(root, cmd['keep'][0]), _files.root_path(root, cmd['keep'][1]))


def run_initrd_command(run, root, cmd, find_chroot):
    """Run one initrd command inside the tree; raise ``ToolFailed`` when it fails."""
    rc, out, err = run(_files.chroot_argv(root, cmd['argv'], find_chroot))
    if rc != 0:
        raise ToolFailed('%s failed (rc=%d) for kernel %s: %s' % (
            ' '.join(cmd['argv']), rc, cmd['kernel'], (err or out).strip()[-2000:]))


def apply_migration(root, plan, backup, run, find_chroot):
    """Write every planned file and run the initrd commands; return the backups left.

    ``run(argv)`` returns ``(rc, out, err)``; ``find_chroot()`` the path of
    ``chroot``. On any failure every file is put back and ``MigrationApplyError`` raised.
    """
    files = [(path, plan.files[path][1], plan.files[path][2]) for path in plan.order]
    txn = _files.tree_transaction(root, files, initrd_rewrites(plan.commands), backup=backup)
    try:
        txn.commit()
        for cmd in plan.commands:
            keep_initrd(root, cmd)
            run_initrd_command(run, root, cmd, find_chroot)
    except ToolFailed as exc:
        txn.rollback()
        raise MigrationApplyError('%s; every file was put back as it was' % exc)
    except (IOError, OSError) as exc:
        txn.rollback()
        raise MigrationApplyError('could not write the guest files: %s; every file was put back as it was'
                                  % exc)
    return txn.backups
