# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every boot setup reads: the tree's boot files and tools (``read_boot_state``),
its OS family, and the helpers the setups (``_setup_*.py``) share.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import re

from ansible_collections.virtops.devices.plugins.module_utils._common import _files
from ansible_collections.virtops.devices.plugins.module_utils._boot import _grub

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


class MissingToolError(BootSetupError):
    """The tree's boot setup is known but its tool is not in the tree.

    ``setup`` is the setup it would be, with the tool named by its usual path; a
    run that runs no tool (check mode, a report) can go on with it.
    """

    def __init__(self, msg, setup):
        BootSetupError.__init__(self, msg)
        self.setup = setup


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


def text_of(state, real_path):
    for path, real in state['real'].items():
        if real == real_path:
            return state['files'][path]
    return None


def grubenv_of(state):
    """Return the variables of the tree's ``grubenv`` (``$kernelopts`` on EL 8)."""
    return _grub.grubenv_vars(state['files'].get(GRUBENV, ''))


def config_entries(setup, state, parse):
    """Return the entries ``parse(text)`` finds in the setup's config, each with its ``file``."""
    entries = []
    for entry in parse(text_of(state, setup['config']) or ''):
        entry['file'] = setup['config']
        entries.append(entry)
    return entries


def default_grub_texts(state, args, remove_args):
    """Return ``{real path: new text}`` of ``/etc/default/grub`` with ``args`` (when it exists)."""
    if DEFAULT_GRUB not in state['files']:
        return {}
    return {state['real'][DEFAULT_GRUB]: _grub.default_grub_with_args(
        state['files'][DEFAULT_GRUB], args, remove_args, add=True)}


def generated_cfg_entries(setup, state):
    """The entries of a setup whose tool generates ``grub.cfg`` (Debian, grub2-mkconfig)."""
    return config_entries(setup, state, _grub.grub_cfg_entries)


def generated_cfg_tool(setup, state, files, entries, args, remove_args):
    """Run the generating tool when a file or an entry changes, or ``grub.cfg`` is missing."""
    if files or any(entry['changed'] for entry in entries) or text_of(state, setup['config']) is None:
        return list(setup['tool'])
    return None


def generated_cfg_outputs(setup, state):
    """The files a generating tool rewrites: ``grub.cfg`` and its ``.new``."""
    return [setup['config'], setup['config'] + '.new']
