# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Red Hat mkinitrd initrd tool (EL 3-5): one entry of ``_initrd.TOOLS``."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

NAME = 'mkinitrd'
PATHS = ('/sbin/mkinitrd', '/usr/sbin/mkinitrd', '/usr/bin/mkinitrd')
MARKERS = ()
WRITES_BESIDE = True
CAN_OMIT = True
INITRD_NAME = '/boot/initrd-%s.img'
CONFIG_FILE = None


def command(binary, kver, output, modules, omit, preload, offline, force):
    """Return the argv: ``--preload=<m>`` for each driver (the CentOS 5.3 runbook), or
    ``--with=<m>`` (virt-v2v's form) when not ``preload``; ``--builtin=<m>`` for each
    omitted emulated driver; ``-f`` only when ``force`` (the output exists already)."""
    argv = [binary] + (['-f'] if force else [])
    flag = '--preload=%s' if preload else '--with=%s'
    argv += [flag % mod for mod in modules]
    argv += ['--builtin=%s' % mod for mod in omit]
    return argv + [output, kver]
