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
      - Paths are confined to the tree the way the system in it sees them
        after a chroot - every symbolic link is followed inside O(root) (an
        absolute link target starts again at O(root), C(..) never climbs
        above it, a loop of more than 40 links is refused); no file outside
        O(root) is ever read or written. A file reached through a link is
        edited in place at the link's target, and the link is kept.
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
    flushed and renamed) and keep their owner, group, mode, SELinux label
    and dominant line ending (a CRLF file stays CRLF).
  - When any step fails, every file the module already changed is put back
    as it was, and backups, kept copies and partial outputs it made are
    removed.
'''

    TOOLS = r'''
options:
  tool_timeout:
    description:
      - Seconds each external tool (initrd builder, boot-loader tool) may run.
        A tool still running after that is killed with its whole process
        group and the module fails, putting every file back.
      - A whole number of seconds from 1 to 86400 (a day).
    type: int
    default: 600
notes:
  - "Changes are one transaction: while files are changed and tools run, the
    module holds an exclusive C(flock) on the O(root) directory. A second run
    on the same tree waits up to 10 seconds, then fails with
    C(another virtops.devices run holds the lock on <root>); nothing is
    written to take the lock, so a read-only tree works in check mode."
  - If the module is signalled (SIGTERM, SIGINT, SIGHUP, SIGALRM) or Ansible
    stops waiting for it (the task's C(timeout:) closes the module's output
    without signalling it), the running tool is killed and every file is put
    back before the module exits with a failure.
  - What a tool builds is verified before anything points at it - an initrd
    must exist, be non-empty and hold every paravirtual driver asked for (a
    driver built into the kernel needs no file; gzip, xz, lzma, bzip2 and
    plain cpio are read directly, zstd and lz4 with the C(zstd)/C(lz4) tool),
    and a regenerated C(grub.cfg) must have an entry with the new arguments
    for every kernel in C(/boot). Otherwise the module fails and puts every
    file back.
'''
