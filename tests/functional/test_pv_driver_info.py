"""L1: pv_driver_info on /proc and /sys trees of a guest before and after the switch (root=), and on
the output of the role's pv_evidence.sh (for guests without a usable Python), run in a chroot of such a tree."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'guests'))
import trees  # noqa: E402


def test_seed001_after_reboot_on_xen_pv(run_module, tmp_path):
    trees.running_guest(tmp_path, nics={'eth0': ('xen/vif-0', 'vif')},
                        modules_text='xen_vnif 28481 0 - Live\nxen_vbd 19845 3 - Live\nata_piix 22853 0 - Live\n')
    result = run_module('pv_driver_info', {'root': str(tmp_path), 'target': 'xen'}, check=True)
    assert result['changed'] is False
    assert result['pv_active'] is True and result['problems'] == []
    assert result['root'] == {'device': '/dev/xvda1', 'disks': ['xvda1'], 'bus': 'xen'}
    assert result['swaps'][0] == {'device': '/dev/xvda2', 'type': 'partition', 'bus': 'xen'}
    assert result['nics'] == [{'name': 'eth0', 'driver': 'vif', 'bus': 'xen', 'device': '../../../devices/xen/vif-0'}]
    assert result['emulated_block_modules'] == {'ata_piix': 0}


SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      'roles', 'pv_guest', 'files', 'pv_evidence.sh')


def evidence_in_chroot(root):
    """Run pv_evidence.sh as the guest would (busybox applets, the tree as /), return its output."""
    trees.add_shell(root)
    for applet in ('cat', 'readlink'):
        trees.symlink(root, '/bin/' + applet, 'sh')
    with open(SCRIPT) as handle:
        trees.write(root, '/tmp/pv_evidence.sh', handle.read(), 0o755)
    proc = subprocess.run([shutil.which('chroot'), str(root), '/bin/sh', '/tmp/pv_evidence.sh'], capture_output=True,
                          text=True, env={'PATH': '/bin'}, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_before_the_switch_on_lvm_reports_every_problem_from_script_evidence(run_module, tmp_path):
    trees.running_guest(tmp_path, swap='/dev/sda2', lvm_slaves=['sda3'],
                        nics={'eth0': ('pci0000:00/0000:00:03.0', 'e1000'),
                              'eth1': ('pci0000:00/0000:00:04.0/virtio1', 'virtio_net')},
                        modules_text='ata_piix 22853 3 - Live\n')
    evidence = evidence_in_chroot(tmp_path)
    assert '==link /dev/mapper/vg-root ../dm-0\n' in evidence and '==slaves dm-0 sda3' in evidence
    result = run_module('pv_driver_info', {'evidence': evidence, 'target': 'virtio'})
    assert result['pv_active'] is False
    assert result['root']['disks'] == ['sda3']
    assert result['problems'] == ['/ is on sda3 (emulated bus)', 'swap /dev/sda2 is on the emulated bus',
                                  'eth0 uses the emulated driver e1000',
                                  'the emulated disk driver ata_piix is in use (3 users)']
    assert [n['bus'] for n in result['nics']] == ['emulated', 'virtio']
