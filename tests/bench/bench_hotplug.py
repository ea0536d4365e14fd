"""Benchmark (not a test): attach and detach N disks (live and persistent) on a running guest, for
each bus (virtio, scsi), six ways in one run:

  floor          the bare libvirt API in a Python process of its own: attachDeviceFlags(LIVE|CONFIG)
                 per disk, then every live detach sent at once by alias (detachDeviceAlias), wait for
                 the DEVICE_REMOVED events, then the config detaches
  module_task    one virt_disk_hotplug task with the N disks (attach), one more (detach)
  module_loop    N virt_disk_hotplug tasks (a loop of one disk each), twice
  virsh_loop     a shell loop: N `virsh attach-disk --live --config`, N `virsh detach-disk --live --config`
  command_tasks  a playbook of N + N `ansible.builtin.command: virsh ...` tasks
  ansible_start  an empty ansible-playbook run (what every playbook row pays before its first task)
  two_ping_tasks two ansible.builtin.ping tasks: Ansible start plus what any two module tasks cost
                 (worker, AnsiballZ payload, Python start, compiling and importing module_utils.basic)

Each way leaves the guest as it found it. Prints a table, and with --json / --out writes the figures
(medians over --repeat runs) as JSON / Markdown. --profile runs the module's own code (the exploded
AnsiballZ payload, through runpy under cProfile) for the attach and the detach and prints where the
time goes.

    python tests/bench/bench_hotplug.py [--disks 20] [--repeat 1] [--bus virtio --bus scsi]
        [--json docs/benchmark-hotplug.json] [--out docs/benchmark-hotplug.md] [--profile]
"""

import argparse
import cProfile
import glob
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, 'tests'))
sys.path.insert(0, os.path.join(TOP, 'tests', 'lab'))

import harness  # noqa: E402
import tiny_guest  # noqa: E402

GUEST = 'batch-bench-hotplug'
URI = 'qemu:///system'
PREFIX = {'virtio': 'vd', 'scsi': 'sd'}
WAYS = ('floor', 'module_task', 'module_loop', 'virsh_loop', 'command_tasks', 'ansible_start', 'two_ping_tasks')
LABELS = {
    'floor': 'bare libvirt API (async detach by alias + events), own process',
    'module_task': 'virt_disk_hotplug, 1 task with %d disks (x2: attach, detach)',
    'module_loop': 'virt_disk_hotplug, %d tasks (loop, x2)',
    'virsh_loop': 'virsh attach-disk/detach-disk x %d (shell loop)',
    'command_tasks': 'playbook of %d+%d ansible.builtin.command: virsh tasks',
    'ansible_start': 'empty ansible-playbook run (Ansible start)',
    'two_ping_tasks': 'playbook of 2 ansible.builtin.ping tasks (Ansible start + cost of 2 module tasks)',
}


def target(bus, index):
    return '%s%s' % (PREFIX[bus], chr(ord('b' if bus == 'virtio' else 'a') + index))


def disk_xml(path, bus, index):
    return ("<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='%s'/>"
            "<target dev='%s' bus='%s'/><serial>bench-%02d</serial></disk>" % (path, target(bus, index), bus, index))


# --------------------------------------------------------------------------- the floor (own process)

def floor_child(paths, bus):
    """The bare API, as an operator's own script would do it. Prints {'api_s': seconds of work}."""
    import libvirt
    from lxml import etree
    libvirt.registerErrorHandler(lambda *_a: None, None)
    libvirt.virEventRegisterDefaultImpl()

    def loop():
        while True:
            libvirt.virEventRunDefaultImpl()
    threading.Thread(target=loop, daemon=True).start()
    conn = libvirt.open(URI)
    dom = conn.lookupByName(GUEST)
    cond, removed = threading.Condition(), set()

    def on_removed(_c, _d, alias, _o):
        with cond:
            removed.add(alias)
            cond.notify_all()
    conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, on_removed, None)
    start = time.monotonic()
    xmls = [disk_xml(p, bus, i) for i, p in enumerate(paths)]
    both = libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG
    for xml in xmls:
        dom.attachDeviceFlags(xml, both)
    live = etree.fromstring(dom.XMLDesc(0))
    wanted = set(paths)
    aliases = [d.find('alias').get('name') for d in live.iter('disk')
               if d.find('source') is not None and d.find('source').get('file') in wanted]
    for alias in aliases:
        dom.detachDeviceAlias(alias, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    deadline = time.monotonic() + 120
    with cond:
        while not set(aliases) <= removed and time.monotonic() < deadline:
            cond.wait(1)
    for xml in xmls:
        dom.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    print(json.dumps({'api_s': time.monotonic() - start}))


# --------------------------------------------------------------------------- playbooks

def playbook(tasks):
    return [{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]


def write_book(book, tmp, name='bench.yml'):
    path = os.path.join(tmp, name)
    with open(path, 'w') as handle:
        json.dump(book, handle)
    return path


def run_book(path, env=None):
    proc = harness.run_playbook(path, env=env)
    if proc.returncode != 0:
        raise SystemExit('playbook failed:\n' + proc.stdout[-3000:] + proc.stderr[-2000:])


def module_task(disks, state):
    return {'virtops.devices.virt_disk_hotplug': {'name': GUEST, 'state': state, 'disks': disks, 'detach_timeout': 600}}


def module_loop_task(disks, state):
    return {'virtops.devices.virt_disk_hotplug': {'name': GUEST, 'state': state, 'disks': ['{{ item }}'], 'detach_timeout': 600},
            'loop': disks}


def virsh_argv(action, path, bus, index):
    if action == 'attach':
        return ['virsh', '-q', '-c', URI, 'attach-disk', GUEST, path, target(bus, index), '--targetbus', bus,
                '--live', '--config', '--serial', 'bench-%02d' % index]
    return ['virsh', '-q', '-c', URI, 'detach-disk', GUEST, target(bus, index), '--live', '--config']


class Bus:
    """The commands of every way for one bus."""

    def __init__(self, bus, paths, tmp):
        self.bus, self.paths, self.tmp = bus, paths, tmp
        disks = [{'source': p, 'serial': 'bench-%02d' % i, 'bus': bus} for i, p in enumerate(paths)]
        self.books = {
            'module_task': write_book(playbook([module_task(disks, 'present'), module_task(disks, 'absent')]),
                                      tmp, 'task-%s.yml' % bus),
            'module_loop': write_book(playbook([module_loop_task(disks, 'present'),
                                                module_loop_task(disks, 'absent')]), tmp, 'loop-%s.yml' % bus),
            'command_tasks': write_book(playbook(
                [{'ansible.builtin.command': {'argv': virsh_argv('attach', p, bus, i)}} for i, p in enumerate(paths)]
                + [{'ansible.builtin.command': {'argv': virsh_argv('detach', p, bus, i)}}
                   for i, p in enumerate(paths)]), tmp, 'command-%s.yml' % bus),
            'ansible_start': write_book(playbook([]), tmp, 'empty.yml'),
            'two_ping_tasks': write_book(playbook([{'ansible.builtin.ping': {}}] * 2), tmp, 'ping.yml'),
        }
        script = os.path.join(tmp, 'virsh-%s.sh' % bus)
        with open(script, 'w') as handle:
            handle.write('set -e\n')
            for action in ('attach', 'detach'):
                for i, p in enumerate(paths):
                    handle.write(' '.join("'%s'" % a for a in virsh_argv(action, p, bus, i)) + ' >/dev/null\n')
        self.script = script

    def run(self, way):
        """Run one way; return (wall seconds, extra figures)."""
        extra = {}
        start = time.monotonic()
        if way == 'floor':
            out = subprocess.run([sys.executable, __file__, '--floor-child', self.bus] + self.paths,
                                 check=True, capture_output=True, text=True).stdout
            extra = json.loads(out.strip().splitlines()[-1])
        elif way == 'virsh_loop':
            subprocess.run(['sh', self.script], check=True)
        else:
            run_book(self.books[way])
        return time.monotonic() - start, extra


def settle(paths, timeout=600):
    """Wait until no bench disk is left in the live or persistent XML (virsh's detach-disk returns after
    at most 5 s even when the guest has not let go yet); return the seconds waited."""
    import libvirt
    libvirt.registerErrorHandler(lambda *_a: None, None)
    dom = libvirt.open(URI).lookupByName(GUEST)
    start = time.monotonic()
    deadline = start + timeout
    while True:
        texts = dom.XMLDesc(0) + dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        if not any(p in texts for p in paths):
            return time.monotonic() - start
        if time.monotonic() > deadline:
            raise SystemExit('bench disks still in the domain after %s s' % timeout)
        time.sleep(0.2)


# --------------------------------------------------------------------------- profile

def exploded_payloads(bus_ways, tmp):
    """Run the module task once with ANSIBLE_KEEP_REMOTE_FILES and explode its two payloads."""
    remote = os.path.join(tmp, 'remote-tmp-%s' % bus_ways.bus)
    run_book(bus_ways.books['module_task'], env={'ANSIBLE_KEEP_REMOTE_FILES': '1', 'ANSIBLE_REMOTE_TMP': remote})
    wrappers = sorted(glob.glob(os.path.join(remote, 'ansible-tmp-*', 'AnsiballZ_virt_disk_hotplug.py')),
                      key=os.path.getmtime)
    exploded = []
    for wrapper in wrappers:
        subprocess.run([sys.executable, wrapper, 'explode'], cwd=os.path.dirname(wrapper), check=True,
                       capture_output=True)
        exploded.append(os.path.join(os.path.dirname(wrapper), 'debug_dir'))
    return exploded


def profile_child(debug_dir, out):
    """Run the exploded module (its args file) through runpy under cProfile; dump the stats to ``out``."""
    import runpy
    sys.path.insert(0, debug_dir)
    # the module reads its args file as when run by hand (ansible.module_utils._internal._debugging)
    sys.argv = ['virt_disk_hotplug', os.path.join(debug_dir, 'args'), '--profile', 'legacy']
    profiler = cProfile.Profile()
    start = time.monotonic()
    profiler.enable()
    try:
        runpy.run_module('ansible_collections.virtops.devices.plugins.modules.virt_disk_hotplug',
                         run_name='__main__', alter_sys=True)
    except SystemExit:
        pass
    finally:
        profiler.disable()
        profiler.dump_stats(out)
        sys.stderr.write('module run %.3f s\n' % (time.monotonic() - start))


def profile(bus_ways, tmp):
    """cProfile of the module's attach and detach; returns a short text of where the time goes."""
    texts = []
    for label, debug_dir in zip(('attach', 'detach'), exploded_payloads(bus_ways, tmp)):
        stats_path = os.path.join(tmp, 'prof-%s-%s' % (bus_ways.bus, label))
        start = time.monotonic()
        proc = subprocess.run([sys.executable, __file__, '--profile-child', debug_dir,
                               stats_path], capture_output=True, text=True, check=False)
        wall = time.monotonic() - start
        if not os.path.exists(stats_path):
            raise SystemExit('profile run failed:\n' + proc.stderr[-3000:])
        stream = io.StringIO()
        stats = pstats.Stats(stats_path, stream=stream)
        stats.sort_stats('cumulative').print_stats(18)
        texts.append('%s %s: process %.2f s, %s\n%s' % (bus_ways.bus, label, wall, proc.stderr.strip().splitlines()[-1],
                                                        _top(stream.getvalue())))
    return '\n'.join(texts)


def _top(text):
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith('ncalls'):
            return '\n'.join(lines[i:])
    return text


# --------------------------------------------------------------------------- main

def table(results, disks):
    lines = []
    for bus, figures in results.items():
        work = figures['module_task_s'] - figures['ansible_start_s']
        lines += ['', '%s (attach + detach %d disks, live and persistent; medians)' % (bus, disks), '',
                  '| way | wall time | vs floor |', '|---|---|---|']
        for way in WAYS:
            label = LABELS[way] % ((disks,) * LABELS[way].count('%d'))
            seconds = figures[way + '_s']
            lines.append('| %s | %.2f s | %.2fx |' % (label, seconds, seconds / figures['floor_s']))
        lines += ['', '| ratio | value |', '|---|---|',
                  '| module work (1 task - Ansible start) / floor | %.2fx |' % (work / figures['floor_s']),
                  '| module work / floor API time (in-process, no Python start) | %.2fx |'
                  % (work / figures['floor_api_s']),
                  '| virsh loop / module work | %.2fx |' % (figures['virsh_loop_s'] / work),
                  '| virsh loop until the disks were really gone / module work | %.2fx |'
                  % (figures.get('virsh_loop_until_gone_s', 0) / work),
                  '| module own work (1 task - 2 ping tasks) / floor | %.2fx |'
                  % ((figures['module_task_s'] - figures.get('two_ping_tasks_s', 0)) / figures['floor_s']),
                  '| command:virsh playbook / module 1 task | %.2fx |'
                  % (figures['command_tasks_s'] / figures['module_task_s'])]
    return '\n'.join(lines)


def main():
    if sys.argv[1:2] == ['--floor-child']:
        return floor_child(sys.argv[3:], sys.argv[2])
    if sys.argv[1:2] == ['--profile-child']:
        return profile_child(sys.argv[2], sys.argv[3])
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--disks', type=int, default=20)
    parser.add_argument('--repeat', type=int, default=1, help='runs of every way; the median is kept')
    parser.add_argument('--bus', action='append', choices=sorted(PREFIX), help='default: virtio and scsi')
    parser.add_argument('--way', action='append', choices=WAYS, help='default: all')
    parser.add_argument('--json', help='write {bus: {way_s: seconds}} to this file')
    parser.add_argument('--out', help='write the table (and the profile) as Markdown to this file')
    parser.add_argument('--profile', action='store_true', help='profile the module (exploded payload, cProfile)')
    args = parser.parse_args()
    buses = args.bus or ['virtio', 'scsi']
    ways = args.way or list(WAYS)
    tiny_guest.build()
    tiny_guest.down(GUEST)
    tiny_guest.up(GUEST, machine='pc', scsi_controller=True, timeout=900)
    results, profiles = {}, []
    tmp = tempfile.mkdtemp(prefix='batch-bench-', dir=tiny_guest.lab_dir())
    try:
        os.chmod(tmp, 0o755)
        for bus in buses:
            paths = []
            for i in range(args.disks):
                paths.append(os.path.join(tmp, 'bench-%s-%02d.raw' % (bus, i)))
                subprocess.run(['qemu-img', 'create', '-q', '-f', 'raw', paths[-1], '1M'], check=True)
            bus_ways = Bus(bus, paths, tmp)
            runs = dict((way, []) for way in ways)
            api = []
            settled = []
            for _run in range(args.repeat):
                for way in ways:
                    seconds, extra = bus_ways.run(way)
                    waited = settle(paths)
                    runs[way].append(seconds)
                    if 'api_s' in extra:
                        api.append(extra['api_s'])
                    if way == 'virsh_loop':
                        settled.append(seconds + waited)
                    print('%-7s %-14s %7.2f s (then %.2f s until the disks were gone)' % (bus, way, seconds, waited),
                          flush=True)
            results[bus] = dict((way + '_s', round(statistics.median(values), 3)) for way, values in runs.items())
            if api:
                results[bus]['floor_api_s'] = round(statistics.median(api), 3)
            if settled:
                results[bus]['virsh_loop_until_gone_s'] = round(statistics.median(settled), 3)
            if args.profile:
                profiles.append(profile(bus_ways, tmp))
                settle(paths)
    finally:
        tiny_guest.down(GUEST)
        shutil.rmtree(tmp, ignore_errors=True)
    needed = ('floor', 'module_task', 'virsh_loop', 'command_tasks', 'ansible_start')
    text = table(results, args.disks) if all(w in ways for w in needed) else ''
    print(text)
    print(json.dumps(results, indent=2, sort_keys=True))
    for prof in profiles:
        print(prof)
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump(results, handle, indent=2, sort_keys=True)
            handle.write('\n')
    if args.out:
        with open(args.out, 'w') as handle:
            handle.write(markdown(args, text, profiles))
    return 0


def markdown(args, text, profiles):
    parts = ['# Benchmark: disk hotplug\n',
             'Latest output of `python tests/bench/bench_hotplug.py --disks %d --repeat %d --json '
             'docs/benchmark-hotplug.json --out %s%s` (tiny guest, machine pc with a virtio-scsi controller, '
             'QEMU TCG, 2 cores), run %s. Figures are medians of %d run(s) per way.\n'
             % (args.disks, args.repeat, args.out, ' --profile' if args.profile else '',
                time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), args.repeat),
             text + '\n']
    if profiles:
        parts.append('\n## Profile of the module (exploded payload, runpy + cProfile, top by cumulative time)\n')
        parts.append('```\n%s\n```\n' % '\n'.join(profiles))
    return '\n'.join(parts)


if __name__ == '__main__':
    sys.exit(main())
