#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: virt_hostdev
short_description: Assign host PCI devices (NICs, GPUs, SR-IOV VFs) to a libvirt domain, respecting IOMMU groups
version_added: 0.1.0
description:
  - Gives host PCI devices to a domain as C(<hostdev mode='subsystem' type='pci'>), or NICs
    as C(<interface type='hostdev'>) with a MAC address, VLAN tags and an 802.1Qbh port
    profile, or a VF from an SR-IOV pool network as C(<interface type='network'>)
    (see M(virtops.devices.virt_hostdev_network)); or takes them away again.
  - Devices are identified by their host PCI address, in either form
    (V(0000:01:00.0) or V(pci_0000_01_00_0)); a second run with the same devices changes nothing.
  - Before anything changes the IOMMU group of every device is checked; each other
    endpoint of the group must be shown to be unbound, on vfio-pci/pci-stub, or in the request
    (bridges and root ports do not count). Otherwise the task fails naming those endpoints
    and their drivers, unless O(detach_group_peers) is set. A peer libvirt does not list, or
    whose driver cannot be read, is not free unless O(allow_unknown_group_peers) is set.
  - Refuses unknown addresses, bridges and root ports, devices another running domain
    holds, and O(as_interface) on a device that is not a NIC.
  - On a host whose IOMMU is off a live assignment is refused; a change to the persistent
    definition of a domain goes ahead with a warning.
  - A live detach is reported done only once the device has left the live domain.
author:
  - virtops.devices maintainers (@virtops)
extends_documentation_fragment:
  - virtops.devices.hotplug
  - virtops.devices.libvirt
options:
  devices:
    description:
      - Host PCI addresses, as V(0000:01:00.0), V(01:00.0) or V(pci_0000_01_00_0)
        (M(virtops.devices.virt_pci_info) lists them).
      - Give every endpoint of an IOMMU group together (a GPU with its audio function).
      - Mutually exclusive with O(network).
    type: list
    elements: str
  network:
    description:
      - Name of a libvirt network of C(<forward mode='hostdev'>) (an SR-IOV VF pool);
        the domain gets an C(<interface type='network'>) and libvirt picks a free VF.
      - Identified by the network name and O(mac) (when given); without O(mac) one
        interface per pool.
    type: str
  managed:
    description:
      - V(true) lets libvirt detach the device from its host driver when the domain
        starts (or on live attach) and give it back when it is released.
      - V(false) writes C(managed='no'); this module then detaches the device from its
        host driver itself before attaching (C(virsh nodedev-detach)), and gives it back
        (C(virsh nodedev-reattach)) after a detach once no domain holds it.
    type: bool
    default: true
  driver:
    description: Backend that passes the device through.
    type: str
    choices: [vfio]
    default: vfio
  detach_group_peers:
    description:
      - When other endpoints of a device's IOMMU group are still bound to host drivers,
        detach them from the host too (to vfio-pci) instead of failing. They are listed in
        RV(detached_from_host). They stay detached after the device is released.
    type: bool
    default: false
  allow_unknown_group_peers:
    description:
      - "Dangerous: count as free the other endpoints of a device's IOMMU group that cannot be
        shown to be free - a group member libvirt does not list, or one whose host driver
        cannot be read (libvirt's test driver without sysfs under O(root), an unreadable sysfs)."
      - With the default V(false) such a peer makes the device not assignable and the task
        fails naming the peer and why its state is unknown. A peer that is in fact still driven
        by the host stays reachable by the guest's DMA; check it on the host (C(lspci -k -s ADDRESS))
        before turning this on. A warning names every peer taken as free.
      - Peers known to be bound to a host driver still need O(detach_group_peers) or a place in O(devices).
    type: bool
    default: false
  as_interface:
    description:
      - Give NICs as C(<interface type='hostdev'>) (intelligent passthrough, SR-IOV VFs)
        so that O(mac), O(vlan) and O(virtualport) apply. Only for network devices.
    type: bool
    default: false
  mac:
    description:
      - Unicast MAC address of the NIC (O(as_interface) or O(network)); only with one device.
        libvirt picks one when omitted.
    type: str
  vlan:
    description: VLAN tagging of the NIC (O(as_interface)).
    type: dict
    suboptions:
      tags:
        description: VLAN ids, 0-4095. More than one needs O(vlan.trunk).
        type: list
        elements: int
        required: true
      trunk:
        description: Carry several VLANs; defaults to V(true) when O(vlan.tags) has more than one.
        type: bool
      native:
        description: The native VLAN id of a trunk (added to O(vlan.tags) when missing).
        type: int
      native_mode:
        description: How the native VLAN travels.
        type: str
        choices: [untagged, tagged]
        default: untagged
  virtualport:
    description: Port profile of the NIC on an 802.1Qbh switch (O(as_interface)).
    type: dict
    suboptions:
      type:
        description: Virtual port type.
        type: str
        choices: ['802.1Qbh']
        default: '802.1Qbh'
      profileid:
        description: Port profile id.
        type: str
        required: true
  root:
    description:
      - Where the hypervisor's C(/sys) is mounted, read when O(uri) is local (host drivers,
        IOMMU groups); see M(virtops.devices.virt_pci_info).
    type: path
    default: /
attributes:
  check_mode:
    support: full
    description: Reports what would change, with the XML diff; changes nothing on the domain or the host.
  diff_mode:
    support: full
    description: Shows the live and persistent domain XML before and after.
  idempotent:
    support: full
    description: Devices are matched by host PCI address; a second run reports no change.
notes:
  - libvirt's test driver has no device attach or nodedev detach; with it this module can
    only check and plan (check mode).
  - On q35 each hot-plugged device needs an empty C(pcie-root-port) in the running domain.
seealso:
  - module: virtops.devices.virt_pci_info
  - module: virtops.devices.virt_hostdev_network
  - name: libvirt domain XML, host device assignment
    description: The C(<hostdev>) and C(<interface type='hostdev'>) elements this module writes.
    link: https://libvirt.org/formatdomain.html#host-device-assignment
'''

EXAMPLES = r'''
- name: Give the GPU and its audio function (one IOMMU group) to gpu01's definition
  virtops.devices.virt_hostdev:
    name: gpu01
    live: false
    devices: ['0000:01:00.0', '0000:01:00.1']

- name: Give an SR-IOV VF to web01 as a NIC with a fixed MAC on VLAN 42
  virtops.devices.virt_hostdev:
    name: web01
    devices: [pci_0000_03_10_0]
    as_interface: true
    mac: '52:54:00:6d:90:02'
    vlan:
      tags: [42]

- name: A VF from the pool network vfpool0
  virtops.devices.virt_hostdev:
    name: web01
    network: vfpool0
    mac: '52:54:00:6d:90:03'

- name: Take the VF away again
  virtops.devices.virt_hostdev:
    name: web01
    state: absent
    devices: ['0000:03:10.0']
'''

RETURN = r'''
devices:
  description: The requested devices as the domain has them after the run (live when it runs).
  returned: always
  type: list
  elements: dict
  contains:
    address: {description: Host PCI address., type: str, sample: '0000:03:10.0'}
    name: {description: libvirt's node device name., type: str, sample: pci_0000_03_10_0}
    network: {description: The pool network (with O(network))., type: str}
    present: {description: Whether the domain has it after the run., type: bool}
    as: {description: V(hostdev) or V(interface)., type: str}
    mac: {description: MAC address of an interface., type: str}
actions:
  description: Domain steps done (or, in check mode, to do), in order.
  returned: always
  type: list
  elements: str
  sample: ["attach hostdev 0000:01:00.0 config"]
detached_from_host:
  description: Host devices detached from their host driver (nodedev-detach), or to be in check mode.
  returned: always
  type: list
  elements: str
reattached_to_host:
  description: Host devices given back to their host driver (nodedev-reattach), or to be in check mode.
  returned: always
  type: list
  elements: str
iommu_enabled:
  description: Whether the host has IOMMU groups.
  returned: always
  type: bool
notes:
  description: Skipped scopes and warnings (IOMMU off, device also defined in a shut-off domain).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtops.devices.plugins.module_utils._common import _validate
from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._pci import _hostdev, _nodedev
from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _hotplug, _connection as _libvirt
from ansible_collections.virtops.devices.plugins.module_utils._pci._hostdev import PlanError
from ansible_collections.virtops.devices.plugins.module_utils._libvirt._connection import VirtError


def host_step(conn, uri, action, addresses, driver):
    """Run nodedev detach/reattach on each address; on failure undo the ones done."""
    done = []
    for addr in addresses:
        try:
            if action == 'detach':
                _nodedev.detach_from_host(conn, addr, driver)
            else:
                _nodedev.reattach_to_host(conn, addr)
        except _libvirt.libvirt.libvirtError as exc:
            undo_host(conn, action, done)
            raise VirtError('libvirt at %s cannot %s PCI device %s %s its host driver (virsh nodedev-%s): %s%s' % (
                uri, action, addr, 'from' if action == 'detach' else 'to', action, _libvirt.error_text(exc),
                '. The domain was not changed' if action == 'detach' else ''))
        done.append(addr)
    return done


def undo_host(conn, action, done):
    for addr in reversed(done):
        try:
            if action == 'detach':
                _nodedev.reattach_to_host(conn, addr)
            else:
                _nodedev.detach_from_host(conn, addr)
        except Exception:  # pylint: disable=broad-except
            pass


def pool_forward_mode(conn, name):
    """``(forward mode of network name or None when missing, names of every network)``."""
    known = sorted(net.name() for net in conn.listAllNetworks(0))
    if name not in known:
        return None, known
    forward = _domain_xml.parse(conn.networkLookupByName(name).XMLDesc(0)).find('forward')
    return (forward.get('mode') if forward is not None else 'none'), known


def all_trees(dom, trees):
    """Both definitions the domain has, for 'what does it still hold' questions (``trees`` already read)."""
    wanted = [s for s, has in _libvirt.domain_scopes(dom).items() if has]
    everything = _hotplug.current_trees(dom, [s for s in wanted if s not in trees])
    everything.update((s, trees[s]) for s in wanted if s in trees)
    return dict((s, everything[s]) for s in wanted)


def main():
    module = AnsibleModule(
        argument_spec=_hotplug.hotplug_argument_spec(
            devices=dict(type='list', elements='str'),
            network=dict(type='str'),
            managed=dict(type='bool', default=True),
            driver=dict(type='str', choices=['vfio'], default='vfio'),
            detach_group_peers=dict(type='bool', default=False),
            allow_unknown_group_peers=dict(type='bool', default=False),
            as_interface=dict(type='bool', default=False),
            mac=dict(type='str'),
            vlan=dict(type='dict', options=dict(
                tags=dict(type='list', elements='int', required=True),
                trunk=dict(type='bool'),
                native=dict(type='int'),
                native_mode=dict(type='str', choices=['untagged', 'tagged'], default='untagged'))),
            virtualport=dict(type='dict', options=dict(
                type=dict(type='str', choices=['802.1Qbh'], default='802.1Qbh'),
                profileid=dict(type='str', required=True))),
            root=dict(type='path', default='/'),
        ),
        mutually_exclusive=[('devices', 'network')],
        required_one_of=[('devices', 'network')],
        supports_check_mode=True,
    )
    _libvirt.fail_on_missing_libraries(module)
    p = _validate.fail_on_invalid(module, module.params, _hotplug.hotplug_rules())
    detached, reattached = [], []
    try:
        request = _hostdev.normalize_request(p)
        conn = _libvirt.connect(p['uri'], events=True)
        dom = _libvirt.lookup_domain(conn, p['name'])
        scopes, notes = _hotplug.select_scopes(p['name'], p['live'], p['config'], _libvirt.domain_scopes(dom))
        inventory, driver_notes = _nodedev.read_inventory(conn, _libvirt.libvirt, p['uri'], p['root'])
        enabled = _nodedev.iommu_enabled(inventory)
        trees = _hotplug.current_trees(dom, scopes)
        steps = _hostdev.plan(request, p['state'], trees)
        peers = []
        if p['state'] == 'present' and request['network'] and steps:
            _hostdev.check_pool_network(request['network'], *pool_forward_mode(conn, request['network']))
        if p['state'] == 'present':
            notes += _hostdev.check_devices(inventory, request, p['name'], p['uri'])
            notes += _hostdev.check_iommu(enabled, steps, request['managed'], p['name'], p['uri'])
            attaching = _hostdev.attached_addresses(steps)
            peers = _hostdev.group_peers_to_detach(inventory, attaching, p['detach_group_peers'],
                                                   p['allow_unknown_group_peers'])
            unknown = _nodedev.unknown_group_peers(inventory, attaching)
            if unknown and p['allow_unknown_group_peers']:
                notes += driver_notes + [_nodedev.unknown_peers_note(unknown)]
            _hostdev.check_live_slots(p['name'], steps, trees.get('live'))
        to_detach = _hostdev.host_detaches(inventory, request, steps, peers) if steps else []
        everything = all_trees(dom, trees)
        after = dict((scope, _hotplug.predicted_tree(root, steps, scope)) for scope, root in everything.items())
        to_reattach = _hostdev.host_reattaches(inventory, request, steps, p['name'],
                                               _hostdev.held_addresses(after))
        diff = _hotplug.xml_diffs(p['name'], trees, steps)
        if peers:
            notes.append('detach%s from the host for the IOMMU group: %s'
                         % ('ing' if not module.check_mode else ' (check mode: would detach)', ', '.join(peers)))
        if not module.check_mode and steps:
            detached = host_step(conn, p['uri'], 'detach', to_detach, request['driver'])
            try:
                _hotplug.apply_steps(dom, p['name'], steps, p['detach_timeout'])
            except VirtError as exc:
                undo_host(conn, 'detach', detached)
                raise VirtError('%s%s' % (exc, '. Gave %s back to the host' % ', '.join(detached) if detached else ''))
            reattached = host_step(conn, p['uri'], 'reattach', to_reattach, request['driver'])
        else:
            detached, reattached = to_detach, to_reattach
        results = _hostdev.device_results(request, after[scopes[0]])
    except (PlanError, VirtError) as exc:
        module.fail_json(msg=str(exc), detached_from_host=detached, reattached_to_host=reattached)
    except _libvirt.libvirt.libvirtError as exc:
        module.fail_json(msg='libvirt at %s: %s' % (p['uri'], _libvirt.error_text(exc)))
    for note in notes:
        module.warn(note)
    module.exit_json(changed=bool(steps), actions=_hotplug.step_texts(steps), notes=notes, devices=results,
                     detached_from_host=detached, reattached_to_host=reattached, iommu_enabled=enabled, diff=diff)


if __name__ == '__main__':
    main()
