# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The legacy GRUB boot setup (EL 3-6, SLES 10-11): the module edits ``menu.lst``/``grub.conf`` itself.

One entry of ``_bootsetup.SETUPS`` (see ``_setup_bls`` for the interface).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._boot import _bootstate as st
from ansible_collections.virtops.devices.plugins.module_utils._boot import _grub
from ansible_collections.virtops.devices.plugins.module_utils._boot import _kernel_args as ka

NAME = 'legacy'


def detect(state, family, firmware, efi_booted):
    """Return the setup of the first legacy GRUB config the tree has, else None."""
    for path in st.LEGACY_CONFIGS:
        if path in state['files']:
            return {'name': NAME, 'family': family, 'tool': None,
                    'config': state['real'][path], 'firmware': 'bios'}
    return None


def config_texts(setup, state, args, remove_args):
    """The config itself, every entry's kernel line brought in line."""
    return {setup['config']: _legacy_text(st.text_of(state, setup['config']), args, remove_args)}


def _legacy_text(text, args, remove_args):
    differing = [entry for entry in _grub.legacy_entries(text)
                 if ka.args_differ(entry['args'], args, remove_args)]
    if not differing:
        return text
    return _grub.legacy_with_args(text, args, remove_args)


def entries(setup, state):
    """The ``title`` entries of the config."""
    return st.config_entries(setup, state, _grub.legacy_entries)


def tool_argv(setup, state, files, planned, args, remove_args):
    """No tool: the config is the boot menu."""
    return None


def tool_outputs(setup, state):
    return []
