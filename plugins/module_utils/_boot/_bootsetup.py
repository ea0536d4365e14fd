# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which boot setup a tree has, and what changing its kernel command line takes.

``read_boot_state(root)`` is the only function here that touches the disk: it
reads the handful of files that matter into a dict. Everything else is pure
and works on that dict:

* ``boot_setup(state, firmware, efi_booted)`` names the setup (``bls``,
  ``debian``, ``mkconfig``, ``legacy``), its tool and the config it regenerates;
* ``boot_plan(setup, state, args, remove_args)`` returns the files to write,
  the entries before and after, and the tool command to run (if any).

Paths in the state and the plan are paths *inside* the tree (``/etc/...``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import re

from ansible_collections.virtops.devices.plugins.module_utils._common import _files
from ansible_collections.virtops.devices.plugins.module_utils._boot import _grub
from ansible_collections.virtops.devices.plugins.module_utils._boot import _kernel_args as ka

DEFAULT_GRUB = '/etc/default/grub'
DROPIN_DIR = '/etc/default/grub.d'
DROPIN = DROPIN_DIR + '/99-virtops-iommu.cfg'
KERNEL_CMDLINE = '/etc/kernel/cmdline'
BLS_DIR = '/boot/loader/entries'
GRUBENV = '/boot/grub2/grubenv'
GRUB2_CFG = '/boot/grub2/grub.cfg'
GRUB_CFG = '/boot/grub/grub.cfg'
EFI_GRUB_CFGS = '/boot/efi/EFI/*/grub.cfg'
EL_EFI_LINK = '/etc/grub2-efi.cfg'
LEGACY_CONFIGS = ('/boot/grub/grub.conf', '/boot/grub/menu.lst')
TOOL_DIRS = ('/usr/sbin', '/usr/bin', '/sbin', '/bin')
TOOLS = ('grubby', 'update-grub', 'grub-mkconfig', 'grub2-mkconfig')
MARKER_FILES = ('/etc/os-release', '/etc/debian_version', '/etc/redhat-release',
                '/etc/SuSE-release', '/etc/sysconfig/grub')


class BootSetupError(Exception):
    """The tree has no boot setup this module knows, or an ambiguous one."""


# --------------------------------------------------------------------------
# reading the tree

def path_in_root(root, path, max_links=_files.MAX_LINKS):
    """Return ``path`` (inside the tree) with its symlinks resolved inside the tree.

    An absolute link target is taken below ``root`` (as it would be after a
    chroot), never on the machine running the module (``_files.resolve_in_root``).
    """
    try:
        return _files.inside_root(root, _files.resolve_in_root(root, path, max_links=max_links))
    except _files.TreePathError as exc:
        raise BootSetupError(str(exc))


def read_boot_state(root):
    """Return the files and tools of the tree at ``root`` that decide the boot setup.

    ``{'files': {path: text}, 'real': {path: resolved path}, 'tools': {name: path},
    'bls': [entry paths], 'dropins': [drop-in paths], 'efi_cfgs': [paths]}``;
    paths are inside the tree, only existing files are listed.
    """
    state = {'files': {}, 'real': {}, 'tools': {}, 'bls': [], 'dropins': [], 'efi_cfgs': []}

    def add(path):
        real = path_in_root(root, path)
        host = _files.root_path(root, real)
        if os.path.isfile(host):
            state['files'][path] = _files.read_text(host)
            state['real'][path] = real
            return True
        return False

    def listing(pattern):
        return sorted('/' + os.path.relpath(p, _files.root_path(root, '/'))
                      for p in glob.glob(_files.root_path(root, pattern)))

    for path in MARKER_FILES + (DEFAULT_GRUB, KERNEL_CMDLINE, GRUBENV, GRUB2_CFG, GRUB_CFG,
                                EL_EFI_LINK) + LEGACY_CONFIGS:
        add(path)
    for path in listing(BLS_DIR + '/*.conf'):
        if add(path):
            state['bls'].append(path)
    for path in listing(DROPIN_DIR + '/*.cfg'):
        if add(path):
            state['dropins'].append(path)
    for path in listing(EFI_GRUB_CFGS):
        if add(path):
            state['efi_cfgs'].append(path)
    for name in TOOLS:
        for directory in TOOL_DIRS:
            candidate = _files.root_path(root, '%s/%s' % (directory, name))
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                state['tools'][name] = '%s/%s' % (directory, name)
                break
    return state


# --------------------------------------------------------------------------
# which setup

def os_release(state):
    """Return the ``KEY: value`` pairs of the tree's ``/etc/os-release``."""
    values = {}
    for line in state['files'].get('/etc/os-release', '').splitlines():
        match = re.match(r'^([A-Z_]+)=(.*)$', line.strip())
        if match:
            values[match.group(1)] = match.group(2).strip('"\'')
    return values


def os_family(state):
    """Return ``debian``, ``suse``, ``redhat`` or ``None`` for the tree."""
    release = os_release(state)
    ids = (release.get('ID', '') + ' ' + release.get('ID_LIKE', '')).lower().split()
    if '/etc/debian_version' in state['files'] or 'debian' in ids or 'ubuntu' in ids:
        return 'debian'
    if '/etc/SuSE-release' in state['files'] or any('suse' in i or i == 'sles' for i in ids):
        return 'suse'
    if '/etc/redhat-release' in state['files'] or any(i in ('rhel', 'fedora', 'centos') for i in ids):
        return 'redhat'
    return None


def bls_enabled(state):
    """Return True when GRUB reads BLS entries (EL 8+, Fedora 30+)."""
    if not state['bls']:
        return False
    default = state['files'].get(DEFAULT_GRUB)
    if default is None:
        return True
    value = _grub.evaluate_assignments([default]).get('GRUB_ENABLE_BLSCFG', '')
    return value.lower() == 'true'


def efi_config(state):
    """Return the full (not stub) EFI ``grub.cfg`` of the tree, or ``None``."""
    link = state['real'].get(EL_EFI_LINK)
    candidates = ([link] if link else []) + state['efi_cfgs']
    for path in candidates:
        text = _text_of(state, path)
        if text is not None and not _grub.grub_cfg_is_stub(text):
            return path
    return None


def mkconfig_output(state, family, firmware, efi_booted):
    """Return the ``grub.cfg`` path that ``grub2-mkconfig -o`` must write."""
    bios_cfg = GRUB2_CFG
    if family == 'suse':
        return bios_cfg, 'bios/uefi (SUSE keeps it in /boot/grub2)'
    efi_cfg = efi_config(state)
    if firmware == 'auto':
        if efi_booted is not None:
            firmware = 'uefi' if efi_booted else 'bios'
        elif efi_cfg and GRUB2_CFG not in state['files']:
            firmware = 'uefi'
        elif efi_cfg and GRUB2_CFG in state['files']:
            raise BootSetupError(
                'both %s and %s hold boot entries; set firmware to bios or uefi'
                % (GRUB2_CFG, efi_cfg))
        else:
            firmware = 'bios'
    if firmware == 'uefi':
        if efi_cfg:
            return efi_cfg, 'uefi'
        # EL 9+ / Fedora 34+: the EFI grub.cfg is a stub that loads /boot/grub2/grub.cfg.
        return bios_cfg, 'uefi (EFI grub.cfg is a stub)'
    return bios_cfg, 'bios'


def boot_setup(state, firmware='auto', efi_booted=None):
    """Return the boot setup of the tree.

    ``{'name', 'family', 'tool' (argv without chroot, or None), 'config' (file the
    tool writes or the module edits), 'firmware'}``. Raises ``BootSetupError``
    when nothing is recognised.
    """
    files = state['files']
    tools = state['tools']
    family = os_family(state)
    if bls_enabled(state) and family != 'debian':
        if 'grubby' not in tools:
            raise BootSetupError('BLS entries found in %s but no grubby in the tree; '
                                 'install grubby' % BLS_DIR)
        return {'name': 'bls', 'family': family, 'tool': [tools['grubby']],
                'config': BLS_DIR, 'firmware': firmware}
    if family == 'debian' and (DEFAULT_GRUB in files or GRUB_CFG in files):
        if 'update-grub' in tools:
            tool = [tools['update-grub']]
        elif 'grub-mkconfig' in tools:
            tool = [tools['grub-mkconfig'], '-o', GRUB_CFG]
        else:
            raise BootSetupError('Debian-like tree without update-grub or grub-mkconfig; '
                                 'install grub2-common')
        return {'name': 'debian', 'family': family, 'tool': tool, 'config': GRUB_CFG,
                'firmware': firmware}
    if DEFAULT_GRUB in files:
        name = 'grub2-mkconfig' if 'grub2-mkconfig' in tools else (
            'grub-mkconfig' if 'grub-mkconfig' in tools else None)
        if name is None:
            raise BootSetupError('%s found but no grub2-mkconfig or grub-mkconfig in the tree; '
                                 'install grub2-tools' % DEFAULT_GRUB)
        if name == 'grub2-mkconfig':
            output, fw = mkconfig_output(state, family, firmware, efi_booted)
        else:
            output, fw = GRUB_CFG, firmware
        return {'name': 'mkconfig', 'family': family, 'tool': [tools[name], '-o', output],
                'config': output, 'firmware': fw}
    for path in LEGACY_CONFIGS:
        if path in files:
            return {'name': 'legacy', 'family': family, 'tool': None,
                    'config': state['real'][path], 'firmware': 'bios'}
    raise BootSetupError(
        'no boot setup recognised: none of %s, BLS entries in %s, or %s exist'
        % (DEFAULT_GRUB, BLS_DIR, ' / '.join(LEGACY_CONFIGS)))


# --------------------------------------------------------------------------
# what to change

def _text_of(state, real_path):
    for path, real in state['real'].items():
        if real == real_path:
            return state['files'][path]
    return None


def grubenv_of(state):
    """Return the variables of the tree's ``grubenv`` (``$kernelopts`` on EL 8)."""
    return _grub.grubenv_vars(state['files'].get(GRUBENV, ''))


def boot_entries(setup, state):
    """Return the Linux boot entries as ``[{'file', 'title', 'kernel', 'args'}]``."""
    entries = []
    if setup['name'] == 'bls':
        env = grubenv_of(state)
        for path in state['bls']:
            entry = _grub.bls_entry(state['files'][path], env)
            entry['file'] = path
            entries.append(entry)
    elif setup['name'] == 'legacy':
        for entry in _grub.legacy_entries(_text_of(state, setup['config']) or ''):
            entry['file'] = setup['config']
            entries.append(entry)
    else:
        text = _text_of(state, setup['config'])
        for entry in _grub.grub_cfg_entries(text or ''):
            entry['file'] = setup['config']
            entries.append(entry)
    return entries


def _dropin_files(state):
    return [path for path in state['dropins'] if path != DROPIN]


def debian_texts(state, args, remove_args):
    """Return ``{path: new text}`` for ``/etc/default/grub`` and its drop-ins on Debian/Ubuntu.

    Conflicting args are removed where they are; missing args go to the
    module's own drop-in, which must come last in effect.
    """
    new = {}
    order = []
    for path in [DEFAULT_GRUB] + _dropin_files(state):
        if path not in state['files']:
            continue
        new[path] = _grub.default_grub_with_args(state['files'][path], args, remove_args, add=False)
        order.append(path)
    current = _grub.effective_cmdline([new[path] for path in order])
    missing = ka.args_missing(current, args)
    if missing or DROPIN in state['files']:
        new[DROPIN] = _grub.dropin_text(missing)
    later_files = sorted(path for path in new if path != DEFAULT_GRUB)
    final = _grub.effective_cmdline(([new[DEFAULT_GRUB]] if DEFAULT_GRUB in new else []) +
                                    [new[path] for path in later_files])
    if ka.args_missing(final, args):
        later = [path for path in later_files if path > DROPIN]
        raise BootSetupError('GRUB_CMDLINE_LINUX is set again after %s by %s; make that drop-in '
                             'extend $GRUB_CMDLINE_LINUX instead of replacing it'
                             % (DROPIN, ', '.join(later) or 'a later file'))
    return new


def config_texts(setup, state, args, remove_args):
    """Return ``{real path: new text}`` of every file the module edits itself (changed or not)."""
    new = {}
    name = setup['name']
    if name == 'debian':
        for path, text in debian_texts(state, args, remove_args).items():
            new[state['real'].get(path, path)] = text
    elif name in ('mkconfig', 'bls'):
        if DEFAULT_GRUB in state['files']:
            new[state['real'][DEFAULT_GRUB]] = _grub.default_grub_with_args(
                state['files'][DEFAULT_GRUB], args, remove_args, add=True)
        if name == 'bls' and KERNEL_CMDLINE in state['files']:
            new[state['real'][KERNEL_CMDLINE]] = _grub.kernel_cmdline_with_args(
                state['files'][KERNEL_CMDLINE], args, remove_args)
    elif name == 'legacy':
        text = _text_of(state, setup['config'])
        new[setup['config']] = _legacy_text(text, args, remove_args)
    return new


def _legacy_text(text, args, remove_args):
    differing = [entry for entry in _grub.legacy_entries(text)
                 if ka.args_differ(entry['args'], args, remove_args)]
    if not differing:
        return text
    return _grub.legacy_with_args(text, args, remove_args)


def grubby_argv(entries, args, remove_args):
    """Return the grubby arguments that bring every BLS entry in line (``[]``: none needed)."""
    add = []
    remove = []
    for entry in entries:
        for arg in ka.args_missing(entry['args'], args):
            if arg not in add:
                add.append(arg)
        for token in ka.args_to_remove(entry['args'], args, remove_args):
            if token not in remove:
                remove.append(token)
    if not add and not remove:
        return []
    argv = ['--update-kernel=ALL']
    if add:
        argv.append('--args=%s' % ka.join_args(add))
    if remove:
        argv.append('--remove-args=%s' % ka.join_args(remove))
    return argv


def tool_outputs(setup, state):
    """Return the files (inside the tree) the setup's tool may rewrite; rollback restores them."""
    name = setup['name']
    if name == 'bls':
        paths = list(state['bls'])
        for path in (GRUBENV, DEFAULT_GRUB, KERNEL_CMDLINE, GRUB2_CFG):
            if path in state['real']:
                paths.append(state['real'][path])
        return paths
    if name in ('debian', 'mkconfig'):
        return [setup['config'], setup['config'] + '.new']
    return []


def boot_plan(setup, state, args, remove_args):
    """Return what to do: ``files`` (``{real path: (before, after)}`` of changed files),
    ``entries`` (``[{file, title, kernel, args_before, args_after, changed}]``),
    ``tool`` (argv to run or ``None``) and ``protect`` (paths the tool rewrites).
    """
    texts = config_texts(setup, state, args, remove_args)
    files = {}
    for path, after in texts.items():
        before = _text_of(state, path)
        if before != after:
            files[path] = (before, after)
    entries = []
    for entry in boot_entries(setup, state):
        changed = ka.args_differ(entry['args'], args, remove_args)
        after = ka.args_after(entry['args'], args, remove_args) if changed else entry['args']
        entries.append({'file': entry['file'], 'title': entry['title'], 'kernel': entry['kernel'],
                        'args_before': ka.join_args(entry['args']),
                        'args_after': ka.join_args(after), 'changed': changed})
    tool = None
    if setup['name'] == 'bls':
        extra = grubby_argv(boot_entries(setup, state), args, remove_args)
        if extra:
            tool = setup['tool'] + extra
    elif setup['name'] in ('debian', 'mkconfig'):
        if files or any(entry['changed'] for entry in entries) or \
                _text_of(state, setup['config']) is None:
            tool = list(setup['tool'])
    return {'files': files, 'entries': entries, 'tool': tool,
            'protect': tool_outputs(setup, state) if tool else []}


def entries_not_matching(entries):
    """Return the titles of entries still differing from what is wanted (after a run)."""
    return [entry['title'] or entry['kernel'] for entry in entries if entry['changed']]
