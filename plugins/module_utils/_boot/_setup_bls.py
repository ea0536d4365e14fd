# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The BLS boot setup (EL 8+, Fedora 30+): GRUB reads ``/boot/loader/entries``, grubby edits them.

One entry of ``_bootsetup.SETUPS``; every setup module has ``NAME``, ``detect``,
``config_texts``, ``entries``, ``tool_argv`` and ``tool_outputs``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._boot import _bootstate as st
from ansible_collections.virtops.devices.plugins.module_utils._boot import _grub
from ansible_collections.virtops.devices.plugins.module_utils._boot import _kernel_args as ka

NAME = 'bls'


def bls_enabled(state):
    """Return True when GRUB reads BLS entries (EL 8+, Fedora 30+)."""
    if not state['bls']:
        return False
    default = state['files'].get(st.DEFAULT_GRUB)
    if default is None:
        return True
    value = _grub.evaluate_assignments([default]).get('GRUB_ENABLE_BLSCFG', '')
    return value.lower() == 'true'


def detect(state, family, firmware, efi_booted):
    """Return the setup when GRUB reads BLS entries on a non-Debian tree, else None."""
    if not bls_enabled(state) or family == 'debian':
        return None
    tools = state['tools']
    if 'grubby' not in tools:
        raise st.MissingToolError('BLS entries found in %s but no grubby in the tree; '
                                  'install grubby' % st.BLS_DIR,
                                  {'name': NAME, 'family': family, 'tool': ['/usr/sbin/grubby'],
                                   'config': st.BLS_DIR, 'firmware': firmware})
    return {'name': NAME, 'family': family, 'tool': [tools['grubby']],
            'config': st.BLS_DIR, 'firmware': firmware}


def config_texts(setup, state, args, remove_args):
    """``/etc/default/grub`` and ``/etc/kernel/cmdline`` (for kernels installed later)."""
    new = st.default_grub_texts(state, args, remove_args)
    if st.KERNEL_CMDLINE in state['files']:
        new[state['real'][st.KERNEL_CMDLINE]] = _grub.kernel_cmdline_with_args(
            state['files'][st.KERNEL_CMDLINE], args, remove_args)
    return new


def entries(setup, state):
    """The BLS entries, ``$kernelopts`` expanded from grubenv."""
    env = st.grubenv_of(state)
    found = []
    for path in state['bls']:
        entry = _grub.bls_entry(state['files'][path], env)
        entry['file'] = path
        found.append(entry)
    return found


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


def tool_argv(setup, state, files, planned, args, remove_args):
    """grubby with the arguments that bring every entry in line, or None."""
    extra = grubby_argv(entries(setup, state), args, remove_args)
    return setup['tool'] + extra if extra else None


def tool_outputs(setup, state):
    """The entries, grubenv, ``/etc/default/grub``, ``/etc/kernel/cmdline`` and grub.cfg."""
    paths = list(state['bls'])
    for path in (st.GRUBENV, st.DEFAULT_GRUB, st.KERNEL_CMDLINE, st.GRUB2_CFG):
        if path in state['real']:
            paths.append(state['real'][path])
    return paths
