# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What virt_disk_hotplug must do: from the requested disks and the domain's
live and persistent XML, the list of attach/detach steps, each for one scope.

Pure functions: no libvirt, no files other than reading a source's format.
A request that cannot be carried out raises PlanError before any step runs.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.virtops.devices.plugins.module_utils._disks import _disk
from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml, _pci_slots

SCOPES = ('live', 'config')


class PlanError(Exception):
    """The request cannot be carried out; the message says why and what to do."""


def normalize_disk(raw, check_source=True):
    """A disk spec with every key filled in, or PlanError naming the bad input."""
    spec = dict(raw)
    source = spec.get('source')
    if not source:
        raise PlanError('every disk needs a source (the path of an image file or block device)')
    if not os.path.isabs(source):
        raise PlanError('disk source %r is not an absolute path' % source)
    spec['source'] = os.path.normpath(source)
    if check_source and not os.path.exists(spec['source']):
        raise PlanError('disk source %s does not exist on the hypervisor; create the image first '
                        '(e.g. qemu-img create -f qcow2 %s 10G) or fix the path' % (source, source))
    spec['bus'] = spec.get('bus') or 'virtio'
    if spec['bus'] not in _disk.TARGET_PREFIX:
        raise PlanError('disk %s: unknown bus %r' % (source, spec['bus']))
    spec['type'] = _disk.source_kind(spec['source'])
    spec['format'] = spec.get('format') or _disk.detect_format(spec['source'])
    target = spec.get('target')
    if target and not _disk.target_matches_bus(target, spec['bus']):
        raise PlanError('disk %s: target %r does not fit bus %s; use a name like %s or omit target'
                        % (source, target, spec['bus'], _disk.target_name(_disk.TARGET_PREFIX[spec['bus']], 1)))
    return spec


def _check_no_duplicates(specs):
    seen = set()
    for spec in specs:
        if spec['source'] in seen:
            raise PlanError('disk source %s is listed twice' % spec['source'])
        seen.add(spec['source'])


def _check_serial(spec, existing, scope):
    serial = _disk.disk_serial(existing)
    if spec.get('serial') and serial != spec['serial']:
        raise PlanError('disk source %s is already attached (%s) as %s with serial %r, not %r; '
                        'detach it first (state: absent) to change its serial'
                        % (spec['source'], scope, _disk.disk_target(existing), serial, spec['serial']))


def _check_target_free(spec, indexes):
    target = spec.get('target')
    if not target:
        return
    for scope, index in indexes.items():
        holder = index.holder_of(target)
        if holder is not None and _disk.disk_source(holder) != spec['source']:
            raise PlanError('target %s is already used by disk %s in the %s definition; choose another '
                            'target or omit target to get the next free name'
                            % (target, _disk.disk_source(holder) or '(no source)', scope))


def _target_for(spec, indexes, allocator):
    """The target a new disk gets: the user's, the one it has in the other scope, or the next free."""
    if spec.get('target'):
        allocator.reserve(spec['target'])
        return spec['target']
    for index in indexes.values():
        existing = index.find(spec['source'])
        if existing is not None:
            allocator.reserve(_disk.disk_target(existing))
            return _disk.disk_target(existing)
    return allocator.next_free(spec['bus'])


def _step(action, scope, device, label):
    return {'action': action, 'scope': scope, 'device': device, 'label': label}


def indexes_of(trees):
    """``{scope: DiskIndex}``: each domain XML is walked once, whatever the number of requests."""
    return dict((scope, _disk.DiskIndex(root)) for scope, root in trees.items())


def plan_present(specs, trees):
    """Steps that attach every disk (and a SCSI controller where one is needed) in each scope."""
    steps = []
    indexes = indexes_of(trees)
    used = set()
    for index in indexes.values():
        used.update(index.by_target)
    allocator = _disk.TargetAllocator(used)
    targets = {}
    for spec in specs:
        _check_target_free(spec, indexes)
        targets[spec['source']] = _target_for(spec, indexes, allocator)
    for scope, index in indexes.items():
        missing = []
        for spec in specs:
            existing = index.find(spec['source'])
            if existing is not None:
                _check_serial(spec, existing, scope)
            else:
                missing.append(spec)
        if any(spec['bus'] == 'scsi' for spec in missing) and not index.has_scsi_controller:
            steps.append(_step('attach', scope, _disk.build_scsi_controller(), 'controller scsi (virtio-scsi)'))
        for spec in missing:
            target = targets[spec['source']]
            steps.append(_step('attach', scope, _disk.build_disk(spec, target),
                               'disk %s (%s)' % (target, spec['source'])))
    return steps


def plan_absent(specs, trees):
    """Steps that detach every listed disk that is there, live first."""
    steps = []
    for scope, index in indexes_of(trees).items():
        for spec in specs:
            existing = index.find(spec['source'])
            if existing is None:
                continue
            if spec.get('serial') and _disk.disk_serial(existing) != spec['serial']:
                continue
            steps.append(_step('detach', scope, existing,
                               'disk %s (%s)' % (_disk.disk_target(existing), spec['source'])))
    return steps


def check_live_hotplug(name, steps, live_root):
    """Refuse live steps the running domain cannot take: IDE/SATA buses, no free PCI slot."""
    live_attach = [s for s in steps if s['scope'] == 'live' and s['action'] == 'attach']
    for step in live_attach:
        bus = _disk.disk_bus(step['device']) if step['device'].tag == 'disk' else None
        if bus and bus not in _disk.HOTPLUG_BUSES:
            raise PlanError('bus %r cannot be hot-plugged into the running domain %r (%s). Use bus virtio '
                            'or scsi, or set live: false to change only the persistent definition'
                            % (bus, name, step['label']))
    needed = len([s for s in live_attach if s['device'].tag == 'controller'
                  or _disk.disk_bus(s['device']) in _disk.PCI_SLOT_BUSES])
    if needed:
        free = _pci_slots.free_hotplug_slots(live_root)
        if needed > free:
            raise PlanError(_pci_slots.no_slot_message(
                name, needed, free, _domain_xml.is_q35(live_root),
                ', or use bus: scsi (SCSI disks share one controller and need no slot)'))


def plan(specs, state, trees):
    """All steps for ``state`` over ``trees`` ({'live': root, 'config': root}, only the scopes to change)."""
    _check_no_duplicates(specs)
    ordered = dict((scope, trees[scope]) for scope in SCOPES if scope in trees)
    if state == 'present':
        return plan_present(specs, ordered)
    return plan_absent(specs, ordered)
