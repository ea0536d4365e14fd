"""L1 with the real tool: pv_driver_migrate on a debootstrapped Debian 12 tree whose initrd
tool is Debian's ``dracut`` (059), run for real in a chroot by the module itself.

The tree is a copy of the initramfs-tools tree of test_pv_debian12.py with ``dracut``
installed inside it (tests/fixtures/guests/debian.py ``build_dracut``, ~40 s once that tree
exists) and shared; each test puts back what it changed. Its dracut configuration holds only
what the emulated disks need, so virtio_blk and virtio_pci are in the initrd only once the
module has put them there.
"""

import hashlib
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'guests'))
import debian  # noqa: E402

FSTAB = debian.FSTAB
SWAP_UUID = '7d3b4c1e-0000-4000-8000-000000000005'
PV_CONF = 'etc/dracut.conf.d/90-virtops-pv.conf'
FAIL_MODULE = 'usr/lib/dracut/modules.d/99virtopsfail'
ATA_MODULE = 'usr/lib/dracut/modules.d/95virtopsata'
FAIL_SAW = 'tmp/virtops-fail-saw'
# what a rebuild may change, and what the module must leave alone when it fails or only checks
WATCHED = ('etc/fstab', PV_CONF, debian.DRACUT_GUEST_CONF, 'etc/initramfs-tools/modules', 'etc/modprobe.d')


@pytest.fixture(scope='session')
def dracut_base():
    try:
        return debian.build_dracut()
    except debian.Unavailable as exc:
        pytest.skip('no Debian 12 tree with dracut: %s' % exc)


@pytest.fixture
def dracut_tree(dracut_base):
    """The shared tree with a known fstab; every file the tests touch is put back afterwards."""
    root = dracut_base
    kver = debian.kernel_version(root)
    with debian.tree_with_fstab(root, ('etc/fstab', debian.DRACUT_GUEST_CONF, 'boot/initrd.img-%s' % kver),
                                leftovers=('boot/initrd.img-%s.pre-pv' % kver, PV_CONF, FAIL_SAW,
                                           'tmp/virtops-later.img'),
                                leftover_dirs=(FAIL_MODULE, ATA_MODULE)):
        yield root, kver


def write_dracut_module(root, rel, functions):
    """A dracut module in the tree that dracut always picks, with the given shell functions."""
    module_dir = os.path.join(root, rel)
    os.makedirs(module_dir)
    path = os.path.join(module_dir, 'module-setup.sh')
    with open(path, 'w') as handle:
        handle.write('#!/bin/bash\ncheck() { return 0; }\ndepends() { return 0; }\n' + functions)
    os.chmod(path, 0o755)


def params(root, **extra):
    args = {'root': root, 'target': 'virtio', 'initrd_tool': 'auto',
            'filesystems': [{'device': '/dev/sda5', 'uuid': SWAP_UUID}]}
    args.update(extra)
    return args


def modules_in(files):
    """Normalized names of the kernel modules among an initrd's members."""
    return set(os.path.basename(f).split('.ko')[0].replace('-', '_') for f in files if '.ko' in os.path.basename(f))


def snapshot(root, kver):
    """sha256 of every watched file (None when absent) and the listing of /boot."""
    state = {}
    for rel in WATCHED + ('boot/initrd.img-%s' % kver, 'boot/initrd.img-%s.pre-pv' % kver):
        path = os.path.join(root, rel)
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                with open(os.path.join(path, name), 'rb') as handle:
                    state[os.path.join(rel, name)] = hashlib.sha256(handle.read()).hexdigest()
        elif os.path.exists(path):
            with open(path, 'rb') as handle:
                state[rel] = hashlib.sha256(handle.read()).hexdigest()
        else:
            state[rel] = None
    state['boot/'] = sorted(os.listdir(os.path.join(root, 'boot')))
    state['etc/dracut.conf.d/'] = sorted(os.listdir(os.path.join(root, 'etc/dracut.conf.d')))
    return state


def test_auto_detects_dracut_and_real_dracut_puts_virtio_in_the_initrd(run_module, dracut_tree):
    root, kver = dracut_tree
    initrd = '/boot/initrd.img-%s' % kver
    assert not os.path.exists(os.path.join(root, 'usr/sbin/update-initramfs'))
    before = modules_in(debian.dracut_initrd_files(root, kver))
    assert 'sd_mod' in before and not {'virtio_blk', 'virtio_pci', 'virtio_scsi'} & before, sorted(before)
    with open(os.path.join(root, initrd[1:]), 'rb') as handle:
        old = handle.read()

    result = run_module('pv_driver_migrate', params(root), diff=True)

    assert result['changed'] and result['initrd_tool'] == 'dracut', result.get('msg')
    assert result['kernels'][kver] == {'drivers': ['virtio_pci', 'virtio_blk'], 'initrd': initrd}
    assert result['plan'][-2:] == [
        {'action': 'copy', 'src': initrd, 'dest': initrd + '.pre-pv'},
        {'action': 'run', 'kernel': kver, 'argv': ['/usr/bin/dracut', '-f', '--no-hostonly', '--add-drivers',
                                                   'virtio_pci virtio_blk', initrd, kver]}]
    after = modules_in(debian.dracut_initrd_files(root, kver))
    assert {'virtio_blk', 'virtio_pci', 'virtio', 'virtio_ring'} <= after, sorted(after)
    # the module asks for virtio_blk only (the first block driver the kernel has), not virtio_scsi
    assert 'virtio_scsi' not in after
    # what was there before stays: the emulated disks still boot with the new initrd
    assert before <= after, sorted(before - after)
    with open(os.path.join(root, initrd[1:] + '.pre-pv'), 'rb') as handle:
        assert handle.read() == old
    with open(os.path.join(root, PV_CONF)) as handle:
        assert handle.read() == '# written by virtops.devices pv_driver_migrate\nadd_drivers+=" virtio_pci virtio_blk "\n'
    with open(os.path.join(root, 'etc/fstab')) as handle:
        assert handle.read() == FSTAB.replace('/dev/sda5      ', 'UUID=%s' % SWAP_UUID)
    assert any('rebuilt in place and the old one kept as %s.pre-pv' % initrd in note for note in result['notes'])

    with open(os.path.join(root, initrd[1:]), 'rb') as handle:
        new = handle.read()
    again = run_module('pv_driver_migrate', params(root))
    assert again['changed'] is False and not again['plan'], again['plan']
    with open(os.path.join(root, initrd[1:]), 'rb') as handle:
        assert handle.read() == new


def test_a_later_plain_dracut_run_keeps_virtio(run_module, dracut_tree):
    """The dracut.conf.d file the module leaves keeps virtio in initrds built later (kernel updates)."""
    root, kver = dracut_tree
    assert run_module('pv_driver_migrate', params(root))['changed']
    debian.chroot_run(root, ['dracut', '-f', '/tmp/virtops-later.img', kver])
    later = modules_in(debian.dracut_initrd_files(root, kver, '/tmp/virtops-later.img'))
    assert {'virtio_blk', 'virtio_pci'} <= later, sorted(later)


def test_check_mode_changes_nothing(run_module, dracut_tree):
    root, kver = dracut_tree
    before = snapshot(root, kver)
    result = run_module('pv_driver_migrate', params(root), check=True, diff=True)
    assert result['changed'] and result['initrd_tool'] == 'dracut', result.get('msg')
    assert result['plan'][-1]['argv'][0] == '/usr/bin/dracut'
    assert sorted(d['after_header'] for d in result['diff']) == ['/etc/dracut.conf.d/90-virtops-pv.conf',
                                                                 '/etc/fstab']
    assert snapshot(root, kver) == before
    assert not {'virtio_blk', 'virtio_pci'} & modules_in(debian.dracut_initrd_files(root, kver))


def test_dracut_failing_halfway_puts_everything_back(run_module, dracut_tree):
    root, kver = dracut_tree
    # a dracut module that is picked (check 0) and fails in its install step, after the
    # kernel modules and the other dracut modules went into dracut's staging directory
    write_dracut_module(root, FAIL_MODULE,
                        'install() {\n'
                        '    cat /etc/fstab /etc/dracut.conf.d/90-virtops-pv.conf > /%s\n'
                        '    echo "staged: $(find "$initdir" -name \'*.ko*\' | wc -l) modules" >> /%s\n'
                        '    echo "virtopsfail: failed on purpose" >&2\n'
                        '    exit 1\n'
                        '}\n' % (FAIL_SAW, FAIL_SAW))
    before = snapshot(root, kver)
    assert before[PV_CONF] is None and before['boot/initrd.img-%s.pre-pv' % kver] is None

    result = run_module('pv_driver_migrate', params(root))

    assert result.get('failed') and not result.get('changed'), result
    assert result['msg'].startswith('/usr/bin/dracut -f --no-hostonly') and '(rc=1)' in result['msg']
    assert 'virtopsfail: failed on purpose' in result['msg'] and 'put back' in result['msg']
    # dracut ran on the changed tree and failed halfway: the new fstab and conf were in place,
    # kernel modules already staged for the new initrd
    with open(os.path.join(root, FAIL_SAW)) as handle:
        saw = handle.read()
    assert 'UUID=%s' % SWAP_UUID in saw and 'add_drivers+=" virtio_pci virtio_blk "' in saw
    staged = re.search(r'^staged: (\d+) modules$', saw, re.M)
    assert staged and int(staged.group(1)) > 0, saw
    assert snapshot(root, kver) == before


def test_remove_emulated_leaves_the_emulated_drivers_out(run_module, dracut_tree):
    root, kver = dracut_tree
    # dracut does not omit a driver its own configuration names in drivers=, so here the disk
    # drivers come from a dracut module, as dracut's kernel-modules brings them on a generic guest
    with open(os.path.join(root, debian.DRACUT_GUEST_CONF), 'w') as handle:
        handle.write(debian.DRACUT_GUEST_TEXT.replace('ata_piix ata_generic ahci ', ''))
    write_dracut_module(root, ATA_MODULE,
                        'installkernel() { instmods ata_piix ata_generic pata_acpi ahci pata_atiixp; }\n')
    debian.chroot_run(root, ['dracut', '-f', '/tmp/virtops-later.img', kver])
    plain = modules_in(debian.dracut_initrd_files(root, kver, '/tmp/virtops-later.img'))
    # (Debian 12's kernel has no pata_acpi)
    assert {'ata_piix', 'ata_generic', 'ahci', 'pata_atiixp'} <= plain, sorted(plain)

    result = run_module('pv_driver_migrate', params(root, remove_emulated=True))

    assert result['changed'], result.get('msg')
    assert result['plan'][-1]['argv'][-4:] == ['--omit-drivers', 'ata_piix ata_generic pata_acpi ahci',
                                               '/boot/initrd.img-%s' % kver, kver]
    after = modules_in(debian.dracut_initrd_files(root, kver))
    assert {'virtio_blk', 'virtio_pci', 'pata_atiixp'} <= after, sorted(after)
    assert not {'ata_piix', 'ata_generic', 'pata_acpi', 'ahci'} & after, sorted(after)
    with open(os.path.join(root, PV_CONF)) as handle:
        assert 'omit_drivers+=" ata_piix ata_generic pata_acpi ahci "' in handle.read()
    assert run_module('pv_driver_migrate', params(root, remove_emulated=True))['changed'] is False
