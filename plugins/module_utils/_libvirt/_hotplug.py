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
from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _connection as _libvirt
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
    """A copy of ``root`` with the steps of ``scope`` applied (for check mode and diff)."""
    after = _domain_xml.domain_copy(root)
    for step in steps:
        if step['scope'] != scope:
            continue
        if step['action'] == 'attach':
            _domain_xml.add_device(after, step['device'])
            continue
        want = _domain_xml.canonical(step['device'])
        for node in _domain_xml.find_devices(after, step['device'].tag):
            if _domain_xml.canonical(node) == want:
                _domain_xml.remove_device(after, node)
                break
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


def _run(dom, action, scope, device):
    text = _domain_xml.to_text(device)
    flag = _libvirt.affect_flag(scope)
    if action == 'attach':
        dom.attachDeviceFlags(text, flag)
    else:
        dom.detachDeviceFlags(text, flag)


def _undo(dom, done):
    """Best effort: detach what was attached, newest first."""
    for step in reversed(done):
        if step['action'] != 'attach':
            continue
        try:
            _run(dom, 'detach', step['scope'], step['device'])
        except Exception:  # pylint: disable=broad-except
            pass


def _is_live_detach(step):
    return step['action'] == 'detach' and step['scope'] == 'live'


def _confirm_removed(dom, name, sent, detach_timeout):
    """Wait for the live detaches already sent; VirtError naming those the guest kept."""
    kept = wait_devices_removed(dom, [step['device'] for step in sent], detach_timeout)
    if kept:
        labels = [step['label'] for step in sent if any(step['device'] is device for device in kept)]
        raise VirtError(
            'the guest of domain %r did not release %s within %s s: it has no ACPI/PCIe hotplug '
            '(load acpiphp or pciehp in the guest) or the device is busy (unmount it first). '
            'The persistent definition was left as it was; retry once the guest lets go.'
            % (name, ', '.join(labels), detach_timeout))


def apply_steps(dom, name, steps, detach_timeout):
    """Run ``steps`` in order. On failure undo the attaches done and raise VirtError.

    Consecutive live detaches are all sent first and then confirmed together, so
    detaching twenty disks waits for the guest once, not twenty times; nothing
    after them (the persistent definition) changes before they are confirmed.
    """
    done, sent = [], []
    for step in steps:
        if sent and not _is_live_detach(step):
            _confirm_removed(dom, name, sent, detach_timeout)
            sent = []
        try:
            _run(dom, step['action'], step['scope'], step['device'])
        except _libvirt.libvirt.libvirtError as exc:
            _undo(dom, done)
            raise VirtError('libvirt refused to %s %s (%s) on domain %r: %s%s' % (
                step['action'], step['label'], step['scope'], name, _libvirt.error_text(exc),
                _undone_note(done)))
        if _is_live_detach(step):
            sent.append(step)
        done.append(step)
    if sent:
        _confirm_removed(dom, name, sent, detach_timeout)
    return done


def _undone_note(done):
    attached = [s['label'] for s in done if s['action'] == 'attach']
    if not attached:
        return ''
    return '. Undid the earlier attach of: %s' % ', '.join(attached)
