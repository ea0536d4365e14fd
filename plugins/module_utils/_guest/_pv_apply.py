# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carrying out a PV driver migration plan (``_pv_plan.plan_migration``) on a guest tree.

``apply_migration`` holds the tree's lock and, as one transaction that
survives being signalled or left behind by Ansible:

1. writes the files the initrd tools read (module aliases, fstab, dracut and
   initramfs-tools configuration),
2. keeps a copy of each initrd rebuilt in place and runs the initrd commands
   inside the tree (bounded by ``tool_timeout``),
3. verifies each initrd built: it exists, is not empty, and holds every PV
   driver asked for (unless built into the kernel),
4. only then writes what points at the new initrds (boot entries,
   ``device.map``, ``rc.local`` ...).

On any failure every file (the old initrds included) is put back, the kept
copies, backups and partial initrds removed, and ``MigrationApplyError`` says
what went wrong.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil

from ansible_collections.virtops.devices.plugins.module_utils._common import _files
from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_plan
from ansible_collections.virtops.devices.plugins.module_utils._common import _tools

PUT_BACK = 'every file was put back as it was'


class MigrationApplyError(Exception):
    """A step failed and every file was put back; the message says which."""


class ToolFailed(Exception):
    """An initrd command exited with a non-zero status, or its initrd failed verification."""


def initrd_rewrites(commands):
    """Return the paths the initrd commands write: each output and each kept copy."""
    paths = []
    for cmd in commands:
        paths.append(cmd['output'])
        if cmd.get('keep'):
            paths.append(cmd['keep'][1])
    return paths


def tool_inputs(plan):
    """Return the planned paths an initrd tool reads (written before the tools run)."""
    return [path for path in plan.order if _pv_plan.is_initrd_input(path)]


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


def _read_bytes(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def host_decompressor(run, which=shutil.which):
    """Return ``decompress(kind, data)`` for ``_initrd.initrd_members``: the host's
    ``zstd``/``lz4`` tool (output only read, never run inside the tree)."""
    def decompress(kind, data):
        binary = which(kind)
        if not binary:
            return None
        rc, out, _err = run([binary, '-dcq'], stdin_data=data, binary=True)
        return out if rc == 0 else None
    return decompress


def kernel_builtin(root, kver):
    """Return the normalized names of the drivers built into ``kver`` in the tree."""
    def text(path):
        data = _read_bytes(_files.root_path(root, path))
        return data.decode('utf-8', 'replace') if data is not None else ''
    return _initrd.builtin_drivers(text('/lib/modules/%s/modules.builtin' % kver),
                                   text('/boot/config-%s' % kver))


def verify_initrd(root, cmd, decompress):
    """Raise ``ToolFailed`` unless the initrd ``cmd`` built exists, is not empty and holds its drivers."""
    host = _files.root_path(root, cmd['output'])
    data = _read_bytes(host) if os.path.isfile(host) else None
    problem = _initrd.initrd_problem(cmd['output'], data, cmd.get('drivers') or [],
                                     kernel_builtin(root, cmd['kernel']), decompress)
    if problem:
        raise ToolFailed('%s for kernel %s: %s' % (' '.join(cmd['argv']), cmd['kernel'], problem))


def stale_files(root, plan):
    """Return the planned files changed by someone else since the plan read them."""
    befores = dict((path, plan.files[path][0]) for path in plan.order if plan.files[path][0] is not None)
    return _files.files_changed_since(root, befores)


def _carry_out(root, plan, txn, run, find_chroot):
    inputs = set(_files.root_path(root, path) for path in tool_inputs(plan))
    txn.commit(inputs if plan.commands else None)
    decompress = host_decompressor(run)
    for cmd in plan.commands:
        keep_initrd(root, cmd)
        run_initrd_command(run, root, cmd, find_chroot)
        verify_initrd(root, cmd, decompress)
    txn.commit()


def apply_migration(root, plan, backup, run, find_chroot, lock_wait=_files.LOCK_WAIT):
    """Write every planned file and run the initrd commands; return the backups left.

    ``run(argv, **kw)`` is ``_tools.run_tool`` with the ``tool_timeout`` bound
    (returns ``(rc, out, err)``); ``find_chroot()`` the path of ``chroot``. On
    any failure, on SIGTERM/SIGINT/SIGHUP/SIGALRM or when Ansible stops waiting,
    every file is put back and ``MigrationApplyError`` raised.
    """
    files = [(path, plan.files[path][1], plan.files[path][2]) for path in plan.order]
    try:
        with _files.tree_lock(root, lock_wait):
            stale = stale_files(root, plan)
            if stale:
                raise MigrationApplyError('%s changed while this run was planning (another writer?); nothing '
                                          'was changed, run again' % ', '.join(stale))
            with _tools.interruption_guard():
                txn = _files.tree_transaction(root, files, initrd_rewrites(plan.commands), backup=backup)
                try:
                    _carry_out(root, plan, txn, run, find_chroot)
                except (ToolFailed, _tools.ToolTimeout) as exc:
                    txn.rollback()
                    raise MigrationApplyError('%s; %s' % (exc, PUT_BACK))
                except (IOError, OSError) as exc:
                    txn.rollback()
                    raise MigrationApplyError('could not write the guest files: %s; %s' % (exc, PUT_BACK))
                except _tools.Interrupted as exc:
                    txn.rollback()
                    raise MigrationApplyError('interrupted: %s; the tool was killed and %s' % (exc.reason, PUT_BACK))
    except _files.TreeLocked as exc:
        raise MigrationApplyError('%s; nothing was changed' % exc)
    return txn.backups
