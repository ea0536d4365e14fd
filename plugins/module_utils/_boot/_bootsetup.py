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

Each setup is one module ``_setup_<name>.py`` (detection, what it writes, its tool
argv, how its entries are read); ``SETUPS`` lists them in detection order. The
tree reading and the helpers they share live in ``_bootstate``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._boot import _kernel_args as ka
from ansible_collections.virtops.devices.plugins.module_utils._boot import _setup_bls
from ansible_collections.virtops.devices.plugins.module_utils._boot import _setup_debian
from ansible_collections.virtops.devices.plugins.module_utils._boot import _setup_legacy
from ansible_collections.virtops.devices.plugins.module_utils._boot import _setup_mkconfig
from ansible_collections.virtops.devices.plugins.module_utils._boot import _bootstate as st
from ansible_collections.virtops.devices.plugins.module_utils._boot._bootstate import (
    BLS_DIR, DEFAULT_GRUB, LEGACY_CONFIGS, BootSetupError, MissingToolError, os_family)

# the module's API, from the modules that hold them now
DROPIN = st.DROPIN
path_in_root = st.path_in_root
read_boot_state = st.read_boot_state
grubby_argv = _setup_bls.grubby_argv

# the boot setups, one module each; order = detection order (first match wins)
SETUPS = (
    _setup_bls,
    _setup_debian,
    _setup_mkconfig,
    _setup_legacy,
)
BY_NAME = dict((setup.NAME, setup) for setup in SETUPS)


def boot_setup(state, firmware='auto', efi_booted=None, tool_required=True):
    """Return the boot setup of the tree.

    ``{'name', 'family', 'tool' (argv without chroot, or None), 'config' (file the
    tool writes or the module edits), 'firmware'}``. Raises ``BootSetupError``
    when nothing is recognised. With ``tool_required`` false (a run that runs no
    tool) a setup whose tool is missing from the tree is returned all the same,
    with ``tool_missing`` saying so.
    """
    family = os_family(state)
    for setup in SETUPS:
        try:
            found = setup.detect(state, family, firmware, efi_booted)
        except MissingToolError as exc:
            if tool_required:
                raise
            found = dict(exc.setup, tool_missing=str(exc))
        if found:
            return found
    raise BootSetupError(
        'no boot setup recognised: none of %s, BLS entries in %s, or %s exist'
        % (DEFAULT_GRUB, BLS_DIR, ' / '.join(LEGACY_CONFIGS)))


def boot_entries(setup, state):
    """Return the Linux boot entries as ``[{'file', 'title', 'kernel', 'args'}]``."""
    return BY_NAME[setup['name']].entries(setup, state)


def config_texts(setup, state, args, remove_args):
    """Return ``{real path: new text}`` of every file the module edits itself (changed or not)."""
    return BY_NAME[setup['name']].config_texts(setup, state, args, remove_args)


def tool_outputs(setup, state):
    """Return the files (inside the tree) the setup's tool may rewrite; rollback restores them."""
    return BY_NAME[setup['name']].tool_outputs(setup, state)


def boot_plan(setup, state, args, remove_args):
    """Return what to do: ``files`` (``{real path: (before, after)}`` of changed files),
    ``entries`` (``[{file, title, kernel, args_before, args_after, changed}]``),
    ``tool`` (argv to run or ``None``) and ``protect`` (paths the tool rewrites).
    """
    texts = config_texts(setup, state, args, remove_args)
    files = {}
    for path, after in texts.items():
        before = st.text_of(state, path)
        if before != after:
            files[path] = (before, after)
    entries = []
    for entry in boot_entries(setup, state):
        changed = ka.args_differ(entry['args'], args, remove_args)
        after = ka.args_after(entry['args'], args, remove_args) if changed else entry['args']
        entries.append({'file': entry['file'], 'title': entry['title'], 'kernel': entry['kernel'],
                        'args_before': ka.join_args(entry['args']),
                        'args_after': ka.join_args(after), 'changed': changed})
    tool = BY_NAME[setup['name']].tool_argv(setup, state, files, entries, args, remove_args)
    return {'files': files, 'entries': entries, 'tool': tool,
            'protect': tool_outputs(setup, state) if tool else []}


def entries_not_matching(entries):
    """Return the titles of entries still differing from what is wanted (after a run)."""
    return [entry['title'] or entry['kernel'] for entry in entries if entry['changed']]
