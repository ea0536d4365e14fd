# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt domain events on a background thread: learn when the guest has let a device go.

libvirt only delivers events to connections opened after ``virEventRegisterDefaultImpl()``
while some thread runs ``virEventRunDefaultImpl()``. :func:`start_event_loop` does both (the
loop runs on a daemon thread that ends with the process); :class:`RemovalWatcher` collects
``VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED`` for one domain and waits for a set of device aliases,
reading the live XML now and then as a fallback, so a lost event costs time, never a wrong answer.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading
import time

from ansible_collections.virtops.devices.plugins.module_utils._libvirt._connection import libvirt

_LOOP = {'thread': None}
_LOOP_LOCK = threading.Lock()
POLL_WITH_EVENTS = 1.0  # seconds between fallback reads of the live XML while events flow
POLL_WITHOUT_EVENTS = 0.2


def _run_loop():
    while True:
        if libvirt.virEventRunDefaultImpl() < 0:
            time.sleep(0.1)


def start_event_loop():
    """Register libvirt's default event loop and run it on a daemon thread, once per process.

    Call it before opening the connection that should receive events. Returns whether the
    loop runs (False when libvirt refuses; callers then poll).
    """
    with _LOOP_LOCK:
        if _LOOP['thread'] is not None:
            return True
        try:
            libvirt.virEventRegisterDefaultImpl()
        except libvirt.libvirtError:
            return False
        thread = threading.Thread(target=_run_loop, name='libvirt-events')
        thread.daemon = True
        thread.start()
        _LOOP['thread'] = thread
        return True


def event_loop_running():
    return _LOOP['thread'] is not None


class RemovalWatcher:
    """The device aliases libvirt reported removed from one running domain.

    Create it before sending the detach requests, so that no event is missed; ``close()``
    when done (also a context manager).
    """

    def __init__(self, dom):
        self._dom = dom
        self._cond = threading.Condition()
        self._removed = set()
        self._callback_id = None
        if not event_loop_running():
            return
        try:
            self._conn = dom.connect()
            self._callback_id = self._conn.domainEventRegisterAny(
                dom, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, self._on_removed, None)
        except libvirt.libvirtError:
            self._callback_id = None

    @property
    def has_events(self):
        return self._callback_id is not None

    def _on_removed(self, _conn, _dom, alias, _opaque):
        with self._cond:
            self._removed.add(alias)
            self._cond.notify_all()

    def removed(self):
        with self._cond:
            return set(self._removed)

    def wait(self, aliases, timeout, still_present):
        """Wait until every alias in ``aliases`` has left the domain; return those still there.

        ``still_present(pending)`` reads the live XML and returns the subset of ``pending``
        still in it: it runs when no event came for a while, and once more at the deadline.
        """
        pending = set(aliases)
        deadline = time.monotonic() + timeout
        poll = POLL_WITH_EVENTS if self.has_events else POLL_WITHOUT_EVENTS
        next_read = time.monotonic() + poll
        while pending:
            with self._cond:
                pending -= self._removed
                until = min(next_read, deadline)
                if pending and time.monotonic() < until:
                    self._cond.wait(until - time.monotonic())
                    pending -= self._removed
            now = time.monotonic()
            if pending and (now >= next_read or now >= deadline):
                pending = set(still_present(pending))
                next_read = now + poll
                if now >= deadline:
                    break
        return pending

    def close(self):
        if self._callback_id is not None:
            try:
                self._conn.domainEventDeregisterAny(self._callback_id)
            except libvirt.libvirtError:
                pass
            self._callback_id = None

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()
