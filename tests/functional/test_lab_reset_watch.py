"""tests/lab/lab_vm.py's reset watch against the real libvirtd: a reset of a watched guest becomes
a power cycle (a new QEMU process), and the watch ends by itself when the domain is undefined.
The lab VMs use it so that a reboot boots as fast as a cold start under TCG."""

import os
import subprocess
import sys
import time

import pytest

from conftest import PREFIX, libvirt_conn, tiny_guest

pytestmark = [pytest.mark.libvirt, pytest.mark.guest]

lab_vm = pytest.importorskip('lab_vm')


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f'{what} not seen within {timeout} s')


def _log(name):
    try:
        with open(lab_vm.reset_watch_log(name)) as fh:
            return fh.read()
    except FileNotFoundError:
        return ''


def _exited(pid):
    done, _status = os.waitpid(pid, os.WNOHANG)
    return done == pid


@pytest.fixture
def watched_guest(lab_artifacts):
    name = PREFIX + 'reset-watch'
    tiny_guest.down(name)
    if os.path.exists(lab_vm.reset_watch_log(name)):
        os.unlink(lab_vm.reset_watch_log(name))
    tiny_guest.up(name, machine='pc', timeout=float(os.environ.get('VIRTOPS_GUEST_BOOT_TIMEOUT', '120')))
    yield name
    tiny_guest.down(name)


def test_a_reset_becomes_a_power_cycle_and_the_watch_ends_with_the_domain(watched_guest):
    name = watched_guest
    conn = libvirt_conn()
    dom = conn.lookupByName(name)
    first_id = dom.ID()
    pid = lab_vm.start_reset_watch(name)
    _wait(lambda: 'watching' in _log(name), 30, 'the watch starting')

    dom.reset(0)

    # a domain object keeps the ID it was looked up with: look it up again
    def started_again():
        dom_id = conn.lookupByName(name).ID()  # -1 while it is off
        return dom_id if dom_id > first_id else None

    _wait(started_again, 60, 'a new QEMU process')
    _wait(lambda: 'power-cycled' in _log(name), 10, 'the power cycle in the watch log')
    # the guest boots again from its firmware and answers
    tiny_guest._wait_ready(name, float(os.environ.get('VIRTOPS_GUEST_BOOT_TIMEOUT', '120')))
    assert tiny_guest.run(name, 'true', timeout=30)[0] == 0

    assert not _exited(pid)
    tiny_guest.down(name)
    _wait(lambda: _exited(pid), 30, 'the watch ending after the domain was undefined')
    assert 'no longer watched after 1 power cycle(s)' in _log(name)


def test_a_domain_the_lab_did_not_make_is_not_watched(watched_guest):
    import libvirt
    conn = libvirt_conn()
    xml = conn.lookupByName(watched_guest).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    # the same guest without the tiny guest's metadata: a domain somebody else made
    from lxml import etree
    root = etree.fromstring(xml.encode())
    root.find('name').text = PREFIX + 'not-ours'
    root.remove(root.find('uuid'))
    root.remove(root.find('metadata'))
    foreign = conn.defineXML(etree.tostring(root).decode())
    try:
        # as `up` runs it: a process of its own (in this one, libvirt's event loop would stay
        # registered and unrun, and libvirtd would close this process's later connections
        # when their keepalives go unanswered)
        proc = subprocess.run([sys.executable, lab_vm.__file__, 'watch', '--name', PREFIX + 'not-ours'],
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 1, (proc.stdout, proc.stderr)
        assert 'not made by lab_vm.py or tiny_guest.py' in proc.stderr
        assert not foreign.isActive()
    finally:
        foreign.undefine()
