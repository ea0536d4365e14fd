"""Pure tests of tests/lab/lab_vm.py: the domain XML, the --copy grammar and target, and the zipimport bytecode cache."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import zipfile

import pytest

pytest.importorskip("lxml.etree")

_LAB = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "lab")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def lab_vm():
    return _load("virtops_lab_vm", os.path.join(_LAB, "lab_vm.py"))


def test_copy_spec_with_and_without_mode(lab_vm, tmp_path):
    src = tmp_path / "f"
    src.write_text("x")
    assert lab_vm.parse_copy(f"{src}:/var/lib/x/f") == (str(src), "/var/lib/x/f", 0o644)
    assert lab_vm.parse_copy(f"{src}:/root/.ssh/k:0600") == (str(src), "/root/.ssh/k", 0o600)


@pytest.mark.parametrize("dest, why", [
    ("relative/f", "absolute DEST"),
    ("/a/../../etc/f", "inside the VM"),
    ("/", "inside the VM"),
    ("/f:0x9", "MODE must be octal"),
    ("/f:0644:extra", "SRC:DEST"),
])
def test_bad_copy_specs_are_refused_saying_why(lab_vm, tmp_path, dest, why):
    src = tmp_path / "f"
    src.write_text("x")
    with pytest.raises(lab_vm.LabError, match=why):
        lab_vm.parse_copy(f"{src}:{dest}")


def test_missing_source_is_refused(lab_vm, tmp_path):
    with pytest.raises(lab_vm.LabError, match="is not a file"):
        lab_vm.parse_copy(f"{tmp_path}/nothing:/f")


def test_copy_target_follows_the_image_links_inside_the_image(lab_vm, tmp_path):
    mnt = tmp_path / "mnt"
    (mnt / "usr/lib").mkdir(parents=True)
    (mnt / "root/.ssh").mkdir(parents=True)
    (mnt / "lib").symlink_to("usr/lib")                          # Debian's merged /usr
    (mnt / "root/.ssh/authorized_keys").symlink_to("/etc/keys")  # absolute: the image's /etc
    (mnt / "up").symlink_to("../../../../tmp")                   # climbs no higher than the image
    assert lab_vm.copy_target(str(mnt), "/lib/x/f") == str(mnt / "usr/lib/x/f")
    assert lab_vm.copy_target(str(mnt), "/root/.ssh/authorized_keys") == str(mnt / "etc/keys")
    assert lab_vm.copy_target(str(mnt), "/up/f") == str(mnt / "tmp/f")


def test_copy_target_refuses_a_link_loop(lab_vm, tmp_path):
    (tmp_path / "a").symlink_to("/b")
    (tmp_path / "b").symlink_to("/a")
    with pytest.raises(lab_vm.LabError, match="--copy to /a/f: too many levels of symbolic links"):
        lab_vm.copy_target(str(tmp_path), "/a/f")


def test_pyc_cache_compiles_a_zip_member_once_and_runs_the_same(tmp_path, monkeypatch):
    import zipimport
    monkeypatch.setattr(zipimport, "_compile_source", zipimport._compile_source)
    cache = _load("virtops_lab_pyc_test", os.path.join(_LAB, "image", "virtops_lab_pyc.py"))
    monkeypatch.setattr(cache, "CACHE_DIR", str(tmp_path / "cache"))
    calls = []
    real = cache._compile

    def counting(pathname, source):
        calls.append(pathname)
        return real(pathname, source)

    monkeypatch.setattr(cache, "_compile", counting)
    for run in (1, 2):
        archive = tmp_path / f"payload{run}.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("virtops_pyc_probe.py", "VALUE = 6 * 7\n")
        sys.modules.pop("virtops_pyc_probe", None)
        monkeypatch.syspath_prepend(str(archive))
        mod = importlib.import_module("virtops_pyc_probe")
        assert mod.VALUE == 42
        assert mod.__file__.startswith(str(archive))
    sys.modules.pop("virtops_pyc_probe", None)
    assert len(calls) == 1, calls
    assert len(os.listdir(tmp_path / "cache")) == 1


def test_domain_xml_boots_without_option_roms_and_forwards_ssh_on_loopback_only(lab_vm):
    from lxml import etree
    root = etree.fromstring(lab_vm.domain_xml("lab-x", disk="/d.raw", disk_bus="sata", ssh_port=2299,
                                              console="/c.log", memory_mib=512, root_ports=2).encode())
    assert root.findtext("on_reboot") == "restart"
    assert root.find("devices/disk/target").attrib == {"dev": "sda", "bus": "sata"}
    # the VM's disk is its qcow2 overlay on the base image
    assert root.find("devices/disk/driver").get("type") == "qcow2"
    spare = root.find("devices/interface")
    assert spare.get("type") == "user" and spare.find("model").get("type") == "e1000e"
    assert spare.find("rom").get("enabled") == "no"
    iommu = root.find("devices/iommu")
    assert iommu.get("model") == "intel"
    assert iommu.find("driver").attrib == {"intremap": "on", "caching_mode": "on"}
    args = [a.get("value") for a in root.iter(f"{{{lab_vm.QEMU_NS}}}arg")]
    assert args[1] == "user,id=mgmt,hostfwd=tcp:127.0.0.1:2299-:22"
    assert args[3].startswith("virtio-net-pci,netdev=mgmt,") and args[3].endswith(",romfile=")
    assert len(root.findall("devices/controller[@model='pcie-root-port']")) == 2
