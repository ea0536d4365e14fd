"""fleet_host_info on the running system: a hanging dmesg is killed at tool_timeout and the kernel log
reads as unknown; the rest of the host is still reported."""

import os
import stat
import time

HANG = '''#!/bin/sh
# stands in for dmesg: records its pid, prints a line a real kernel log would hold, then hangs
echo $$ > "%(pidfile)s"
echo "DMAR-IR: Enabled IRQ remapping in x2apic mode"
exec sleep 3600
'''

QUICK = '''#!/bin/sh
echo "DMAR-IR: Enabled IRQ remapping in x2apic mode"
'''


def _fake_dmesg(tmp_path, body):
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    tool = bindir / 'dmesg'
    tool.write_text(body % {'pidfile': tmp_path / 'dmesg.pid'} if '%(' in body else body)
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return {'PATH': '%s:%s' % (bindir, os.environ['PATH'])}


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_hanging_dmesg_is_killed_and_reads_as_unknown(run_module, tmp_path):
    env = _fake_dmesg(tmp_path, HANG)
    result = run_module('fleet_host_info', {'root': '/', 'tool_timeout': 2}, env=env)
    assert not result.get('failed'), result.get('msg')
    assert result['host']['iommu']['interrupt_remapping'] == 'unknown'
    assert result['host']['os']['family']
    pid = int((tmp_path / 'dmesg.pid').read_text())
    for _attempt in range(50):
        if not _alive(pid):
            break
        time.sleep(0.1)
    assert not _alive(pid), 'the hanging dmesg (pid %d) was left running' % pid


def test_the_same_dmesg_answering_in_time_is_read(run_module, tmp_path):
    env = _fake_dmesg(tmp_path, QUICK)
    result = run_module('fleet_host_info', {'root': '/', 'tool_timeout': 2}, env=env)
    assert not result.get('failed'), result.get('msg')
    assert result['host']['iommu']['interrupt_remapping'] == 'enabled'
