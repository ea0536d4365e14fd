# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Debian/Ubuntu boot setup: the module's own drop-in in ``/etc/default/grub.d``, then update-grub.

One entry of ``_bootsetup.SETUPS`` (see ``_setup_bls`` for the interface).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._boot import _bootstate as st
from ansible_collections.virtops.devices.plugins.module_utils._boot import _grub
from ansible_collections.virtops.devices.plugins.module_utils._boot import _kernel_args as ka

NAME = 'debian'
DROPIN = st.DROPIN


def detect(state, family, firmware, efi_booted):
    """Return the setup of a Debian-like tree with ``/etc/default/grub`` or ``grub.cfg``, else None."""
    files = state['files']
    tools = state['tools']
    if family != 'debian' or not (st.DEFAULT_GRUB in files or st.GRUB_CFG in files):
        return None
    if 'update-grub' in tools:
        tool = [tools['update-grub']]
    elif 'grub-mkconfig' in tools:
        tool = [tools['grub-mkconfig'], '-o', st.GRUB_CFG]
    else:
        raise st.MissingToolError('Debian-like tree without update-grub or grub-mkconfig; '
                                  'install grub2-common',
                                  {'name': NAME, 'family': family, 'tool': ['/usr/sbin/update-grub'],
                                   'config': st.GRUB_CFG, 'firmware': firmware})
    return {'name': NAME, 'family': family, 'tool': tool, 'config': st.GRUB_CFG,
            'firmware': firmware}


def _dropin_files(state):
    return [path for path in state['dropins'] if path != DROPIN]


def debian_texts(state, args, remove_args):
    """Return ``{path: new text}`` for ``/etc/default/grub`` and its drop-ins on Debian/Ubuntu.

    Conflicting args are removed where they are; missing args go to the
    module's own drop-in, which must come last in effect.
    """
    new = {}
    order = []
    for path in [st.DEFAULT_GRUB] + _dropin_files(state):
        if path not in state['files']:
            continue
        new[path] = _grub.default_grub_with_args(state['files'][path], args, remove_args, add=False)
        order.append(path)
    current = _grub.effective_cmdline([new[path] for path in order])
    missing = ka.args_missing(current, args)
    if missing or DROPIN in state['files']:
        new[DROPIN] = _grub.dropin_text(missing)
    later_files = sorted(path for path in new if path != st.DEFAULT_GRUB)
    final = _grub.effective_cmdline(([new[st.DEFAULT_GRUB]] if st.DEFAULT_GRUB in new else []) +
                                    [new[path] for path in later_files])
    if ka.args_missing(final, args):
        later = [path for path in later_files if path > DROPIN]
        raise st.BootSetupError('GRUB_CMDLINE_LINUX is set again after %s by %s; make that drop-in '
                                'extend $GRUB_CMDLINE_LINUX instead of replacing it'
                                % (DROPIN, ', '.join(later) or 'a later file'))
    return new


def config_texts(setup, state, args, remove_args):
    """``/etc/default/grub`` and its drop-ins (``debian_texts``), by real path."""
    return dict((state['real'].get(path, path), text)
                for path, text in debian_texts(state, args, remove_args).items())


entries = st.generated_cfg_entries
tool_argv = st.generated_cfg_tool
tool_outputs = st.generated_cfg_outputs
