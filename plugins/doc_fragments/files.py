# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Options of modules that edit files inside a host or guest tree."""

    DOCUMENTATION = r'''
options:
  root:
    description:
      - The root of the system tree to work on. V(/) is the running system;
        any other path is a mounted guest image or a copy of a tree, worked on
        offline (the way virt-v2v does).
      - Every file path the module reads or writes is taken below O(root),
        and tools are run inside it (chroot) when O(root) is not V(/).
    type: path
    default: /
  backup:
    description:
      - Leave a copy of every file the module changes, named
        C(<file>.<timestamp>~), next to it.
    type: bool
    default: false
notes:
  - Files are written atomically (a temporary file in the same directory,
    flushed and renamed) and keep their owner, group, mode and SELinux label.
  - When any step fails, every file the module already changed is put back
    as it was.
'''
