"""Benchmark (not a test): playbooks/fleet_report.yml over a simulated fleet, against a playbook of
four ansible.builtin.stat tasks per host on the same inventory.

  1. the report over 100 hosts at forks 10 and 25, and the 4-stat playbook at the same forks:
     wall times and the ratio report / stat;
  2. growth: the report at 10, 50, 100 and 200 hosts (forks 25), seconds per host;
  3. one host profiled: the module runs per host (tasks that reached the host), where the
     playbook's time goes (ansible's profile_tasks callback), and where the module's own time
     goes (cProfile of fleet_host_info's facts, in this process).

The fleet is tests/fixtures/fleet/fleet_sim.py's: one host in ten unreachable (ssh to a closed
port on 127.0.0.1), some broken, every host ansible_connection: local. Both playbooks run in
check mode.

    .venv/bin/python tests/bench/bench_fleet.py [--hosts 100] [--out docs/benchmark-fleet-report.md]
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, 'tests'))
sys.path.insert(0, os.path.join(TOP, 'tests', 'fixtures', 'fleet'))

import harness  # noqa: E402
import fleet_sim  # noqa: E402

REPORT = os.path.join(TOP, 'playbooks', 'fleet_report.yml')
STAT_BOOK = [{
    'name': 'Four stat tasks per host', 'hosts': 'all', 'gather_facts': False,
    'tasks': [{'name': 'stat %d' % n, 'ansible.builtin.stat': {'path': '{{ fleet_root | default("/") }}%s' % path},
               'ignore_errors': True, 'ignore_unreachable': True}
              for n, path in enumerate(('/proc/cmdline', '/etc/os-release', '/sys/kernel/iommu_groups', '/dev/kvm'))],
}]


TIMER = '''
import time
from ansible.plugins.callback import CallbackBase


CONTROLLER_SIDE = ('set_fact', 'debug', 'set_stats', 'assert', 'fail', 'include_tasks', 'import_tasks',
                   'include_role', 'import_role', 'validate_argument_spec', 'meta', 'include_vars')


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_task_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.current, self.times = None, []

    def _close(self):
        if self.current:
            self.times.append((self.current[0], time.time() - self.current[1]))

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self.current = (task.get_name(), time.time())

    def v2_runner_on_ok(self, result):
        task = result._task
        if task.action.split('.')[-1] not in CONTROLLER_SIDE and not task.delegate_to:
            self._display.display('MODULE %s %s' % (result._host.get_name(), task.action))

    v2_runner_on_failed = v2_runner_on_ok

    def v2_playbook_on_stats(self, stats):
        self._close()
        for name, seconds in sorted(self.times, key=lambda t: -t[1]):
            self._display.display('TIMER %7.3fs %s' % (seconds, name))
'''


def run(book, inventory, forks, out_dir, extra=None, timer_dir=None):
    env = {'ANSIBLE_FORKS': str(forks), 'ANSIBLE_SSH_RETRIES': '0'}
    if timer_dir:
        with open(os.path.join(timer_dir, 'bench_task_timer.py'), 'w') as handle:
            handle.write(TIMER)
        env.update(ANSIBLE_CALLBACK_PLUGINS=timer_dir, ANSIBLE_CALLBACKS_ENABLED='bench_task_timer')
    start = time.time()
    proc = harness.run_playbook(book, check=True, inventory=inventory,
                                extra_vars=dict({'fleet_report_dir': out_dir}, **(extra or {})), env=env)
    wall = time.time() - start
    if proc.returncode not in (0, 2, 4):
        raise SystemExit('%s failed (rc %d):\n%s\n%s' % (book, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return wall, proc


def fleet(tmp, count):
    return fleet_sim.generate(os.path.join(tmp, 'fleet-%d' % count), count, guests=0)


def module_runs(stdout, host):
    """The modules that ran on ``host`` (the timer callback's MODULE lines: not skipped, not an
    action that stays on the controller, not delegated)."""
    return [line.split()[2] for line in stdout.splitlines()
            if line.startswith('MODULE ') and line.split()[1] == host]


def profile_module(root, uri):
    from ansible_collections.virtops.devices.plugins.module_utils._host import _facts
    profiler = cProfile.Profile()
    start = time.time()
    profiler.enable()
    for _run in range(20):
        _facts.host_facts(root, uri, ['intel_iommu=on', 'iommu=pt'], ['intel_iommu=off'])
    profiler.disable()
    per_run = (time.time() - start) / 20
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats('cumulative').print_stats(12)
    lines = [l for l in text.getvalue().splitlines() if re.match(r'^\s+\d', l)]
    return per_run, lines[:12]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--hosts', type=int, default=100)
    parser.add_argument('--growth', default='10,50,100,200')
    parser.add_argument('--out', help='also write the output (Markdown) to this file')
    args = parser.parse_args()
    lines = []

    def say(text=''):
        print(text)
        sys.stdout.flush()
        lines.append(text)

    sys.path.insert(0, harness.collection_path())
    with tempfile.TemporaryDirectory(prefix='virtops-bench-fleet-') as tmp:
        stat_book = os.path.join(tmp, 'stat.yml')
        with open(stat_book, 'w') as handle:
            json.dump(STAT_BOOK, handle)
        inventory = fleet(tmp, args.hosts)
        say('# Fleet report benchmark')
        say()
        say('`python tests/bench/bench_fleet.py` on %s, %s; ansible-playbook --check, every host '
            '`ansible_connection: local` (one in ten unreachable: ssh to a closed port on 127.0.0.1).'
            % (time.strftime('%Y-%m-%d'), os.uname().machine))
        say()
        say('## 1. The report against 4 stat tasks per host (%d hosts)' % args.hosts)
        say()
        say('| forks | fleet_report.yml (s) | 4 x stat (s) | ratio | report s/host |')
        say('| --- | --- | --- | --- | --- |')
        for forks in (10, 25):
            report = run(REPORT, inventory, forks, tmp)[0]
            stat = run(stat_book, inventory, forks, tmp)[0]
            say('| %d | %.1f | %.1f | %.2fx | %.2f |' % (forks, report, stat, report / stat, report / args.hosts))
        say()
        say('## 2. Growth (forks 25)')
        say()
        say('| hosts | fleet_report.yml (s) | s/host |')
        say('| --- | --- | --- |')
        for count in [int(c) for c in args.growth.split(',') if c]:
            inv = inventory if count == args.hosts else fleet(tmp, count)
            wall = run(REPORT, inv, 25, tmp)[0]
            say('| %d | %.1f | %.3f |' % (count, wall, wall / count))
        say()
        say('## 3. One host')
        say()
        one = fleet_sim.generate(os.path.join(tmp, 'one'), 2, guests=0)
        with open(one) as handle:
            hosts = json.load(handle)['all']['children']['hypervisors']['hosts']
        name = sorted(hosts)[1]
        timer_dir = os.path.join(tmp, 'callbacks')
        os.makedirs(timer_dir)
        wall, proc = run(REPORT, one, 1, tmp, extra={'target_hosts': name}, timer_dir=timer_dir)
        runs = module_runs(proc.stdout, name)
        say('`%s` alone: %.1f s for the whole playbook; **%d module run(s) on the host** (%s); the report, '
            'the files and the summary are built on the controller.' % (name, wall, len(runs), ', '.join(runs)))
        say()
        say('Tasks by time:')
        say()
        say('```')
        for line in proc.stdout.splitlines():
            if line.startswith('TIMER '):
                say(line[len('TIMER '):])
        say('```')
        per_run, top = profile_module(hosts[name]['fleet_root'], hosts[name]['fleet_libvirt_uri'])
        say()
        say('Inside the module (cProfile of `_host._facts.host_facts`, 20 runs): %.1f ms per run; the rest '
            'of a host\'s time is ansible-playbook starting the module (AnsiballZ, a Python process).'
            % (per_run * 1000))
        say()
        say('```')
        for line in top:
            say(line.rstrip())
        say('```')
    if args.out:
        with open(args.out, 'w') as handle:
            handle.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
