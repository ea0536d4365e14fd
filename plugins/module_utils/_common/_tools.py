# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""External tools with a time limit, and a guard that turns a kill into a rollback.

``run_tool(argv, timeout)`` starts a tool in its own process group, captures
its output and kills the whole group when it runs too long (``ToolTimeout``)
or when the module itself is interrupted.

``interruption_guard()`` is a context manager: while it is active SIGTERM,
SIGINT, SIGHUP and SIGALRM raise ``Interrupted`` in the module (so the caller
can put every file back before exiting), and ``run_tool`` also raises it when
the module has been left behind by Ansible. When a task's ``timeout:`` fires,
ansible-core (2.19, local and ssh connections) does not signal the module: the
worker process stops waiting and exits, which closes the read end of the
module's stdout pipe. ``parent_gone()`` sees that as ``POLLERR``/``POLLHUP``
on stdout.

Standard library only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import select
import signal
import subprocess
import tempfile
import time

DEFAULT_TOOL_TIMEOUT = 600
GUARDED_SIGNALS = ('SIGTERM', 'SIGINT', 'SIGHUP', 'SIGALRM')
KILL_GRACE = 3          # seconds between SIGTERM and SIGKILL for a tool's process group
POLL_INTERVAL = 0.2


class ToolTimeout(Exception):
    """A tool ran longer than ``tool_timeout``; its process group was killed."""


class Interrupted(BaseException):
    """The module was signalled or left behind by Ansible; files must be put back.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that no ``except Exception``
    on the way swallows it.
    """

    def __init__(self, reason):
        BaseException.__init__(self, reason)
        self.reason = reason


def tool_name(argv):
    """Return the name of the tool ``argv`` runs (past a ``chroot <root>`` prefix)."""
    argv = list(argv)
    if len(argv) > 2 and os.path.basename(argv[0]) == 'chroot':
        argv = argv[2:]
    return os.path.basename(argv[0]) if argv else '?'


def parent_gone(fds=(1, 2)):
    """Return True when nobody reads the module's output any more (stdout/stderr pipe
    closed at the other end: Ansible gave up on the task)."""
    poller = select.poll()
    watched = 0
    for fd in fds:
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        if (mode & 0o170000) == 0o010000:       # only pipes: a tty or file never "goes away"
            poller.register(fd, 0)
            watched += 1
    if not watched:
        return False
    return any(event & (select.POLLERR | select.POLLHUP) for _fd, event in poller.poll(0))


def kill_group(proc, grace=KILL_GRACE):
    """Kill the process group of ``proc`` (SIGTERM, then SIGKILL after ``grace`` s) and reap it."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            pass
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # the leader is gone; members may remain: make sure of them too
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        return


def _input_file(data):
    """Return what a tool reads as stdin: ``/dev/null``, or an unlinked temporary file holding
    ``data``. A file, not a pipe: ``communicate()`` retried after a poll timeout stops writing
    a pipe's remaining input and never closes it, so a tool slower than one poll interval
    (zstd reading a 6 MB initrd in a guest under TCG) would wait for the rest until killed."""
    if data is None:
        return subprocess.DEVNULL
    handle = tempfile.TemporaryFile()
    handle.write(data)
    handle.flush()
    handle.seek(0)
    return handle


def run_tool(argv, timeout, environ_update=None, watch_parent=True, stdin_data=None, binary=False):
    """Run ``argv`` with ``timeout`` seconds at most; return ``(rc, out, err)`` (text,
    or bytes with ``binary``).

    The tool starts in its own session (process group) with stdin from
    ``/dev/null`` (or ``stdin_data``); on timeout, on ``Interrupted`` or any other exception the
    whole group is killed. Raises ``ToolTimeout`` (naming the tool, the limit
    and the ``tool_timeout`` option) or ``Interrupted`` when ``watch_parent``
    and ``parent_gone()``.
    """
    env = dict(os.environ)
    env.update(environ_update or {})
    stdin = _input_file(stdin_data)
    try:
        proc = subprocess.Popen(list(argv), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, start_new_session=True)
    finally:
        if stdin is not subprocess.DEVNULL:
            stdin.close()
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                out, err = proc.communicate(timeout=POLL_INTERVAL)
                break
            except subprocess.TimeoutExpired:
                pass
            if watch_parent and parent_gone():
                raise Interrupted('Ansible stopped waiting for the module (task timeout or lost '
                                  'connection) while %s was running' % tool_name(argv))
            if time.monotonic() >= deadline:
                raise ToolTimeout('%s did not finish within %d seconds (tool_timeout) and was killed; '
                                  'raise tool_timeout if it needs longer' % (tool_name(argv), timeout))
    except BaseException:
        kill_group(proc)
        raise
    if binary:
        return proc.returncode, out, err
    return proc.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')


class InterruptionGuard(object):
    """While active, SIGTERM/SIGINT/SIGHUP/SIGALRM raise ``Interrupted``; the previous
    handlers come back on exit. Use around a file transaction::

        with interruption_guard():
            try:
                txn.commit(); run_tool(...)
            except BaseException:
                txn.rollback(); raise
    """

    def __init__(self):
        self._previous = {}
        self.received = None

    def _handler(self, signum, _frame):
        if self.received:            # already unwinding: let the rollback finish
            return
        self.received = signal.Signals(signum).name
        raise Interrupted('the module received %s' % self.received)

    def __enter__(self):
        for name in GUARDED_SIGNALS:
            signum = getattr(signal, name)
            self._previous[signum] = signal.signal(signum, self._handler)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}
        return False


def interruption_guard():
    """Return an ``InterruptionGuard`` (a context manager)."""
    return InterruptionGuard()


def bounded_run(timeout):
    """Return ``run(argv, **kw)``: ``run_tool`` with ``timeout`` bound (the modules' run callback)."""
    def run(argv, **kwargs):
        return run_tool(argv, timeout, **kwargs)
    return run
