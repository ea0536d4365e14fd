"""L0: apply_steps makes as few libvirt calls as the change allows, in a safe order.

A fake domain records the calls: a device attached live and persistently is one call with
both flags; live detaches go out at once by alias and are confirmed before the persistent
definition changes; a refused call is reported with the scope libvirt refused.
"""

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _events, _hotplug
from ansible_collections.virtops.devices.plugins.module_utils._libvirt._connection import VirtError, libvirt

LIVE, CONFIG = libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG


def disk(target, alias=None):
    return _domain_xml.parse("<disk type='file' device='disk'><source file='/i/%s.img'/><target dev='%s' bus='scsi'/>"
                             "%s</disk>" % (target, target, "<alias name='%s'/>" % alias if alias else ''))


def step(action, scope, device):
    return {'action': action, 'scope': scope, 'device': device, 'label': 'disk %s' % device.find('target').get('dev')}


class FakeDom:
    """Records calls; detachDeviceAlias removes the alias from the live XML (the guest lets go)."""

    def __init__(self, live_aliases=(), refuse=None, keep=()):
        self.calls = []
        self.live = set(live_aliases)
        self.refuse = refuse or (lambda call: False)
        self.keep = set(keep)

    def _record(self, call):
        self.calls.append(call)
        if self.refuse(call):
            raise libvirt.libvirtError('refused: %s' % (call,))

    def attachDeviceFlags(self, xml, flags):  # noqa: N802 (libvirt's names)
        self._record(('attach', _domain_xml.parse(xml).find('target').get('dev'), flags))

    def detachDeviceFlags(self, xml, flags):  # noqa: N802
        self._record(('detach', _domain_xml.parse(xml).find('target').get('dev'), flags))

    def detachDeviceAlias(self, alias, flags):  # noqa: N802
        self._record(('detach-alias', alias, flags))
        if alias not in self.keep:
            self.live.discard(alias)

    def XMLDesc(self, _flags=0):  # noqa: N802
        self.calls.append(('read',))
        return "<domain><devices>%s</devices></domain>" % ''.join(
            "<disk><alias name='%s'/></disk>" % alias for alias in sorted(self.live))

    def connect(self):
        raise AssertionError('no event loop in unit tests: the watcher must not register')


@pytest.fixture(autouse=True)
def fast_poll(monkeypatch):
    monkeypatch.setattr(_events, 'POLL_WITHOUT_EVENTS', 0.01)


def test_live_and_config_attach_of_one_device_is_one_call():
    steps = [step('attach', 'live', disk('sda')), step('attach', 'live', disk('sdb')),
             step('attach', 'config', disk('sda')), step('attach', 'config', disk('sdb')),
             step('attach', 'config', disk('sdc'))]
    dom = FakeDom()
    done = _hotplug.apply_steps(dom, 'g', steps, 5)
    assert dom.calls == [('attach', 'sda', LIVE | CONFIG), ('attach', 'sdb', LIVE | CONFIG),
                         ('attach', 'sdc', CONFIG)]
    assert len(done) == 5


def test_live_detaches_go_by_alias_at_once_then_config():
    steps = [step('detach', 'live', disk('sda', 'scsi0-0-0-0')), step('detach', 'live', disk('sdb', 'scsi0-0-0-1')),
             step('detach', 'config', disk('sda')), step('detach', 'config', disk('sdb'))]
    dom = FakeDom(live_aliases=['scsi0-0-0-0', 'scsi0-0-0-1'])
    _hotplug.apply_steps(dom, 'g', steps, 5)
    assert dom.calls == [('detach-alias', 'scsi0-0-0-0', LIVE), ('detach-alias', 'scsi0-0-0-1', LIVE), ('read',),
                         ('detach', 'sda', CONFIG), ('detach', 'sdb', CONFIG)]


def test_kept_device_fails_and_config_stays():
    steps = [step('detach', 'live', disk('sda', 'scsi0-0-0-0')), step('detach', 'config', disk('sda'))]
    dom = FakeDom(live_aliases=['scsi0-0-0-0'], keep=['scsi0-0-0-0'])
    with pytest.raises(VirtError, match="did not release disk sda within 0.05 s"):
        _hotplug.apply_steps(dom, 'g', steps, 0.05)
    assert not [c for c in dom.calls if c[0] == 'detach']


def test_refused_merged_attach_names_the_scope_and_undoes():
    steps = [step('attach', 'live', disk('sda')), step('attach', 'live', disk('sdb')),
             step('attach', 'config', disk('sda')), step('attach', 'config', disk('sdb'))]
    dom = FakeDom(refuse=lambda call: call[:2] == ('attach', 'sdb') and call[2] & CONFIG)
    with pytest.raises(VirtError, match=r"libvirt refused to attach disk sdb \(config\) on domain 'g'.*"
                                        r"Undid the earlier attach of: disk sda, disk sda, disk sdb"):
        _hotplug.apply_steps(dom, 'g', steps, 5)
    assert dom.calls == [('attach', 'sda', LIVE | CONFIG), ('attach', 'sdb', LIVE | CONFIG),
                         ('attach', 'sdb', LIVE), ('attach', 'sdb', CONFIG),
                         ('detach', 'sdb', LIVE), ('detach', 'sda', LIVE | CONFIG)]


def controller():
    return _domain_xml.parse("<controller type='scsi' model='virtio-scsi'/>")


def test_config_keeps_its_order_when_only_it_lacks_the_controller():
    """Live has a SCSI controller, the definition not: its controller must come before the disk."""
    config_controller = dict(step('attach', 'config', disk('sda')), device=controller(),
                             label='controller scsi (virtio-scsi)')
    steps = [step('attach', 'live', disk('sda')), config_controller, step('attach', 'config', disk('sda'))]
    calls = _hotplug.libvirt_calls(steps)
    assert [(c['action'], c['scopes'], c['device'].tag) for c in calls] == [
        ('attach', ('live',), 'disk'), ('attach', ('config',), 'controller'), ('attach', ('config',), 'disk')]
