# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carry out device attach/detach steps on a domain, live and persistent.

A step is ``{'action': 'attach'|'detach', 'scope': 'live'|'config',
'device': <lxml element>, 'label': str}``. A live detach counts as done only
once the device has left the live XML (libvirt's return code only says the
request was sent to the guest). A failed step undoes the attaches already
done, so bad input never leaves a half-changed domain.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _connection as _libvirt, _events
from ansible_collections.virtops.devices.plugins.module_utils._libvirt._connection import VirtError
from ansible_collections.virtops.devices.plugins.module_utils._common._validate import check_whole_number

DETACH_TIMEOUT_RANGE = (1, 3600)


def hotplug_argument_spec(**extra):
    """The argument spec shared by modules that attach devices (see doc fragment ``hotplug``)."""
    spec = dict(
        name=dict(type='str', required=True),
        uri=dict(type='str', default='qemu:///system'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        live=dict(type='bool', default=True),
        config=dict(type='bool', default=True),
        detach_timeout=dict(type='int', default=30),
    )
    spec.update(extra)
    return spec


def hotplug_rules():
    """The grammar rules (``_validate.check_params``) of the shared hotplug options."""
    low, high = DETACH_TIMEOUT_RANGE
    return [('detach_timeout', check_whole_number(low, high, 'seconds to wait for the guest to release a device'))]


def select_scopes(name, live, config, state):
    """The scopes to change, and notes for the ones skipped.

    ``state`` is ``{'live': running?, 'config': persistent?}``. Raises
    VirtError when nothing asked for can be done.
    """
    scopes, notes = [], []
    if live and state['live']:
        scopes.append('live')
    elif live:
        notes.append('domain %r is not running: nothing was changed live, only its persistent '
                     'definition (the change takes effect at its next start)' % name)
    if config and state['config']:
        scopes.append('config')
    elif config:
        notes.append('domain %r is transient (no persistent definition): only the running domain '
                     'was changed, the change is lost when it stops' % name)
    if not scopes:
        raise VirtError('nothing can be changed on domain %r: it is %s and %s. Set config: true to change '
                        'its persistent definition, or start it' % (
                            name, 'running' if state['live'] else 'not running',
                            'persistent' if state['config'] else 'transient'))
    return scopes, notes


def predicted_tree(root, steps, scope):
    """A copy of ``root`` with the steps of ``scope`` applied (for check mode and diff).

    Linear in the size of the domain plus the number of steps: a detached device is found
    through the copy's element map (or, for a device not taken from ``root``, one canonical
    index), never by comparing it with every device.
    """
    after = _domain_xml.domain_copy(root)
    mine = [step for step in steps if step['scope'] == scope]
    detach = [step['device'] for step in mine if step['action'] != 'attach']
    if detach:
        copies = _domain_xml.copy_map(root, after)
        by_text = None
        for device in detach:
            node = copies.get(device)
            if node is None or node.getparent() is None:
                if by_text is None:
                    by_text = _domain_xml.canonical_index(_domain_xml.devices(after))
                node = _domain_xml.pop_canonical(by_text, device)
            if node is not None and node.getparent() is not None:
                _domain_xml.remove_device(after, node)
    _domain_xml.add_devices(after, [step['device'] for step in mine if step['action'] == 'attach'])
    return after


def xml_diffs(name, trees, steps):
    """Ansible diff dicts (before/after domain XML) for each scope the steps change."""
    diffs = []
    for scope, root in trees.items():
        if any(step['scope'] == scope for step in steps):
            header = 'domain %s (%s)' % (name, 'live' if scope == 'live' else 'persistent definition')
            diffs.append({'before_header': header, 'after_header': header,
                          'before': _domain_xml.to_text(root),
                          'after': _domain_xml.to_text(predicted_tree(root, steps, scope))})
    return diffs


def step_texts(steps):
    """One line per step, for the module's ``actions`` result."""
    return ['%s %s %s' % (step['action'], step['label'], step['scope']) for step in steps]


def current_trees(dom, scopes):
    """``{scope: parsed domain XML}`` for each scope."""
    return dict((scope, _domain_xml.parse(_libvirt.domain_xml(dom, inactive=(scope == 'config'))))
                for scope in scopes)


def devices_still_present(dom, devices):
    """The devices of ``devices`` that are still in the live XML (one read of it)."""
    root = _domain_xml.parse(_libvirt.domain_xml(dom))
    live = set(_domain_xml.canonical(node) for node in _domain_xml.devices(root))
    return [device for device in devices if _domain_xml.canonical(device) in live]


def aliases_still_present(dom, aliases):
    """The aliases of ``aliases`` that a device of the live XML still has (one read of it)."""
    root = _domain_xml.parse(_libvirt.domain_xml(dom))
    return set(aliases) & _domain_xml.device_aliases(root)


def wait_devices_removed(dom, devices, timeout, poll=0.2):
    """Wait until every device has left the live domain; return those still there at the timeout."""
    deadline = time.time() + timeout
    while True:
        remaining = devices_still_present(dom, devices)
        if not remaining or time.time() >= deadline:
            return remaining
        time.sleep(poll)


def wait_device_removed(dom, device, timeout, poll=0.2):
    """Wait until ``device`` has left the live domain; False on timeout."""
    return not wait_devices_removed(dom, [device], timeout, poll)


def _flags(scopes):
    flags = 0
    for scope in scopes:
        flags |= _libvirt.affect_flag(scope)
    return flags


def _run(dom, action, scopes, device):
    text = _domain_xml.to_text(device)
    if action == 'attach':
        dom.attachDeviceFlags(text, _flags(scopes))
    else:
        dom.detachDeviceFlags(text, _flags(scopes))


def _call(action, steps):
    return {'action': action, 'scopes': tuple(step['scope'] for step in steps), 'device': steps[0]['device'],
            'steps': steps}


def libvirt_calls(steps):
    """The steps as libvirt calls, in order: a live attach and the config attach of the same
    device become one call with both flags (libvirt then gives both the same address).

    A config attach is only moved up to its live twin when every config step before it moves
    too, so the persistent definition changes in the planned order (a SCSI controller before
    its disks).
    """
    config_attaches = {}
    config_order = []
    for index, step in enumerate(steps):
        if step['scope'] == 'config':
            config_order.append(index)
            if step['action'] == 'attach':
                config_attaches.setdefault(_domain_xml.canonical(step['device']), []).append(index)
    merged, calls = set(), []
    for index, step in enumerate(steps):
        if index in merged:
            continue
        partners = (config_attaches.get(_domain_xml.canonical(step['device']))
                    if step['action'] == 'attach' and step['scope'] == 'live' else None)
        if partners and partners[0] == config_order[len(merged)]:
            merged.add(partners[0])
            calls.append(_call('attach', [step, steps[partners.pop(0)]]))
        else:
            calls.append(_call(step['action'], [step]))
    return calls


def _undo(dom, done):
    """Best effort: detach what was attached, newest first."""
    for call in reversed(done):
        if call['action'] != 'attach':
            continue
        try:
            _run(dom, 'detach', call['scopes'], call['device'])
        except Exception:  # pylint: disable=broad-except
            pass


def _is_live_detach(call):
    return call['action'] == 'detach' and call['scopes'] == ('live',)


def _refused(name, step, exc, done):
    return VirtError('libvirt refused to %s %s (%s) on domain %r: %s%s' % (
        step['action'], step['label'], step['scope'], name, _libvirt.error_text(exc), _undone_note(done)))


def _send(dom, name, call, done):
    """Make the libvirt call; return the calls done. A failed call of both scopes is made again
    one scope at a time, so the error names the scope libvirt refused (it changed neither)."""
    alias = _domain_xml.device_alias(call['device']) if _is_live_detach(call) else None
    try:
        if alias:
            dom.detachDeviceAlias(alias, _libvirt.affect_flag('live'))
        else:
            _run(dom, call['action'], call['scopes'], call['device'])
        return [call]
    except _libvirt.libvirt.libvirtError as exc:
        if len(call['steps']) == 1:
            _undo(dom, done)
            raise _refused(name, call['steps'][0], exc, done)
    parts = []
    for step in call['steps']:
        parts += _send(dom, name, _call(call['action'], [step]), done + parts)
    return parts


def _confirm_removed(dom, name, sent, detach_timeout, watcher):
    """Wait for the live detaches already sent; VirtError naming those the guest kept."""
    by_alias = [call for call in sent if _domain_xml.device_alias(call['device'])]
    kept = [call for call in sent if not _domain_xml.device_alias(call['device'])]
    started = time.time()
    if by_alias:
        left = watcher.wait([_domain_xml.device_alias(call['device']) for call in by_alias], detach_timeout,
                            lambda pending: aliases_still_present(dom, pending))
        kept += [call for call in by_alias if _domain_xml.device_alias(call['device']) in left]
    unnamed = [call for call in kept if not _domain_xml.device_alias(call['device'])]
    if unnamed:
        still = wait_devices_removed(dom, [call['device'] for call in unnamed],
                                     max(0, detach_timeout - (time.time() - started)))
        kept = [call for call in kept if _domain_xml.device_alias(call['device'])
                or any(call['device'] is device for device in still)]
    if kept:
        labels = [call['steps'][0]['label'] for call in sent if any(call is other for other in kept)]
        raise VirtError(
            'the guest of domain %r did not release %s within %s s: it has no ACPI/PCIe hotplug '
            '(load acpiphp or pciehp in the guest) or the device is busy (unmount it first). '
            'The persistent definition was left as it was; retry once the guest lets go.'
            % (name, ', '.join(labels), detach_timeout))


def apply_steps(dom, name, steps, detach_timeout):
    """Run ``steps`` in order. On failure undo the attaches done and raise VirtError.

    A live attach and the config attach of the same device are one libvirt call. Consecutive
    live detaches are all sent first (by device alias: libvirt returns at once) and then
    confirmed together by the DEVICE_REMOVED events (see ``_events``), so detaching twenty
    disks waits for the guest once, not twenty times; nothing after them (the persistent
    definition) changes before they are confirmed.
    """
    calls = libvirt_calls(steps)
    watcher = _events.RemovalWatcher(dom) if any(_is_live_detach(call) for call in calls) else None
    done, sent = [], []
    try:
        for call in calls:
            if sent and not _is_live_detach(call):
                _confirm_removed(dom, name, sent, detach_timeout, watcher)
                sent = []
            done += _send(dom, name, call, done)
            if _is_live_detach(call):
                sent.append(call)
        if sent:
            _confirm_removed(dom, name, sent, detach_timeout, watcher)
    finally:
        if watcher is not None:
            watcher.close()
    return [step for call in done for step in call['steps']]


def _undone_note(done):
    attached = [step['label'] for call in done if call['action'] == 'attach' for step in call['steps']]
    if not attached:
        return ''
    return '. Undid the earlier attach of: %s' % ', '.join(attached)
