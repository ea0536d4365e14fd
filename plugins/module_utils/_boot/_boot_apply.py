# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carrying out a boot plan (``_bootsetup.boot_plan``) on a tree, all or nothing.

``apply_boot_plan`` writes the planned files, runs the boot tool inside the
tree, reads the boot entries back and checks them; when a step fails every
file is put back and ``BootApplyError`` says what went wrong. The pure parts
(``plan_result``, ``entries_after``, ``after_run_problem``, ``reboot_required``)
decide, the others read, write and run.

Paths in plans and results are paths inside the tree (``/etc/...``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil

from ansible_collections.virtops.devices.plugins.module_utils._boot import _bootsetup as bs
from ansible_collections.virtops.devices.plugins.module_utils._common import _files
from ansible_collections.virtops.devices.plugins.module_utils._boot import _kernel_args as ka
from ansible_collections.virtops.devices.plugins.module_utils._common import _tools


class BootApplyError(Exception):
    """A step failed and every file was put back: ``msg`` for the user, and
    ``result``, the partial result to return with it (may be empty)."""

    def __init__(self, msg, result=None):
        Exception.__init__(self, msg)
        self.msg = msg
        self.result = dict(result or {})


def read_boot_plan(root, firmware, args, remove_args, efi_booted, tool_required=True, state=None):
    """Read the tree's boot state; return ``(setup, plan)`` (may raise ``BootSetupError``).

    ``tool_required`` false: a setup whose tool is missing from the tree still plans
    (``setup['tool_missing']`` says what is missing); for runs that run no tool.
    ``state``: the tree's ``read_boot_state`` when the caller has already read it.
    """
    if state is None:
        state = bs.read_boot_state(root)
    setup = bs.boot_setup(state, firmware, efi_booted, tool_required)
    return setup, bs.boot_plan(setup, state, args, remove_args)


def plan_result(setup, plan, args, remove_args):
    """Return the module result describing ``plan`` before anything is done."""
    return dict(changed=False, setup=setup['name'], family=setup['family'],
                firmware=setup['firmware'], config=setup['config'],
                tool=plan['tool'] or [], args=args, remove_args=remove_args,
                entries=plan['entries'], files_changed=sorted(plan['files']))


def plan_diffs(plan):
    """Return the Ansible diffs of the files the plan writes."""
    return [_files.ansible_diff(before, after, path)
            for path, (before, after) in sorted(plan['files'].items())]


def plan_changes_something(plan):
    """Return True when the plan writes a file or runs a tool."""
    return bool(plan['files'] or plan['tool'])


def reboot_required(running_cmdline, changed, args, remove_args):
    """On the running system (``running_cmdline`` not ``None``) whether its kernel
    command line differs from what is wanted; on a tree whether anything changed."""
    if running_cmdline is not None:
        return ka.reboot_required(ka.split_args(running_cmdline), args, remove_args)
    return bool(changed)


def entries_after(before, after):
    """Pair each entry found after the run with the one before it (same file and kernel,
    in order); ``args_before`` is ``None`` for an entry the tool added."""
    pool = {}
    for entry in before:
        pool.setdefault((entry['file'], entry['kernel']), []).append(entry)
    paired = []
    for entry in after:
        olds = pool.get((entry['file'], entry['kernel'])) or []
        old = olds.pop(0) if olds else None
        args_before = old['args_before'] if old else None
        paired.append({'file': entry['file'], 'title': entry['title'], 'kernel': entry['kernel'],
                       'args_before': args_before, 'args_after': entry['args_before'],
                       'changed': args_before != entry['args_before']})
    return paired


def kernels_lacking_args(kernels, entries):
    """Return ``(kernel images with no entry, kernel images whose every entry still lacks
    the arguments)``, by image basename (``vmlinuz-<kver>``), from the entries read back."""
    no_entry, lacking = [], []
    for image in kernels:
        mine = [entry for entry in entries if (entry['kernel'] or '').rsplit('/', 1)[-1] == image]
        if not mine:
            no_entry.append(image)
        elif all(entry['changed'] for entry in mine):
            lacking.append(image)
    return no_entry, lacking


def after_run_problem(setup, plan, after_plan, kernels=()):
    """Judge the entries read back after the run; return ``(error, warning)``, either ``None``.

    An error (every file must be put back): no Linux entry is left, a BLS or
    legacy entry still lacks the arguments, or - for a regenerated ``grub.cfg``
    - an installed kernel (``kernels``: ``vmlinuz-*`` names in ``/boot``) has no
    entry, or none with the arguments (a tool that exited 0 but generated
    nothing). A warning: other generated entries not built from
    ``GRUB_CMDLINE_LINUX`` still lack them.
    """
    step = ' '.join(plan['tool'] or ['editing'])
    if plan['entries'] and not after_plan['entries']:
        return ('after %s no Linux boot entry is left in %s; every file was put back'
                % (step, setup['config'])), None
    still = bs.entries_not_matching(after_plan['entries'])
    if still and setup['name'] in ('bls', 'legacy'):
        return ('after %s these boot entries still lack the arguments: %s; every file '
                'was put back' % (step, ', '.join(still))), None
    if setup['name'] in ('debian', 'mkconfig') and plan['tool']:
        no_entry, lacking = kernels_lacking_args(kernels, after_plan['entries'])
        if no_entry:
            return ('after %s %s has no boot entry for %s; every file was put back'
                    % (step, setup['config'], ', '.join('/boot/' + k for k in no_entry))), None
        if lacking:
            return ('after %s no entry of %s in %s has the arguments; every file was put back'
                    % (step, ', '.join('/boot/' + k for k in lacking), setup['config'])), None
    if still:
        return None, ('boot entries not generated from GRUB_CMDLINE_LINUX (for example from '
                      '/etc/grub.d/40_custom) still lack the arguments: %s; add them there'
                      % ', '.join(still))
    return None, None


def check_all_writable(root, written, rewritten):
    """Raise ``BootApplyError`` before any change when a file to write (or its directory) is read-only."""
    for path in list(written) + [p for p in rewritten if os.path.exists(_files.root_path(root, p))]:
        host = _files.root_path(root, path)
        if not os.path.exists(host) and not os.path.isdir(os.path.dirname(host)):
            continue
        try:
            _files.check_writable(host)
        except OSError as exc:
            raise BootApplyError('cannot write %s (%s); make it writable, nothing was changed'
                                 % (path, exc.strerror))


def texts_in_tree(root, paths):
    """Return ``{path: text, or None when it is not a file}`` for paths inside the tree."""
    texts = {}
    for path in paths:
        host = _files.root_path(root, path)
        texts[path] = _files.read_text(host) if os.path.isfile(host) else None
    return texts


def commit_files(txn):
    """Commit ``txn``; raise ``BootApplyError`` when a file cannot be written (all put back)."""
    try:
        txn.commit()
    except (OSError, IOError) as exc:
        raise BootApplyError('could not write %s: %s; every file was put back'
                             % (exc.filename or '', exc.strerror or exc))


def backup_rewritten(root, tool_before, planned):
    """Copy each existing file the tool rewrites (and the plan does not write) to a
    backup; return ``{path inside the tree: backup host path}``."""
    backups = {}
    for path, before in tool_before.items():
        if before is not None and path not in planned:
            host = _files.root_path(root, path)
            backups[path] = _files.backup_name(host)
            shutil.copy2(host, backups[path])
    return backups


def drop_backups(backups):
    """Remove the backup files in ``{host path: backup}``."""
    for name in backups.values():
        if os.path.exists(name):
            os.unlink(name)


def run_boot_tool(run, root, tool, find_chroot):
    """Run the boot tool inside the tree; return ``(rc, output)``."""
    rc, out, err = run(_files.chroot_argv(root, tool, find_chroot), environ_update={'LC_ALL': 'C'})
    return rc, (out + err).strip()


def rewritten_diffs(root, tool_before, planned):
    """Return the diffs of the files the tool changed that the plan did not write."""
    diffs = []
    for path, before in sorted(tool_before.items()):
        after = texts_in_tree(root, [path])[path]
        if after != before and path not in planned:
            diffs.append(_files.ansible_diff(before, after, path))
    return diffs


def kept_backups(root, txn_backups, tool_backups, tool_before):
    """Return ``{path inside the tree: backup}`` of the files that changed; remove
    the backups of files the tool left as they were."""
    backups = dict((_files.inside_root(root, host), name) for host, name in txn_backups.items())
    for path, name in tool_backups.items():
        if texts_in_tree(root, [path])[path] != tool_before[path]:
            backups[path] = name
        elif os.path.lexists(name):
            os.unlink(name)
    return backups


def installed_kernel_images(root):
    """Return the ``vmlinuz-*`` names in the tree's ``/boot`` that grub-mkconfig makes entries for."""
    boot = _files.root_path(root, '/boot')
    try:
        names = os.listdir(boot)
    except OSError:
        return []
    garbage = ('.dpkg-old', '.dpkg-new', '.dpkg-tmp', '.dpkg-dist', '.dpkg-bak', '.rpmsave', '.rpmnew',
               '.bak', '~', '.sig')
    return sorted(name for name in names if name.startswith('vmlinuz-') and not name.endswith(garbage)
                  and os.path.isfile(os.path.join(boot, name)))


def apply_boot_plan(root, setup, plan, args, remove_args, backup, run, find_chroot, result, diffs,
                    lock_wait=_files.LOCK_WAIT):
    """Write the plan's files, run its tool inside the tree and check the entries it left.

    ``run(argv, environ_update=...)`` returns ``(rc, out, err)`` (``_tools.run_tool``
    with ``tool_timeout`` bound); ``find_chroot()`` the path of ``chroot``. Holds
    the tree's lock; SIGTERM/SIGINT/SIGHUP/SIGALRM, a tool timeout or Ansible
    giving up on the task put every file back. Return ``(result, warnings)``:
    ``result`` updated with the outcome (``changed``, ``files_changed``,
    ``diff``, ``entries``, ``tool_output``, ``backup_files``). On failure every
    file is put back and ``BootApplyError`` raised, carrying ``result`` (with
    the tool's output when it ran).
    """
    try:
        with _files.tree_lock(root, lock_wait):
            stale = _files.files_changed_since(root, dict((path, before) for path, (before, _after)
                                                          in plan['files'].items()))
            if stale:
                raise BootApplyError('%s changed while this run was planning (another writer?); nothing '
                                     'was changed, run again' % ', '.join(stale), result)
            with _tools.interruption_guard():
                return _apply_locked(root, setup, plan, args, remove_args, backup, run, find_chroot,
                                     result, diffs)
    except _files.TreeLocked as exc:
        raise BootApplyError('%s; nothing was changed' % exc, result)


def _apply_locked(root, setup, plan, args, remove_args, backup, run, find_chroot, result, diffs):
    check_all_writable(root, plan['files'], plan['protect'])
    files = [(path, after, None) for path, (_before, after) in sorted(plan['files'].items())]
    txn = _files.tree_transaction(root, files, plan['protect'], backup=backup)
    tool_before = texts_in_tree(root, plan['protect'])
    result = dict(result)
    tool_backups = {}
    try:
        commit_files(txn)
        if plan['tool']:
            if backup:
                tool_backups = backup_rewritten(root, tool_before, plan['files'])
            rc, output = run_boot_tool(run, root, plan['tool'], find_chroot)
            result['tool_output'] = output
            if rc != 0:
                raise BootApplyError('%s failed with exit status %d; every file was put back as it was. '
                                     'Its output: %s' % (' '.join(plan['tool']), rc, output), result)
        after_plan = bs.boot_plan(setup, bs.read_boot_state(root), args, remove_args)
        error, warning = after_run_problem(setup, plan, after_plan, installed_kernel_images(root))
        if error:
            raise BootApplyError(error, result)
    except BootApplyError:
        _put_back(txn, tool_backups)
        raise
    except _tools.ToolTimeout as exc:
        _put_back(txn, tool_backups)
        raise BootApplyError('%s; every file was put back as it was' % exc, result)
    except _tools.Interrupted as exc:
        _put_back(txn, tool_backups)
        raise BootApplyError('interrupted: %s; the tool was killed and every file was put back as it was'
                             % exc.reason, result)
    except (IOError, OSError, bs.BootSetupError, ValueError) as exc:
        _put_back(txn, tool_backups)
        raise BootApplyError('%s; every file was put back as it was' % exc, result)

    entries = entries_after(plan['entries'], after_plan['entries'])
    diffs = list(diffs) + rewritten_diffs(root, tool_before, plan['files'])
    changed_paths = sorted(set(d['before_header'] for d in diffs))
    result.update(changed=bool(changed_paths), files_changed=changed_paths, diff=diffs,
                  entries=entries)
    backups = kept_backups(root, txn.backups, tool_backups, tool_before)
    if backups:
        result['backup_files'] = backups
    return result, [warning] if warning else []


def _put_back(txn, tool_backups):
    txn.rollback()
    drop_backups(tool_backups)
