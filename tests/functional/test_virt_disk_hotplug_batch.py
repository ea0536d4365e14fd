"""virt_disk_hotplug with many disks in one task, level L2: a real libvirtd and a booted tiny
guest (TCG, machine pc). Six virtio and six SCSI disks go in with one task and out with
another; the live and persistent XML, the guest's own view, libvirt's DEVICE_REMOVED events
and a second, unchanged run are checked. Runs in well under a minute.
"""

import os
import threading
import time

import pytest

from conftest import domain_xml_both, guest_serials, libvirt_conn

pytestmark = [pytest.mark.libvirt, pytest.mark.guest]

PER_BUS = 6
GUEST_WAIT = float(os.environ.get('VIRTOPS_GUEST_WAIT', '30'))  # more on a loaded host (TCG guests starve)


def wait_serials(name, present=(), absent=()):
    """Wait until the guest lists every serial in ``present`` and none in ``absent``; a console that
    answers late (a starved TCG guest) is asked again."""
    deadline = time.monotonic() + GUEST_WAIT
    seen = None
    while time.monotonic() < deadline:
        try:
            seen = guest_serials(name)
        except TimeoutError:
            continue
        if set(present) <= seen and not set(absent) & seen:
            return
        time.sleep(0.5)
    raise AssertionError('guest %s: serials %r, wanted %r present and %r absent' % (name, seen, present, absent))


class Removals:
    """DEVICE_REMOVED events of one domain, seen on a connection of the test's own."""

    def __init__(self, name):
        import libvirt
        libvirt.virEventRegisterDefaultImpl()
        thread = threading.Thread(target=self._loop, args=(libvirt,))
        thread.daemon = True
        thread.start()
        self.aliases = set()
        self.conn = libvirt_conn()
        self.dom = self.conn.lookupByName(name)
        self.callback = self.conn.domainEventRegisterAny(
            self.dom, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, lambda _c, _d, alias, _o: self.aliases.add(alias),
            None)

    @staticmethod
    def _loop(libvirt):
        while True:
            libvirt.virEventRunDefaultImpl()

    def close(self):
        self.conn.domainEventDeregisterAny(self.callback)


def live_aliases(name, paths):
    from lxml import etree
    live = etree.fromstring(domain_xml_both(name)[0])
    return dict((d.find('source').get('file'), d.find('alias').get('name'))
                for d in live.iter('disk') if d.find('source') is not None and d.find('source').get('file') in paths)


def test_twelve_disks_on_two_buses_in_one_task(run_module, pc_guest, images):
    name = pc_guest['name']
    disks = ([{'source': images('v%d.raw' % i), 'serial': 'bv%d' % i} for i in range(PER_BUS)]
             + [{'source': images('s%d.raw' % i), 'serial': 'bs%d' % i, 'bus': 'scsi'} for i in range(PER_BUS)])
    paths = [d['source'] for d in disks]
    serials = set(d['serial'] for d in disks)

    attached = run_module('virt_disk_hotplug', {'name': name, 'disks': disks})
    assert not attached.get('failed'), attached.get('msg')
    assert attached['changed']
    disk_actions = [a for a in attached['actions'] if a.startswith('attach disk')]
    assert len(disk_actions) == 2 * len(disks)  # each disk live and persistent
    assert all(d['present'] and d['address'] for d in attached['disks'])
    assert len(set(d['target'] for d in attached['disks'])) == len(disks)
    live, config = domain_xml_both(name)
    for disk in disks:
        assert disk['source'] in live and disk['source'] in config
        assert '<serial>%s</serial>' % disk['serial'] in live and '<serial>%s</serial>' % disk['serial'] in config
    wait_serials(name, present=serials)

    again = run_module('virt_disk_hotplug', {'name': name, 'disks': disks})
    assert not again.get('failed'), again.get('msg')
    assert again['changed'] is False and again['actions'] == []
    assert [d['target'] for d in again['disks']] == [d['target'] for d in attached['disks']]

    aliases = live_aliases(name, paths)
    assert len(aliases) == len(disks)
    removals = Removals(name)
    try:
        detached = run_module('virt_disk_hotplug', {'name': name, 'state': 'absent',
                                                    'disks': [{'source': p} for p in paths]})
    finally:
        removals.close()
    assert not detached.get('failed'), detached.get('msg')
    assert detached['changed']
    assert [a.split()[-1] for a in detached['actions']] == ['live'] * len(disks) + ['config'] * len(disks)
    assert not any(d['present'] for d in detached['disks'])
    live, config = domain_xml_both(name)
    for path in paths:
        assert path not in live and path not in config
    assert set(aliases.values()) <= removals.aliases  # libvirt saw every device leave the guest
    wait_serials(name, absent=serials)

    gone = run_module('virt_disk_hotplug', {'name': name, 'state': 'absent', 'disks': [{'source': p} for p in paths]})
    assert gone['changed'] is False and gone['actions'] == []
