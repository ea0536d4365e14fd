# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Options shared by the modules that attach devices to a domain, live and persistently."""

    DOCUMENTATION = r'''
options:
  name:
    description: Name of the domain.
    type: str
    required: true
  state:
    description: V(present) attaches, V(absent) detaches.
    type: str
    choices: [present, absent]
    default: present
  live:
    description:
      - Change the running domain when it runs. On a shut-off domain this is
        skipped (with a note in the result and a warning), not an error, as
        long as O(config) can be done.
    type: bool
    default: true
  config:
    description: Change the persistent definition.
    type: bool
    default: true
  detach_timeout:
    description:
      - Seconds to wait for the guest to release a device on live detach. A
        detach is reported done only once the device has left the live domain.
      - A whole number from 1 to 3600.
    type: int
    default: 30
'''
