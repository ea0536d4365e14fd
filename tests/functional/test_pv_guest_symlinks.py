"""L1: the pv_guest role (through playbooks/migrate_to_pv.yml) on an offline CentOS 5.3 tree whose
``/etc/fstab`` and ``/etc/modules.conf`` are absolute symbolic links (issue 8, tree confinement).

The links point at ``<sentinel>/etc/...``: followed on this machine they would reach decoy files in a
sentinel directory outside the tree; re-rooted under the tree (as the guest sees them) they reach
``<tree><sentinel>/etc/...``. Nothing outside the tree may change; the files inside the tree are
edited and the links are kept. The writes are pv_driver_migrate's (its tree confinement, see
plugins/module_utils/_common/_files.py resolve_in_root).
"""

import os
import sys

import harness
import treesnap

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'guests'))
import trees  # noqa: E402

PLAYBOOK = os.path.join(harness.TOP, 'playbooks', 'migrate_to_pv.yml')


def test_absolute_links_in_the_guest_tree_are_followed_inside_it(tmp_path):
    guest, running, sentinel = tmp_path / 'guest', tmp_path / 'running', str(tmp_path / 'sentinel')
    trees.centos53_hvm(guest)
    trees.running_guest(running, root_device='/dev/hda1', swap='/dev/hda2',
                        nics={'eth0': ('pci0000:00/0000:00:03.0', '8139cp')}, modules_text='ata_piix 22853 2 - Live\n')
    originals = {}
    for path in ('/etc/fstab', '/etc/modules.conf'):
        with open(str(guest) + path) as handle:
            originals[path] = handle.read()
        inside = str(guest) + sentinel + path
        os.makedirs(os.path.dirname(inside), exist_ok=True)
        os.rename(str(guest) + path, inside)
        os.symlink(sentinel + path, str(guest) + path)
        os.makedirs(os.path.dirname(sentinel + path), exist_ok=True)
        with open(sentinel + path, 'w') as handle:
            handle.write(originals[path])
    outside_before = treesnap.snapshot(sentinel)
    extra = {'pv_guests': 'localhost', 'pv_guest_target': 'xen', 'pv_guest_root': str(guest),
             'pv_guest_fstab': 'device', 'pv_guest_filesystems': trees.SEED001_FILESYSTEMS,
             'pv_guest_verify_root': str(running), 'pv_guest_backup': False}
    proc = harness.run_playbook(PLAYBOOK, extra_vars=extra)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert treesnap.changes(outside_before, treesnap.snapshot(sentinel)) == []
    for path in ('/etc/fstab', '/etc/modules.conf'):
        assert os.readlink(str(guest) + path) == sentinel + path, path
    with open(str(guest) + sentinel + '/etc/fstab') as handle:
        assert handle.read() == trees.SEED001_FSTAB_AFTER
    with open(str(guest) + sentinel + '/etc/modules.conf') as handle:
        modules_conf = handle.read()
    assert modules_conf != originals['/etc/modules.conf'] and 'xen' in modules_conf
