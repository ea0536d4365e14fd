# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The grub2-mkconfig boot setup (EL 7, SUSE, other GRUB 2 trees without BLS), BIOS or UEFI.

One entry of ``_bootsetup.SETUPS`` (see ``_setup_bls`` for the interface).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._boot import _bootstate as st
from ansible_collections.virtops.devices.plugins.module_utils._boot import _grub

NAME = 'mkconfig'


def efi_config(state):
    """Return the full (not stub) EFI ``grub.cfg`` of the tree, or ``None``."""
    link = state['real'].get(st.EL_EFI_LINK)
    candidates = ([link] if link else []) + state['efi_cfgs']
    for path in candidates:
        text = st.text_of(state, path)
        if text is not None and not _grub.grub_cfg_is_stub(text):
            return path
    return None


def mkconfig_output(state, family, firmware, efi_booted):
    """Return the ``grub.cfg`` path that ``grub2-mkconfig -o`` must write."""
    bios_cfg = st.GRUB2_CFG
    if family == 'suse':
        return bios_cfg, 'bios/uefi (SUSE keeps it in /boot/grub2)'
    efi_cfg = efi_config(state)
    if firmware == 'auto':
        if efi_booted is not None:
            firmware = 'uefi' if efi_booted else 'bios'
        elif efi_cfg and st.GRUB2_CFG not in state['files']:
            firmware = 'uefi'
        elif efi_cfg and st.GRUB2_CFG in state['files']:
            raise st.BootSetupError(
                'both %s and %s hold boot entries; set firmware to bios or uefi'
                % (st.GRUB2_CFG, efi_cfg))
        else:
            firmware = 'bios'
    if firmware == 'uefi':
        if efi_cfg:
            return efi_cfg, 'uefi'
        # EL 9+ / Fedora 34+: the EFI grub.cfg is a stub that loads /boot/grub2/grub.cfg.
        return bios_cfg, 'uefi (EFI grub.cfg is a stub)'
    return bios_cfg, 'bios'


def detect(state, family, firmware, efi_booted):
    """Return the setup of a tree with ``/etc/default/grub`` and grub(2)-mkconfig, else None."""
    tools = state['tools']
    if st.DEFAULT_GRUB not in state['files']:
        return None
    name = 'grub2-mkconfig' if 'grub2-mkconfig' in tools else (
        'grub-mkconfig' if 'grub-mkconfig' in tools else None)
    if name is None:
        output, fw = mkconfig_output(state, family, firmware, efi_booted)
        raise st.MissingToolError('%s found but no grub2-mkconfig or grub-mkconfig in the tree; '
                                  'install grub2-tools' % st.DEFAULT_GRUB,
                                  {'name': NAME, 'family': family,
                                   'tool': ['/usr/sbin/grub2-mkconfig', '-o', output],
                                   'config': output, 'firmware': fw})
    if name == 'grub2-mkconfig':
        output, fw = mkconfig_output(state, family, firmware, efi_booted)
    else:
        output, fw = st.GRUB_CFG, firmware
    return {'name': NAME, 'family': family, 'tool': [tools[name], '-o', output],
            'config': output, 'firmware': fw}


def config_texts(setup, state, args, remove_args):
    """``/etc/default/grub``."""
    return st.default_grub_texts(state, args, remove_args)


entries = st.generated_cfg_entries
tool_argv = st.generated_cfg_tool
tool_outputs = st.generated_cfg_outputs
