"""L1: tool faults and a killed module, for real - pv_driver_migrate run by ansible-playbook on the
CentOS 5.3 fixture tree with the recording mkinitrd stand-in (tests/fixtures/guests/standin.sh).

* Ansible's task ``timeout:`` while the initrd tool hangs: ansible-core does not signal the
  module, it stops reading its output; the module sees that, kills the tool and puts every
  file back.
* SIGTERM to the module process while the tool runs.
* ``tool_timeout`` reached; a tool that exits 0 without writing an initrd, or without the
  drivers asked for; two runs on the same tree at once (the lock).
After each failure the whole tree is hashed against the state before (content, mode, owner,
links), which also proves that no backup, kept copy, partial initrd or temp file is left.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'fixtures', 'guests'))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402
import treesnap  # noqa: E402
import trees  # noqa: E402

K5 = '2.6.18-128.el5'
NOISE = ('var/log/standin.argv', 'var/log/standin.pid')


def args(root, **kw):
    out = {'target': 'xen', 'fstab': 'device', 'filesystems': trees.SEED001_FILESYSTEMS, 'root': str(root),
           'backup': True}
    out.update(kw)
    return out


def tree(tmp_path, sleep=None, fault=None):
    root = tmp_path / 'guest'
    trees.centos53_hvm(root)
    if sleep:
        trees.symlink(root, '/bin/sleep', 'sh')          # busybox applet for the stand-in's sleep
        trees.write(root, '/etc/standin-sleep', '%d\n' % sleep)
    if fault:
        trees.write(root, '/etc/standin-%s' % fault, '')
    return root


def snap(root):
    found = treesnap.snapshot(root)
    for rel in NOISE:
        found.pop(rel, None)
    return found


def standin_pid(root, wait=30):
    path = os.path.join(str(root), 'var/log/standin.pid')
    deadline = time.time() + wait
    while time.time() < deadline:
        if os.path.exists(path):
            text = open(path).read().strip()
            if text:
                return int(text)
        time.sleep(0.1)
    raise AssertionError('the stand-in never started')


def alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(') ', 1)[1][0] != 'Z'
    except IOError:
        return False


def playbook(tmp_path, module_args, task_extra=None):
    task = {'name': 'migrate', 'virtops.devices.pv_driver_migrate': module_args}
    task.update(task_extra or {})
    book = tmp_path / 'play.yml'
    book.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [task]}]))
    return str(book)


def start_playbook(book):
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), book, '-i', 'localhost,',
           '-c', 'local']
    return subprocess.Popen(cmd, env=harness.ansible_env(), cwd=harness.TOP, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def descendants(pid):
    """Return the pids below ``pid`` (only processes this test started)."""
    children = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/stat' % name) as handle:
                    ppid = int(handle.read().rsplit(') ', 1)[1].split()[1])
            except (IOError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return handle.read().replace(b'\0', b' ').decode('utf-8', 'replace')
    except IOError:
        return ''


def wait_restored(root, before, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if snap(root) == before:
            return True
        time.sleep(0.25)
    return False


def test_ansible_task_timeout_kills_the_tool_and_restores_the_tree(tmp_path):
    root = tree(tmp_path, sleep=120)
    before = snap(root)
    started = time.time()
    proc = start_playbook(playbook(tmp_path, args(root), {'timeout': 5}))
    out, _err = proc.communicate(timeout=90)
    assert time.time() - started < 60
    assert proc.returncode != 0 and 'Timed out after 5 second(s)' in out, out
    pid = standin_pid(root)
    assert wait_restored(root, before), treesnap.changes(before, snap(root))
    deadline = time.time() + 20
    while alive(pid) and time.time() < deadline:
        time.sleep(0.2)
    assert not alive(pid), 'the stand-in (pid %d) is still running' % pid
    assert trees.recorded(root)[0][0] == '/sbin/mkinitrd'          # the tool did start


def test_sigterm_to_the_module_kills_the_tool_and_restores_the_tree(tmp_path):
    root = tree(tmp_path, sleep=120)
    before = snap(root)
    proc = start_playbook(playbook(tmp_path, args(root)))
    try:
        pid = standin_pid(root)
        modules = [p for p in descendants(proc.pid) if 'AnsiballZ_pv_driver_migrate' in cmdline(p)
                   and 'python' in cmdline(p)]
        assert modules, 'module process not found'
        os.kill(max(modules), signal.SIGTERM)
        out, _err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert 'interrupted: the module received SIGTERM; the tool was killed and every file was put back' in out, out
    assert snap(root) == before, treesnap.changes(before, snap(root))
    assert not alive(pid)


def test_tool_timeout_kills_a_hanging_tool(run_module, tmp_path):
    root = tree(tmp_path, sleep=120)
    before = snap(root)
    started = time.time()
    result = run_module('pv_driver_migrate', args(root, tool_timeout=2))
    assert time.time() - started < 60
    assert result['failed'] and result['msg'] == (
        'mkinitrd did not finish within 2 seconds (tool_timeout) and was killed; raise tool_timeout if it needs '
        'longer; every file was put back as it was')
    assert snap(root) == before, treesnap.changes(before, snap(root))
    assert not alive(standin_pid(root))


@pytest.mark.parametrize('value', [0, 86401])
def test_tool_timeout_must_be_one_second_to_a_day(run_module, tmp_path, value):
    root = tree(tmp_path)
    before = snap(root)
    result = run_module('pv_driver_migrate', args(root, tool_timeout=value))
    assert result['failed'] and result['msg'] == (
        'tool_timeout: %d is not allowed: a whole number from 1 to 86400 (seconds, at most a day); '
        'nothing was changed' % value)
    assert result['option'] == 'tool_timeout'
    assert snap(root) == before and trees.recorded(root) == []


def test_tool_exiting_0_without_an_initrd_fails_and_restores(run_module, tmp_path):
    """Issue 8: it used to report success and add a boot entry pointing at a missing file."""
    root = tree(tmp_path, fault='empty')
    before = snap(root)
    result = run_module('pv_driver_migrate', args(root))
    assert result['failed']
    assert result['msg'] == ('/sbin/mkinitrd --preload=xen_vbd /boot/initrd-%s.pv.img %s for kernel %s: the tool '
                             'reported success but wrote no /boot/initrd-%s.pv.img; every file was put back as '
                             'it was' % (K5, K5, K5, K5))
    assert snap(root) == before, treesnap.changes(before, snap(root))


def test_initrd_without_the_driver_fails_and_restores(run_module, tmp_path):
    root = tree(tmp_path, fault='nodriver')
    before = snap(root)
    result = run_module('pv_driver_migrate', args(root))
    assert result['failed'] and 'lacks the drivers xen-vbd' in result['msg'], result['msg']
    assert snap(root) == before, treesnap.changes(before, snap(root))


def test_two_runs_at_once_the_second_fails_on_the_lock(tmp_path):
    root = tree(tmp_path, sleep=20)
    first = start_playbook(playbook(tmp_path, args(root)))
    try:
        standin_pid(root)
        second_dir = tmp_path / 'second'
        second_dir.mkdir()
        started = time.time()
        second = harness.run_module('pv_driver_migrate', args(root))
        waited = time.time() - started
        out, _err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert second['failed'] and second['msg'] == (
        'another virtops.devices run holds the lock on %s (waited 10 s); wait for it to finish and run again; '
        'nothing was changed' % root), second['msg']
    assert waited >= 10
    assert first.returncode == 0, out
    assert open(os.path.join(str(root), 'etc/fstab')).read() == trees.SEED001_FSTAB_AFTER
    assert len(trees.recorded(root)) == 1


def test_crlf_files_come_back_crlf(run_module, tmp_path):
    root = tree(tmp_path)
    for rel in ('etc/fstab', 'etc/modules.conf'):
        path = os.path.join(str(root), rel)
        data = open(path, 'rb').read().replace(b'\n', b'\r\n')
        open(path, 'wb').write(data)
    result = run_module('pv_driver_migrate', args(root))
    assert result['changed'] and not result.get('failed'), result.get('msg')
    for rel in ('etc/fstab', 'etc/modules.conf'):
        data = open(os.path.join(str(root), rel), 'rb').read()
        assert data.count(b'\n') == data.count(b'\r\n') > 0, (rel, data)
    assert open(os.path.join(str(root), 'etc/fstab'), 'rb').read().replace(b'\r\n', b'\n').decode() == \
        trees.SEED001_FSTAB_AFTER
    assert run_module('pv_driver_migrate', args(root))['changed'] is False
