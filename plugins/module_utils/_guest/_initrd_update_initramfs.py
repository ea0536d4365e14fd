# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Debian's update-initramfs initrd tool (initramfs-tools): one entry of ``_initrd.TOOLS``."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtops.devices.plugins.module_utils._guest import _modulesconf

NAME = 'update-initramfs'
PATHS = ('/usr/sbin/update-initramfs', '/sbin/update-initramfs')
MARKERS = ()
WRITES_BESIDE = False
CAN_OMIT = False
INITRD_NAME = '/boot/initrd.img-%s'
CONFIG_FILE = _modulesconf.INITRAMFS_TOOLS_MODULES


def command(binary, kver, output, modules, omit, preload, offline, force):
    """Return the argv: ``-c -k <kver>`` (the modules come from ``CONFIG_FILE``); it
    rebuilds in place, ``output`` is its conventional initrd."""
    return [binary, '-c', '-k', kver]


def config_text(before, drivers, omit):
    """Return ``/etc/initramfs-tools/modules`` listing the PV drivers."""
    return _modulesconf.add_initramfs_modules(before, drivers)
