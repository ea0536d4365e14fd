"""L1 with the real tool: pv_driver_migrate on a debootstrapped Debian 12 tree, where
update-initramfs runs for real in a chroot (the module runs it there itself).

The tree is built once per machine (tests/fixtures/guests/debian.py, ~2 min, needs the
``debootstrap`` package and the Debian mirror) and shared; each test puts back what it changed.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'guests'))
import debian  # noqa: E402

FSTAB = debian.FSTAB
TOUCHED = ('etc/fstab', 'etc/initramfs-tools/modules')


@pytest.fixture(scope='session')
def debian12_base():
    try:
        return debian.build()
    except debian.Unavailable as exc:
        pytest.skip('no Debian 12 tree: %s' % exc)


@pytest.fixture
def debian12(debian12_base):
    """The shared tree with a known fstab; every file the tests touch is put back afterwards."""
    root = debian12_base
    kver = debian.kernel_version(root)
    with debian.tree_with_fstab(root, TOUCHED + ('boot/initrd.img-%s' % kver,),
                                leftovers=('boot/initrd.img-%s.pre-pv' % kver,
                                           'etc/initramfs-tools/hooks/zz-virtops-fail')):
        yield root, kver


def params(root):
    return {'root': root, 'target': 'virtio',
            'filesystems': [{'device': '/dev/sda5', 'uuid': '7d3b4c1e-0000-4000-8000-000000000005'}]}


def test_update_initramfs_for_real_puts_virtio_in_the_initrd(run_module, debian12):
    root, kver = debian12
    assert not [f for f in debian.initrd_files(root, kver) if 'virtio' in f]
    with open(os.path.join(root, 'boot/initrd.img-%s' % kver), 'rb') as handle:
        old = handle.read()
    result = run_module('pv_driver_migrate', params(root), diff=True)
    assert result['changed'] and result['initrd_tool'] == 'update-initramfs', result.get('msg')
    assert result['plan'][-1] == {'action': 'run', 'kernel': kver,
                                  'argv': ['/usr/sbin/update-initramfs', '-c', '-k', kver]}
    files = debian.initrd_files(root, kver)
    assert any(f.endswith('/virtio_blk.ko') for f in files) and any(f.endswith('/virtio_pci.ko') for f in files)
    with open(os.path.join(root, 'boot/initrd.img-%s.pre-pv' % kver), 'rb') as handle:
        assert handle.read() == old
    with open(os.path.join(root, 'etc/initramfs-tools/modules')) as handle:
        assert handle.read().endswith('# sd_mod\nvirtio_pci\nvirtio_blk\n')
    with open(os.path.join(root, 'etc/fstab')) as handle:
        fstab = handle.read()
    assert fstab == FSTAB.replace('/dev/sda5      ', 'UUID=7d3b4c1e-0000-4000-8000-000000000005')
    assert any('generates its entries' in note for note in result['notes'])
    again = run_module('pv_driver_migrate', params(root))
    assert again['changed'] is False, again['plan']


def test_update_initramfs_failing_puts_everything_back(run_module, debian12):
    root, kver = debian12
    hook = os.path.join(root, 'etc/initramfs-tools/hooks/zz-virtops-fail')
    with open(hook, 'w') as handle:
        handle.write('#!/bin/sh\n[ "$1" = prereqs ] && exit 0\necho "hook failed on purpose" >&2\nexit 1\n')
    os.chmod(hook, 0o755)
    before = {}
    for rel in TOUCHED + ('boot/initrd.img-%s' % kver,):
        with open(os.path.join(root, rel), 'rb') as handle:
            before[rel] = handle.read()
    result = run_module('pv_driver_migrate', params(root))
    assert result['failed'] and 'update-initramfs' in result['msg'] and 'put back' in result['msg']
    for rel, data in before.items():
        with open(os.path.join(root, rel), 'rb') as handle:
            assert handle.read() == data, rel
    assert not os.path.exists(os.path.join(root, 'boot/initrd.img-%s.pre-pv' % kver))
