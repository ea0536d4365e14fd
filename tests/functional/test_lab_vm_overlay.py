"""tests/lab/lab_vm.py's disks: a lab VM boots from a qcow2 overlay on the base image, and
``customize`` writes into the overlay (through qemu-storage-daemon's FUSE export, a loop device
and a mount) while the base stays as it was. Real tools, a small disk made here."""

import hashlib
import os
import subprocess

import pytest

lab_vm = pytest.importorskip('lab_vm')


def _sha(path):
    with open(path, 'rb') as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _read_from(image, rel):
    with lab_vm.exported_raw(image) as raw:
        with lab_vm.attached(raw) as (_loop, part):
            with lab_vm.mounted_root(part) as mnt:
                with open(os.path.join(mnt, rel)) as fh:
                    return fh.read(), oct(os.stat(os.path.join(mnt, rel)).st_mode & 0o777)


@pytest.fixture(scope='module')
def base(tmp_path_factory):
    """A 64 MiB raw disk: an MBR with one partition holding ext4 and /etc/motd."""
    path = str(tmp_path_factory.mktemp('overlay') / 'base.raw')
    subprocess.run(['truncate', '-s', '64M', path], check=True)
    subprocess.run(['sfdisk', '-q', path], input='label: dos\nstart=2048, type=83\n', text=True, check=True)
    with lab_vm.attached(path) as (_loop, part):
        subprocess.run(['mkfs.ext4', '-q', part], check=True)
        with lab_vm.mounted_root(part) as mnt:
            os.makedirs(os.path.join(mnt, 'etc'))
            with open(os.path.join(mnt, 'etc/motd'), 'w') as fh:
                fh.write('base\n')
    return path


def test_customize_writes_into_the_overlay_and_never_into_the_base(base, tmp_path):
    before = _sha(base)
    overlay = str(tmp_path / 'vm.qcow2')
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', base, overlay], check=True)
    src = tmp_path / 'key'
    src.write_text('secret\n')

    lab_vm.customize(overlay, copies=[(str(src), '/root/.ssh/lab_key', 0o600)])

    assert _read_from(overlay, 'root/.ssh/lab_key') == ('secret\n', '0o600')
    assert _read_from(overlay, 'etc/motd') == ('base\n', '0o644')
    assert _sha(base) == before
    info = subprocess.run(['qemu-img', 'info', '--output=json', overlay], capture_output=True, text=True,
                          check=True).stdout
    assert '"backing-filename-format": "raw"' in info
    # the export left nothing behind: no daemon, no FUSE mount, no loop device on it
    with open('/proc/self/mounts') as fh:
        assert 'virtops-labvm-export-' not in fh.read()
    loops = subprocess.run(['losetup', '-a'], capture_output=True, text=True, check=True).stdout
    assert 'virtops-labvm-export-' not in loops


def test_a_customize_with_nothing_to_do_does_not_touch_the_overlay(base, tmp_path):
    overlay = str(tmp_path / 'vm.qcow2')
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', base, overlay], check=True)
    before = _sha(overlay)
    lab_vm.customize(overlay)
    assert _sha(overlay) == before
