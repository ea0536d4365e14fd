"""Pure tests of tests/lab/tiny_guest.py's domain XML builder and parsers (no libvirt needed)."""

from __future__ import annotations

import importlib.util
import os
import struct

import pytest

etree = pytest.importorskip("lxml.etree")

_LAB = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "lab")


def _load():
    spec = importlib.util.spec_from_file_location("virtops_tiny_guest", os.path.join(_LAB, "tiny_guest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


tg = _load()
QEMU = "{http://libvirt.org/schemas/domain/qemu/1.0}"


def build(**kw):
    args = dict(machine="pc", kernel="/lab/vmlinuz", initrd="/lab/initrd.img", cmdline="console=ttyS0",
                console="/lab/run/g.console", console_log="/lab/run/g.console.log", ssh_port=2222)
    args.update(kw)
    return etree.fromstring(tg.domain_xml("g1", **args).encode())


def test_pc_domain_is_tcg_direct_kernel_boot_without_disks():
    dom = build()
    assert dom.get("type") == "qemu"
    assert dom.findtext("name") == "g1"
    assert dom.find("os/type").get("machine") == "pc"
    assert dom.findtext("os/kernel") == "/lab/vmlinuz"
    assert dom.findtext("os/initrd") == "/lab/initrd.img"
    assert dom.findtext("os/cmdline") == "console=ttyS0"
    assert dom.find("memory").get("unit") == "MiB" and dom.findtext("memory") == "256"
    assert dom.findall("devices/disk") == []
    assert dom.findall("devices/interface") == []
    assert dom.findall("devices/controller[@model='pcie-root-port']") == []
    assert dom.find("devices/controller[@type='scsi']") is None
    assert dom.find("devices/memballoon").get("model") == "none"
    assert dom.find("features/acpi") is not None


def test_serial_console_is_a_bound_unix_socket_with_log():
    dom = build()
    serial = dom.find("devices/serial")
    assert serial.get("type") == "unix"
    assert serial.find("source").attrib == {"mode": "bind", "path": "/lab/run/g.console"}
    assert serial.find("log").get("file") == "/lab/run/g.console.log"
    con = dom.find("devices/console")
    assert con.find("source").get("path") == "/lab/run/g.console"
    assert con.find("target").get("type") == "serial"
    assert build(console_log=None).find("devices/serial/log") is None


@pytest.mark.parametrize("machine,bus", [("pc", "bus=pci.0"), ("q35", "bus=pcie.0")])
def test_network_only_user_mode_hostfwd_on_loopback(machine, bus):
    dom = build(machine=machine, ssh_port=40022)
    args = [a.get("value") for a in dom.findall(f"{QEMU}commandline/{QEMU}arg")]
    assert args[0] == "-netdev"
    netdev = args[1].split(",")
    assert netdev[0] == "user" and "restrict=on" in netdev
    assert "hostfwd=tcp:127.0.0.1:40022-:22" in netdev
    assert args[2] == "-device" and args[3].startswith("virtio-net-pci,netdev=n0,") and bus in args[3]
    assert len(args) == 4
    assert "bridge" not in etree.tostring(dom).decode()


@pytest.mark.parametrize("ports", [0, 1, 4])
def test_q35_root_ports(ports):
    dom = build(machine="q35", root_ports=ports)
    assert dom.find("os/type").get("machine") == "q35"
    assert dom.find("devices/controller[@index='0']").get("model") == "pcie-root"
    assert len(dom.findall("devices/controller[@model='pcie-root-port']")) == ports


def test_scsi_controller_sits_on_the_root_bus():
    for machine in ("pc", "q35"):
        ctl = build(machine=machine, scsi_controller=True).find("devices/controller[@type='scsi']")
        assert ctl.get("model") == "virtio-scsi"
        assert ctl.find("address").get("bus") == "0x00"


def test_metadata_round_trip():
    xml = tg.domain_xml("g1", machine="q35", kernel="k", initrd="i", cmdline="c", console="/r/g1.console",
                        console_log=None, ssh_port=2200, root_ports=2, scsi_controller=True, memory_mib=192)
    assert tg.parse_meta(xml) == {"machine": "q35", "ssh_port": 2200, "root_ports": 2, "scsi_controller": True,
                                  "memory_mib": 192, "console": "/r/g1.console"}
    assert tg.parse_meta("<domain type='qemu'><name>x</name></domain>") is None


def test_kvm_type_for_a_guest_inside_the_lab_vm():
    assert build(machine="q35", virt_type="kvm").get("type") == "kvm"


@pytest.mark.parametrize("kw", [dict(machine="isapc"), dict(ssh_port=0), dict(root_ports=-1), dict(memory_mib=32),
                                dict(virt_type="xen")])
def test_bad_input(kw):
    with pytest.raises(tg.LabError):
        build(**kw)


@pytest.mark.parametrize("name", ["", "../x", "a b", "-x", "x" * 64])
def test_bad_names(name):
    with pytest.raises(tg.LabError):
        tg.domain_xml(name, machine="pc", kernel="k", initrd="i", cmdline="c", console="c", console_log=None,
                      ssh_port=22)


def test_parse_lsdisks():
    out = "vda VBLK-1 32768\nsda SCSI-1 65536\nvdb - 2048\n\ngarbage line here too\n"
    assert tg.parse_lsdisks(out) == [
        {"name": "vda", "serial": "VBLK-1", "sectors": 32768},
        {"name": "sda", "serial": "SCSI-1", "sectors": 65536},
        {"name": "vdb", "serial": None, "sectors": 2048},
    ]


def test_inventory_vars(monkeypatch):
    monkeypatch.setenv("VIRTOPS_LAB_DIR", "/somewhere")
    inv = tg.inventory_from_port(40022)
    assert inv["ansible_host"] == "127.0.0.1" and inv["ansible_port"] == 40022
    assert inv["ansible_user"] == "root"
    assert inv["ansible_ssh_private_key_file"] == "/somewhere/ssh/id_ed25519"
    assert "StrictHostKeyChecking=no" in inv["ansible_ssh_common_args"]
    assert "UserKnownHostsFile=/dev/null" in inv["ansible_ssh_common_args"]
    assert inv["ansible_ssh_transfer_method"] == "piped"


def _elf_with_modinfo(entries):
    """A minimal ELF64 with a .shstrtab and a .modinfo section."""
    modinfo = b"\0".join(entries) + b"\0"
    shstr = b"\0.shstrtab\0.modinfo\0"
    data_off = 64
    shstr_off = data_off
    mi_off = shstr_off + len(shstr)
    shoff = mi_off + len(modinfo)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 1, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 3, 1)
    sh = bytes(64)
    sh += struct.pack("<IIQQQQIIQQ", 1, 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0)
    sh += struct.pack("<IIQQQQIIQQ", 11, 1, 0, 0, mi_off, len(modinfo), 0, 0, 1, 0)
    return header + shstr + modinfo + sh


def test_modinfo_reads_depends():
    blob = _elf_with_modinfo([b"license=GPL", b"depends=virtio_ring,t10-pi", b"name=sd_mod"])
    info = tg.modinfo(blob)
    assert info["depends"] == ["virtio_ring,t10-pi"]
    assert info["name"] == ["sd_mod"]


def test_resolve_modules_orders_dependencies_first(tmp_path):
    mods = {
        "kernel/a/virtio.ko": [],
        "kernel/a/virtio_ring.ko": [],
        "kernel/b/virtio_blk.ko": [b"depends=virtio,virtio_ring"],
        "kernel/c/crc-t10dif.ko": [],
        "kernel/c/sd_mod.ko": [b"depends=crc-t10dif,scsi_mod"],
    }
    for rel, entries in mods.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(_elf_with_modinfo(entries + [b"license=GPL"]))
    (tmp_path / "modules.builtin").write_text("kernel/s/scsi_mod.ko\n")
    order = tg.resolve_modules(str(tmp_path), ["virtio_blk", "sd_mod", "scsi_mod"])
    names = [m["name"] for m in order]
    assert names.index("virtio") < names.index("virtio_blk")
    assert names.index("virtio_ring") < names.index("virtio_blk")
    assert names.index("crc_t10dif") < names.index("sd_mod")
    assert "scsi_mod" not in names  # built in
    sd = [m for m in order if m["name"] == "sd_mod"][0]
    assert sd["deps"] == ["kernel/c/crc-t10dif.ko"]
    with pytest.raises(tg.LabError):
        tg.resolve_modules(str(tmp_path), ["nonexistent"])
