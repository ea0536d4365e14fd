"""Which pytest-xdist group a test file belongs to (tests/conftest.py marks the tests with it)."""

import os

# pytest-xdist (scripts/test.sh runs ``pytest -n 2 --dist loadgroup``). Each file of
# tests/functional runs on one worker, so its module-scoped fixtures (a fixture tree, a batch
# of playbook runs) are built once. Files that share something outside their own temporary
# directories run in one group, one after another:
#   - every file with a test marked ``libvirt`` or ``guest``: one libvirtd, the tiny guests and
#     the domains named with a fixed prefix (tests/functional/conftest.py);
#   - the files that use the cached Debian 12 trees (tests/fixtures/guests/debian.py builds them
#     once under /var/tmp; the dracut tree is a copy of the other).
# The unit tests share nothing and go to whichever worker is free.
# (pytest 9.2 breaks loadgroup, pytest-xdist issue #1386: requirements-lock.txt pins 9.1.1.)
SHARED_GROUPS = {
    'debian12-trees': ('test_pv_debian12.py', 'test_pv_dracut.py'),
}


def xdist_group_of(path, files_using_libvirt):
    """The xdist group of a test file (a path relative to the top), or None for none."""
    if path in files_using_libvirt:
        return 'libvirtd'
    name = os.path.basename(path)
    for group, names in SHARED_GROUPS.items():
        if name in names:
            return group
    if path.startswith('tests/functional/'):
        return name[:-len('.py')] if name.endswith('.py') else name
    return None
