#!/usr/bin/env python
"""The lab VM: a full Debian 12 host booted by GRUB from its own disk, under libvirt (TCG).

Where the tiny guest (``tiny_guest.py``) is a kernel and a busybox initramfs, the lab VM is
a real distribution: GRUB on an MBR disk, systemd, udev, openssh-server, python3, and libvirt
+ QEMU inside for the nested case. It is what the Molecule scenarios in
``extensions/molecule/`` (iommu_host, pv_guest, hostdev_live,
disk_hotplug_distro) drive over SSH as if it were a hypervisor in a rack:

* q35 with an emulated Intel IOMMU (``<iommu model='intel'>``, interrupt remapping and
  caching mode on) and ``<ioapic driver='qemu'/>``, so its kernel gets real IOMMU groups;
* a spare e1000e on a pcie-root-port (``eth0`` in the VM), alone in its IOMMU group: the device
  the passthrough scenario binds to vfio-pci;
* the management NIC (virtio, fixed MAC, named ``mgmt0`` by a udev rule, DHCP) is QEMU user
  networking with SSH forwarded from 127.0.0.1 only. No libvirt network is used, ever.

The base image is built once (debootstrap + ``grub-install`` on a loop device) into
``$VIRTOPS_LAB_DIR/vm/debian12.raw`` and reused while its build key holds. Each ``up``
gives the VM a disk of its own, a qcow2 overlay on the base (the base is only read), so every
scenario starts from the same known state, and can put kernel arguments on the overlay's GRUB
command line before the first boot (``--kernel-args intel_iommu=off``: a host whose IOMMU is
off). The overlay is written through qemu-storage-daemon's FUSE export, seen as a raw disk.

CLI::

    python tests/lab/lab_vm.py build [--force]
    python tests/lab/lab_vm.py up --name lab-iommu [--disk-bus virtio|sata] [--kernel-args "intel_iommu=off"]
    python tests/lab/lab_vm.py inventory --name lab-iommu
    python tests/lab/lab_vm.py down --name lab-iommu
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid as uuidlib

from lxml import etree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_guest as tg  # noqa: E402  (the lab dir, the SSH key, libvirt helpers)

BUILD_FORMAT = 2  # bump when _configure changes in a way the key cannot see
SUITE = "bookworm"
MIRROR = os.environ.get("VIRTOPS_DEBIAN_MIRROR", "http://deb.debian.org/debian")
IMAGE_SIZE = "6G"
# debootstrap's own set; libvirt and QEMU are added in the chroot afterwards (with
# libvirt-daemon-system in --include debootstrap stops on the dbus-system-bus alternative).
DEBOOTSTRAP_PACKAGES = ("linux-image-amd64", "grub-pc", "systemd-sysv", "openssh-server", "python3",
                        "initramfs-tools", "udev", "kmod", "ifupdown", "isc-dhcp-client", "iproute2",
                        "pciutils", "e2fsprogs", "zstd")
CHROOT_PACKAGES = ("dbus", "libpam-systemd", "qemu-system-x86", "libvirt-daemon-system",
                   "python3-libvirt", "python3-lxml")
MASKED_UNITS = ("e2scrub_reap.service",)
MGMT_MAC = "52:54:00:4c:41:42"
SPARE_NIC_MAC = "52:54:00:4c:41:43"
# no_timer_check: under TCG on a busy host the IO-APIC timer test can miss its ticks, and with
# interrupt remapping on (intel_iommu=on) the kernel then panics ("timer doesn't work through
# Interrupt-remapped IO-APIC") instead of falling back; real hardware does not need it.
INITRAMFS_MODULES = ("virtio_pci", "virtio_blk", "ahci", "sd_mod", "ext4", "crc32c_generic")
BASE_CMDLINE = "console=ttyS0,115200 net.ifnames=0 no_timer_check"
META_NS = "https://virtops.invalid/lab/lab-vm/1"
QEMU_NS = tg.QEMU_NS
DISK_BUSES = {"virtio": "vda", "sata": "sda"}
KERNEL_ARG_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,=:-/")


class LabError(tg.LabError):
    pass


@functools.lru_cache(maxsize=None)
def _collection_files():
    """The collection's ``_files`` (standard library only, loaded once): its path confinement, not a copy of it."""
    path = os.path.join(os.path.dirname(os.path.dirname(tg.HERE)), "plugins", "module_utils", "_common", "_files.py")
    spec = importlib.util.spec_from_file_location("virtops_lab_files", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def copy_target(mnt: str, dest: str) -> str:
    """The host path of ``dest`` in the VM's root mounted at ``mnt``: links are followed as the VM
    would (an absolute target starts again at ``mnt``), so a link in the image never leads out."""
    files = _collection_files()
    try:
        return files.root_path(mnt, dest)
    except files.TreePathError as exc:
        raise LabError(f"--copy to {dest}: {exc}") from exc


# --------------------------------------------------------------------------- paths and small tools


def vm_dir() -> str:
    return os.path.join(tg.lab_dir(), "vm")


def base_image() -> str:
    return os.path.join(vm_dir(), "debian12.raw")


def disk_path(name: str) -> str:
    return os.path.join(vm_dir(), f"{tg._check_name(name)}.qcow2")


def console_log(name: str) -> str:
    return os.path.join(tg.run_dir(), f"{tg._check_name(name)}.lab-console.log")


def state_path(name: str) -> str:
    return os.path.join(tg.run_dir(), f"{tg._check_name(name)}.lab.json")


def _run(argv, what: str, timeout: float = 900, env=None, log=None) -> str:
    if log:
        log(" ".join(argv))
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"{what}: no answer within {timeout} s") from exc
    if proc.returncode != 0:
        raise LabError(f"{what} failed (rc={proc.returncode}): {(proc.stderr or proc.stdout)[-3000:]}")
    return proc.stdout


def _write(path: str, text: str, mode: int = 0o644) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)
    os.chmod(path, mode)


def _mounted(path: str) -> bool:
    real = os.path.realpath(path)
    with open("/proc/self/mounts") as fh:
        return any(line.split()[1] == real for line in fh)


def build_key(pubkey: str) -> str:
    recipe = json.dumps([BUILD_FORMAT, SUITE, DEBOOTSTRAP_PACKAGES, CHROOT_PACKAGES, MGMT_MAC, BASE_CMDLINE,
                         MASKED_UNITS, pubkey, _chroot_files("00000000-0000-0000-0000-000000000000", pubkey)])
    return hashlib.sha256(recipe.encode()).hexdigest()


# --------------------------------------------------------------------------- loop devices and chroot


@contextlib.contextmanager
def attached(image: str, log=None):
    """Attach ``image`` to a loop device with its partitions; yield (loopdev, partition 1)."""
    loop = _run(["losetup", "-fP", "--show", image], "losetup", log=log).strip()
    try:
        part = loop + "p1"
        if not os.path.exists(part):
            subprocess.run(["partx", "-a", loop], capture_output=True, check=False)
        if not os.path.exists(part):  # no devtmpfs node: make it from sysfs
            with open(f"/sys/block/{os.path.basename(loop)}/{os.path.basename(part)}/dev") as fh:
                major, minor = fh.read().strip().split(":")
            os.mknod(part, 0o600 | 0o060000, os.makedev(int(major), int(minor)))
        yield loop, part
    finally:
        # this loop device's writes reach its file (not a sync of every file system)
        subprocess.run(["blockdev", "--flushbufs", loop], capture_output=True, check=False)
        subprocess.run(["partx", "-d", loop], capture_output=True, check=False)
        subprocess.run(["losetup", "-d", loop], capture_output=True, check=False)


def _qemu_opt(value: str) -> str:
    """A value inside a QEMU option string (a comma is doubled)."""
    return value.replace(",", ",,")


def _stop_pid(pid: int, timeout: float = 30) -> None:
    """SIGTERM ``pid`` and wait (up to ``timeout`` s) until it is gone; SIGKILL after that."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        if os.path.exists(f"/proc/{pid}"):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def exported_raw(image: str, log=None):
    """Yield a file through which the qcow2 ``image`` reads and writes as a raw disk (so that
    ``attached`` can put it on a loop device): qemu-storage-daemon exports it over FUSE. The
    daemon flushes the overlay and ends when this leaves."""
    work = tempfile.mkdtemp(prefix="virtops-labvm-export-")
    raw, pidfile = os.path.join(work, "disk.raw"), os.path.join(work, "pid")
    open(raw, "w").close()  # the FUSE mount point is a file
    pid = None
    try:
        _run(["qemu-storage-daemon",
              "--blockdev", f"driver=qcow2,node-name=disk,file.driver=file,file.filename={_qemu_opt(image)}",
              "--export", f"type=fuse,id=disk,node-name=disk,mountpoint={_qemu_opt(raw)},writable=on",
              "--pidfile", pidfile, "--daemonize"], "qemu-storage-daemon (FUSE export of the overlay)",
             timeout=60, log=log)
        with open(pidfile) as fh:
            pid = int(fh.read().strip())
        yield raw
    finally:
        if pid is not None:
            _stop_pid(pid)
        if _mounted(raw):
            subprocess.run(["umount", "-l", raw], capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def mounted_root(part: str, log=None):
    """Mount the image's root file system; yield the mount point."""
    mnt = tempfile.mkdtemp(prefix="virtops-labvm-")
    _run(["mount", part, mnt], "mount the lab root", log=log)
    try:
        yield mnt
    finally:
        for _attempt in range(3):
            if subprocess.run(["umount", mnt], capture_output=True, check=False).returncode == 0:
                break
            time.sleep(1)
        else:
            subprocess.run(["umount", "-l", mnt], capture_output=True, check=False)
        with contextlib.suppress(OSError):
            os.rmdir(mnt)


@contextlib.contextmanager
def chroot_mounts(mnt: str, loop: str, part: str, fs_uuid: str):
    """/proc, /sys and /dev in the tree, and the by-uuid link GRUB's scripts look for."""
    done = []
    link = f"/dev/disk/by-uuid/{fs_uuid}"
    try:
        for fstype, src, target in (("proc", "proc", "proc"), ("sysfs", "sys", "sys")):
            path = os.path.join(mnt, target)
            _run(["mount", "-t", fstype, src, path], f"mount {target}")
            done.append(path)
        path = os.path.join(mnt, "dev")
        _run(["mount", "--bind", "/dev", path], "bind /dev")
        done.append(path)
        # Without udev nothing makes this link, and update-grub then writes root=/dev/loopNp1.
        os.makedirs(os.path.dirname(link), exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link)
        os.symlink(part, link)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link)
        for path in reversed(done):
            if subprocess.run(["umount", path], capture_output=True, check=False).returncode != 0:
                subprocess.run(["umount", "-l", path], capture_output=True, check=False)


# While the image is built: no initramfs from each kernel or package install (the kernel's
# postinst hook honours INITRD=No; _configure makes the one the image boots with), and dpkg
# without an fsync per file (the image is thrown away if the build fails anyway).
BUILD_ENV = {"INITRD": "No"}
UNSAFE_IO_CONF = "etc/dpkg/dpkg.cfg.d/virtops-lab-build"


def chroot(mnt: str, argv, what: str, timeout: float = 900, log=None) -> str:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C.UTF-8",
           "HOME": "/root", **BUILD_ENV}
    return _run(["chroot", mnt] + list(argv), what, timeout=timeout, env=env, log=log)


def _fs_uuid(part: str) -> str:
    return _run(["blkid", "-o", "value", "-s", "UUID", part], "blkid").strip()


# --------------------------------------------------------------------------- the image


def _chroot_files(fs_uuid: str, pubkey: str) -> dict:
    """The files the build writes into the tree (part of the build key)."""
    return {
        "etc/fstab": f"UUID={fs_uuid} / ext4 errors=remount-ro 0 1\n",
        "etc/hostname": "lab\n",
        "etc/hosts": "127.0.0.1 localhost\n127.0.1.1 lab\n",
        "etc/udev/rules.d/70-virtops-mgmt.rules":
            f'SUBSYSTEM=="net", ACTION=="add", ATTR{{address}}=="{MGMT_MAC}", NAME="mgmt0"\n',
        "etc/network/interfaces":
            "auto lo\niface lo inet loopback\n\nallow-hotplug mgmt0\niface mgmt0 inet dhcp\n",
        "root/.ssh/authorized_keys": pubkey + "\n",
        "etc/default/grub.d/00-virtops-lab.cfg":
            "# the lab VM: serial console, no menu wait, classic NIC names\n"
            "GRUB_TIMEOUT=0\nGRUB_TERMINAL=serial\nGRUB_SERIAL_COMMAND=\"serial --speed=115200\"\n"
            f"GRUB_CMDLINE_LINUX=\"{BASE_CMDLINE}\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"\"\n",
        "etc/ssh/sshd_config.d/virtops-lab.conf": "UseDNS no\nPermitRootLogin prohibit-password\n",
        "etc/systemd/journald.conf.d/virtops-lab.conf": "[Journal]\nStorage=volatile\n",
        # a small initramfs (MODULES=list, below): GRUB reads it through the BIOS under TCG,
        # and every rebuild inside the VM is faster. Enough to boot from virtio-blk or SATA.
        "etc/initramfs-tools/modules": "\n".join(INITRAMFS_MODULES) + "\n",
        # zstd -1 instead of initramfs-tools' -9: in the TCG VM, -9 took 11 s of each rebuild, -1 one
        "etc/initramfs-tools/conf.d/virtops-lab-compress": "COMPRESSLEVEL=1\n",
        # every Ansible task compiles its module's zip again: keep that bytecode (tests/lab/README.md)
        "usr/local/lib/python3.11/dist-packages/virtops_lab_pyc.py": _image_file("virtops_lab_pyc.py"),
        "usr/local/lib/python3.11/dist-packages/virtops_lab_pyc.pth": "import virtops_lab_pyc\n",
    }


def _image_file(name: str) -> str:
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "image", name)) as fh:
        return fh.read()


def build(force: bool = False, log=None) -> dict:
    """Build the base image unless a matching one exists; return its build.json."""
    pubkey = tg.ensure_ssh_key()
    key = build_key(pubkey)
    meta_path = os.path.join(vm_dir(), "build.json")
    with contextlib.suppress(FileNotFoundError, ValueError):
        with open(meta_path) as fh:
            meta = json.load(fh)
        if not force and meta.get("key") == key and os.path.exists(base_image()):
            meta["reused"] = True
            return meta
    os.makedirs(vm_dir(), exist_ok=True)
    tmp = base_image() + ".tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    t0 = time.monotonic()
    _run(["truncate", "-s", IMAGE_SIZE, tmp], "truncate")
    proc = subprocess.run(["sfdisk", "-q", tmp], input="label: dos\nstart=2048, type=83, bootable\n",
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LabError(f"sfdisk failed: {proc.stderr}")
    fs_uuid = str(uuidlib.uuid4())
    with attached(tmp, log) as (loop, part):
        _run(["mkfs.ext4", "-q", "-U", fs_uuid, "-L", "labroot", part], "mkfs.ext4", log=log)
        with mounted_root(part, log) as mnt:
            _write(os.path.join(mnt, UNSAFE_IO_CONF), "force-unsafe-io\n")
            _run(["debootstrap", "--variant=minbase", "--include=" + ",".join(DEBOOTSTRAP_PACKAGES), SUITE, mnt,
                  MIRROR], "debootstrap", timeout=1200, env={**os.environ, **BUILD_ENV}, log=log)
            with chroot_mounts(mnt, loop, part, fs_uuid):
                _configure(mnt, loop, fs_uuid, pubkey, log)
    meta = {"key": key, "image": base_image(), "fs_uuid": fs_uuid, "build_seconds": round(time.monotonic() - t0, 1)}
    os.replace(tmp, base_image())
    _write(meta_path, json.dumps(meta, indent=2) + "\n")
    meta["reused"] = False
    return meta


def _configure(mnt: str, loop: str, fs_uuid: str, pubkey: str, log) -> None:
    policy = os.path.join(mnt, "usr/sbin/policy-rc.d")
    _write(policy, "#!/bin/sh\n# nothing starts while the image is built\nexit 101\n", 0o755)
    shutil.copyfile("/etc/resolv.conf", os.path.join(mnt, "etc/resolv.conf"))
    chroot(mnt, ["apt-get", "-q", "update"], "apt-get update", log=log)
    chroot(mnt, ["apt-get", "-q", "-y", "--no-install-recommends", "install"] + list(CHROOT_PACKAGES),
           "apt-get install (libvirt, QEMU)", timeout=1200, log=log)
    chroot(mnt, ["apt-get", "clean"], "apt-get clean")
    os.unlink(policy)
    for rel, text in _chroot_files(fs_uuid, pubkey).items():
        _write(os.path.join(mnt, rel), text, 0o600 if rel.startswith("root/") else 0o644)
    os.chmod(os.path.join(mnt, "root/.ssh"), 0o700)
    # libvirt's default network must never start inside the lab (a private address range)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(mnt, "etc/libvirt/qemu/networks/autostart/default.xml"))
    # nothing periodic competes with the tests for the one TCG vCPU
    for unit in ("apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "fstrim.timer",
                 "man-db.timer", "dpkg-db-backup.timer"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(mnt, "etc/systemd/system/timers.target.wants", unit))
    # nor at boot: e2scrub_reap took 22 s of every boot (it only removes stale e2scrub snapshots)
    for unit in MASKED_UNITS:
        link = os.path.join(mnt, "etc/systemd/system", unit)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link)
        os.symlink("/dev/null", link)
    conf = os.path.join(mnt, "etc/initramfs-tools/initramfs.conf")
    with open(conf) as fh:
        text = fh.read()
    _write(conf, re.sub(r"(?m)^MODULES=.*$", "MODULES=list", text))
    chroot(mnt, ["update-initramfs", "-c", "-k", "all"], "update-initramfs", log=log)
    os.unlink(os.path.join(mnt, UNSAFE_IO_CONF))
    chroot(mnt, ["grub-install", "--target=i386-pc", loop], "grub-install", log=log)
    chroot(mnt, ["update-grub"], "update-grub", log=log)
    with open(os.path.join(mnt, "boot/grub/grub.cfg")) as fh:
        cfg = fh.read()
    if f"root=UUID={fs_uuid}" not in cfg:
        raise LabError("update-grub did not write root=UUID=... (the by-uuid link was not seen)")


def parse_copy(spec: str) -> tuple:
    """``SRC:DEST[:MODE]`` (DEST absolute in the VM, MODE octal, default 0644) -> (src, dest, mode)."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1].startswith("/"):
        raise LabError(f"--copy {spec!r}: use SRC:DEST[:MODE] with an absolute DEST")
    src, dest = parts[0], os.path.normpath(parts[1])
    if ".." in parts[1].split("/") or dest == "/":
        raise LabError(f"--copy {spec!r}: DEST must name a file inside the VM")
    try:
        mode = int(parts[2], 8) if len(parts) == 3 else 0o644
    except ValueError as exc:
        raise LabError(f"--copy {spec!r}: MODE must be octal, like 0600") from exc
    if not os.path.isfile(src):
        raise LabError(f"--copy {spec!r}: {src} is not a file")
    return src, dest, mode


def customize(image: str, args: str = "", copies=(), log=None) -> None:
    """Before a lab VM's overlay first boots: append ``args`` to its GRUB_CMDLINE_LINUX (and
    regenerate grub.cfg), and put the host files ``copies`` [(src, dest, mode)] into it."""
    bad = set(args) - KERNEL_ARG_CHARS - {" "}
    if bad:
        raise LabError(f"kernel args {args!r}: characters {sorted(bad)} are not allowed")
    if not args and not copies:
        return
    with exported_raw(image, log) as raw, attached(raw, log) as (loop, part):
        fs_uuid = _fs_uuid(part)
        with mounted_root(part, log) as mnt:
            for src, dest, mode in copies:
                target = copy_target(mnt, dest)
                os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
                shutil.copyfile(src, target)
                os.chmod(target, mode)
            if args:
                _write(os.path.join(mnt, "etc/default/grub.d/05-virtops-lab-start.cfg"),
                       "# where this lab VM starts from (set by lab_vm.py up --kernel-args)\n"
                       f"GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX {args}\"\n")
                with chroot_mounts(mnt, loop, part, fs_uuid):
                    chroot(mnt, ["update-grub"], "update-grub", log=log)


# --------------------------------------------------------------------------- the domain


def domain_xml(name: str, *, disk: str, disk_bus: str, ssh_port: int, console: str, memory_mib: int,
               root_ports: int) -> str:
    """The lab VM's libvirt XML (pure, no libvirt)."""
    if disk_bus not in DISK_BUSES:
        raise LabError(f"disk bus {disk_bus!r}: use one of {sorted(DISK_BUSES)}")
    E = etree.Element
    S = etree.SubElement
    dom = E("domain", type="qemu", nsmap={"qemu": QEMU_NS})
    S(dom, "name").text = tg._check_name(name)
    meta = S(S(dom, "metadata"), f"{{{META_NS}}}lab", nsmap={"lab": META_NS})
    meta.text = json.dumps({"ssh_port": ssh_port, "disk_bus": disk_bus})
    S(dom, "memory", unit="MiB").text = str(memory_mib)
    S(dom, "vcpu").text = "1"
    os_el = S(dom, "os")
    S(os_el, "type", arch="x86_64", machine="q35").text = "hvm"
    S(os_el, "boot", dev="hd")
    feats = S(dom, "features")
    S(feats, "acpi")
    S(feats, "apic")
    S(feats, "ioapic", driver="qemu")
    S(dom, "on_reboot").text = "restart"
    devs = S(dom, "devices")
    S(devs, "emulator").text = "/usr/bin/qemu-system-x86_64"
    d = S(devs, "disk", type="file", device="disk")
    S(d, "driver", name="qemu", type="qcow2", cache="unsafe")
    S(d, "source", file=disk)
    S(d, "target", dev=DISK_BUSES[disk_bus], bus=disk_bus)
    S(devs, "controller", type="pci", index="0", model="pcie-root")
    # no USB controller: it would take a root port that hotplugged disks need
    S(devs, "controller", type="usb", model="none")
    for index in range(1, root_ports + 1):
        S(devs, "controller", type="pci", index=str(index), model="pcie-root-port")
    # the spare NIC: libvirt's own user-mode interface (no host network), e1000e on a root port
    nic = S(devs, "interface", type="user")
    S(nic, "mac", address=SPARE_NIC_MAC)
    S(nic, "model", type="e1000e")
    # no option ROMs (iPXE): SeaBIOS would start each under TCG on every boot (~6 s a boot)
    S(nic, "rom", enabled="no")
    ser = S(devs, "serial", type="file")
    S(ser, "source", path=console)
    S(ser, "target", port="0")
    con = S(devs, "console", type="file")
    S(con, "source", path=console)
    S(con, "target", type="serial", port="0")
    iommu = S(devs, "iommu", model="intel")
    S(iommu, "driver", intremap="on", caching_mode="on")
    S(devs, "memballoon", model="none")
    cmd = S(dom, f"{{{QEMU_NS}}}commandline")
    for arg in ("-netdev", f"user,id=mgmt,hostfwd=tcp:127.0.0.1:{ssh_port}-:22",
                "-device", f"virtio-net-pci,netdev=mgmt,mac={MGMT_MAC},bus=pcie.0,addr=0x1e,romfile="):
        S(cmd, f"{{{QEMU_NS}}}arg", value=arg)
    return etree.tostring(dom, pretty_print=True).decode()


def parse_meta(xml: str) -> dict | None:
    root = etree.fromstring(xml.encode())
    node = root.find(f"metadata/{{{META_NS}}}lab")
    if node is None or not node.text:
        return None
    return json.loads(node.text)


def inventory(name: str) -> dict:
    with open(state_path(name)) as fh:
        state = json.load(fh)
    inv = tg.inventory_from_port(state["ssh_port"])
    # a full distribution: python3, sftp, a POSIX shell
    for key in ("ansible_ssh_transfer_method", "ansible_shell_type"):
        inv.pop(key)
    inv["ansible_python_interpreter"] = "/usr/bin/python3"
    inv["ansible_ssh_common_args"] += " -o ConnectTimeout=10 -o ServerAliveInterval=15"
    return inv


def ssh_argv(name: str, command: str) -> list:
    inv = inventory(name)
    return (["ssh", "-q", "-p", str(inv["ansible_port"]), "-i", inv["ansible_ssh_private_key_file"],
             "-o", "BatchMode=yes"] + inv["ansible_ssh_common_args"].split() + ["root@127.0.0.1", command])


def wait_ssh(name: str, timeout: float = 300) -> float:
    """Wait until the VM answers on SSH; return the seconds waited."""
    t0 = time.monotonic()
    while True:
        proc = subprocess.run(ssh_argv(name, "true"), capture_output=True, timeout=60, check=False)
        if proc.returncode == 0:
            return round(time.monotonic() - t0, 1)
        if time.monotonic() - t0 > timeout:
            tail = ""
            with contextlib.suppress(OSError):
                with open(console_log(name), errors="replace") as fh:
                    tail = fh.read()[-2000:]
            raise LabError(f"lab VM {name} did not answer on SSH within {timeout} s; console:\n{tail}")
        time.sleep(2)


def up(name: str, disk_bus: str = "virtio", kernel_args: str = "", ssh_port: int | None = None,
       memory_mib: int = 1536, root_ports: int = 8, timeout: float = 300, copies=(), log=None) -> dict:
    """Give the VM an overlay on the base image (with ``kernel_args`` and the host files
    ``copies`` put in, see customize), define and start it, wait for SSH. Fails if it exists."""
    lv = tg._need_libvirt()
    build(log=log)
    with tg._conn() as conn:
        if tg._lookup(conn, name) is not None:
            raise LabError(f"a domain named {name} exists already: run down first")
    os.makedirs(tg.run_dir(), exist_ok=True)
    disk = disk_path(name)
    t0 = time.monotonic()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(disk)
    # an overlay, not a copy: a 1.3 GB copy cost ~19 s of CPU and left that much to write back
    _run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", base_image(), disk],
         "create the VM's overlay on the base image", timeout=60)
    customize(disk, kernel_args, copies, log)
    port = ssh_port or tg._free_port()
    console = console_log(name)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(console)
    xml = domain_xml(name, disk=disk, disk_bus=disk_bus, ssh_port=port, console=console,
                     memory_mib=memory_mib, root_ports=root_ports)
    state = {"name": name, "ssh_port": port, "disk": disk, "disk_bus": disk_bus, "kernel_args": kernel_args}
    _write(state_path(name), json.dumps(state, indent=2) + "\n")
    prepared = round(time.monotonic() - t0, 1)
    with tg._conn() as conn:
        dom = conn.defineXML(xml)
        dom.create()
        if not dom.isActive():
            raise LabError(f"lab VM {name} did not start")
    del lv
    state["reset_watch_pid"] = start_reset_watch(name)
    state["prepare_seconds"] = prepared
    state["boot_seconds"] = wait_ssh(name, timeout)
    state["inventory"] = inventory(name)
    return state


# --------------------------------------------------------------------------- reboots


def reset_watch_log(name: str) -> str:
    return os.path.join(tg.run_dir(), f"{tg._check_name(name)}.lab-watch.log")


def start_reset_watch(name: str) -> int:
    """Start ``watch_resets`` for ``name`` in its own session (it outlives this process and
    ends by itself when the domain is undefined); return its pid."""
    with open(reset_watch_log(name), "ab") as out:
        proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "watch", "--name", name],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True)
    return proc.pid


def _ours(dom) -> bool:
    xml = dom.XMLDesc(0)
    return parse_meta(xml) is not None or tg.parse_meta(xml) is not None


def watch_resets(name: str, log=None, poll_seconds: float = 5.0) -> int:
    """Turn every reset of domain ``name`` into a power cycle: destroy it and start it again.

    The guest reboots as on real hardware (its own shutdown, then firmware, GRUB, kernel),
    but in a new QEMU process: under TCG a warm reset came back about 40 s slower than a cold
    start (kernel 28-36 s instead of 10 s, firmware to kernel 50 s instead of 20 s), measured
    on the lab VM. Only a domain made by lab_vm.py or tiny_guest.py; returns the number of
    power cycles when the domain is undefined or libvirtd goes away."""
    log = log or (lambda msg: None)
    lv = tg._need_libvirt()
    lv.virEventRegisterDefaultImpl()
    lv.registerErrorHandler(lambda _ctx, _err: None, None)
    events = lv.open(tg.libvirt_uri())
    actions = lv.open(tg.libvirt_uri())
    dom = events.lookupByName(name)
    if not _ours(dom):
        raise LabError(f"domain {name} was not made by lab_vm.py or tiny_guest.py: not watching it")
    resets, gone = [], []
    events.domainEventRegisterAny(dom, lv.VIR_DOMAIN_EVENT_ID_REBOOT,
                                  lambda *_a: resets.append(time.monotonic()), None)
    events.domainEventRegisterAny(
        dom, lv.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        lambda _c, _d, event, _detail, _o: gone.append(1) if event == lv.VIR_DOMAIN_EVENT_UNDEFINED else None,
        None)
    events.registerCloseCallback(lambda *_a: gone.append(1), None)
    lv.virEventAddTimeout(int(poll_seconds * 1000), lambda *_a: None, None)
    log(f"watching {name}: a reset becomes a power cycle")
    cycles = 0
    while not gone:
        lv.virEventRunDefaultImpl()
        if not resets:
            continue
        resets.clear()
        t0 = time.monotonic()
        try:
            target = actions.lookupByName(name)
            if target.isActive():
                target.destroy()
            target.create()
        except lv.libvirtError as exc:
            log(f"{name}: power cycle after a reset failed: {exc}")
            break
        cycles += 1
        log(f"{name}: the guest reset; power-cycled (destroy, start) in {time.monotonic() - t0:.1f} s")
    log(f"{name}: no longer watched after {cycles} power cycle(s)")
    return cycles


def down(name: str) -> bool:
    """Destroy and undefine the lab VM and remove its disk; only a domain this tool made."""
    lv = tg._need_libvirt()
    removed = False
    with tg._conn() as conn:
        dom = tg._lookup(conn, name)
        if dom is not None:
            if parse_meta(dom.XMLDesc(0)) is None:
                raise LabError(f"domain {name} was not made by lab_vm.py: not touching it")
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(lv.VIR_DOMAIN_UNDEFINE_NVRAM if hasattr(lv, "VIR_DOMAIN_UNDEFINE_NVRAM") else 0)
            removed = True
    for path in (disk_path(name), state_path(name)):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            removed = True
    return removed


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--force", action="store_true")
    u = sub.add_parser("up")
    u.add_argument("--name", required=True)
    u.add_argument("--disk-bus", default="virtio", choices=sorted(DISK_BUSES))
    u.add_argument("--kernel-args", default="")
    u.add_argument("--ssh-port", type=int)
    u.add_argument("--memory-mib", type=int, default=1536)
    u.add_argument("--timeout", type=float, default=300)
    u.add_argument("--copy", action="append", default=[], metavar="SRC:DEST[:MODE]",
                   help="a host file put into the VM's disk before it boots (repeatable)")
    for cmd in ("down", "inventory", "wait-ssh", "watch"):
        sub.add_parser(cmd).add_argument("--name", required=True)
    a = p.parse_args(argv)
    # killed (CI's trap, a timeout): leave through the context managers, so a build does not
    # leave its loop device attached and its root mounted
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))

    def log(msg):
        print(f"[lab_vm {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    try:
        if a.cmd == "build":
            out = build(force=a.force, log=log)
        elif a.cmd == "up":
            out = up(a.name, disk_bus=a.disk_bus, kernel_args=a.kernel_args, ssh_port=a.ssh_port,
                     memory_mib=a.memory_mib, timeout=a.timeout, copies=[parse_copy(c) for c in a.copy], log=log)
        elif a.cmd == "down":
            out = {"name": a.name, "removed": down(a.name)}
        elif a.cmd == "inventory":
            out = inventory(a.name)
        elif a.cmd == "watch":
            out = {"name": a.name, "power_cycles": watch_resets(a.name, log=log)}
        else:
            out = {"name": a.name, "waited_seconds": wait_ssh(a.name)}
    except (tg.LabError, TimeoutError, OSError) as exc:
        print(f"lab_vm: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
