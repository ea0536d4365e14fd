#!/usr/bin/env python
"""Tiny throw-away libvirt/QEMU (TCG) guests for virtops.devices tests.

A tiny guest is Debian's stock kernel booted directly (no disk, no bootloader) with a
busybox-static initramfs holding the virtio/SCSI modules, dropbear and a command channel
on the serial console. It boots in seconds under TCG and answers:

* on its serial console (a unix socket under the lab dir): ``run(name, cmd)``;
* over SSH through QEMU user-mode networking (hostfwd on 127.0.0.1 only): ``inventory(name)``
  gives the Ansible connection vars (``ansible.builtin.raw`` / ``ansible.builtin.script``
  work; there is no Python in the guest).

Library::

    import tiny_guest as tg
    tg.build()                                   # artifacts in $VIRTOPS_LAB_DIR (reused)
    info = tg.up("lab-pc", machine="pc")         # define + start + wait; idempotent
    rc, out = tg.run("lab-pc", "cat /proc/partitions")
    tg.guest_disks("lab-pc")                     # [{'name': 'vda', 'serial': 'S1', 'sectors': 2048}]
    tg.wait_for("lab-pc", lambda disks: any(d["serial"] == "S1" for d in disks), timeout=20)
    tg.inventory("lab-pc")                       # ansible_host, ansible_port, ...
    tg.down("lab-pc")

CLI: ``python tests/lab/tiny_guest.py {build,up,down,exec,disks,inventory,list} ...``
(``--help`` on each). Only the standard library, libvirt-python and lxml are used.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import gzip
import hashlib
import json
import lzma
import math
import os
import re
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

from lxml import etree

try:  # libvirt is needed only to run guests, not to build artifacts or XML.
    import libvirt
except ImportError:  # pragma: no cover - exercised only where libvirt-python is absent
    libvirt = None

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_INIT = os.path.join(HERE, "guest_init.sh")

DEFAULT_LAB_DIR = "/var/lib/virtops-lab"
DEFAULT_URI = "qemu:///system"
KERNEL_META_PACKAGE = "linux-image-amd64"
KERNEL_PACKAGE_RE = re.compile(r"^linux-image-\d+\.\d+\.\d+-\d+-amd64$")
# Modules wanted in the guest; their dependencies are added from modules.dep
# (or, when the package ships none, from each module's .modinfo "depends=").
GUEST_MODULES = ("virtio_pci", "virtio_blk", "virtio_scsi", "scsi_mod", "sd_mod", "virtio_net")
# Bump when the layout of the initramfs changes in a way the build key cannot see.
BUILD_FORMAT = 1
# quiet: a nested guest (KVM inside the TCG lab VM) pays a VM exit for every console byte;
# its boot took 60 s with the kernel log on the console and 26 s without (errors still show)
KERNEL_CMDLINE = "console=ttyS0 panic=-1 net.ifnames=0 biosdevname=0 quiet"
GUEST_IP = "10.0.2.15"
READY_LINE = "VIRTOPS-GUEST-READY"
META_NS = "https://virtops.invalid/lab/tiny-guest/1"
QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
# Explicit PCI slots for the NIC libvirt does not know about (it comes from
# <qemu:commandline>), so libvirt never hands the same slot to a hot-plugged device.
NIC_ADDR = {"pc": "bus=pci.0,addr=0x1f", "q35": "bus=pcie.0,addr=0x1e"}
# The virtio-scsi controller sits on the root bus so the K pcie-root-ports of a q35
# guest all stay free for hotplug.
SCSI_SLOT = {"pc": 0x1e, "q35": 0x1d}


class LabError(RuntimeError):
    """Anything the lab cannot do (bad input, missing tool, guest not answering)."""


# --------------------------------------------------------------------------- paths


def lab_dir() -> str:
    return os.environ.get("VIRTOPS_LAB_DIR") or DEFAULT_LAB_DIR


def libvirt_uri() -> str:
    return os.environ.get("VIRTOPS_LIBVIRT_URI") or DEFAULT_URI


def _path(*parts: str) -> str:
    return os.path.join(lab_dir(), *parts)


def ssh_key_path() -> str:
    return _path("ssh", "id_ed25519")


def run_dir() -> str:
    return _path("run")


def console_path(name: str) -> str:
    path = os.path.join(run_dir(), f"{_check_name(name)}.console")
    if len(path.encode()) >= 108:  # sockaddr_un.sun_path
        raise LabError(f"console socket path too long for a unix socket: {path} (shorten VIRTOPS_LAB_DIR)")
    return path


def console_log_path(name: str) -> str:
    return os.path.join(run_dir(), f"{_check_name(name)}.console.log")


def _state_path(name: str) -> str:
    return os.path.join(run_dir(), f"{_check_name(name)}.json")


def _lock_path(name: str) -> str:
    return os.path.join(run_dir(), f"{_check_name(name)}.lock")


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise LabError(f"invalid guest name {name!r}: use letters, digits, '_', '.', '-' (max 63)")
    return name


@contextlib.contextmanager
def _flock(path: str):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _sh(cmd, **kw) -> str:
    """Run a command, return its stdout; raise LabError with its stderr on failure."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    try:
        res = subprocess.run(cmd, check=False, text=True, **kw)
    except FileNotFoundError as exc:
        raise LabError(f"{cmd[0]} not found (bash scripts/setup.sh installs the lab's tools)") from exc
    if res.returncode != 0:
        raise LabError(f"{' '.join(cmd)} failed ({res.returncode}): {(res.stderr or '').strip()}")
    return res.stdout or ""


# --------------------------------------------------------------------------- build


def kernel_package() -> tuple:
    """(package, version) of Debian's current amd64 kernel image package."""
    pkg = os.environ.get("VIRTOPS_LAB_KERNEL_PACKAGE")
    if not pkg:
        out = _sh(["apt-cache", "depends", KERNEL_META_PACKAGE])
        cands = [m.group(1) for m in re.finditer(r"Depends:\s*(\S+)", out) if KERNEL_PACKAGE_RE.match(m.group(1))]
        if not cands:
            raise LabError(f"apt-cache depends {KERNEL_META_PACKAGE} names no kernel package (run apt-get update)")
        pkg = cands[0]
    out = _sh(["apt-cache", "show", "--no-all-versions", pkg])
    m = re.search(r"^Version:\s*(\S+)", out, re.M)
    if not m:
        raise LabError(f"apt-cache show {pkg}: no version")
    return pkg, m.group(1)


def _dpkg_version(pkg: str) -> str:
    try:
        return _sh(["dpkg-query", "-W", "-f=${Version}", pkg]).strip()
    except LabError:
        return "?"


def _file_sha256(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def ensure_ssh_key() -> str:
    """Create the lab client key ($LAB/ssh/id_ed25519, 0600) once; return its public key."""
    key = ssh_key_path()
    os.makedirs(os.path.dirname(key), mode=0o700, exist_ok=True)
    os.chmod(os.path.dirname(key), 0o700)
    if not (os.path.exists(key) and os.path.exists(key + ".pub")):
        for p in (key, key + ".pub"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p)
        _sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "virtops-lab", "-f", key])
    os.chmod(key, 0o600)
    with open(key + ".pub") as fh:
        return fh.read().strip()


def _ensure_host_key() -> str:
    """The guest's dropbear host key, kept in the lab dir so it survives rebuilds."""
    key = _path("ssh", "dropbear_ed25519_host_key")
    if not os.path.exists(key):
        tmp = key + ".tmp"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        _sh(["dropbearkey", "-t", "ed25519", "-f", tmp])
        os.replace(tmp, key)
    os.chmod(key, 0o600)
    return key


def _build_key(kpkg: str, kver: str, pubkey: str) -> str:
    data = {
        "format": BUILD_FORMAT,
        "kernel_package": kpkg,
        "kernel_version": kver,
        "guest_init_sha256": _file_sha256(GUEST_INIT),
        "modules": list(GUEST_MODULES),
        "cmdline": KERNEL_CMDLINE,
        "busybox": _dpkg_version("busybox-static"),
        "dropbear": _dpkg_version("dropbear-bin"),
        "client_key": pubkey,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def artifacts() -> dict:
    """What build() left in the lab dir (read from build.json), or {} when nothing is built."""
    try:
        with open(_path("build.json")) as fh:
            info = json.load(fh)
    except (FileNotFoundError, ValueError):
        return {}
    if not all(os.path.exists(info.get(k, "")) for k in ("kernel", "initrd")):
        return {}
    return info


def build(force: bool = False, log=None) -> dict:
    """Build (or reuse) vmlinuz + initrd.img in the lab dir; return build.json's content.

    The build is reused while the kernel package + version, guest_init.sh, the module
    list, busybox/dropbear versions and the lab client key are unchanged.
    """
    log = log or (lambda msg: None)
    os.makedirs(lab_dir(), exist_ok=True)
    os.chmod(lab_dir(), 0o755)
    with _flock(_path(".build.lock")):
        pubkey = ensure_ssh_key()
        host_key = _ensure_host_key()
        try:
            kpkg, kver = kernel_package()
        except LabError:
            have = artifacts()
            if have and not force:
                log("apt-cache gave no answer; reusing the existing build")
                return have
            raise
        key = _build_key(kpkg, kver, pubkey)
        have = artifacts()
        if have and have.get("key") == key and not force:
            log(f"reusing build {key[:12]} ({kpkg} {kver})")
            return have
        log(f"building {kpkg} {kver} -> {lab_dir()}")
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=".build-", dir=lab_dir()) as tmp:
            info = _build_into(tmp, kpkg, kver, pubkey, host_key, log)
            kernel, initrd = _path("vmlinuz"), _path("initrd.img")
            os.replace(os.path.join(tmp, "vmlinuz"), kernel)
            os.replace(os.path.join(tmp, "initrd.img"), initrd)
            for p in (kernel, initrd):
                os.chmod(p, 0o644)
        info.update(
            key=key,
            kernel=kernel,
            initrd=initrd,
            cmdline=KERNEL_CMDLINE,
            ssh_key=ssh_key_path(),
            built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            build_seconds=round(time.monotonic() - t0, 1),
        )
        tmpjson = _path("build.json.tmp")
        with open(tmpjson, "w") as fh:
            json.dump(info, fh, indent=2, sort_keys=True)
        os.replace(tmpjson, _path("build.json"))
        log(f"built in {info['build_seconds']} s: initrd {os.path.getsize(initrd) // 1024} KiB")
        return info


def _build_into(tmp: str, kpkg: str, kver: str, pubkey: str, host_key: str, log) -> dict:
    dl = os.path.join(tmp, "dl")
    os.makedirs(dl)
    log(f"apt-get download {kpkg}={kver}")
    _sh(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", f"{kpkg}={kver}"], cwd=dl)
    debs = [f for f in os.listdir(dl) if f.endswith(".deb")]
    if len(debs) != 1:
        raise LabError(f"apt-get download {kpkg}: expected one .deb, got {debs}")
    pkgroot = os.path.join(tmp, "pkg")
    _sh(["dpkg-deb", "-x", os.path.join(dl, debs[0]), pkgroot])
    moddirs = [d for base in ("lib/modules", "usr/lib/modules") for d in _listdir(os.path.join(pkgroot, base))]
    if len(moddirs) != 1:
        raise LabError(f"{kpkg}: expected one modules directory, found {moddirs}")
    uname_r = os.path.basename(moddirs[0])
    vmlinuz = None
    for base in ("boot", "usr/lib/linux"):
        cand = os.path.join(pkgroot, base, f"vmlinuz-{uname_r}")
        if os.path.exists(cand):
            vmlinuz = cand
    if not vmlinuz:
        raise LabError(f"{kpkg}: no vmlinuz-{uname_r}")
    shutil.copyfile(vmlinuz, os.path.join(tmp, "vmlinuz"))

    root = os.path.join(tmp, "root")
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc/dropbear", "etc/virtops", "proc", "sys", "dev",
              "run", "tmp", "var/log", "root/.ssh", f"lib/modules/{uname_r}"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.chmod(os.path.join(root, "root"), 0o700)
    os.chmod(os.path.join(root, "root/.ssh"), 0o700)
    os.chmod(os.path.join(root, "tmp"), 0o1777)

    # busybox and its applet links
    busybox = shutil.which("busybox") or "/bin/busybox"
    shutil.copy2(busybox, os.path.join(root, "bin/busybox"))
    for rel in _sh([busybox, "--list-full"]).split():
        rel = rel.strip("/")
        dest = os.path.join(root, rel)
        if rel in ("bin/busybox", "init", "linuxrc") or os.path.lexists(dest):
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.symlink("/bin/busybox", dest)

    # kernel modules, in dependency order
    modules = resolve_modules(moddirs[0], GUEST_MODULES)
    order = []
    depfile = []
    for mod in modules:
        rel = _strip_compression(mod["path"])
        _decompress_module(os.path.join(moddirs[0], mod["path"]), os.path.join(root, "lib/modules", uname_r, rel))
        order.append(rel)
        depfile.append(f"{rel}: " + " ".join(_strip_compression(d) for d in mod["deps"]))
    _write(os.path.join(root, "etc/virtops/modules.order"), "\n".join(order) + "\n")
    _write(os.path.join(root, "lib/modules", uname_r, "modules.dep"), "\n".join(depfile) + "\n")
    for extra in ("modules.builtin", "modules.order"):
        src = os.path.join(moddirs[0], extra)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(root, "lib/modules", uname_r, extra))

    # dropbear + its libraries + the dynamic loader
    dropbear = "/usr/sbin/dropbear"
    if not os.path.exists(dropbear):
        raise LabError("dropbear not installed (apt package dropbear-bin; bash scripts/setup.sh)")
    shutil.copy2(dropbear, os.path.join(root, "usr/sbin/dropbear"))
    for lib in _ldd(dropbear):
        dest = os.path.join(root, lib.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(os.path.realpath(lib), dest)
        os.chmod(dest, 0o755)
    shutil.copyfile(host_key, os.path.join(root, "etc/dropbear/dropbear_ed25519_host_key"))
    os.chmod(os.path.join(root, "etc/dropbear/dropbear_ed25519_host_key"), 0o600)
    _write(os.path.join(root, "root/.ssh/authorized_keys"), pubkey + "\n", 0o600)

    _write(os.path.join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")
    _write(os.path.join(root, "etc/group"), "root:x:0:\ntty:x:5:\n")
    _write(os.path.join(root, "etc/shells"), "/bin/sh\n/bin/ash\n")
    _write(os.path.join(root, "etc/hostname"), "virtops-tiny\n")
    _write(os.path.join(root, "etc/profile"), "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\n")
    shutil.copyfile(GUEST_INIT, os.path.join(root, "init"))
    os.chmod(os.path.join(root, "init"), 0o755)

    # newc cpio, gzip
    initrd = os.path.join(tmp, "initrd.img")
    files = sorted(
        os.path.relpath(os.path.join(dp, n), root)
        for dp, dns, fns in os.walk(root)
        for n in dns + fns
    )
    with open(initrd, "wb") as out:
        cpio = subprocess.Popen(
            ["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet", "--reproducible"],
            cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        gz = subprocess.Popen(["gzip", "-6", "-n"], stdin=cpio.stdout, stdout=out, stderr=subprocess.PIPE)
        cpio.stdout.close()
        cerr = cpio.communicate(("\n".join(files) + "\n").encode())[1]
        gerr = gz.communicate()[1]
        if cpio.returncode or gz.returncode:
            raise LabError(f"cpio/gzip failed: {cerr.decode()} {gerr.decode()}")
    return {
        "kernel_package": kpkg,
        "kernel_version": kver,
        "uname_r": uname_r,
        "modules": order,
        "dropbear_libs": _ldd(dropbear),
    }


def _listdir(path: str) -> list:
    try:
        return [os.path.join(path, n) for n in sorted(os.listdir(path))]
    except FileNotFoundError:
        return []


def _write(path: str, text: str, mode: int = 0o644) -> None:
    with open(path, "w") as fh:
        fh.write(text)
    os.chmod(path, mode)


def _ldd(binary: str) -> list:
    """Absolute paths of the shared objects (and the loader) a binary needs."""
    libs = []
    for line in _sh(["ldd", binary]).splitlines():
        line = line.strip()
        m = re.match(r"\S+\s+=>\s+(/\S+)", line) or re.match(r"(/\S+)\s+\(", line)
        if m and m.group(1) not in libs:
            libs.append(m.group(1))
    if not any("ld-linux" in p for p in libs):
        raise LabError(f"ldd {binary}: no dynamic loader found")
    return libs


_COMPRESSED = (".ko.xz", ".ko.zst", ".ko.gz")


def _strip_compression(rel: str) -> str:
    for ext in _COMPRESSED:
        if rel.endswith(ext):
            return rel[: -len(ext)] + ".ko"
    return rel


def _module_bytes(path: str) -> bytes:
    if path.endswith(".ko.xz"):
        return lzma.decompress(open(path, "rb").read())
    if path.endswith(".ko.gz"):
        return gzip.decompress(open(path, "rb").read())
    if path.endswith(".ko.zst"):
        return subprocess.run(["zstd", "-dc", path], check=True, stdout=subprocess.PIPE).stdout
    with open(path, "rb") as fh:
        return fh.read()


def _decompress_module(src: str, dest: str) -> None:
    """busybox insmod loads plain .ko only: decompress while copying."""
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "wb") as fh:
        fh.write(_module_bytes(src))


def modinfo(data: bytes) -> dict:
    """The key=value pairs of an ELF64 kernel module's .modinfo section (lists of values)."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise LabError("not an ELF64 module")
    end = "<" if data[5] == 1 else ">"
    shoff, = struct.unpack_from(end + "Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)

    def section(i):
        name, _type, _flags, _addr, off, size = struct.unpack_from(end + "IIQQQQ", data, shoff + i * shentsize)
        return name, off, size

    stroff = section(shstrndx)[1]
    info = {}
    for i in range(shnum):
        name, off, size = section(i)
        sname = data[stroff + name: data.index(b"\0", stroff + name)]
        if sname == b".modinfo":
            for entry in data[off: off + size].split(b"\0"):
                if b"=" in entry:
                    k, v = entry.decode(errors="replace").split("=", 1)
                    info.setdefault(k, []).append(v)
    return info


def _modname(rel: str) -> str:
    base = os.path.basename(_strip_compression(rel))
    if base.endswith(".ko"):
        base = base[:-3]
    return base.replace("-", "_")


def resolve_modules(moddir: str, wanted) -> list:
    """Modules needed for `wanted` (names), dependencies first.

    Uses the tree's modules.dep when present; Debian's package ships none (depmod runs at
    install time), then each module's .modinfo "depends=" is read. Built-in modules
    (modules.builtin) are skipped. Returns [{'name', 'path' (relative), 'deps' (relative)}].
    """
    paths = {}
    for dp, _dns, fns in os.walk(os.path.join(moddir, "kernel")):
        for fn in fns:
            if fn.endswith(".ko") or fn.endswith(_COMPRESSED):
                rel = os.path.relpath(os.path.join(dp, fn), moddir)
                paths[_modname(rel)] = rel
    builtin = set()
    with contextlib.suppress(FileNotFoundError):
        with open(os.path.join(moddir, "modules.builtin")) as fh:
            builtin = {_modname(line.strip()) for line in fh if line.strip()}
    depmap = {}
    depfile = os.path.join(moddir, "modules.dep")
    if os.path.exists(depfile):
        with open(depfile) as fh:
            for line in fh:
                if ":" in line:
                    mod, deps = line.split(":", 1)
                    depmap[_modname(mod)] = [_modname(d) for d in deps.split()]

    def deps_of(name):
        if name not in depmap:
            info = modinfo(_module_bytes(os.path.join(moddir, paths[name])))
            depmap[name] = [_modname(d) for v in info.get("depends", []) for d in v.split(",") if d]
        return depmap[name]

    order, seen = [], set()

    def visit(name, stack=()):
        name = name.replace("-", "_")
        if name in seen or name in builtin:
            return
        if name in stack:
            raise LabError(f"module dependency cycle: {' -> '.join(stack + (name,))}")
        if name not in paths:
            raise LabError(f"module {name} is neither in the package nor built in")
        for dep in deps_of(name):
            visit(dep, stack + (name,))
        seen.add(name)
        order.append(name)

    for name in wanted:
        visit(name)

    def all_deps(name, acc):
        for d in deps_of(name):
            if d not in builtin and d not in acc:
                acc.append(d)
                all_deps(d, acc)
        return acc

    return [{"name": n, "path": paths[n], "deps": [paths[d] for d in all_deps(n, [])]} for n in order]


# --------------------------------------------------------------------------- domain XML


def domain_xml(name: str, *, machine: str, kernel: str, initrd: str, cmdline: str, console: str,
               console_log: str | None, ssh_port: int, memory_mib: int = 256, vcpus: int = 1,
               root_ports: int = 4, scsi_controller: bool = False, virt_type: str = "qemu") -> str:
    """The persistent definition of a tiny guest (pure function, no libvirt needed).

    ``virt_type`` ``kvm`` is for a guest inside the lab VM, whose emulated CPU offers SVM."""
    _check_name(name)
    if virt_type not in ("qemu", "kvm"):
        raise LabError(f"virt_type must be 'qemu' or 'kvm', not {virt_type!r}")
    if machine not in ("pc", "q35"):
        raise LabError(f"machine must be 'pc' or 'q35', not {machine!r}")
    if not 1 <= int(ssh_port) <= 65535:
        raise LabError(f"bad ssh port {ssh_port}")
    if int(root_ports) < 0 or int(root_ports) > 24:
        raise LabError("root_ports must be between 0 and 24")
    if int(memory_mib) < 96:
        raise LabError("memory_mib below 96 is too small for the kernel + initramfs")
    E = etree.Element
    S = etree.SubElement
    dom = E("domain", {"type": virt_type}, nsmap={"qemu": QEMU_NS})
    S(dom, "name").text = name
    S(dom, "title").text = "virtops tiny test guest"
    meta = S(dom, "metadata")
    S(meta, f"{{{META_NS}}}guest", {
        "machine": machine,
        "ssh_port": str(int(ssh_port)),
        "root_ports": str(int(root_ports)) if machine == "q35" else "0",
        "scsi_controller": "yes" if scsi_controller else "no",
        "memory_mib": str(int(memory_mib)),
        "console": console,
    }, nsmap={"virtops": META_NS})
    S(dom, "memory", {"unit": "MiB"}).text = str(int(memory_mib))
    S(dom, "vcpu").text = str(int(vcpus))
    os_ = S(dom, "os")
    S(os_, "type", {"arch": "x86_64", "machine": machine}).text = "hvm"
    S(os_, "kernel").text = kernel
    S(os_, "initrd").text = initrd
    S(os_, "cmdline").text = cmdline
    feats = S(dom, "features")
    S(feats, "acpi")  # ACPI PCI hotplug (pc) and the eject path of detach
    S(feats, "apic")
    S(dom, "clock", {"offset": "utc"})
    S(dom, "on_poweroff").text = "destroy"
    S(dom, "on_reboot").text = "restart"
    S(dom, "on_crash").text = "destroy"
    devs = S(dom, "devices")
    if machine == "q35":
        S(devs, "controller", {"type": "pci", "index": "0", "model": "pcie-root"})
        for i in range(int(root_ports)):
            S(devs, "controller", {"type": "pci", "index": str(i + 1), "model": "pcie-root-port"})
    if scsi_controller:
        ctl = S(devs, "controller", {"type": "scsi", "index": "0", "model": "virtio-scsi"})
        S(ctl, "address", {"type": "pci", "domain": "0x0000", "bus": "0x00",
                           "slot": f"0x{SCSI_SLOT[machine]:02x}", "function": "0x0"})
    S(devs, "controller", {"type": "usb", "model": "none"})
    serial = S(devs, "serial", {"type": "unix"})
    S(serial, "source", {"mode": "bind", "path": console})
    if console_log:
        S(serial, "log", {"file": console_log, "append": "off"})
    S(serial, "target", {"port": "0"})
    con = S(devs, "console", {"type": "unix"})
    S(con, "source", {"mode": "bind", "path": console})
    S(con, "target", {"type": "serial", "port": "0"})
    S(devs, "memballoon", {"model": "none"})
    qcmd = S(dom, f"{{{QEMU_NS}}}commandline")
    # restrict=on: the guest reaches nothing outside; the hostfwd below still works.
    for arg in ("-netdev", f"user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:{int(ssh_port)}-:22",
                "-device", f"virtio-net-pci,netdev=n0,{NIC_ADDR[machine]}"):
        S(qcmd, f"{{{QEMU_NS}}}arg", {"value": arg})
    return etree.tostring(dom, pretty_print=True, encoding="unicode")


def parse_meta(xml: str) -> dict | None:
    """The tiny-guest metadata of a domain XML, or None when the domain is not ours."""
    root = etree.fromstring(xml.encode())
    el = root.find(f"metadata/{{{META_NS}}}guest")
    if el is None:
        return None
    meta = dict(el.attrib)
    for k in ("ssh_port", "root_ports", "memory_mib"):
        if k in meta:
            meta[k] = int(meta[k])
    meta["scsi_controller"] = meta.get("scsi_controller") == "yes"
    return meta


# --------------------------------------------------------------------------- libvirt


def _need_libvirt():
    if libvirt is None:
        raise LabError("libvirt-python is not installed (bash scripts/setup.sh)")
    return libvirt


@contextlib.contextmanager
def _conn():
    lv = _need_libvirt()
    lv.registerErrorHandler(lambda _ctx, _err: None, None)  # errors are raised, not printed
    conn = lv.open(libvirt_uri())
    try:
        yield conn
    finally:
        conn.close()


def _lookup(conn, name):
    lv = _need_libvirt()
    try:
        return conn.lookupByName(name)
    except lv.libvirtError as exc:
        if exc.get_error_code() == lv.VIR_ERR_NO_DOMAIN:
            return None
        raise


def _our_meta(dom) -> dict | None:
    return parse_meta(dom.XMLDesc(0))


def _free_port() -> int:
    taken = {s.get("ssh_port") for s in _states()}
    for _attempt in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in taken:
            return port
    raise LabError("no free TCP port on 127.0.0.1")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _states() -> list:
    out = []
    for fn in _listdir(run_dir()):
        if fn.endswith(".json"):
            with contextlib.suppress(OSError, ValueError):
                with open(fn) as fh:
                    out.append(json.load(fh))
    return out


def inventory(name: str) -> dict:
    """Ansible connection vars for a guest (ssh connection; no Python in the guest)."""
    return inventory_from_port(_info_port(name))


def _info_port(name: str) -> int:
    try:
        with open(_state_path(name)) as fh:
            return int(json.load(fh)["ssh_port"])
    except (FileNotFoundError, KeyError, ValueError):
        pass
    with _conn() as conn:
        dom = _lookup(conn, name)
        meta = _our_meta(dom) if dom else None
    if not meta:
        raise LabError(f"no tiny guest named {name!r}")
    return meta["ssh_port"]


def _info(name: str, meta: dict, state: str, **extra) -> dict:
    info = {
        "name": name,
        "machine": meta["machine"],
        "ssh_port": meta["ssh_port"],
        "root_ports": meta.get("root_ports", 0),
        "scsi_controller": meta.get("scsi_controller", False),
        "memory_mib": meta.get("memory_mib"),
        "console": console_path(name),
        "console_log": console_log_path(name),
        "state": state,
        "inventory": inventory_from_port(meta["ssh_port"]),
    }
    info.update(extra)
    return info


def inventory_from_port(port: int) -> dict:
    """The Ansible connection vars for a tiny guest whose sshd is forwarded to `port`."""
    inv = {
        "ansible_host": "127.0.0.1",
        "ansible_port": int(port),
        "ansible_user": "root",
        "ansible_connection": "ssh",
        "ansible_ssh_private_key_file": ssh_key_path(),
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
        # No sftp-server and no scp in the guest: files go through `dd` over the ssh channel.
        "ansible_ssh_transfer_method": "piped",
        "ansible_shell_type": "sh",
    }
    return inv


def _state_name(lv, dom) -> str:
    st = dom.state()[0]
    return {
        lv.VIR_DOMAIN_RUNNING: "running",
        lv.VIR_DOMAIN_PAUSED: "paused",
        lv.VIR_DOMAIN_SHUTOFF: "shutoff",
        lv.VIR_DOMAIN_SHUTDOWN: "shutdown",
        lv.VIR_DOMAIN_CRASHED: "crashed",
        lv.VIR_DOMAIN_BLOCKED: "blocked",
        lv.VIR_DOMAIN_PMSUSPENDED: "pmsuspended",
    }.get(st, str(st))


def up(name: str, machine: str = "pc", root_ports: int = 4, ssh_port: int | None = None,
       scsi_controller: bool = False, memory_mib: int = 256, timeout: float = 120,
       virt_type: str = "qemu", log=None) -> dict:
    """Define (persistent) and start a tiny guest; wait until it answers on its console.

    Idempotent: a running guest that answers is returned as it is; a defined but stopped
    one is started. A guest defined with other settings is an error (down() it first).
    """
    log = log or (lambda msg: None)
    _check_name(name)
    lv = _need_libvirt()
    if machine not in ("pc", "q35"):
        raise LabError(f"machine must be 'pc' or 'q35', not {machine!r}")
    want = {"machine": machine, "root_ports": int(root_ports) if machine == "q35" else 0,
            "scsi_controller": bool(scsi_controller), "memory_mib": int(memory_mib)}
    if ssh_port is not None:
        want["ssh_port"] = int(ssh_port)
    os.makedirs(run_dir(), exist_ok=True)
    os.chmod(run_dir(), 0o755)
    with _conn() as conn:
        dom = _lookup(conn, name)
        if dom is not None:
            meta = _our_meta(dom)
            if meta is None:
                raise LabError(f"domain {name!r} exists and was not made by tiny_guest: leaving it alone")
            diff = {k: (meta.get(k), v) for k, v in want.items() if meta.get(k) != v}
            have_type = etree.fromstring(dom.XMLDesc(0).encode()).get("type")
            if have_type != virt_type:
                diff["virt_type"] = (have_type, virt_type)
            if diff:
                raise LabError(f"tiny guest {name!r} exists with other settings {diff} (have, want): down it first")
            _save_state(name, meta)
            if dom.isActive():
                try:
                    run(name, "true", timeout=5)
                    log(f"{name} already up")
                    return _info(name, meta, "running")
                except (LabError, TimeoutError, OSError):
                    log(f"{name} runs but does not answer; waiting for it")
                    t_wait = time.monotonic()
                    _wait_ready(name, timeout)
                    return _info(name, meta, "running", boot_seconds=round(time.monotonic() - t_wait, 1))
        else:
            art = artifacts()
            if not art:
                log("no artifacts yet: building")
                art = build(log=log)
            port = int(ssh_port) if ssh_port is not None else _free_port()
            if not _port_free(port):
                raise LabError(f"127.0.0.1:{port} is in use")
            xml = domain_xml(name, machine=machine, kernel=art["kernel"], initrd=art["initrd"],
                             cmdline=art.get("cmdline", KERNEL_CMDLINE), console=console_path(name),
                             console_log=console_log_path(name), ssh_port=port, memory_mib=memory_mib,
                             root_ports=root_ports, scsi_controller=scsi_controller, virt_type=virt_type)
            dom = conn.defineXML(xml)
            meta = _our_meta(dom)
            _save_state(name, meta)
            log(f"defined {name} ({machine}, ssh 127.0.0.1:{port})")
        if not dom.isActive():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(console_path(name))
            t0 = time.monotonic()
            try:
                dom.create()
            except lv.libvirtError as exc:
                raise LabError(f"starting {name} failed: {exc}") from exc
            log(f"started {name}")
            _wait_ready(name, timeout, t0)
            boot = round(time.monotonic() - t0, 1)
            log(f"{name} answers after {boot} s")
            return _info(name, meta, "running", boot_seconds=boot)
        return _info(name, meta, _state_name(lv, dom))


def _save_state(name: str, meta: dict) -> None:
    state = dict(meta, name=name, console=console_path(name), console_log=console_log_path(name))
    tmp = _state_path(name) + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(state, fh, indent=2, sort_keys=True)
    os.replace(tmp, _state_path(name))


def probe_timeout() -> float:
    """Seconds one readiness probe on the console may take: 5, or VIRTOPS_GUEST_PROBE_TIMEOUT
    (a tiny guest nested in a TCG lab VM answers a shell command in tens of seconds)."""
    try:
        return max(1.0, float(os.environ.get("VIRTOPS_GUEST_PROBE_TIMEOUT", "5")))
    except ValueError:
        return 5.0


def _wait_ready(name: str, timeout: float, t0: float | None = None) -> None:
    t0 = t0 or time.monotonic()
    deadline = t0 + timeout
    last = None
    checked = time.monotonic()
    logfile = console_log_path(name)
    while time.monotonic() < deadline:
        # Do not queue probes while the guest boots: wait for its READY line in the
        # console log (when libvirt keeps one), then ask on the channel.
        if os.path.exists(logfile) and time.monotonic() - t0 < timeout / 2 and not _log_has_ready(logfile):
            if time.monotonic() - checked > 2:
                checked = time.monotonic()
                if not _is_active(name):
                    raise LabError(f"{name} stopped while booting; see {logfile}")
            time.sleep(0.2)
            continue
        try:
            rc, out = run(name, "echo virtops-ok",
                          timeout=max(1.0, min(probe_timeout(), deadline - time.monotonic())))
            if rc == 0 and out.strip() == "virtops-ok":
                return
            last = f"unexpected answer rc={rc} {out!r}"
        except (TimeoutError, OSError, LabError) as exc:
            last = exc
        if not _is_active(name):
            raise LabError(f"{name} stopped while booting; see {console_log_path(name)}")
        time.sleep(0.2)
    raise LabError(f"{name} did not answer on its console within {timeout} s ({last}); "
                   f"see {console_log_path(name)}")


def _log_has_ready(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return READY_LINE.encode() in fh.read()
    except OSError:
        return False


def _is_active(name: str) -> bool:
    with _conn() as conn:
        dom = _lookup(conn, name)
        return bool(dom and dom.isActive())


def down(name: str, log=None) -> bool:
    """Destroy (if running) and undefine a tiny guest, remove its run files.

    Returns True when there was something to remove. Refuses a domain that has no
    tiny-guest metadata. No error when the guest is absent.
    """
    log = log or (lambda msg: None)
    _check_name(name)
    lv = _need_libvirt()
    found = False
    with _conn() as conn:
        dom = _lookup(conn, name)
        if dom is not None:
            if _our_meta(dom) is None:
                raise LabError(f"domain {name!r} was not made by tiny_guest: leaving it alone")
            found = True
            if dom.isActive():
                with contextlib.suppress(lv.libvirtError):
                    dom.destroy()
                log(f"destroyed {name}")
            flags = 0
            for f in ("VIR_DOMAIN_UNDEFINE_MANAGED_SAVE", "VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA",
                      "VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA", "VIR_DOMAIN_UNDEFINE_NVRAM"):
                flags |= getattr(lv, f, 0)
            try:
                dom.undefineFlags(flags)
            except lv.libvirtError as exc:
                if exc.get_error_code() != lv.VIR_ERR_NO_DOMAIN:
                    raise
            log(f"undefined {name}")
    for p in (console_path(name), console_log_path(name), _state_path(name), _lock_path(name)):
        if os.path.lexists(p):
            found = True
            os.unlink(p)
    return found


def list_guests() -> list:
    """The tiny guests libvirt knows (by their metadata) plus leftover run records."""
    lv = _need_libvirt()
    out, names = [], set()
    with _conn() as conn:
        for dom in conn.listAllDomains(0):
            meta = _our_meta(dom)
            if meta is None:
                continue
            names.add(dom.name())
            out.append(_info(dom.name(), meta, _state_name(lv, dom)))
    for st in _states():
        if st.get("name") not in names and st.get("name"):
            out.append({"name": st["name"], "state": "undefined (stale run files)", "ssh_port": st.get("ssh_port")})
    return sorted(out, key=lambda d: d["name"])


# --------------------------------------------------------------------------- console channel


_DONE_RE = r"\n@@VIRTOPS-DONE (-?\d+) %s\r?\n"


def run(name: str, cmd: str, timeout: float = 30) -> tuple:
    """Run a shell command in the guest through its serial console; return (rc, output).

    The command runs as `sh -c CMD` (stdin /dev/null, stderr merged into stdout); it is
    killed in the guest after `timeout` seconds (TimeoutError here). Output has '\\n'
    line endings; a command printing nothing gives ''. Calls on one guest are serialized
    with a lock file; a client that went away leaves nothing behind for the next one.
    """
    _check_name(name)
    path = console_path(name)
    token = secrets.token_hex(8)
    limit = max(1, int(math.ceil(timeout)))
    payload = base64.b64encode(cmd.encode()).decode()
    line = f"\n@@VIRTOPS-CMD {token} {limit} {payload}\n".encode()
    begin_re = re.compile((r"@@VIRTOPS-BEGIN %s\r?\n" % token).encode())
    done_re = re.compile((_DONE_RE % token).encode())
    deadline = time.monotonic() + limit + 5
    with _flock(_lock_path(name)):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            _connect(sock, path, name, deadline)
            t0 = time.monotonic()
            sock.sendall(line)
            buf = b""
            start = None
            while True:
                if start is None:
                    m = begin_re.search(buf)
                    if m:
                        start = m.end()
                if start is not None:
                    # the newline before the DONE marker belongs to the marker
                    m = done_re.search(buf, max(start - 1, 0))
                    if m and m.start() >= start - 1:
                        rc = int(m.group(1))
                        out = buf[start: max(start, m.start())] if m.start() >= start else b""
                        text = out.decode(errors="replace").replace("\r\n", "\n")
                        if rc == 143 and time.monotonic() - t0 >= limit - 0.5:
                            raise TimeoutError(f"{name}: {cmd!r} still running after {limit} s (killed)")
                        return rc, text
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{name}: no answer to {cmd!r} within {limit + 5} s")
                sock.settimeout(min(left, 5.0))
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    raise LabError(f"{name}: console closed (guest stopped?)")
                buf += chunk


def _connect(sock, path: str, name: str, deadline: float) -> None:
    """Connect to QEMU's console socket. QEMU serves one client at a time and accepts the
    next one only after it noticed the previous one left: retry EAGAIN/ECONNREFUSED."""
    while True:
        sock.settimeout(max(0.1, min(5.0, deadline - time.monotonic())))
        try:
            sock.connect(path)
            return
        except FileNotFoundError as exc:
            raise LabError(f"{name}: no console socket {path} (guest not running?)") from exc
        except (BlockingIOError, ConnectionRefusedError, InterruptedError) as exc:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{name}: console socket busy: {exc}") from exc
            time.sleep(0.05)


def guest_disks(name: str) -> list:
    """Block devices the guest sees: [{'name', 'serial' (None when none), 'sectors'}]."""
    rc, out = run(name, "lsdisks", timeout=15)
    if rc != 0:
        raise LabError(f"{name}: lsdisks failed ({rc}): {out}")
    return parse_lsdisks(out)


def parse_lsdisks(out: str) -> list:
    disks = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 3 or not parts[2].isdigit():
            continue
        disks.append({"name": parts[0], "serial": None if parts[1] == "-" else parts[1],
                      "sectors": int(parts[2])})
    return disks


def wait_for(name: str, predicate, timeout: float = 30, interval: float = 0.5, probe=None):
    """Poll probe(name) (default guest_disks) until predicate(result) is true; return the result.

    Raises TimeoutError with the last result when it never becomes true.
    """
    probe = probe or guest_disks
    deadline = time.monotonic() + timeout
    while True:
        result = probe(name)
        if predicate(result):
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{name}: condition not met within {timeout} s; last: {result!r}")
        time.sleep(interval)


# --------------------------------------------------------------------------- CLI


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="tiny_guest.py", description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build (or reuse) vmlinuz + initrd.img in the lab dir")
    b.add_argument("--force", action="store_true", help="rebuild even when the build key is unchanged")
    u = sub.add_parser("up", help="define + start a guest and wait until it answers (JSON)")
    u.add_argument("--name", required=True)
    u.add_argument("--machine", choices=("pc", "q35"), default="pc")
    u.add_argument("--root-ports", type=int, default=4, help="pcie-root-ports on q35 (default 4)")
    u.add_argument("--ssh-port", type=int, default=None, help="host port on 127.0.0.1 (default: a free one)")
    u.add_argument("--scsi-controller", action="store_true", help="add a virtio-scsi controller")
    u.add_argument("--memory-mib", type=int, default=256)
    u.add_argument("--timeout", type=float, default=120)
    u.add_argument("--virt-type", choices=("qemu", "kvm"), default="qemu",
                   help="kvm only where /dev/kvm works (inside the lab VM: emulated SVM)")
    d = sub.add_parser("down", help="destroy + undefine a guest, remove its run files")
    d.add_argument("--name", required=True)
    e = sub.add_parser("exec", help="run a command on the guest's console; exit with its rc")
    e.add_argument("--name", required=True)
    e.add_argument("--timeout", type=float, default=30)
    e.add_argument("command", nargs=argparse.REMAINDER)
    k = sub.add_parser("disks", help="the guest's block devices (lsdisks) as JSON")
    k.add_argument("--name", required=True)
    i = sub.add_parser("inventory", help="Ansible connection vars (JSON, or an INI host line)")
    i.add_argument("--name", required=True)
    i.add_argument("--ini", action="store_true", help="print one INI inventory line")
    sub.add_parser("list", help="tiny guests (JSON)")
    args = ap.parse_args(argv)

    def log(msg):
        print(f"[tiny_guest] {msg}", file=sys.stderr)

    try:
        if args.cmd == "build":
            _print_json(build(force=args.force, log=log))
        elif args.cmd == "up":
            _print_json(up(args.name, machine=args.machine, root_ports=args.root_ports, ssh_port=args.ssh_port,
                           scsi_controller=args.scsi_controller, memory_mib=args.memory_mib,
                           timeout=args.timeout, virt_type=args.virt_type, log=log))
        elif args.cmd == "down":
            down(args.name, log=log)
        elif args.cmd == "exec":
            cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
            if not cmd:
                ap.error("exec needs a command after --")
            rc, out = run(args.name, " ".join(cmd), timeout=args.timeout)
            sys.stdout.write(out)
            if out and not out.endswith("\n"):
                sys.stdout.write("\n")
            return rc
        elif args.cmd == "disks":
            _print_json(guest_disks(args.name))
        elif args.cmd == "inventory":
            inv = inventory(args.name)
            if args.ini:
                print(args.name + " " + " ".join(f"{k}={_ini_quote(v)}" for k, v in inv.items()))
            else:
                _print_json(inv)
        elif args.cmd == "list":
            _print_json(list_guests())
    except (LabError, TimeoutError) as exc:
        print(f"tiny_guest: {exc}", file=sys.stderr)
        return 124 if isinstance(exc, TimeoutError) else 2
    except Exception as exc:  # libvirt errors and the like: one line, not a traceback
        if libvirt is not None and isinstance(exc, libvirt.libvirtError):
            print(f"tiny_guest: libvirt: {exc}", file=sys.stderr)
            return 2
        raise
    return 0


def _ini_quote(v) -> str:
    v = str(v)
    return f"'{v}'" if re.search(r"\s", v) else v


if __name__ == "__main__":
    sys.exit(main())
