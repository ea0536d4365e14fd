# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a running guest's /proc and /sys (below ``root``) into the state ``_pv_verify.report`` takes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.virtops.devices.plugins.module_utils._common import _files


def read(root, path):
    try:
        return _files.read_text(_files.root_path(root, path), '')
    except (IOError, OSError):
        return ''


def link(root, path):
    try:
        return os.readlink(_files.root_path(root, path, follow=False))
    except OSError:
        return None


def listdir(root, path):
    full = _files.root_path(root, path)
    return sorted(os.listdir(full)) if os.path.isdir(full) else []


def state_from_tree(root):
    """Return the guest state (the shape of ``_pv_verify.parse_evidence``) read below ``root``."""
    state = {'mounts': read(root, '/proc/mounts'), 'swaps': read(root, '/proc/swaps'),
             'modules': read(root, '/proc/modules'), 'nics': {}, 'links': {}, 'slaves': {}}
    for name in listdir(root, '/sys/class/net'):
        device_link = link(root, '/sys/class/net/%s/device' % name)
        if device_link:
            state['nics'][name] = (device_link, link(root, '/sys/class/net/%s/device/driver' % name))
    for name in listdir(root, '/dev/mapper'):
        target = link(root, '/dev/mapper/%s' % name)
        if target:
            state['links']['/dev/mapper/%s' % name] = target
    for name in listdir(root, '/sys/class/block'):
        slaves = listdir(root, '/sys/class/block/%s/slaves' % name)
        if slaves:
            state['slaves'][name] = slaves
    return state
