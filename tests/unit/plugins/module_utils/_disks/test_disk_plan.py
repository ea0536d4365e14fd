"""L0: reconciling requested disks with the live and persistent XML."""

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._disks import _disk_plan
from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _hotplug
from ansible_collections.virtops.devices.plugins.module_utils._disks._disk_plan import PlanError
from ansible_collections.virtops.devices.plugins.module_utils._libvirt._connection import VirtError


def domain(disks='', controllers='', machine='pc-i440fx-7.2'):
    return _domain_xml.parse("<domain type='qemu'><name>g</name><os><type machine='%s'>hvm</type></os>"
                             "<devices>%s%s</devices></domain>" % (machine, controllers, disks))


def disk(source, target, bus='virtio', serial=None):
    serial_xml = '<serial>%s</serial>' % serial if serial else ''
    return ("<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='%s'/>"
            "<target dev='%s' bus='%s'/>%s</disk>" % (source, target, bus, serial_xml))


@pytest.fixture
def images(tmp_path):
    paths = {}
    for name in ('a', 'b', 'c'):
        path = tmp_path / ('%s.img' % name)
        path.write_bytes(b'\0' * 1024)
        paths[name] = str(path)
    return paths


def spec(path, **kw):
    raw = {'source': path, 'bus': 'virtio'}
    raw.update(kw)
    return _disk_plan.normalize_disk(raw)


def labels(steps):
    return [(s['action'], s['scope'], s['label'].split(' (')[0]) for s in steps]


def test_new_disks_get_next_free_targets_in_both_scopes(images):
    live = domain(disk('/root.img', 'vda'))
    config = domain(disk('/root.img', 'vda'))
    steps = _disk_plan.plan([spec(images['a']), spec(images['b'], bus='scsi')], 'present',
                            {'live': live, 'config': config})
    assert labels(steps) == [
        ('attach', 'live', 'controller scsi'), ('attach', 'live', 'disk vdb'), ('attach', 'live', 'disk sda'),
        ('attach', 'config', 'controller scsi'), ('attach', 'config', 'disk vdb'), ('attach', 'config', 'disk sda')]


def test_disk_already_in_config_is_attached_live_only_with_same_target(images):
    live = domain()
    config = domain(disk(images['a'], 'vdc'))
    steps = _disk_plan.plan([spec(images['a'])], 'present', {'live': live, 'config': config})
    assert labels(steps) == [('attach', 'live', 'disk vdc')]


def test_present_everywhere_is_no_step(images):
    both = disk(images['a'], 'vdb', serial='s1')
    steps = _disk_plan.plan([spec(images['a'], serial='s1')], 'present',
                            {'live': domain(both), 'config': domain(both)})
    assert steps == []


def test_existing_scsi_controller_is_reused(images):
    ctl = "<controller type='scsi' index='0' model='lsilogic'/>"
    steps = _disk_plan.plan([spec(images['a'], bus='scsi')], 'present', {'live': domain(controllers=ctl)})
    assert labels(steps) == [('attach', 'live', 'disk sda')]


def test_target_used_by_another_disk_is_refused(images):
    with pytest.raises(PlanError, match='target vdb is already used by disk /other.img in the config'):
        _disk_plan.plan([spec(images['a'], target='vdb')], 'present',
                        {'live': domain(), 'config': domain(disk('/other.img', 'vdb'))})


def test_serial_mismatch_is_refused(images):
    with pytest.raises(PlanError, match="serial 'old', not 'new'"):
        _disk_plan.plan([spec(images['a'], serial='new')], 'present',
                        {'live': domain(disk(images['a'], 'vdb', serial='old'))})


def test_absent_detaches_live_then_config(images):
    live = domain(disk(images['a'], 'vdb'))
    config = domain(disk(images['a'], 'vdb'), disk(images['b'], 'vdc'))
    steps = _disk_plan.plan([spec(images['a']), spec(images['b'])], 'absent', {'config': config, 'live': live})
    assert labels(steps) == [('detach', 'live', 'disk vdb'), ('detach', 'config', 'disk vdb'),
                             ('detach', 'config', 'disk vdc')]


def test_normalize_rejects_bad_input(tmp_path, images):
    with pytest.raises(PlanError, match='does not exist on the hypervisor'):
        _disk_plan.normalize_disk({'source': str(tmp_path / 'missing.img'), 'bus': 'virtio'})
    with pytest.raises(PlanError, match='not an absolute path'):
        _disk_plan.normalize_disk({'source': 'rel.img', 'bus': 'virtio'})
    with pytest.raises(PlanError, match="target 'sdb' does not fit bus virtio"):
        _disk_plan.normalize_disk({'source': images['a'], 'bus': 'virtio', 'target': 'sdb'})
    with pytest.raises(PlanError, match='listed twice'):
        _disk_plan.plan([spec(images['a']), spec(images['a'])], 'present', {'live': domain()})
    assert _disk_plan.normalize_disk({'source': '/nowhere.img', 'bus': 'virtio'}, check_source=False)['format'] == 'raw'


def test_live_ide_is_refused_but_config_ide_is_fine(images):
    steps = _disk_plan.plan([spec(images['a'], bus='ide')], 'present', {'live': domain(), 'config': domain()})
    with pytest.raises(PlanError, match="bus 'ide' cannot be hot-plugged.*live: false"):
        _disk_plan.check_live_hotplug('g', steps, domain())
    config_only = _disk_plan.plan([spec(images['a'], bus='ide')], 'present', {'config': domain()})
    _disk_plan.check_live_hotplug('g', config_only, domain())


def test_q35_slot_shortage_is_refused_before_any_change(images):
    port = ("<controller type='pci' index='1' model='pcie-root-port'>"
            "<address type='pci' bus='0x00' slot='0x02'/></controller>")
    live = domain(controllers=port, machine='pc-q35-7.2')
    steps = _disk_plan.plan([spec(images['a']), spec(images['b'])], 'present', {'live': live})
    with pytest.raises(PlanError, match='1 free PCI hotplug slot.*needs 2.*pcie-root-port.*bus: scsi'):
        _disk_plan.check_live_hotplug('g', steps, live)
    scsi = _disk_plan.plan([spec(images['a'], bus='scsi'), spec(images['b'], bus='scsi')], 'present',
                           {'live': live})
    _disk_plan.check_live_hotplug('g', scsi, live)  # one controller: fits


def test_predicted_tree_and_diffs(images):
    live = domain(disk(images['a'], 'vdb'))
    steps = _disk_plan.plan([spec(images['a'])], 'absent', {'live': live})
    after = _hotplug.predicted_tree(live, steps, 'live')
    assert after.find('devices/disk') is None
    assert live.find('devices/disk') is not None
    diffs = _hotplug.xml_diffs('g', {'live': live}, steps)
    assert len(diffs) == 1 and images['a'] in diffs[0]['before'] and images['a'] not in diffs[0]['after']
    assert _hotplug.step_texts(steps) == ['detach disk vdb (%s) live' % images['a']]


def test_select_scopes():
    assert _hotplug.select_scopes('g', True, True, {'live': True, 'config': True}) == (['live', 'config'], [])
    scopes, notes = _hotplug.select_scopes('g', True, True, {'live': False, 'config': True})
    assert scopes == ['config'] and 'not running' in notes[0]
    with pytest.raises(VirtError, match='nothing can be changed'):
        _hotplug.select_scopes('g', True, False, {'live': False, 'config': True})
