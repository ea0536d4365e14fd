"""Fixtures for L2 tests: a real libvirtd (qemu:///system) and booted tiny guests (TCG)."""

import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'lab'))

import tiny_guest  # noqa: E402

URI = 'qemu:///system'
# Name prefix of every domain, network and image directory these tests create: give each
# engineer's run its own (VIRTOPS_TEST_PREFIX=batch-) so two runs on one libvirtd never meet.
PREFIX = os.environ.get('VIRTOPS_TEST_PREFIX', 'pytest-')


def libvirt_conn():
    import libvirt
    libvirt.registerErrorHandler(lambda *_a: None, None)
    return libvirt.open(URI)


def domain_xml_both(name):
    """(live XML or None, persistent XML or None) of a domain, for 'nothing changed' checks."""
    import libvirt
    dom = libvirt_conn().lookupByName(name)
    live = dom.XMLDesc(0) if dom.isActive() else None
    config = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE) if dom.isPersistent() else None
    return live, config


@pytest.fixture(scope='session')
def lab_artifacts():
    return tiny_guest.build()


def _guest(name, **kw):
    tiny_guest.down(name)
    kw.setdefault('timeout', float(os.environ.get('VIRTOPS_GUEST_BOOT_TIMEOUT', '120')))
    info = tiny_guest.up(name, **kw)
    return info


@pytest.fixture(scope='session')
def pc_guest(lab_artifacts):
    """A running tiny guest on machine pc (i440fx, ACPI hotplug)."""
    name = PREFIX + 'hotplug-pc'
    yield _guest(name, machine='pc')
    tiny_guest.down(name)


@pytest.fixture(scope='session')
def q35_one_port_guest(lab_artifacts):
    """A running tiny guest on q35 with a single spare pcie-root-port."""
    name = PREFIX + 'hotplug-q35'
    yield _guest(name, machine='q35', root_ports=1)
    tiny_guest.down(name)


@pytest.fixture
def shutoff_domain():
    """A defined, never started domain (persistent definition only)."""
    import libvirt
    name = PREFIX + 'shutoff'
    conn = libvirt_conn()
    try:
        conn.lookupByName(name).undefine()
    except libvirt.libvirtError:
        pass
    conn.defineXML("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                   "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices/></domain>" % name)
    yield name
    conn.lookupByName(name).undefine()


@pytest.fixture
def images(request):
    """make(name, fmt='raw') -> path of a 16 MiB image in a directory QEMU can read; removed afterwards."""
    base = os.path.join(tiny_guest.lab_dir(), 'images', PREFIX + request.node.name[:40])
    base = base.replace('[', '_').replace(']', '_')
    os.makedirs(base, exist_ok=True)

    def make(name, fmt='raw'):
        path = os.path.join(base, name)
        subprocess.run(['qemu-img', 'create', '-q', '-f', fmt, path, '16M'], check=True)
        return path

    yield make
    shutil.rmtree(base, ignore_errors=True)


def guest_serials(name):
    return set(d['serial'] for d in tiny_guest.guest_disks(name) if d['serial'])


def wait_serials(name, present=(), absent=(), timeout=30):
    """Wait until the guest lists every serial in ``present`` and none in ``absent``."""
    return tiny_guest.wait_for(
        name, lambda disks: set(present) <= set(d['serial'] for d in disks)
        and not set(absent) & set(d['serial'] for d in disks), timeout=timeout)
