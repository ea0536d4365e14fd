"""L0: RemovalWatcher waits on DEVICE_REMOVED events and falls back to reading the live XML."""

import threading

from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _events
from ansible_collections.virtops.devices.plugins.module_utils._libvirt._connection import libvirt


class FakeConn:
    def __init__(self):
        self.callbacks = {}

    def domainEventRegisterAny(self, _dom, event, callback, opaque):  # noqa: N802 (libvirt's name)
        assert event == libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED
        self.callbacks[7] = (callback, opaque)
        return 7

    def domainEventDeregisterAny(self, callback_id):  # noqa: N802
        del self.callbacks[callback_id]

    def removed(self, alias):
        callback, opaque = self.callbacks[7]
        callback(self, None, alias, opaque)


class FakeDom:
    def __init__(self, conn):
        self._conn = conn

    def connect(self):
        return self._conn


def watcher(monkeypatch, conn):
    monkeypatch.setattr(_events, 'event_loop_running', lambda: True)
    return _events.RemovalWatcher(FakeDom(conn))


def test_events_confirm_without_reading_the_xml(monkeypatch):
    conn = FakeConn()
    reads = []
    with watcher(monkeypatch, conn) as watch:
        assert watch.has_events
        conn.removed('scsi0-0-0-1')
        timer = threading.Timer(0.05, conn.removed, ['scsi0-0-0-2'])
        timer.start()
        left = watch.wait(['scsi0-0-0-1', 'scsi0-0-0-2'], 10, lambda pending: reads.append(pending) or pending)
        timer.join()
    assert left == set() and reads == []
    assert conn.callbacks == {}  # deregistered on close


def test_missed_event_is_caught_by_reading_the_live_xml(monkeypatch):
    monkeypatch.setattr(_events, 'POLL_WITH_EVENTS', 0.01)
    with watcher(monkeypatch, FakeConn()) as watch:
        left = watch.wait(['virtio-disk1', 'virtio-disk2'], 10, lambda pending: set())
    assert left == set()


def test_timeout_returns_what_the_guest_kept(monkeypatch):
    monkeypatch.setattr(_events, 'POLL_WITH_EVENTS', 0.01)
    conn = FakeConn()
    with watcher(monkeypatch, conn) as watch:
        conn.removed('virtio-disk1')
        left = watch.wait(['virtio-disk1', 'virtio-disk2'], 0.05, lambda pending: pending)
    assert left == {'virtio-disk2'}


def test_without_an_event_loop_it_polls(monkeypatch):
    monkeypatch.setattr(_events, 'event_loop_running', lambda: False)
    monkeypatch.setattr(_events, 'POLL_WITHOUT_EVENTS', 0.01)
    watch = _events.RemovalWatcher(FakeDom(FakeConn()))
    assert not watch.has_events
    answers = iter([{'a'}, set()])
    assert watch.wait(['a'], 10, lambda pending: next(answers)) == set()
    watch.close()
