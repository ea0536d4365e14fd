# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything a fleet report says about one hypervisor (or guest), read in one go.

``host_facts(root, uri, wanted, ...)`` reads /proc, /sys, /dev, the package database and the boot
configuration below ``root`` and asks libvirt at ``uri`` for its capabilities, node devices and
domains, using the concern packages (``_boot``, ``_pci``, ``_libvirt``, ``_guest``). A section
that cannot be read becomes a problem of the host, never an exception: a report must cover
every host. ``state_of`` sums a host up in one word.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.virtops.devices.plugins.module_utils._boot import _boot_apply, _bootsetup
from ansible_collections.virtops.devices.plugins.module_utils._boot import _bootstate
from ansible_collections.virtops.devices.plugins.module_utils._boot import _kernel_args as ka
from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml, _files
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_domain, _pv_tree, _pv_verify
from ansible_collections.virtops.devices.plugins.module_utils._host import _iommu, _kvm, _sriov
from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _capabilities
from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _connection as _libvirt
from ansible_collections.virtops.devices.plugins.module_utils._pci import _nodedev

STATES = ('error', 'change_needed', 'reboot_owed', 'not_ready', 'ready')
GUEST_STATES = ('error', 'emulated', 'pv')


def _path(root, path):
    return _files.root_path(root, path)


def _read(root, path, default=None):
    try:
        return _files.read_text(_path(root, path), default)
    except (IOError, OSError):
        return default


def _listdir(root, path):
    try:
        return sorted(os.listdir(_path(root, path)))
    except OSError:
        return []


def read_kvm(root):
    """CPU, /dev/kvm, kvm modules and nested virtualization below ``root``."""
    cpu = _kvm.cpu_facts(_read(root, '/proc/cpuinfo', ''))
    modules = [m for m in _listdir(root, '/sys/module') if m == 'kvm' or m.startswith('kvm_')]
    nested = None
    if cpu['vendor'] in ('intel', 'amd'):
        nested = _kvm.nested_enabled(_read(root, '/sys/module/kvm_%s/parameters/nested' % cpu['vendor'], ''))
    return {'cpu_vendor': cpu['vendor'], 'virt_flags': cpu['virt_flags'],
            'dev_kvm': os.path.exists(_path(root, '/dev/kvm')), 'kvm_modules': modules, 'nested': nested}


def read_installed(root, family, run_rpm=None):
    """Installed package names (a set) or None when unknown: dpkg's status file on Debian,
    ``run_rpm(names)`` (rpm -q on the live host) elsewhere."""
    if family == 'debian':
        text = _read(root, '/var/lib/dpkg/status')
        return _kvm.installed_from_dpkg_status(text) if text is not None else None
    if run_rpm is not None and family in _kvm.PACKAGES:
        return run_rpm(_kvm.PACKAGES[family])
    return None


def read_libvirt(uri, root, problems):
    """``(libvirt facts, devices, domains)`` from libvirt at ``uri``; failures go to ``problems``."""
    facts = {'uri': uri, 'reachable': False, 'error': None, 'hypervisor': None, 'domain_types': [],
             'version': None}
    if _libvirt.libvirt is None:
        facts['error'] = 'libvirt-python is not installed on the host'
        problems.append({'section': 'libvirt', 'msg': facts['error']})
        return facts, None, None, []
    try:
        conn = _libvirt.connect(uri)
    except _libvirt.VirtError as exc:
        facts['error'] = str(exc)
        problems.append({'section': 'libvirt', 'msg': str(exc)})
        return facts, None, None, []
    devices, domains, notes = None, None, []
    try:
        caps = _capabilities.host_facts(conn.getCapabilities())
        facts.update(reachable=True, hypervisor=conn.getType(), domain_types=caps['domain_types'],
                     version=_capabilities.version_text(conn.getLibVersion()))
        domains = _nodedev.read_domains(conn, _libvirt.libvirt)
        sysfs_root = _nodedev.sysfs_root_for(uri, root)
        pci, net = _nodedev.read_node_device_xmls(conn, _libvirt.libvirt)
        sysfs = _nodedev.read_sysfs(sysfs_root) if sysfs_root else None
        devices = _nodedev.build_inventory(pci, net, sysfs, _nodedev.domain_holdings(domains),
                                           _nodedev.libvirt_reports_drivers(uri))
        _nodedev.annotate_viability(devices)
        notes = _nodedev.driver_notes(uri, sysfs_root, sysfs, devices)
    except _libvirt.libvirt.libvirtError as exc:
        problems.append({'section': 'libvirt', 'msg': 'cannot read %s: %s' % (uri, _libvirt.error_text(exc))})
    finally:
        try:
            conn.close()
        except Exception:  # pylint: disable=broad-except
            pass
    return facts, devices, domains, notes


def read_iommu(root, kernel_log):
    tables = _listdir(root, '/sys/firmware/acpi/tables')
    units = _listdir(root, '/sys/class/iommu')
    groups = len([g for g in _listdir(root, '/sys/kernel/iommu_groups') if g.isdigit()])
    return _iommu.iommu_state(tables, units, groups, kernel_log)


def read_vfio(root):
    """vfio on the host: loaded modules, the live allow_unsafe_interrupts value (None when
    vfio_iommu_type1 is not loaded) and the modprobe.d files that turn it on."""
    live = _read(root, '/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts')
    files = []
    for directory in _iommu.MODPROBE_DIRS:
        for name in _listdir(root, directory):
            path = '%s/%s' % (directory, name)
            if name.endswith('.conf') and _iommu.sets_unsafe_interrupts(_read(root, path, '')):
                files.append(path)
    return {'modules_loaded': [m for m in ('vfio', 'vfio_pci', 'vfio_iommu_type1')
                               if os.path.isdir(_path(root, '/sys/module/' + m))],
            'unsafe_interrupts_live': live.strip() if live is not None else None,
            'unsafe_interrupts_files': files}


def read_boot(root, args, remove_args, firmware, running_tokens, efi_booted, boot_state=None):
    """The boot side: setup, entries lacking the wanted arguments, files that would change,
    whether a change and whether a reboot is owed. Raises ``BootSetupError``.
    ``boot_state``: the tree's boot state when already read (it is read here otherwise)."""
    setup, plan = _boot_apply.read_boot_plan(root, firmware, args, remove_args, efi_booted,
                                             tool_required=False, state=boot_state)
    lacking = []
    for entry in plan['entries']:
        if entry['changed']:
            tokens = ka.split_args(entry['args_before'])
            lacking.append({'title': entry['title'], 'kernel': entry['kernel'], 'file': entry['file'],
                            'missing': ka.args_missing(tokens, args),
                            'unwanted': ka.args_to_remove(tokens, args, remove_args)})
    change = bool(plan['files']) or bool(lacking)
    running = running_tokens is not None and not ka.args_differ(running_tokens, args, remove_args)
    return {'setup': setup['name'], 'family': setup['family'], 'config': setup['config'],
            'tool': ' '.join(setup['tool'] or []), 'tool_missing': setup.get('tool_missing'),
            'entries': len(plan['entries']), 'entries_lacking_args': lacking,
            'files_to_change': sorted(plan['files']), 'change_needed': change,
            'running_has_args': running if running_tokens is not None else None,
            'reboot_owed': (not change) and running_tokens is not None and not running}


def release_file_name(boot_state):
    """The first line of /etc/redhat-release or /etc/SuSE-release (trees older than os-release)."""
    for path in ('/etc/redhat-release', '/etc/SuSE-release'):
        text = (boot_state.get('files') or {}).get(path) if boot_state else None
        if text and text.strip():
            return text.strip().splitlines()[0]
    return None


def guest_of_domain(name, running, live_xml, config_xml):
    text = live_xml if running and live_xml else config_xml
    facts = {'name': name, 'running': bool(running)}
    if not text:
        facts.update(disks=[], nics=[], emulated=[], pv=None)
        return facts
    facts.update(_pv_domain.domain_pv_facts(_domain_xml.parse(text)))
    return facts


def _pci_rows(devices):
    rows = []
    for dev in devices or []:
        if _nodedev.is_any_bridge(dev):
            continue
        rows.append({'address': dev['address'], 'class_name': dev['class_name'], 'vendor': dev['vendor'],
                     'product': dev['product'], 'driver': dev['driver'], 'numa_node': dev['numa_node'],
                     'iommu_group': dev['iommu_group'], 'assignable': dev.get('assignable'),
                     'blockers': [b['address'] for b in dev.get('iommu_group_blockers') or []],
                     'held_by': [h['domain'] for h in dev['held_by']],
                     'physical_function': dev['sriov']['physical_function']})
    return rows


def host_facts(root, uri, args, remove_args, firmware='auto', kernel_log=None, run_rpm=None,
               efi_booted=None):
    """One hypervisor's facts (see the module's RETURN), never raising for a section."""
    problems = []
    boot_state = {}
    try:
        boot_state = _bootstate.read_boot_state(root)
    except (_bootstate.BootSetupError, IOError, OSError) as exc:
        problems.append({'section': 'os', 'msg': str(exc)})
    family = _bootstate.os_family(boot_state) if boot_state else None
    release = _bootstate.os_release(boot_state) if boot_state else {}
    cmdline = _read(root, '/proc/cmdline')
    running_tokens = ka.split_args(cmdline.strip()) if cmdline is not None else None
    if cmdline is None:
        problems.append({'section': 'iommu', 'msg': 'cannot read %s' % _path(root, '/proc/cmdline')})

    kvm = read_kvm(root)
    libvirt, devices, domains, notes = read_libvirt(uri, root, problems)
    installed = read_installed(root, family, run_rpm)
    kvm['packages_wanted'] = _kvm.PACKAGES.get(family, [])
    kvm['packages_missing'] = _kvm.packages_missing(family, installed)
    kvm['ready'], kvm['reasons'] = _kvm.readiness(
        {'virt_flags': kvm['virt_flags']}, kvm['dev_kvm'], kvm['kvm_modules'], libvirt, kvm['packages_missing'])

    iommu = read_iommu(root, kernel_log)
    iommu['cmdline'] = {'running': (cmdline or '').strip() or None, 'wanted': list(args),
                        'remove': list(remove_args),
                        'missing': ka.args_missing(running_tokens, args) if running_tokens is not None else None,
                        'unwanted': (ka.args_to_remove(running_tokens, args, remove_args)
                                     if running_tokens is not None else None)}
    has_args = running_tokens is not None and not ka.args_differ(running_tokens, args, remove_args)
    iommu['problems'] = _iommu.iommu_problems(iommu, has_args)
    iommu['vfio'] = read_vfio(root)

    boot = None
    try:
        # the state read above, once; after a failed read, read_boot tries again and says why
        boot = read_boot(root, args, remove_args, firmware, running_tokens, efi_booted, boot_state or None)
    except (_bootsetup.BootSetupError, ValueError, IOError, OSError) as exc:
        problems.append({'section': 'boot', 'msg': str(exc)})

    pfs = _sriov.physical_functions(devices or [])
    facts = {
        'kind': 'host',
        'os': {'family': family, 'name': release.get('NAME') or release.get('PRETTY_NAME') or release_file_name(boot_state),
               'version': release.get('VERSION_ID')},
        'kvm': kvm, 'libvirt': libvirt, 'iommu': iommu, 'boot': boot,
        'pci': {'devices': _pci_rows(devices),
                'groups': dict((str(k), v) for k, v in _nodedev.iommu_groups(devices or []).items()),
                'notes': notes},
        'sriov': {'pfs': pfs, 'numa': _sriov.vfs_per_numa_node(pfs)},
        'guests': [guest_of_domain(*d) for d in domains or []],
        'problems': problems,
    }
    facts['state'], facts['reasons'] = state_of(facts)
    return facts


def state_of(facts):
    """``(state, reasons)``: one of STATES, worst first, with why."""
    reasons = ['%s: %s' % (p['section'], p['msg']) for p in facts.get('problems', [])]
    boot = facts.get('boot')
    if reasons or boot is None:
        more = []
        if boot is not None and boot['change_needed']:
            more.append('boot entries lack the wanted arguments')
        elif boot is not None and boot['reboot_owed']:
            more.append('a reboot is owed')
        return 'error', (reasons or ['the boot configuration could not be read']) + more
    if boot['change_needed']:
        lacking = len(boot['entries_lacking_args'])
        return 'change_needed', reasons + ['%d of %d boot entries lack the wanted arguments%s'
                                           % (lacking, boot['entries'],
                                              '' if not boot['files_to_change'] else
                                              '; would change ' + ', '.join(boot['files_to_change']))]
    if boot['reboot_owed']:
        return 'reboot_owed', reasons + ['the boot entries carry the arguments, the running kernel does not']
    kvm, iommu = facts['kvm'], facts['iommu']
    if not kvm['ready'] or iommu['problems'] or not iommu['enabled']:
        return 'not_ready', reasons + kvm['reasons'] + iommu['problems'] + (
            [] if iommu['enabled'] else ['no IOMMU groups'])
    return 'ready', reasons


def guest_facts(root):
    """A guest's own view (inventory host of kind guest): is it on PV/virtio drivers?"""
    if not os.path.isdir(_path(root, '/proc')):
        raise IOError('%s has no proc directory' % root)
    report = _pv_verify.report(_pv_tree.state_from_tree(root))
    state = 'pv' if report['pv_active'] else 'emulated'
    return {'kind': 'guest', 'pv': report, 'state': state, 'reasons': report['problems'], 'problems': []}
