# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SUSE's mkinitrd initrd tool (SLES 10-11): one entry of ``_initrd.TOOLS``."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd_mkinitrd

NAME = 'mkinitrd-suse'
PATHS = _initrd_mkinitrd.PATHS
# SUSE only: one of these must exist too (the registry asks before Red Hat's mkinitrd)
MARKERS = ('/etc/SuSE-release', '/lib/mkinitrd/setup')
WRITES_BESIDE = True
CAN_OMIT = False
INITRD_NAME = '/boot/initrd-%s'
CONFIG_FILE = None


def command(binary, kver, output, modules, omit, preload, offline, force):
    """Return the argv: ``-k <kernel> -i <initrd> -m "<mods>"``."""
    return [binary, '-k', '/boot/vmlinuz-%s' % kver, '-i', output, '-m', ' '.join(modules)]
