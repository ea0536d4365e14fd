"""L0: planning does not scale with the devices a domain already has.

Planning n disks against a domain of m must walk each domain once and look each request up
once: O(n + m), not O(n * m). The test counts the per-device operations (reading a disk's
source, target or serial, a canonical comparison, a search of <devices>) for 100 against 100
and 200 against 200 and asks for linear growth. Timing belongs in tests/bench, not here.
"""

import collections

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._disks import _disk, _disk_plan
from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _hotplug

COUNTED = ((_disk, 'disk_source'), (_disk, 'disk_target'), (_disk, 'disk_serial'),
           (_domain_xml, 'canonical'), (_domain_xml, 'find_devices'), (_domain_xml, 'add_device'))


def domain_with(existing, bus):
    prefix = _disk.TARGET_PREFIX[bus]
    disks = ''.join("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                    "<source file='/old/d%03d.img'/><target dev='%s' bus='%s'/>"
                    "<alias name='%s-disk%d'/></disk>" % (i, _disk.target_name(prefix, i), bus, bus, i)
                    for i in range(existing))
    controller = "<controller type='scsi' index='0' model='virtio-scsi'/>" if bus == 'scsi' else ''
    return _domain_xml.parse("<domain type='qemu'><name>g</name><os><type machine='pc-i440fx-7.2'>hvm</type></os>"
                             "<devices>%s%s</devices></domain>" % (controller, disks))


def count_operations(monkeypatch, existing, new, state, bus, scopes):
    """(operations counted, steps) for planning ``new`` disks (or detaching ``new`` of the old ones)."""
    counts = collections.Counter()
    for module, name in COUNTED:
        real = getattr(module, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            counts[_name] += 1
            return _real(*args, **kwargs)
        monkeypatch.setattr(module, name, counted)
    trees = dict((scope, domain_with(existing, bus)) for scope in scopes)
    folder = '/new/d%03d.img' if state == 'present' else '/old/d%03d.img'
    specs = [_disk_plan.normalize_disk({'source': folder % i, 'bus': bus}, check_source=False) for i in range(new)]
    steps = _disk_plan.plan(specs, state, trees)
    if 'live' in trees:
        _disk_plan.check_live_hotplug('g', steps, trees['live'])
    _hotplug.xml_diffs('g', trees, steps)
    _hotplug.libvirt_calls(steps)
    monkeypatch.undo()
    return sum(counts.values()), steps


@pytest.mark.parametrize('state, bus, scopes', [
    ('present', 'scsi', ('live', 'config')),
    ('present', 'virtio', ('config',)),   # 400 virtio disks do not fit the live PCI slots
    ('absent', 'scsi', ('live', 'config')),
    ('absent', 'virtio', ('live', 'config')),
])
def test_planning_200_against_200_is_linear(monkeypatch, state, bus, scopes):
    small, _steps = count_operations(monkeypatch, 100, 100, state, bus, scopes)
    large, steps = count_operations(monkeypatch, 200, 200, state, bus, scopes)
    assert len([s for s in steps if s['device'].tag == 'disk']) == 200 * len(scopes)
    # linear: doubling both sides at most doubles the work (quadratic would be 4x) ...
    assert large <= 2.2 * small, (small, large)
    # ... and a few operations per device, not one per pair of devices (200 * 200 = 40000)
    assert large <= 15 * (200 + 200) * len(scopes), large


def test_new_targets_continue_after_the_existing_ones(monkeypatch):
    steps = count_operations(monkeypatch, 200, 3, 'present', 'scsi', ('live', 'config'))[1]
    targets = [_disk.disk_target(s['device']) for s in steps if s['scope'] == 'live']
    assert targets == [_disk.target_name('sd', 200 + i) for i in range(3)]


def test_target_allocator_matches_next_free_target():
    used = {'vda', 'vdc', 'sda', 'vdd', 'hdb'}
    allocator = _disk.TargetAllocator(used)
    allocator.reserve('vde')
    got = [allocator.next_free('virtio') for _count in range(3)]
    expected, taken = [], set(used) | {'vde'}
    for _count in range(3):
        expected.append(_disk.next_free_target('virtio', taken))
        taken.add(expected[-1])
    assert got == expected == ['vdb', 'vdf', 'vdg']
    assert allocator.next_free('scsi') == 'sdb' and allocator.next_free('sata') == 'sdc'
