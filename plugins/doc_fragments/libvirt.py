# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """The libvirt connection option shared by every libvirt module."""

    DOCUMENTATION = r'''
options:
  uri:
    description:
      - The libvirt connection URI, for example V(qemu:///system) or
        V(qemu+ssh://root@hv1/system).
    type: str
    default: qemu:///system
requirements:
  - libvirt-python
  - lxml
'''
