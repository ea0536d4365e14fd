# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dracut initrd tool (EL 6+, Fedora, SUSE 12+): one entry of ``_initrd.TOOLS``."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

NAME = 'dracut'
PATHS = ('/usr/bin/dracut', '/sbin/dracut', '/usr/sbin/dracut')
MARKERS = ()
WRITES_BESIDE = True
CAN_OMIT = True
INITRD_NAME = '/boot/initramfs-%s.img'
CONFIG_FILE = '/etc/dracut.conf.d/90-virtops-pv.conf'


def command(binary, kver, output, modules, omit, preload, offline, force):
    """Return the argv: ``--add-drivers "<mods>"`` (and ``--omit-drivers``); ``--no-hostonly``
    on an offline tree, where host-only detection would see the hypervisor host, not the guest."""
    argv = [binary, '-f']
    if offline:
        argv.append('--no-hostonly')
    argv += ['--add-drivers', ' '.join(modules)]
    if omit:
        argv += ['--omit-drivers', ' '.join(omit)]
    return argv + [output, kver]


def config_text(before, drivers, omit):
    """Return the dracut.conf.d text keeping the PV drivers (and omissions) in future initrds."""
    text = '# written by virtops.devices pv_driver_migrate\n'
    text += 'add_drivers+=" %s "\n' % ' '.join(d.replace('-', '_') for d in drivers)
    if omit:
        text += 'omit_drivers+=" %s "\n' % ' '.join(omit)
    return text
