#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: virt_hostdev_network
short_description: Define, start and autostart an SR-IOV VF pool as a libvirt network
version_added: 0.1.0
description:
  - Makes a libvirt network of C(<forward mode='hostdev' managed='yes'><pf dev='...'/></forward>),
    a pool of the virtual functions of one SR-IOV physical function. Domains take a VF
    from it with an C(<interface type='network'>) (M(virtops.devices.virt_hostdev) with
    O(virtops.devices.virt_hostdev#module:network)), and libvirt picks a free VF at start.
  - Idempotent; reports the VFs of the pool (as the running network lists them, else
    the PF's VFs from the node devices).
  - An existing network of another kind (bridge, NAT ...) with the same name is never
    turned into a pool.
author:
  - virtops.devices maintainers (@virtops)
extends_documentation_fragment:
  - virtops.devices.libvirt
options:
  name:
    description: Name of the network.
    type: str
    required: true
  pf:
    description:
      - The physical function, as its host interface name (V(enp3s0f0)) or its PCI address
        (V(0000:03:00.0), resolved to the interface name).
      - Required with O(state=present).
    type: str
  state:
    description: V(present) defines the pool, V(absent) stops and undefines it.
    type: str
    choices: [present, absent]
    default: present
  active:
    description:
      - Start the network. The PF must exist and have VFs; with V(false) it is only
        defined (a missing PF is then a warning).
    type: bool
    default: true
  autostart:
    description: Start the network with libvirtd.
    type: bool
    default: true
  managed:
    description: Let libvirt detach each VF from its host driver when a domain takes it.
    type: bool
    default: true
  driver:
    description: Backend that passes the VFs through.
    type: str
    choices: [vfio]
    default: vfio
  root:
    description: Where the hypervisor's C(/sys) is mounted, read when O(uri) is local.
    type: path
    default: /
attributes:
  check_mode:
    support: full
    description: Reports what would change, with the network XML diff; changes nothing.
  diff_mode:
    support: full
    description: Shows the network definition before and after.
  idempotent:
    support: full
    description: A second run reports no change.
notes:
  - A running network keeps its old definition until it is restarted; the module says
    so when it redefines a running pool.
seealso:
  - module: virtops.devices.virt_hostdev
  - module: virtops.devices.virt_pci_info
  - name: libvirt network XML, hostdev forwarding
    description: The C(<forward mode='hostdev'>) element this module writes.
    link: https://libvirt.org/formatnetwork.html#connectivity
'''

EXAMPLES = r'''
- name: A pool of the VFs of enp3s0f0, started now and at boot
  virtops.devices.virt_hostdev_network:
    name: vfpool0
    pf: enp3s0f0
  register: pool

- name: The same, naming the PF by its PCI address
  virtops.devices.virt_hostdev_network:
    name: vfpool0
    pf: '0000:03:00.0'

- name: Give web01 a VF from the pool
  virtops.devices.virt_hostdev:
    name: web01
    network: vfpool0
    mac: '52:54:00:6d:90:03'

- name: Remove the pool
  virtops.devices.virt_hostdev_network:
    name: vfpool0
    state: absent
'''

RETURN = r'''
actions:
  description: What was done (or, in check mode, would be done), in order.
  returned: always
  type: list
  elements: str
  sample: [define, start, autostart on]
pf:
  description: The PF's interface name.
  returned: when O(state=present)
  type: str
  sample: enp3s0f0
pf_address:
  description: The PF's PCI address, when libvirt knows the NIC.
  returned: when O(state=present)
  type: str
  sample: '0000:03:00.0'
vfs:
  description: PCI addresses of the VFs in the pool.
  returned: when O(state=present)
  type: list
  elements: str
  sample: ['0000:03:10.0', '0000:03:10.2']
vfs_source:
  description: V(network) (listed by the running network), V(nodedev) (the PF's VFs) or V(none).
  returned: when O(state=present)
  type: str
notes:
  description: Warnings (PF missing for an inactive pool, running network not yet restarted).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._pci import _hostdev, _nodedev
from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _connection as _libvirt
from ansible_collections.virtops.devices.plugins.module_utils._pci._hostdev import PlanError
from ansible_collections.virtops.devices.plugins.module_utils._libvirt._connection import VirtError


def persistent_xml(net):
    """The network's persistent definition (drivers without the INACTIVE flag give their only XML)."""
    libvirt = _libvirt.libvirt
    try:
        return net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
    except libvirt.libvirtError:
        return net.XMLDesc(0)


def current_network(conn, name):
    """None, or ``{'net', 'xml' (persistent root or None), 'live' (root or None), 'active', 'autostart'}``."""
    libvirt = _libvirt.libvirt
    try:
        net = conn.networkLookupByName(name)
    except libvirt.libvirtError as exc:
        if _libvirt.error_code(exc) == libvirt.VIR_ERR_NO_NETWORK:
            return None
        raise VirtError('cannot look up network %r: %s' % (name, _libvirt.error_text(exc)))
    active = bool(net.isActive())
    return {'net': net, 'active': active, 'autostart': bool(net.autostart()),
            'xml': _domain_xml.parse(persistent_xml(net)) if net.isPersistent() else None,
            'live': _domain_xml.parse(net.XMLDesc(0)) if active else None}


def run_actions(conn, name, actions, wanted, current):
    net = current['net'] if current else None
    for action in actions:
        try:
            if action == 'define':
                net = conn.networkDefineXML(_domain_xml.to_text(wanted))
            elif action == 'start':
                net.create()
            elif action.startswith('autostart'):
                net.setAutostart(1 if action == 'autostart on' else 0)
            elif action == 'stop':
                net.destroy()
            elif action == 'undefine':
                net.undefine()
        except _libvirt.libvirt.libvirtError as exc:
            raise VirtError('libvirt refused to %s network %r: %s' % (action, name, _libvirt.error_text(exc)))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            uri=dict(type='str', default='qemu:///system'),
            pf=dict(type='str'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            active=dict(type='bool', default=True),
            autostart=dict(type='bool', default=True),
            managed=dict(type='bool', default=True),
            driver=dict(type='str', choices=['vfio'], default='vfio'),
            root=dict(type='path', default='/'),
        ),
        required_if=[('state', 'present', ['pf'])],
        supports_check_mode=True,
    )
    _libvirt.fail_on_missing_libraries(module)
    p = module.params
    notes, result = [], {}
    try:
        conn = _libvirt.connect(p['uri'])
        current = current_network(conn, p['name'])
        wanted = None
        if p['state'] == 'present':
            devices, _driver_notes = _nodedev.read_inventory(conn, _libvirt.libvirt, p['uri'], p['root'])
            pf, pf_dev = _hostdev.resolve_pf(devices, p['pf'], p['uri'])
            problem = _hostdev.pf_problem(pf, pf_dev, devices)
            if problem and p['active']:
                raise PlanError('cannot start VF pool %r: %s' % (p['name'], problem))
            if problem:
                notes.append('VF pool %r is defined but cannot start yet: %s' % (p['name'], problem))
            _hostdev.check_existing_network(current, p['name'])
            wanted = _hostdev.build_vf_pool_network(p['name'], pf, p['managed'], p['driver'])
            result = {'pf': pf, 'pf_address': pf_dev['address'] if pf_dev else None}
        actions = _hostdev.vf_pool_actions(current, wanted, p['state'], p['active'], p['autostart'])
        if current and current['active'] and 'define' in actions and 'start' not in actions:
            notes.append('network %r is running with its old definition; restart it (when no domain uses '
                         'it) for the new one to apply' % p['name'])
        before = _domain_xml.to_text(current['xml']) if current and current['xml'] is not None else ''
        if p['state'] == 'absent':
            after = ''
        elif 'define' in actions:
            after = _domain_xml.to_text(_hostdev.vf_pool_after(current['xml'] if current else None, wanted))
        else:
            after = before
        if actions and not module.check_mode:
            run_actions(conn, p['name'], actions, wanted, current)
        if p['state'] == 'present':
            now = current_network(conn, p['name']) if not module.check_mode else current
            pf_dev = _nodedev.by_address(devices).get(result['pf_address'])
            result['vfs'], result['vfs_source'] = _hostdev.pool_vfs(now['live'] if now else None, pf_dev)
    except (PlanError, VirtError) as exc:
        module.fail_json(msg=str(exc))
    except _libvirt.libvirt.libvirtError as exc:
        module.fail_json(msg='libvirt at %s: %s' % (p['uri'], _libvirt.error_text(exc)))
    for note in notes:
        module.warn(note)
    header = 'network %s' % p['name']
    module.exit_json(changed=bool(actions), actions=actions, notes=notes,
                     diff={'before_header': header, 'after_header': header, 'before': before, 'after': after},
                     **result)


if __name__ == '__main__':
    main()
