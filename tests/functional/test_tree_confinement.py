"""L1: tree confinement through real ansible-playbook runs - a config reached through an absolute
symbolic link is read and edited inside ``root`` (re-rooted, as after a chroot), never on the
machine running the module, and the link stays a link (issue 8, "The tree boundary leaks")."""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'fixtures', 'guests'))
import trees  # noqa: E402

HOST_SECRET = 'alias eth0 HOST-ONLY-DRIVER\n'


def decoy(tmp_path, name, text):
    """A file at an absolute path that exists on this machine, outside the tree."""
    path = tmp_path / 'host' / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_pv_driver_migrate_follows_absolute_links_inside_the_tree(run_module, tmp_path):
    root = tmp_path / 'guest'
    trees.centos53_hvm(root)
    host_conf = decoy(tmp_path, 'modules.conf', HOST_SECRET)
    # the guest's /etc/modules.conf -> <host_conf> (absolute): inside the tree that is <root><host_conf>
    os.unlink(str(root / 'etc/modules.conf'))
    trees.write(root, host_conf, 'alias eth0 8139cp\nalias scsi_hostadapter ata_piix\n')
    trees.symlink(root, '/etc/modules.conf', host_conf)
    # grub.conf itself an absolute link to a file elsewhere in the tree
    grub_text = open(str(root / 'boot/grub/grub.conf')).read()
    os.unlink(str(root / 'boot/grub/grub.conf'))
    trees.write(root, '/etc/grub-real.conf', grub_text, 0o600)
    trees.symlink(root, '/boot/grub/grub.conf', '/etc/grub-real.conf')

    params = {'root': str(root), 'target': 'xen', 'fstab': 'device', 'filesystems': trees.SEED001_FILESYSTEMS}
    result = run_module('pv_driver_migrate', params, check=True, diff=True)
    assert not result.get('failed'), result.get('msg')
    assert 'HOST-ONLY-DRIVER' not in json.dumps(result)

    result = run_module('pv_driver_migrate', params, diff=True)
    assert result['changed'] and not result.get('failed'), result.get('msg')
    assert 'HOST-ONLY-DRIVER' not in json.dumps(result)
    assert open(host_conf).read() == HOST_SECRET                                   # outside: untouched
    assert os.readlink(str(root / 'etc/modules.conf')) == host_conf                 # the link is kept
    assert open(str(root) + host_conf).read() == 'alias eth0 xen-vnif\n'            # its target, in the tree
    assert os.readlink(str(root / 'boot/grub/grub.conf')) == '/etc/grub-real.conf'
    edited = open(str(root / 'etc/grub-real.conf')).read()
    assert edited.startswith(grub_text) and '(xen PV drivers)' in edited
    assert run_module('pv_driver_migrate', params)['changed'] is False


XM = '''name = "g"
builder = "hvm"
disk = [ "file:/var/lib/xen/images/g.img,hda,w" ]
vif = [ "type=ioemu, mac=00:16:3e:5a:1b:2c, bridge=xenbr0" ]
'''


def test_xen_domain_config_through_an_auto_link_keeps_the_link(run_module, tmp_path):
    root = tmp_path / 'dom0'
    host_conf = decoy(tmp_path, 'g.cfg', 'disk = [ "phy:/dev/sda,hda,w" ]\n')
    trees.write(root, host_conf, XM, 0o600)
    trees.symlink(root, '/etc/xen/auto/g', host_conf)
    result = run_module('xen_domain_config', {'root': str(root), 'path': '/etc/xen/auto/g'}, diff=True)
    assert result['changed'] and not result.get('failed'), result.get('msg')
    assert '/dev/sda' not in json.dumps(result)
    assert os.readlink(str(root / 'etc/xen/auto/g')) == host_conf
    assert 'xvda' in open(str(root) + host_conf).read()
    assert open(host_conf).read() == 'disk = [ "phy:/dev/sda,hda,w" ]\n'
