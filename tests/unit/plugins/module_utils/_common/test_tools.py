"""L0: bounded tools (timeout kills the whole process group), the parent-gone probe and the
signal guard."""

import os
import signal
import time

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._common import _tools


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:                      # a zombie counts as gone
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().split(') ', 1)[1][0] != 'Z'
    except IOError:
        return False


def test_run_tool_captures_output_and_status():
    rc, out, err = _tools.run_tool(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], 10, watch_parent=False)
    assert (rc, out, err) == (3, 'out\n', 'err\n')
    rc, out, _err = _tools.run_tool(['/bin/sh', '-c', 'echo "$X"'], 10, environ_update={'X': 'set'},
                                    watch_parent=False)
    assert out == 'set\n'
    rc, out, _err = _tools.run_tool(['/bin/cat'], 10, stdin_data=b'\x00\x01', binary=True, watch_parent=False)
    assert out == b'\x00\x01'


def test_input_larger_than_a_pipe_reaches_a_slow_reader_whole():
    # The reader starts after the first poll interval has expired with the pipe full: the
    # rest of the input must still be written and stdin closed (a slow guest under TCG
    # decompressing a 6 MB initrd with zstd hung here until tool_timeout).
    data = bytes(range(256)) * (4 * 4096)  # 4 MiB, far beyond a pipe's 64 KiB
    delay = _tools.POLL_INTERVAL * 3
    rc, out, _err = _tools.run_tool(['/bin/sh', '-c', 'sleep %s; exec cat' % delay], 30, stdin_data=data,
                                    binary=True, watch_parent=False)
    assert rc == 0 and len(out) == len(data) and out == data


def test_timeout_kills_the_whole_group_and_names_the_option(tmp_path):
    pidfile = tmp_path / 'grandchild'
    start = time.time()
    with pytest.raises(_tools.ToolTimeout) as err:
        _tools.run_tool(['/bin/sh', '-c', 'sleep 60 & echo $! > %s; wait' % pidfile], 1, watch_parent=False)
    assert time.time() - start < 10
    assert str(err.value) == ('sh did not finish within 1 seconds (tool_timeout) and was killed; '
                              'raise tool_timeout if it needs longer')
    grandchild = int(pidfile.read_text())
    for _attempt in range(50):
        if not alive(grandchild):
            break
        time.sleep(0.1)
    assert not alive(grandchild)


def test_tool_name_skips_chroot():
    assert _tools.tool_name(['/usr/sbin/chroot', '/mnt/g', '/sbin/dracut', '-f']) == 'dracut'
    assert _tools.tool_name(['/usr/sbin/update-grub']) == 'update-grub'


def test_parent_gone_sees_a_closed_pipe():
    read_end, write_end = os.pipe()
    try:
        assert _tools.parent_gone((write_end,)) is False
        os.close(read_end)
        assert _tools.parent_gone((write_end,)) is True
    finally:
        os.close(write_end)


def test_parent_gone_ignores_files(tmp_path):
    with open(str(tmp_path / 'f'), 'w') as handle:
        assert _tools.parent_gone((handle.fileno(),)) is False


def test_interruption_guard_turns_signals_into_interrupted_and_restores_handlers():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(_tools.Interrupted, match='the module received SIGHUP'):
        with _tools.interruption_guard():
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(5)
    assert signal.getsignal(signal.SIGTERM) == before


def test_interrupted_while_a_tool_runs_kills_it(tmp_path):
    pidfile = tmp_path / 'pid'
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    with pytest.raises(_tools.Interrupted, match='SIGALRM'):
        with _tools.interruption_guard():
            signal.alarm(1)
            _tools.run_tool(['/bin/sh', '-c', 'echo $$ > %s; exec sleep 60' % pidfile], 30, watch_parent=False)
    pid = int(pidfile.read_text())
    assert not alive(pid)
