"""Issue 8, item 6: the project's own bad-input matrix (L1, run by ansible-playbook).

Every module of the collection and the two file-editing roles (iommu_host, pv_guest) get
bad inputs and faults. Each case asserts either a clean failure (the module failed, no
traceback, the message names the option and, for a bad value, the value) or the correct
result, and for every failure: the whole tree (content, owner, mode, links, file set) is
unchanged and no temp or backup file is left. A sentinel directory outside every tree
(reached by absolute symlinks planted in the trees) must never change and its content
must never show up in a result.

Cases are data (the tables below, one per class). To keep CI fast every module case runs
as one task of ONE playbook (``ignore_errors``, results saved at the end), every role case
as one inventory host of one more playbook; only "two runs at once" runs on its own.

Stand-in tools (run by the modules in a chroot of the tree, with a static busybox as
``/bin/sh``): a good initrd tool that writes a real gzip'd cpio with the drivers, one that
fails after writing half an output, one that hangs, one that exits 0 without output, one
that writes garbage; grubby / grub2-mkconfig that fail, hang, or exit 0 doing nothing.
Read-only trees are read-only bind mounts; full trees a 64 KiB tmpfs on ``/boot`` or
``/etc/xen``. libvirt cases use libvirt's test driver (no daemon, no guest).
"""

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import pytest

import harness
import treesnap

sys.path.insert(0, os.path.join(harness.TOP, 'tests', 'fixtures', 'guests'))
sys.path.insert(0, os.path.join(harness.TOP, 'tests', 'fixtures', 'boot'))
sys.path.insert(0, os.path.join(harness.TOP, 'tests', 'fixtures', 'nodedev'))

import boot_trees as bt  # noqa: E402
import nodedev_fixture  # noqa: E402
import trees  # noqa: E402

K5 = '2.6.18-128.el5'
MARKER = 'SENTINEL-OUTSIDE-THE-TREE'
SEED001 = {'target': 'xen', 'fstab': 'device', 'filesystems': trees.SEED001_FILESYSTEMS}
TEST_URI = 'test:///default'
XM = trees.XM_SEED001
LONG = 'x' * 5000
# ansible-core's own message for a string given where a dict is wanted does not name the option
ANSIBLE_DICT = 'dictionary requested, could not parse JSON or key=value'
# an Ansible task timeout on every tree case: a tool that hangs for ever must not hang the suite
SAFETY_TIMEOUT = 90
# module cases run on this many local inventory hosts at once (strategy free)
HOSTS = 4


# --------------------------------------------------------------------------------------------
# stand-in tools (busybox sh in a chroot of the tree)

_FIND_OUTPUT = '''out=""; prev=""; last=""; after_i=""
for word in "$@"; do
    if [ "$after_i" = 1 ]; then out="$word"; after_i=""; fi
    [ "$word" = "-i" ] && after_i=1
    prev="$last"; last="$word"
done
[ -n "$out" ] || out="$prev"
'''
INITRD_TOOL = {
    'good': '/bin/cat /var/lib/matrix/good-initrd.img > "$out"\nexit 0\n',
    'fail': 'echo partial > "$out"\necho "stand-in: simulated failure halfway" >&2\nexit 1\n',
    'hang': 'echo partial > "$out"\nexec /bin/sleep 30\n',
    'empty': 'exit 0\n',
    'garbage': 'echo "not an initrd" > "$out"\nexit 0\n',
    'slow': '/bin/sleep 4\n/bin/cat /var/lib/matrix/good-initrd.img > "$out"\nexit 0\n',
}
BOOT_TOOL = {
    'fail': 'echo "stand-in: simulated grub failure" >&2\nexit 3\n',
    'hang': 'exec /bin/sleep 30\n',
    'noop': 'exit 0\n',
}


def initrd_tool_script(mode):
    return '#!/bin/sh\n# matrix stand-in initrd tool: %s\n%s%s' % (mode, _FIND_OUTPUT, INITRD_TOOL[mode])


def add_busybox(root, *applets):
    """/bin/sh (a copy of the static busybox) and hard links for ``applets`` (busybox runs by name)."""
    trees.add_shell(root)
    shell = os.path.join(str(root), 'bin', 'sh')
    for applet in applets:
        dest = os.path.join(str(root), 'bin', applet)
        if not os.path.lexists(dest):
            os.link(shell, dest)


def good_initrd(modules, kvers=()):
    """A gzip'd newc cpio holding ``<module>.ko`` in the EL5 layout and below lib/modules/<kver>."""
    names = ['init'] + ['lib/%s.ko' % m for m in modules]
    for kver in kvers:
        names += ['lib/modules/%s/kernel/drivers/%s.ko' % (kver, m) for m in modules]
    return gzip.compress(trees.cpio_newc(names))


# --------------------------------------------------------------------------------------------
# trees: builder(dest, sentinel) writes a tree; mounts are returned for the teardown


def c5(dest, sentinel, tool='good'):
    """CentOS 5.3 HVM guest (runbook 001) whose mkinitrd is a matrix stand-in."""
    trees.centos53_hvm(dest)
    add_busybox(dest, 'cat', 'sleep')
    trees.write(dest, '/var/lib/matrix/good-initrd.img',
                good_initrd(['xen-vbd', 'xen-vnif', 'xen-platform-pci', 'xen-balloon', 'xen_vbd', 'xen_vnif',
                             'ata_piix', 'ext3', 'jbd'], [K5]))
    trees.write(dest, '/sbin/mkinitrd', initrd_tool_script(tool), 0o755)


def rhel6(dest, sentinel, tool='good'):
    """RHEL 6 guest: dracut (a matrix stand-in), two kernels, UUID= fstab."""
    facts = trees.rhel6(dest)
    add_busybox(dest, 'cat', 'sleep')
    trees.write(dest, '/var/lib/matrix/good-initrd.img', good_initrd(
        ['virtio_pci', 'virtio_blk', 'virtio_net', 'virtio_scsi', 'virtio', 'virtio_ring', 'ext4', 'ahci',
         'ata_piix', 'e1000'], [facts['kver'], facts['old']]))
    trees.write(dest, '/sbin/dracut', initrd_tool_script(tool), 0o755)
    trees.write(dest, '/sbin/mkinitrd', initrd_tool_script(tool), 0o755)


def rhel3(dest, sentinel):
    trees.rhel3(dest)


def xen(dest, sentinel):
    trees.write(dest, '/etc/xen/guest', XM, 0o600)


def boot_tree(dest, name, tools=None):
    """One of tests/fixtures/boot's trees without its chroot mounts; ``tools`` replace its tools."""
    spec = bt.TREES[name]
    for path, text in spec['files'].items():
        bt.write(dest, path, text)
    for path in spec.get('dirs', []):
        os.makedirs(bt.host(dest, path), exist_ok=True)
    for path, target in spec.get('links', {}).items():
        os.makedirs(os.path.dirname(bt.host(dest, path)), exist_ok=True)
        os.symlink(target, bt.host(dest, path))
    for path, text in (tools or {}).items():
        bt.write(dest, path, text, 0o755)
    if tools:
        add_busybox(dest, 'sleep')


def grub_legacy(dest, sentinel):
    boot_tree(dest, 'centos5')


def grub_el8(mode):
    def build(dest, sentinel):
        boot_tree(dest, 'el8_bls', {'/sbin/grubby': '#!/bin/sh\n' + BOOT_TOOL[mode]})
    return build


def grub_el7(mode):
    def build(dest, sentinel):
        boot_tree(dest, 'el7_bios', {'/sbin/grub2-mkconfig': '#!/bin/sh\n' + BOOT_TOOL[mode]})
    return build


def with_tool(builder, tool):
    def build(dest, sentinel):
        builder(dest, sentinel, tool=tool)
    return build


def crlf(builder, paths):
    """``builder``'s tree with ``paths`` rewritten with CRLF line endings."""
    def build(dest, sentinel):
        builder(dest, sentinel)
        for path in paths:
            full = os.path.join(dest, path.lstrip('/'))
            with open(full, 'rb') as handle:
                data = handle.read()
            with open(full, 'wb') as handle:
                handle.write(data.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n'))
    return build


def xen_crlf(dest, sentinel):
    trees.write(dest, '/etc/xen/guest', XM.replace('\n', '\r\n'), 0o600)


def chmod(builder, path, mode):
    def build(dest, sentinel):
        builder(dest, sentinel)
        os.chmod(os.path.join(dest, path.lstrip('/')), mode)
    return build


def relink(builder, path, target, copy_inside=None):
    """``builder``'s tree with ``path`` replaced by a symlink to ``target`` (``@SENT@`` = the sentinel).

    ``copy_inside``: also put the old content of ``path`` at the link's target re-rooted under the tree.
    """
    def build(dest, sentinel):
        builder(dest, sentinel)
        full = os.path.join(dest, path.lstrip('/'))
        real = target.replace('@SENT@', sentinel)
        if copy_inside is not None:
            inside = os.path.join(dest, real.lstrip('/'))
            os.makedirs(os.path.dirname(inside), exist_ok=True)
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.copytree(full, inside)
            else:
                shutil.copy2(full, inside)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        elif os.path.lexists(full):
            os.unlink(full)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        os.symlink(real, full)
    return build


def readonly(builder):
    """``builder``'s tree, bind-mounted read-only over itself."""
    def build(dest, sentinel):
        builder(dest, sentinel)
        subprocess.run(['mount', '--bind', dest, dest], check=True)
        subprocess.run(['mount', '-o', 'remount,ro,bind', dest], check=True)
        return [dest]
    return build


def full(builder, directory):
    """``builder``'s tree with ``directory`` on a 64 KiB tmpfs filled up to the last byte."""
    def build(dest, sentinel):
        builder(dest, sentinel)
        where = os.path.join(dest, directory.lstrip('/'))
        saved = where + '.matrix-saved'
        os.rename(where, saved)
        os.makedirs(where)
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=256k,mode=0755', 'matrix-full', where], check=True)
        for name in os.listdir(saved):
            src = os.path.join(saved, name)
            if os.path.isdir(src) and not os.path.islink(src):
                shutil.copytree(src, os.path.join(where, name), symlinks=True)
            else:
                shutil.copy2(src, os.path.join(where, name), follow_symlinks=False)
        shutil.rmtree(saved)
        for name in ('filler', 'filler2'):
            try:
                with open(os.path.join(where, name), 'wb') as handle:
                    while True:
                        handle.write(b'\0' * (4096 if name == 'filler' else 1))
                        handle.flush()
            except OSError:
                pass
        return [where]
    return build


def xen_auto_link(dest, sentinel):
    """The config reached through /etc/xen/auto/guest -> ../guest (a link inside the tree)."""
    xen(dest, sentinel)
    trees.symlink(dest, '/etc/xen/auto/guest', '../guest')


def modules_conf_abs_inside(dest, sentinel):
    """/etc/modules.conf -> /etc/modules.conf.real: an absolute link that resolves inside the tree."""
    c5(dest, sentinel)
    os.rename(os.path.join(dest, 'etc/modules.conf'), os.path.join(dest, 'etc/modules.conf.real'))
    os.symlink('/etc/modules.conf.real', os.path.join(dest, 'etc/modules.conf'))


def iommu_host_tree(dest, sentinel):
    boot_tree(dest, 'centos5')


# --------------------------------------------------------------------------------------------
# the tables: (id, module, tree, args, expectation[, task options])
# args: '@ROOT@' is the case's tree, '@SENT@' the sentinel directory; expectation: OK,
# FAIL(word, ...) (a word may be a tuple of alternatives) or EITHER(word, ...) (a clean
# refusal naming these, or a success that passes the case's extra check).

def OK():
    return ('ok', ())


def FAIL(*words):
    return ('fail', words)


def EITHER(*words):
    return ('either', words)


def pvm(**kw):
    out = dict(SEED001, root='@ROOT@')
    out.update(kw)
    return out


def xcfg(**kw):
    out = {'root': '@ROOT@', 'path': '/etc/xen/guest'}
    out.update(kw)
    return out


def grub(**kw):
    out = {'root': '@ROOT@', 'args': ['intel_iommu=on', 'iommu=pt']}
    out.update(kw)
    return out


INJECTION = [
    # pv_driver_migrate: disk_map values and keys reach fstab, device.map and the boot entry
    ('pvm-diskmap-semicolon', 'pv_driver_migrate', c5, pvm(disk_map={'hda': 'xvda; rm -rf /'}),
     FAIL('disk_map', 'xvda; rm -rf /')),
    ('pvm-diskmap-dotdot', 'pv_driver_migrate', c5, pvm(disk_map={'hda': '../sda'}), FAIL('disk_map', '../sda')),
    ('pvm-diskmap-newline', 'pv_driver_migrate', c5,
     pvm(disk_map={'hda': 'xvda\n/dev/sdb1 / ext3 defaults 1 1'}), FAIL('disk_map', 'xvda')),
    ('pvm-diskmap-quote-comma', 'pv_driver_migrate', c5, pvm(disk_map={'hda': 'xvda,w!", "phy:/dev/sda'}),
     FAIL('disk_map', 'phy:/dev/sda')),
    ('pvm-diskmap-space', 'pv_driver_migrate', c5, pvm(disk_map={'hda': 'xv da'}), FAIL('disk_map', 'xv da')),
    ('pvm-diskmap-subshell', 'pv_driver_migrate', c5, pvm(disk_map={'hda': '$(reboot)'}),
     FAIL('disk_map', '$(reboot)')),
    ('pvm-diskmap-backtick', 'pv_driver_migrate', c5, pvm(disk_map={'hda': '`reboot`'}),
     FAIL('disk_map', '`reboot`')),
    ('pvm-diskmap-long', 'pv_driver_migrate', c5, pvm(disk_map={'hda': 'xvd' + 'a' * 300}), FAIL('disk_map')),
    ('pvm-diskmap-control', 'pv_driver_migrate', c5, pvm(disk_map={'hda': 'xvda\x07'}), FAIL('disk_map', 'xvda')),
    ('pvm-diskmap-key-semicolon', 'pv_driver_migrate', c5, pvm(disk_map={'hda; rm': 'xvda'}),
     FAIL('disk_map', 'hda; rm')),
    ('pvm-diskmap-key-dotdot', 'pv_driver_migrate', c5, pvm(disk_map={'../hda': 'xvda'}),
     FAIL('disk_map', '../hda')),
    ('pvm-diskmap-partition', 'pv_driver_migrate', c5, pvm(disk_map={'hda': 'xvda/1'}), FAIL('disk_map', 'xvda/1')),
    ('pvm-uuid-newline', 'pv_driver_migrate', c5,
     pvm(fstab='uuid', filesystems=[{'device': '/dev/hda1', 'uuid': 'c0ffee\n/dev/sdb1 / ext3 defaults 1 1'}]),
     FAIL('filesystems', 'uuid', 'c0ffee')),
    ('pvm-uuid-semicolon', 'pv_driver_migrate', c5,
     pvm(fstab='uuid', filesystems=[{'device': '/dev/hda1', 'uuid': 'c0ffee;reboot'}]),
     FAIL('filesystems', 'uuid', 'c0ffee;reboot')),
    ('pvm-uuid-space', 'pv_driver_migrate', c5,
     pvm(fstab='uuid', filesystems=[{'device': '/dev/hda1', 'uuid': 'c0ffee / ext3'}]),
     FAIL('filesystems', 'uuid', 'c0ffee / ext3')),
    ('pvm-label-space', 'pv_driver_migrate', c5,
     pvm(fstab='label', filesystems=[{'device': '/dev/hda1', 'label': 'my root'}]), EITHER('label', 'my root')),
    ('pvm-label-quote', 'pv_driver_migrate', c5,
     pvm(fstab='label', filesystems=[{'device': '/dev/hda1', 'label': 'my"root'}]), EITHER('label', 'my"root')),
    ('pvm-label-newline', 'pv_driver_migrate', c5,
     pvm(fstab='label', filesystems=[{'device': '/dev/hda1', 'label': 'root\n/dev/sdb1 / ext3 defaults 0 0'}]),
     FAIL('filesystems', 'label')),
    ('pvm-label-long', 'pv_driver_migrate', c5,
     pvm(fstab='label', filesystems=[{'device': '/dev/hda1', 'label': 'L' * 300}]), FAIL('filesystems', 'label')),
    ('pvm-fsdevice-dotdot', 'pv_driver_migrate', c5,
     pvm(filesystems=[{'device': '/dev/../etc/passwd', 'label': '/'}]), FAIL('filesystems', 'device')),
    ('pvm-fsdevice-semicolon', 'pv_driver_migrate', c5,
     pvm(filesystems=[{'device': '/dev/hda1; reboot', 'label': '/'}]), FAIL('filesystems', 'device', 'reboot')),
    ('pvm-legacy-semicolon', 'pv_driver_migrate', rhel3,
     {'root': '@ROOT@', 'target': 'xen', 'kernel': ['2.4.21-52.EL'], 'legacy_disks': ['xvdb; reboot']},
     FAIL('legacy_disks', 'xvdb; reboot')),
    ('pvm-legacy-dotdot', 'pv_driver_migrate', rhel3,
     {'root': '@ROOT@', 'target': 'xen', 'kernel': ['2.4.21-52.EL'], 'legacy_disks': ['../../etc/xvdb']},
     FAIL('legacy_disks', '../../etc/xvdb')),
    ('pvm-legacy-subshell', 'pv_driver_migrate', rhel3,
     {'root': '@ROOT@', 'target': 'xen', 'kernel': ['2.4.21-52.EL'], 'legacy_disks': ['xvdb$(id)']},
     FAIL('legacy_disks', 'xvdb$(id)')),
    ('pvm-legacy-newline', 'pv_driver_migrate', rhel3,
     {'root': '@ROOT@', 'target': 'xen', 'kernel': ['2.4.21-52.EL'], 'legacy_disks': ['xvdb\nreboot']},
     FAIL('legacy_disks', 'xvdb')),
    ('pvm-legacy-space', 'pv_driver_migrate', rhel3,
     {'root': '@ROOT@', 'target': 'xen', 'kernel': ['2.4.21-52.EL'], 'legacy_disks': ['xv db']},
     FAIL('legacy_disks', 'xv db')),
    ('pvm-legacy-not-xvd', 'pv_driver_migrate', rhel3,
     {'root': '@ROOT@', 'target': 'xen', 'kernel': ['2.4.21-52.EL'], 'legacy_disks': ['sda']},
     FAIL('legacy_disks', 'sda')),
    ('pvm-kernel-dotdot', 'pv_driver_migrate', c5, pvm(kernel=['../../etc']), FAIL('kernel', '../../etc')),
    ('pvm-kernel-semicolon', 'pv_driver_migrate', c5, pvm(kernel=[K5 + '; reboot']), FAIL('kernel', 'reboot')),
    ('pvm-kernel-newline', 'pv_driver_migrate', c5, pvm(kernel=[K5 + '\nx']), FAIL('kernel')),
    ('pvm-kernel-abspath', 'pv_driver_migrate', c5, pvm(kernel=['/boot/vmlinuz']), FAIL('kernel', '/boot/vmlinuz')),
    # xen_domain_config: disk_map and path reach the dom0 domain file
    ('xen-diskmap-quote-comma', 'xen_domain_config', xen, xcfg(disk_map={'hda': 'xvda,w!", "phy:/dev/sda,xvdb,w'}),
     FAIL('disk_map', 'phy:/dev/sda')),
    ('xen-diskmap-semicolon', 'xen_domain_config', xen, xcfg(disk_map={'hda': 'xvda; rm -rf /'}),
     FAIL('disk_map', 'xvda; rm -rf /')),
    ('xen-diskmap-dotdot', 'xen_domain_config', xen, xcfg(disk_map={'hda': '../sda'}), FAIL('disk_map', '../sda')),
    ('xen-diskmap-newline', 'xen_domain_config', xen,
     xcfg(disk_map={'hda': 'xvda\nbootloader = "/tmp/evil"'}), FAIL('disk_map', 'xvda')),
    ('xen-diskmap-single-quote', 'xen_domain_config', xen, xcfg(disk_map={'hda': "xvda' ]"}),
     FAIL('disk_map', "xvda' ]")),
    ('xen-diskmap-long', 'xen_domain_config', xen, xcfg(disk_map={'hda': 'xvd' + 'b' * 300}), FAIL('disk_map')),
    ('xen-diskmap-subshell', 'xen_domain_config', xen, xcfg(disk_map={'hda': '$(reboot)'}),
     FAIL('disk_map', '$(reboot)')),
    ('xen-diskmap-key', 'xen_domain_config', xen, xcfg(disk_map={'hda,w" ]': 'xvda'}), FAIL('disk_map', 'hda,w')),
    ('xen-path-dotdot', 'xen_domain_config', xen, xcfg(path='../../etc/passwd'), FAIL('path', '../../etc/passwd')),
    ('xen-path-dotdot-abs', 'xen_domain_config', xen, xcfg(path='/etc/xen/../../../../tmp/x'),
     FAIL('path', '/tmp/x')),
    ('xen-path-newline', 'xen_domain_config', xen, xcfg(path='/etc/xen/guest\nx'), FAIL('path')),
    # iommu_grub: kernel arguments reach every boot entry
    ('grub-args-semicolon', 'iommu_grub', grub_legacy, grub(args=['intel_iommu=on;reboot']),
     FAIL('args', 'intel_iommu=on;reboot')),
    ('grub-args-newline', 'iommu_grub', grub_legacy, grub(args=['iommu=pt\ntitle evil']), FAIL('args', 'iommu=pt')),
    ('grub-args-subshell', 'iommu_grub', grub_legacy, grub(args=['$(reboot)']), FAIL('args', '$(reboot)')),
    ('grub-args-backtick', 'iommu_grub', grub_legacy, grub(args=['`reboot`']), FAIL('args', '`reboot`')),
    ('grub-args-quote-space', 'iommu_grub', grub_legacy, grub(args=['foo="a b"']), FAIL('args', 'foo=')),
    ('grub-args-single-quote', 'iommu_grub', grub_legacy, grub(args=["iommu=pt'"]), FAIL('args', "iommu=pt'")),
    ('grub-args-tab', 'iommu_grub', grub_legacy, grub(args=['iommu=pt\tquiet']), FAIL('args', 'iommu=pt')),
    ('grub-args-long', 'iommu_grub', grub_legacy, grub(args=['foo=' + LONG]), FAIL('args')),
    ('grub-removeargs-semicolon', 'iommu_grub', grub_legacy, grub(remove_args=['intel_iommu=off;reboot']),
     FAIL('remove_args', 'intel_iommu=off;reboot')),
    ('grub-removeargs-newline', 'iommu_grub', grub_legacy, grub(remove_args=['quiet\nx']), FAIL('remove_args')),
    ('grub-args-and-removeargs', 'iommu_grub', grub_legacy, grub(args=['iommu=pt'], remove_args=['iommu=pt']),
     FAIL('remove_args', 'iommu=pt')),
]

WRONG_TYPE = [
    ('pvm-diskmap-string', 'pv_driver_migrate', c5, pvm(disk_map='hda'), FAIL('disk_map')),
    ('pvm-diskmap-value-list', 'pv_driver_migrate', c5, pvm(disk_map={'hda': ['xvda', 'xvdb']}), FAIL('disk_map')),
    ('pvm-diskmap-value-dict', 'pv_driver_migrate', c5, pvm(disk_map={'hda': {'x': 1}}), FAIL('disk_map')),
    ('pvm-diskmap-value-int', 'pv_driver_migrate', c5, pvm(disk_map={'hda': 5}), FAIL('disk_map')),
    ('pvm-filesystems-string', 'pv_driver_migrate', c5, pvm(filesystems='dev'), FAIL(('filesystems', ANSIBLE_DICT))),
    ('pvm-fsdevice-list', 'pv_driver_migrate', c5, pvm(filesystems=[{'device': ['a', 'b'], 'label': '/'}]),
     FAIL('device')),
    ('pvm-legacy-dict', 'pv_driver_migrate', rhel3,
     {'root': '@ROOT@', 'target': 'xen', 'kernel': ['2.4.21-52.EL'], 'legacy_disks': {'a': 1}},
     FAIL('legacy_disks')),
    ('pvm-kernel-dict', 'pv_driver_migrate', c5, pvm(kernel={'a': 'b'}), FAIL('kernel')),
    ('pvm-target-list', 'pv_driver_migrate', c5, pvm(target=['xen']), FAIL('target')),
    ('xen-diskmap-string', 'xen_domain_config', xen, xcfg(disk_map='hda'), FAIL('disk_map')),
    ('xen-diskmap-value-list', 'xen_domain_config', xen, xcfg(disk_map={'hda': ['xvda']}), FAIL('disk_map')),
    ('xen-path-list', 'xen_domain_config', xen, xcfg(path=['/etc/xen/guest', '/etc/passwd']), FAIL('path')),
    ('grub-args-dict-element', 'iommu_grub', grub_legacy, grub(args=[{'a': 1}]), FAIL('args')),
    ('grub-backup-maybe', 'iommu_grub', grub_legacy, grub(backup='maybe'), FAIL('backup', 'maybe')),
    ('grub-args-string-ok', 'iommu_grub', grub_legacy, grub(args='iommu=pt'), OK()),
    ('pvd-diskmap-value-list', 'virt_pv_domain', None, {'uri': TEST_URI, 'name': 'test', 'disk_map': {'hda': ['vda']}},
     FAIL('disk_map')),
    ('pvd-timeout-string', 'virt_pv_domain', None, {'uri': TEST_URI, 'name': 'test', 'shutdown_timeout': 'x'},
     FAIL('shutdown_timeout')),
    ('hostdev-vlan-string', 'virt_hostdev', 'node',
     {'name': 'web01', 'devices': ['0000:03:10.0'], 'as_interface': True, 'vlan': 'x'}, FAIL(('vlan', ANSIBLE_DICT))),
    ('hostdev-vlan-tag-string', 'virt_hostdev', 'node',
     {'name': 'web01', 'devices': ['0000:03:10.0'], 'as_interface': True, 'vlan': {'tags': ['x']}}, FAIL('tags')),
    ('hostdev-devices-dict', 'virt_hostdev', 'node', {'name': 'web01', 'devices': {'a': 1}}, FAIL('devices')),
    ('hostdev-mac-dict', 'virt_hostdev', 'node',
     {'name': 'web01', 'devices': ['0000:03:10.0'], 'as_interface': True, 'mac': {'a': 1}}, FAIL('mac')),
    ('hotplug-disks-string', 'virt_disk_hotplug', None, {'uri': TEST_URI, 'name': 'test', 'disks': 'x'},
     FAIL(('disks', ANSIBLE_DICT))),
    ('hotplug-source-list', 'virt_disk_hotplug', None,
     {'uri': TEST_URI, 'name': 'test', 'disks': [{'source': ['/a', '/b']}]}, FAIL('source')),
    ('pvinfo-checkroot-maybe', 'pv_driver_info', None, {'root': '/nonexistent', 'check_root': 'maybe'},
     FAIL('check_root', 'maybe')),
    ('hostinfo-flag-sometimes', 'virt_host_info', None, {'uri': TEST_URI, 'fail_when_unreachable': 'sometimes'},
     FAIL('fail_when_unreachable', 'sometimes')),
    ('pciinfo-address-dict', 'virt_pci_info', 'node', {'address': {'x': 1}}, FAIL('address')),
    ('pciinfo-class-dict-element', 'virt_pci_info', 'node', {'class': [{'x': 1}]}, FAIL('class')),
]

UNKNOWN_NAME = [
    ('pvd-domain-unknown', 'virt_pv_domain', None, {'uri': TEST_URI, 'name': 'nope-matrix'}, FAIL('nope-matrix')),
    ('hotplug-domain-unknown', 'virt_disk_hotplug', None,
     {'uri': TEST_URI, 'name': 'nope-matrix', 'disks': [{'source': '/var/lib/libvirt/images/x.img'}]},
     FAIL('nope-matrix')),
    ('hostdev-domain-unknown', 'virt_hostdev', 'node', {'name': 'nope-matrix', 'devices': ['0000:05:00.0']},
     FAIL('nope-matrix')),
    ('hostdev-pci-unknown', 'virt_hostdev', 'node', {'name': 'web01', 'devices': ['0000:09:00.0']},
     FAIL('0000:09:00.0')),
    ('hostdev-pci-injection', 'virt_hostdev', 'node', {'name': 'web01', 'devices': ['0000:01:00.0;reboot']},
     FAIL('0000:01:00.0;reboot')),
    ('hostdev-pci-dotdot', 'virt_hostdev', 'node', {'name': 'web01', 'devices': ['../../../etc']},
     FAIL('../../../etc')),
    ('hostdev-pool-unknown', 'virt_hostdev', 'node', {'name': 'web01', 'network': 'nopool-matrix'},
     FAIL('nopool-matrix')),
    ('pciinfo-address-dotdot', 'virt_pci_info', 'node', {'address': ['../../sys']}, FAIL('address', '../../sys')),
    ('pciinfo-address-malformed', 'virt_pci_info', 'node', {'address': ['0000:01:00']},
     FAIL('address', '0000:01:00')),
    ('pciinfo-ok', 'virt_pci_info', 'node', {'address': ['01:00.0']}, OK()),
    ('net-pf-unknown', 'virt_hostdev_network', 'node', {'name': 'vfpool0', 'pf': 'eth9'}, FAIL('eth9')),
    ('net-pf-injection', 'virt_hostdev_network', 'node', {'name': 'vfpool0', 'pf': 'enp3s0f0; reboot'},
     FAIL('pf', 'enp3s0f0; reboot')),
    ('net-pf-dotdot', 'virt_hostdev_network', 'node', {'name': 'vfpool0', 'pf': '../../../etc'},
     FAIL('pf', '../../../etc')),
    ('net-name-slash', 'virt_hostdev_network', 'node', {'name': 'pool/../x', 'pf': 'enp3s0f0'},
     FAIL('name', 'pool/../x')),
    ('hostinfo-uri-unreachable', 'virt_host_info', None,
     {'uri': 'test:///nonexistent-matrix/host.xml', 'fail_when_unreachable': True}, FAIL('nonexistent-matrix')),
    ('pvm-kernel-unknown', 'pv_driver_migrate', c5, pvm(kernel=['9.9.9-matrix']), FAIL('kernel', '9.9.9-matrix')),
    ('pvm-root-missing', 'pv_driver_migrate', None, pvm(root='/nonexistent-matrix-root'),
     FAIL('root', '/nonexistent-matrix-root')),
    ('grub-root-missing', 'iommu_grub', None, grub(root='/nonexistent-matrix-root'),
     FAIL('/nonexistent-matrix-root')),
    ('xen-path-missing', 'xen_domain_config', xen, xcfg(path='/etc/xen/missing-matrix'),
     FAIL('path', '/etc/xen/missing-matrix')),
    ('pvinfo-root-missing', 'pv_driver_info', None, {'root': '/nonexistent-matrix-root'},
     FAIL('/nonexistent-matrix-root')),
    ('hotplug-target-dotdot', 'virt_disk_hotplug', None,
     {'uri': TEST_URI, 'name': 'test', 'disks': [{'source': '@DISK@', 'target': '../sda'}]},
     FAIL('target', '../sda')),
    ('hotplug-source-relative', 'virt_disk_hotplug', None,
     {'uri': TEST_URI, 'name': 'test', 'disks': [{'source': 'images/x.img'}]}, FAIL('source', 'images/x.img')),
]

NUMERIC = [
    ('hostdev-vlan-4096', 'virt_hostdev', 'node',
     {'name': 'web01', 'devices': ['0000:03:10.0'], 'as_interface': True, 'vlan': {'tags': [4096]}},
     FAIL('4096')),
    ('hostdev-vlan-negative', 'virt_hostdev', 'node',
     {'name': 'web01', 'devices': ['0000:03:10.0'], 'as_interface': True, 'vlan': {'tags': [-1]}}, FAIL('-1')),
    ('hostdev-vlan-native-5000', 'virt_hostdev', 'node',
     {'name': 'web01', 'devices': ['0000:03:10.0'], 'as_interface': True, 'vlan': {'tags': [5, 6], 'native': 5000}},
     FAIL('5000')),
    ('hostdev-vlan-4095-ok', 'virt_hostdev', 'node',
     {'name': 'app01', 'devices': ['0000:03:10.0'], 'as_interface': True, 'vlan': {'tags': [4095]}}, OK(),
     {'check_mode': True}),
    ('hostdev-mac-malformed', 'virt_hostdev', 'node',
     {'name': 'web01', 'devices': ['0000:03:10.0'], 'as_interface': True, 'mac': 'zz:zz'}, FAIL('mac', 'zz:zz')),
    ('hostdev-detach-timeout-negative', 'virt_hostdev', 'node',
     {'name': 'web01', 'devices': ['0000:05:00.0'], 'detach_timeout': -5}, FAIL('detach_timeout', '-5')),
    ('pvd-shutdown-timeout-negative', 'virt_pv_domain', None,
     {'uri': TEST_URI, 'name': 'test', 'shutdown_timeout': -1}, FAIL('shutdown_timeout', '-1')),
    ('hotplug-detach-timeout-negative', 'virt_disk_hotplug', None,
     {'uri': TEST_URI, 'name': 'test', 'detach_timeout': -1, 'disks': [{'source': '@DISK@'}]},
     FAIL('detach_timeout', '-1')),
    ('pvm-tool-timeout-negative', 'pv_driver_migrate', c5, pvm(tool_timeout=-1), FAIL('tool_timeout', '-1')),
    ('grub-tool-timeout-negative', 'iommu_grub', grub_legacy, grub(tool_timeout=-3), FAIL('tool_timeout', '-3')),
    ('pvm-tool-timeout-string', 'pv_driver_migrate', c5, pvm(tool_timeout='x'), FAIL('tool_timeout')),
    ('grub-tool-timeout-over-a-day', 'iommu_grub', grub_legacy, grub(tool_timeout=86401),
     FAIL('tool_timeout', '86401', '86400')),
    ('fleet-tool-timeout-over-a-day', 'fleet_host_info', grub_legacy, {'root': '@ROOT@', 'tool_timeout': 86401},
     FAIL('tool_timeout', '86401', '86400')),
    ('pvm-tool-timeout-a-day-ok', 'pv_driver_migrate', c5, pvm(tool_timeout=86400), OK(), {'check_mode': True}),
    ('fleet-tool-timeout-zero', 'fleet_host_info', grub_legacy, {'root': '@ROOT@', 'tool_timeout': 0},
     FAIL('tool_timeout', '0')),
    ('fleet-tool-timeout-string', 'fleet_host_info', grub_legacy, {'root': '@ROOT@', 'tool_timeout': 'soon'},
     FAIL('tool_timeout')),
    ('fleet-args-semicolon', 'fleet_host_info', grub_legacy, {'root': '@ROOT@', 'args': ['intel_iommu=on;reboot']},
     FAIL('args', 'intel_iommu=on;reboot')),
]

TOOL_FAULT = [
    ('pvm-mkinitrd-fails', 'pv_driver_migrate', with_tool(c5, 'fail'), pvm(), FAIL('mkinitrd', 'simulated failure')),
    ('pvm-mkinitrd-hangs', 'pv_driver_migrate', with_tool(c5, 'hang'), pvm(tool_timeout=3),
     FAIL('mkinitrd', 'tool_timeout', ('timed out', 'timeout of', 'did not finish', 'within'))),
    ('pvm-mkinitrd-no-output', 'pv_driver_migrate', with_tool(c5, 'empty'), pvm(), FAIL('initrd')),
    ('pvm-mkinitrd-garbage', 'pv_driver_migrate', with_tool(c5, 'garbage'), pvm(), FAIL('initrd')),
    ('pvm-killed-by-task-timeout', 'pv_driver_migrate', with_tool(c5, 'hang'), pvm(),
     FAIL(('timed out', 'Timed out', 'timeout')), {'timeout': 6}),
    ('pvm-dracut-fails', 'pv_driver_migrate', with_tool(rhel6, 'fail'),
     {'root': '@ROOT@', 'target': 'virtio', 'filesystems': trees.RHEL6_FILESYSTEMS}, FAIL('dracut')),
    ('pvm-dracut-hangs', 'pv_driver_migrate', with_tool(rhel6, 'hang'),
     {'root': '@ROOT@', 'target': 'virtio', 'filesystems': trees.RHEL6_FILESYSTEMS, 'tool_timeout': 3},
     FAIL('dracut', 'tool_timeout')),
    ('pvm-dracut-no-output', 'pv_driver_migrate', with_tool(rhel6, 'empty'),
     {'root': '@ROOT@', 'target': 'virtio', 'filesystems': trees.RHEL6_FILESYSTEMS}, FAIL('initr')),
    ('grub-grubby-fails', 'iommu_grub', grub_el8('fail'), grub(), FAIL('grubby', 'simulated grub failure')),
    ('grub-grubby-hangs', 'iommu_grub', grub_el8('hang'), grub(tool_timeout=3), FAIL('grubby', 'tool_timeout')),
    ('grub-grubby-does-nothing', 'iommu_grub', grub_el8('noop'), grub(), FAIL('intel_iommu=on')),
    ('grub-mkconfig-fails', 'iommu_grub', grub_el7('fail'), grub(), FAIL('grub2-mkconfig')),
    ('grub-mkconfig-hangs', 'iommu_grub', grub_el7('hang'), grub(tool_timeout=3),
     FAIL('grub2-mkconfig', 'tool_timeout')),
    ('grub-mkconfig-no-output', 'iommu_grub', grub_el7('noop'), grub(), FAIL('grub.cfg')),
]

READONLY_FULL = [
    ('pvm-readonly-tree', 'pv_driver_migrate', readonly(c5), pvm(), FAIL(('read-only', 'Read-only', 'not writable'))),
    ('xen-readonly-tree', 'xen_domain_config', readonly(xen), xcfg(),
     FAIL('/etc/xen/guest', ('read-only', 'Read-only', 'not writable'))),
    ('grub-readonly-tree', 'iommu_grub', readonly(grub_legacy), grub(),
     FAIL('grub.conf', ('read-only', 'Read-only', 'not writable'))),
    ('pvm-grubconf-0444', 'pv_driver_migrate', chmod(c5, '/boot/grub/grub.conf', 0o444), pvm(),
     FAIL('/boot/grub/grub.conf')),
    ('pvm-fstab-0444', 'pv_driver_migrate', chmod(c5, '/etc/fstab', 0o444), pvm(), FAIL('/etc/fstab')),
    ('xen-config-0444', 'xen_domain_config', chmod(xen, '/etc/xen/guest', 0o444), xcfg(), FAIL('/etc/xen/guest')),
    ('grub-conf-0444', 'iommu_grub', chmod(grub_legacy, '/boot/grub/grub.conf', 0o444), grub(),
     FAIL('/boot/grub/grub.conf')),
    ('pvm-boot-full', 'pv_driver_migrate', full(c5, '/boot'), pvm(), FAIL('/boot')),
    ('xen-etc-xen-full', 'xen_domain_config', full(xen, '/etc/xen'), xcfg(),
     FAIL('/etc/xen/guest', ('space', 'No space', 'full'))),
    ('grub-boot-full', 'iommu_grub', full(grub_legacy, '/boot'), grub(), FAIL(('grub.conf', '/boot'), 'No space')),
]

CRLF = [
    ('xen-crlf', 'xen_domain_config', xen_crlf, xcfg(), OK()),
    ('pvm-crlf', 'pv_driver_migrate', crlf(c5, ['/etc/fstab', '/etc/modules.conf', '/boot/grub/grub.conf',
                                                '/boot/grub/device.map']), pvm(), OK()),
    ('pvm-rhel6-crlf', 'pv_driver_migrate',
     crlf(rhel6, ['/etc/fstab', '/etc/modprobe.d/anaconda.conf', '/boot/grub/grub.conf']),
     {'root': '@ROOT@', 'target': 'virtio', 'fstab': 'uuid', 'filesystems': trees.RHEL6_FILESYSTEMS}, OK()),
    ('grub-crlf', 'iommu_grub', crlf(grub_legacy, ['/boot/grub/grub.conf']), grub(), OK()),
]

SYMLINK = [
    ('xen-link-inside', 'xen_domain_config', xen_auto_link, xcfg(path='/etc/xen/auto/guest'), OK()),
    ('xen-abs-link-rerooted', 'xen_domain_config', relink(xen, '/etc/xen/guest', '@SENT@/xen-guest', True),
     xcfg(), OK()),
    ('xen-abs-link-out', 'xen_domain_config', relink(xen, '/etc/xen/guest', '@SENT@/xen-guest'), xcfg(),
     FAIL(('/etc/xen/guest', 'sentinel-outside/xen-guest'))),
    ('pvm-abs-link-inside', 'pv_driver_migrate', modules_conf_abs_inside, pvm(), OK()),
    ('pvm-fstab-abs-link-rerooted', 'pv_driver_migrate', relink(c5, '/etc/fstab', '@SENT@/fstab', True), pvm(),
     OK()),
    ('pvm-fstab-abs-link-out', 'pv_driver_migrate', relink(c5, '/etc/fstab', '@SENT@/fstab'), pvm(),
     EITHER('/etc/fstab')),
    ('pvm-grubconf-abs-link-out', 'pv_driver_migrate', relink(c5, '/boot/grub/grub.conf', '@SENT@/grub.conf'),
     pvm(), EITHER('grub')),
    ('grub-abs-link-rerooted', 'iommu_grub',
     relink(grub_legacy, '/boot/grub/grub.conf', '@SENT@/grub.conf', True), grub(), OK()),
    ('grub-abs-link-out', 'iommu_grub', relink(grub_legacy, '/boot/grub/grub.conf', '@SENT@/grub.conf'), grub(),
     EITHER('grub')),
    ('grub-etc-link-absolute-inside', 'iommu_grub',
     relink(grub_legacy, '/etc/grub.conf', '/boot/grub/grub.conf'), grub(), OK()),
]

MODULE_CASES = INJECTION + WRONG_TYPE + UNKNOWN_NAME + NUMERIC + TOOL_FAULT + READONLY_FULL + CRLF + SYMLINK
CLASSES = dict([(case[0], cls) for cls, table in (
    ('injection', INJECTION), ('wrong-type', WRONG_TYPE), ('unknown-name', UNKNOWN_NAME), ('numeric', NUMERIC),
    ('tool-fault', TOOL_FAULT), ('read-only/full', READONLY_FULL), ('crlf', CRLF), ('symlink', SYMLINK))
    for case in table])

# roles: (id, role, tree, role vars, expectation)
IOMMU_HOST = {'iommu_host_vendor': 'intel', 'iommu_host_verify': False, 'iommu_host_root': '@ROOT@'}
PV_GUEST = {'pv_guest_target': 'xen', 'pv_guest_root': '@ROOT@', 'pv_guest_fstab': 'device',
            'pv_guest_filesystems': trees.SEED001_FILESYSTEMS, 'pv_guest_verify': False, 'pv_guest_backup': False}


def rvars(base, **kw):
    out = dict(base)
    out.update(kw)
    return out


ROLE_CASES = [
    ('role-iommu-host-ok', 'iommu_host', iommu_host_tree, rvars(IOMMU_HOST), OK()),
    ('role-iommu-host-pci-ids', 'iommu_host', iommu_host_tree,
     rvars(IOMMU_HOST, iommu_host_vfio_pci_ids=['10de:1b80; reboot']), FAIL('iommu_host_vfio_pci_ids')),
    ('role-iommu-host-modules-newline', 'iommu_host', iommu_host_tree,
     rvars(IOMMU_HOST, iommu_host_vfio_modules=['vfio\nblacklist nouveau']), FAIL('iommu_host_vfio_modules')),
    ('role-iommu-host-softdep', 'iommu_host', iommu_host_tree,
     rvars(IOMMU_HOST, iommu_host_vfio_softdep_drivers=['nouveau pre evil']), FAIL('iommu_host_vfio_softdep_drivers')),
    ('role-iommu-host-args', 'iommu_host', iommu_host_tree,
     rvars(IOMMU_HOST, iommu_host_args=['iommu=pt;reboot']), FAIL('iommu=pt;reboot')),
    ('role-iommu-host-modprobe-d-abs-out', 'iommu_host', relink(iommu_host_tree, '/etc/modprobe.d', '@SENT@/modprobe.d'),
     rvars(IOMMU_HOST), EITHER('/etc/modprobe.d')),
    ('role-iommu-host-modules-load-abs-out', 'iommu_host',
     relink(iommu_host_tree, '/etc/modules-load.d/virtops-vfio.conf', '@SENT@/modules-load.conf'),
     rvars(IOMMU_HOST), EITHER('virtops-vfio.conf')),
    ('role-pv-guest-ok', 'pv_guest', c5, rvars(PV_GUEST), OK()),
    ('role-pv-guest-diskmap', 'pv_guest', c5, rvars(PV_GUEST, pv_guest_disk_map={'hda': 'xvda; rm -rf /'}),
     FAIL('disk_map', 'xvda; rm -rf /')),
    ('role-pv-guest-legacy', 'pv_guest', rhel3,
     rvars(PV_GUEST, pv_guest_kernel=['2.4.21-52.EL'], pv_guest_filesystems=[], pv_guest_fstab='keep',
           pv_guest_legacy_disks=['xvdb;reboot']), FAIL('legacy_disks', 'xvdb;reboot')),
    ('role-pv-guest-uuid-newline', 'pv_guest', c5,
     rvars(PV_GUEST, pv_guest_fstab='uuid', pv_guest_filesystems=[{'device': '/dev/hda1', 'uuid': 'ab\n/x / y'}]),
     FAIL('uuid')),
    ('role-pv-guest-fstab-abs-out', 'pv_guest', relink(c5, '/etc/fstab', '@SENT@/fstab'), rvars(PV_GUEST),
     EITHER('/etc/fstab')),
]


# --------------------------------------------------------------------------------------------
# running the batch

def substitute(value, root, sentinel):
    if isinstance(value, str):
        return value.replace('@ROOT@', root or '').replace('@SENT@', sentinel).replace(
            '@DISK@', os.path.join(os.path.dirname(sentinel), 'disk.img'))
    if isinstance(value, list):
        return [substitute(v, root, sentinel) for v in value]
    if isinstance(value, dict):
        return dict((substitute(k, root, sentinel), substitute(v, root, sentinel)) for k, v in value.items())
    return value


def make_sentinel(top):
    with open(os.path.join(top, 'disk.img'), 'wb') as handle:      # an image that exists (@DISK@)
        handle.truncate(1 << 20)
    sentinel = os.path.join(top, 'sentinel-outside')
    os.makedirs(os.path.join(sentinel, 'modprobe.d'))
    for name in ('fstab', 'xen-guest', 'grub.conf', 'modules-load.conf', 'modprobe.d/local.conf'):
        with open(os.path.join(sentinel, name), 'w') as handle:
            handle.write('# %s: %s\n/dev/sda1 / ext3 defaults 1 1\n' % (MARKER, name))
    return sentinel


class Batch:
    """Trees, snapshots and mounts of every case; unmounted on close."""

    def __init__(self, top):
        self.top = top
        self.sentinel = make_sentinel(top)
        self.mounts = []
        self.roots = {}
        self.before = {}

    def tree(self, case_id, builder):
        if builder is None:
            return None
        root = os.path.join(self.top, 'trees', case_id)
        os.makedirs(root)
        mounts = builder(root, self.sentinel) or []
        self.mounts.extend(mounts)
        self.roots[case_id] = root
        self.before[case_id] = treesnap.snapshot(root)
        return root

    def close(self):
        for where in reversed(self.mounts):
            if subprocess.run(['umount', where], check=False, capture_output=True).returncode != 0:
                subprocess.run(['umount', '-l', where], check=False, capture_output=True)
        self.mounts = []


def module_task(number, case, root, sentinel, node):
    case_id, module, builder, args, _expect = case[:5]
    options = case[5] if len(case) > 5 else {}
    args = substitute(args, root, sentinel)
    if builder == 'node':
        args = dict(node, **args)
    task = {'name': case_id, 'virtops.devices.%s' % module: args, 'register': 'r%d' % number,
            'ignore_errors': True, 'diff': True, 'timeout': SAFETY_TIMEOUT}
    task.update(options)
    return task


def run_module_batch(cases, batch, node):
    """One playbook, the cases spread over HOSTS local inventory hosts run in parallel (strategy free)."""
    hosts = ['matrix%d' % n for n in range(HOSTS)]
    owner = dict((case[0], hosts[n % HOSTS]) for n, case in enumerate(cases))
    tasks = []
    for number, case in enumerate(cases):
        root = batch.tree(case[0], case[2] if case[2] != 'node' else None)
        task = module_task(number, case, root, batch.sentinel, node)
        task['when'] = "inventory_hostname == '%s'" % owner[case[0]]
        tasks.append(task)
    for host in hosts:
        names = ', '.join('%s: r%d' % (json.dumps(case[0]), n) for n, case in enumerate(cases)
                          if owner[case[0]] == host)
        tasks.append({'name': 'save results of ' + host, 'check_mode': False, 'diff': False,
                      'when': "inventory_hostname == '%s'" % host,
                      'ansible.builtin.copy': {'dest': os.path.join(batch.top, host + '.json'),
                                               'content': '{{ {%s} | to_json }}' % names}})
    book = os.path.join(batch.top, 'matrix.yml')
    with open(book, 'w') as handle:
        json.dump([{'hosts': 'all', 'gather_facts': False, 'strategy': 'free', 'tasks': tasks}], handle)
    inventory = os.path.join(batch.top, 'inventory.json')
    with open(inventory, 'w') as handle:
        json.dump({'all': {'hosts': dict((host, {'ansible_connection': 'local'}) for host in hosts)}}, handle)
    started = time.time()
    proc = harness.run_playbook(book, diff=True, inventory=inventory, env={'ANSIBLE_FORKS': str(HOSTS)})
    with open(os.path.join(batch.top, 'matrix.log'), 'w') as handle:
        handle.write('%.1f s\n%s\n%s' % (time.time() - started, proc.stdout, proc.stderr))
    results = {}
    for host in hosts:
        out = os.path.join(batch.top, host + '.json')
        if not os.path.exists(out):
            raise AssertionError('the matrix playbook did not finish on %s:\n%s\n%s'
                                 % (host, proc.stdout[-6000:], proc.stderr[-3000:]))
        with open(out) as handle:
            results.update(json.load(handle))
    return results


ROLE_TASKS = [
    {'name': 'no failure yet', 'ansible.builtin.set_fact': {'_matrix_failure': None}},
    {'block': [
        {'name': 'role vars', 'ansible.builtin.include_vars': {'file': '{{ matrix_vars }}'}},
        {'name': 'role under test', 'ansible.builtin.include_role': {'name': 'virtops.devices.{{ matrix_role }}'}},
    ], 'rescue': [
        {'name': 'keep the failure', 'ansible.builtin.set_fact': {'_matrix_failure': '{{ ansible_failed_result }}'}},
    ], 'always': [
        {'name': 'save', 'check_mode': False, 'diff': False, 'ansible.builtin.copy': {
            'dest': '{{ matrix_out }}', 'content': "{{ {'failure': _matrix_failure} | to_json }}"}},
    ]},
]


def role_result(saved):
    """A module-like result of one role run: ``failed`` and a ``msg`` joining every failed item's message."""
    failure = saved['failure']
    if not failure:
        return {'failed': False}
    msgs = [failure.get('msg') or ''] + [item.get('msg') or '' for item in failure.get('results', [])
                                         if isinstance(item, dict) and item.get('failed')]
    return dict(failure, failed=True, msg='; '.join(m for m in msgs if m))


def run_role_batch(cases, batch):
    """Every role case as one local inventory host of one playbook."""
    top = os.path.join(batch.top, 'roles')
    os.makedirs(top)
    hosts = {}
    for case_id, role, builder, role_vars, _expect in cases:
        root = batch.tree(case_id, builder)
        with open(os.path.join(top, case_id + '.vars.json'), 'w') as handle:
            json.dump(substitute(role_vars, root, batch.sentinel), handle)
        hosts[case_id] = {'ansible_connection': 'local', 'matrix_role': role,
                          'matrix_vars': os.path.join(top, case_id + '.vars.json'),
                          'matrix_out': os.path.join(top, case_id + '.result.json')}
    inventory = os.path.join(top, 'inventory.json')
    with open(inventory, 'w') as handle:
        json.dump({'all': {'hosts': hosts}}, handle)
    book = os.path.join(top, 'roles.yml')
    with open(book, 'w') as handle:
        json.dump([{'hosts': 'all', 'gather_facts': False, 'tasks': ROLE_TASKS}], handle)
    proc = harness.run_playbook(book, diff=True, inventory=inventory, env={'ANSIBLE_FORKS': '6'})
    results = {}
    for case_id, host in hosts.items():
        if not os.path.exists(host['matrix_out']):
            raise AssertionError('role case %s did not run:\n%s\n%s' % (case_id, proc.stdout[-6000:], proc.stderr[-2000:]))
        with open(host['matrix_out']) as handle:
            results[case_id] = role_result(json.load(handle))
    return results


@pytest.fixture(scope='module')
def matrix():
    top = tempfile.mkdtemp(prefix='virtops-matrix-')
    batch = Batch(top)
    try:
        sentinel_before = treesnap.snapshot(batch.sentinel)
        node = {'uri': nodedev_fixture.URI, 'root': nodedev_fixture.make_sysfs(os.path.join(top, 'node'))}
        started = time.time()
        # the roles' playbook runs while the modules' one does (both mostly wait on Python start-ups)
        role_results, errors = {}, []

        def roles():
            try:
                role_results.update(run_role_batch(ROLE_CASES, batch))
            except BaseException as exc:  # noqa: B902 - re-raised below in the main thread
                errors.append(exc)
        thread = threading.Thread(target=roles)
        thread.start()
        try:
            results = run_module_batch(MODULE_CASES, batch, node)
        finally:
            thread.join()
        if errors:
            raise errors[0]
        results.update(role_results)
        after = dict((case_id, treesnap.snapshot(root)) for case_id, root in batch.roots.items())
        yield {'results': results, 'roots': batch.roots, 'before': batch.before, 'after': after,
               'sentinel': batch.sentinel, 'sentinel_before': sentinel_before,
               'sentinel_after': treesnap.snapshot(batch.sentinel), 'seconds': time.time() - started}
    finally:
        batch.close()
        if not os.environ.get('MATRIX_KEEP'):      # MATRIX_KEEP=1 keeps the trees and the playbook to look at
            shutil.rmtree(top, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# the invariants

def _has(text, word):
    if isinstance(word, tuple):
        return any(w in text for w in word)
    return word in text


def assert_clean_failure(result, words):
    dumped = json.dumps(result)
    assert result.get('failed'), 'expected a refusal, the run succeeded: %s' % dumped[:1500]
    assert 'Traceback' not in dumped and 'MODULE FAILURE' not in dumped, dumped[:3000]
    # ansible-core 2.19 adds exception='(traceback unavailable)' to every failure; a real one is a traceback
    assert 'Traceback' not in str(result.get('exception', '')) and 'module_stderr' not in result, dumped[:3000]
    msg = result.get('msg') or ''
    assert isinstance(msg, str) and msg, dumped[:1500]
    assert 'Unsupported parameters' not in msg, msg
    missing = [w for w in words if not _has(msg, w)]
    assert not missing, 'the message does not name %r: %s' % (missing, msg)


def read_tree(root, path):
    with open(os.path.join(root, path.lstrip('/')), 'rb') as handle:
        return handle.read()


def only_crlf(data):
    return data.count(b'\n') == data.count(b'\r\n') and data.count(b'\n') > 0


def check_crlf(paths):
    def check(ctx):
        for path in paths:
            data = read_tree(ctx['root'], path)
            assert only_crlf(data), '%s lost its CRLF line endings: %r' % (path, data[:400])
    return check


def check_changed(path, needle):
    def check(ctx):
        assert needle in read_tree(ctx['root'], path).decode(), path
    return check


def check_link_kept(path, target, edited, needle=b'xvda'):
    """``path`` is still the same symlink and ``edited`` (inside the tree) got the change."""
    def check(ctx):
        full = os.path.join(ctx['root'], path.lstrip('/'))
        assert os.path.islink(full), '%s is no longer a symlink' % path
        assert os.readlink(full) == target.replace('@SENT@', ctx['sentinel'])
        data = read_tree(ctx['root'], edited.replace('@SENT@', ctx['sentinel']))
        assert needle in data, data[:400]
    return check


def check_link_untouched(path):
    def check(ctx):
        full = os.path.join(ctx['root'], path.lstrip('/'))
        assert os.path.islink(full), '%s is no longer a symlink' % path
    return check


def check_fstab_first_fields_clean(ctx):
    for line in read_tree(ctx['root'], '/etc/fstab').decode().splitlines():
        if line.startswith('LABEL='):
            assert len(line.split()) == 6, 'broken fstab line: %r' % line
            assert '"' not in line.split()[0] or '\\' in line.split()[0], line


def check_pv_entry(ctx):
    grub = read_tree(ctx['root'], '/boot/grub/grub.conf').decode()
    assert grub.count('(xen PV drivers)') == 1
    assert os.path.getsize(os.path.join(ctx['root'], 'boot/initrd-%s.pv.img' % K5)) > 0


def check_role_iommu(ctx):
    text = read_tree(ctx['root'], '/boot/grub/grub.conf').decode()
    assert 'intel_iommu=on' in text and 'iommu=pt' in text


EXTRA_CHECKS = {
    'xen-crlf': check_crlf(['/etc/xen/guest']),
    'pvm-crlf': check_crlf(['/etc/fstab', '/etc/modules.conf', '/boot/grub/grub.conf', '/boot/grub/device.map']),
    'pvm-rhel6-crlf': check_crlf(['/etc/fstab', '/etc/modprobe.d/anaconda.conf', '/boot/grub/grub.conf']),
    'grub-crlf': check_crlf(['/boot/grub/grub.conf']),
    'grub-args-string-ok': check_changed('/boot/grub/grub.conf', 'rhgb quiet iommu=pt\n'),
    'xen-link-inside': check_link_kept('/etc/xen/auto/guest', '../guest', '/etc/xen/guest'),
    'xen-abs-link-rerooted': check_link_kept('/etc/xen/guest', '@SENT@/xen-guest', '@SENT@/xen-guest'),
    'pvm-abs-link-inside': check_link_kept('/etc/modules.conf', '/etc/modules.conf.real', '/etc/modules.conf.real',
                                           b'xen-vnif'),
    'pvm-fstab-abs-link-rerooted': check_link_kept('/etc/fstab', '@SENT@/fstab', '@SENT@/fstab', b'/dev/xvda1'),
    'pvm-fstab-abs-link-out': check_link_untouched('/etc/fstab'),
    'pvm-grubconf-abs-link-out': check_link_untouched('/boot/grub/grub.conf'),
    'grub-abs-link-rerooted': check_link_kept('/boot/grub/grub.conf', '@SENT@/grub.conf', '@SENT@/grub.conf',
                                              b'intel_iommu=on iommu=pt'),
    'grub-abs-link-out': check_link_untouched('/boot/grub/grub.conf'),
    'grub-etc-link-absolute-inside': check_link_kept('/etc/grub.conf', '/boot/grub/grub.conf', '/boot/grub/grub.conf',
                                                     b'intel_iommu=on iommu=pt'),
    'pvm-label-space': check_fstab_first_fields_clean,
    'pvm-label-quote': check_fstab_first_fields_clean,
    'role-iommu-host-ok': check_role_iommu,
    'role-pv-guest-ok': check_pv_entry,
    'role-iommu-host-modprobe-d-abs-out': check_link_untouched('/etc/modprobe.d'),
    'role-iommu-host-modules-load-abs-out': check_link_untouched('/etc/modules-load.d/virtops-vfio.conf'),
    'role-pv-guest-fstab-abs-out': check_link_untouched('/etc/fstab'),
}
ALL_CASES = [(c[0], c[4]) for c in MODULE_CASES] + [(c[0], c[4]) for c in ROLE_CASES]
IDS = [case_id for case_id, _e in ALL_CASES]
assert len(IDS) == len(set(IDS)), 'duplicate case ids'


def case_class(case_id):
    return CLASSES.get(case_id, 'role')


@pytest.mark.parametrize('case_id, expect', ALL_CASES, ids=['%s:%s' % (case_class(i), i) for i in IDS])
def test_case(matrix, case_id, expect):
    kind, words = expect
    result = matrix['results'][case_id]
    root = matrix['roots'].get(case_id)
    ctx = {'root': root, 'result': result, 'sentinel': matrix['sentinel']}
    dumped = json.dumps(result)
    assert MARKER not in dumped, 'content from outside the tree reached the result: %s' % dumped[:2000]
    if kind == 'either' and not result.get('failed'):
        kind = 'ok'
    elif kind == 'either':
        kind = 'fail'
    if kind == 'ok':
        assert not result.get('failed'), 'expected success: %s' % (result.get('msg') or dumped[:2000])
        if case_id in EXTRA_CHECKS:
            EXTRA_CHECKS[case_id](ctx)
        if root:
            left = treesnap.leftovers(matrix['before'][case_id], matrix['after'][case_id])
            assert not left, 'temp/backup files left behind: %s' % left
        return
    assert_clean_failure(result, words)
    if case_id in EXTRA_CHECKS and expect[0] == 'either':
        EXTRA_CHECKS[case_id](ctx)
    if root:
        before, after = matrix['before'][case_id], matrix['after'][case_id]
        assert after == before, 'the tree changed on a failed run: %s' % treesnap.changes(before, after)[:20]


def test_sentinel_outside_every_tree_is_untouched(matrix):
    before, after = matrix['sentinel_before'], matrix['sentinel_after']
    assert after == before, treesnap.changes(before, after)


def test_matrix_covers_every_class():
    assert len(ALL_CASES) >= 120
    assert set(CLASSES.values()) >= {'injection', 'wrong-type', 'unknown-name', 'numeric', 'tool-fault',
                                     'read-only/full', 'crlf', 'symlink'}


# --------------------------------------------------------------------------------------------
# two runs at once on the same tree (on their own: they must overlap)

def test_two_runs_at_once_on_one_tree(tmp_path):
    root = str(tmp_path / 'tree')
    os.makedirs(root)
    c5(root, str(tmp_path), tool='slow')
    outs, procs = [], []
    for number in range(2):
        out = str(tmp_path / ('result%d.json' % number))
        book = str(tmp_path / ('play%d.yml' % number))
        with open(book, 'w') as handle:
            json.dump([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
                {'name': 'run %d' % number, 'virtops.devices.pv_driver_migrate': dict(SEED001, root=root),
                 'register': 'r', 'ignore_errors': True, 'timeout': SAFETY_TIMEOUT},
                {'name': 'save', 'ansible.builtin.copy': {'dest': out, 'content': '{{ r | to_json }}'}}]}], handle)
        outs.append(out)
        procs.append(book)
    threads = [threading.Thread(target=harness.run_playbook, args=(book,)) for book in procs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = []
    for out in outs:
        with open(out) as handle:
            results.append(json.load(handle))
    failed = [r for r in results if r.get('failed')]
    assert len(failed) <= 1, [r.get('msg') for r in results]
    for result in failed:
        assert_clean_failure(result, [('lock', 'another run', 'another writer', 'in progress', 'busy')])
    succeeded = [r for r in results if not r.get('failed')]
    assert succeeded and any(r['changed'] for r in succeeded)
    # the tree is consistent: the runbook's result exactly once
    assert read_tree(root, '/etc/fstab').decode() == trees.SEED001_FSTAB_AFTER
    assert read_tree(root, '/etc/modules.conf').decode() == 'alias eth0 xen-vnif\n'
    grub = read_tree(root, '/boot/grub/grub.conf').decode()
    assert grub.startswith(trees.CENTOS5_GRUB) and grub.count('(xen PV drivers)') == 1
    assert read_tree(root, '/boot/grub/device.map').decode().count('/dev/xvda') == 1
    assert read_tree(root, '/boot/initrd-%s.pv.img' % K5) == read_tree(root, '/var/lib/matrix/good-initrd.img')
    snap = treesnap.snapshot(root)
    assert not [rel for rel in snap if treesnap.leftovers({}, {rel: None})
                and not rel.startswith('var/lock')], sorted(snap)
