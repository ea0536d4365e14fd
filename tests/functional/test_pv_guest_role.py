"""L1: the pv_guest role through the migrate_to_pv playbook on fixture trees, in the order
of runbook 001: guest step, hypervisor step (xm config), reboot owed; after the "reboot"
(the test switches the /proc and /sys tree to the PV state): verification and second pass.
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'guests'))
import harness  # noqa: E402
import trees  # noqa: E402

PLAYBOOK = os.path.join(harness.TOP, 'playbooks', 'migrate_to_pv.yml')
XM = 'name = "centos53"\nbuilder = "hvm"\ndisk = [ "file:/var/lib/xen/images/centos53.img,hda,w" ]\n' \
     'vif = [ "type=ioemu, mac=00:16:3e:5a:1b:2c, bridge=xenbr0" ]\n'


def setup(tmp_path):
    guest, running = tmp_path / 'guest', tmp_path / 'running'
    trees.centos53_hvm(guest)
    # the running guest before the switch: on hda and 8139cp
    trees.running_guest(running, root_device='/dev/hda1', swap='/dev/hda2',
                        nics={'eth0': ('pci0000:00/0000:00:03.0', '8139cp')}, modules_text='ata_piix 22853 2 - Live\n')
    xm = tmp_path / 'centos53.cfg'
    xm.write_text(XM)
    extra = {'pv_guests': 'localhost', 'pv_guest_target': 'xen', 'pv_guest_root': str(guest),
             'pv_guest_fstab': 'device', 'pv_guest_filesystems': trees.SEED001_FILESYSTEMS,
             'pv_guest_hypervisor': 'localhost', 'pv_guest_hypervisor_type': 'xen_config',
             'pv_guest_xen_config': str(xm), 'pv_guest_verify_root': str(running),
             'pv_guest_second_pass': True, 'pv_guest_backup': False}
    return guest, running, xm, extra


def play(extra, check=False):
    proc = harness.run_playbook(PLAYBOOK, check=check, extra_vars=extra)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc.stdout


def test_role_check_mode_changes_nothing(tmp_path):
    guest, running, xm, extra = setup(tmp_path)
    before = trees.snapshot(guest)
    out = play(extra, check=True)
    assert trees.snapshot(guest) == before and xm.read_text() == XM
    assert 'has been prepared; shut the domain down' in out


def test_role_runbook001_order_first_run_then_after_reboot(tmp_path):
    guest, running, xm, extra = setup(tmp_path)
    out = play(extra)
    # first run: the guest step and the hypervisor step, then a reboot is owed, no verification yet
    assert trees.recorded(guest) == [['/sbin/mkinitrd', '--preload=xen_vbd',
                                      '/boot/initrd-2.6.18-128.el5.pv.img', '2.6.18-128.el5']]
    assert (guest / 'etc' / 'fstab').read_text() == trees.SEED001_FSTAB_AFTER
    assert '"tap:aio:/var/lib/xen/images/centos53.img,xvda,w!"' in xm.read_text()
    assert 'has been prepared; shut the domain down' in out
    assert 'Check that the guest runs on the paravirtual devices' not in out

    # the operator power-cycles the domain: the guest now runs on xvda and xen-vnif
    shutil.rmtree(str(running))
    trees.running_guest(running, nics={'eth0': ('xen/vif-0', 'vif')}, modules_text='xen_vbd 19845 3 - Live\n')
    out = play(extra)
    # no first pass again; verified; second pass: no ata_piix, back to LABEL=
    assert (guest / 'etc' / 'fstab').read_text() == trees.SEED001_FSTAB_FINAL
    assert '--builtin=ata_piix' in trees.recorded(guest)[-1]
    assert 'Check that the guest runs on the paravirtual devices' in out
    out = play(extra)
    assert 'changed=0' in out and len(trees.recorded(guest)) == 2
