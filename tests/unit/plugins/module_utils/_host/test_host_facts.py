"""L0: one host's facts (_host): KVM readiness, IOMMU state, VFs per NUMA node, the host's state."""

from ansible_collections.virtops.devices.plugins.module_utils._host import _facts, _iommu, _kvm, _sriov

CPUINFO = 'vendor_id\t: GenuineIntel\nflags\t\t: fpu vmx sse2\n'


def test_cpu_facts_and_nested():
    assert _kvm.cpu_facts(CPUINFO) == {'vendor': 'intel', 'virt_flags': ['vmx']}
    assert _kvm.cpu_facts('vendor_id : AuthenticAMD\nflags : svm\n') == {'vendor': 'amd', 'virt_flags': ['svm']}
    assert _kvm.cpu_facts('') == {'vendor': None, 'virt_flags': []}
    assert (_kvm.nested_enabled('Y\n'), _kvm.nested_enabled('0'), _kvm.nested_enabled('')) == (True, False, None)


def test_packages_from_dpkg_status():
    status = ('Package: libvirt-clients\nStatus: install ok installed\n\n'
              'Package: qemu-system-x86\nStatus: deinstall ok config-files\n')
    installed = _kvm.installed_from_dpkg_status(status)
    assert installed == {'libvirt-clients'}
    assert _kvm.packages_missing('debian', installed) == ['qemu-system-x86', 'libvirt-daemon-system']
    assert _kvm.packages_missing('redhat', None) is None


def test_readiness_names_every_reason():
    libvirt = {'reachable': True, 'domain_types': ['qemu'], 'hypervisor': 'QEMU'}
    ready, reasons = _kvm.readiness({'virt_flags': []}, False, [], libvirt, ['libvirt'])
    assert not ready and len(reasons) == 5
    ok = {'reachable': True, 'domain_types': ['kvm', 'qemu'], 'hypervisor': 'QEMU'}
    assert _kvm.readiness({'virt_flags': ['vmx']}, True, ['kvm'], ok, []) == (True, [])
    test_driver = {'reachable': True, 'domain_types': ['test'], 'hypervisor': 'TEST'}
    assert _kvm.readiness({'virt_flags': ['vmx']}, True, ['kvm'], test_driver, None)[0]


def test_interrupt_remapping_from_the_kernel_log():
    assert _iommu.interrupt_remapping('DMAR-IR: Enabled IRQ remapping in x2apic mode') == 'enabled'
    assert _iommu.interrupt_remapping('AMD-Vi: Interrupt remapping enabled') == 'enabled'
    assert _iommu.interrupt_remapping('DMAR-IR: IRQ remapping was disabled') == 'disabled'
    assert _iommu.interrupt_remapping('nothing here') == 'not reported'
    assert _iommu.interrupt_remapping(None) == 'unknown'


def test_iommu_state_and_problems():
    state = _iommu.iommu_state(['DMAR', 'FACP'], ['dmar0'], 8, 'DMAR: IOMMU enabled')
    assert state['firmware'] == {'dmar': True, 'ivrs': False, 'described': True}
    assert state['enabled'] and state['dmar_enabled'] and not state['amd_vi_enabled']
    assert _iommu.iommu_problems(state, True) == []
    off = _iommu.iommu_state([], [], 0, '')
    assert 'firmware' in _iommu.iommu_problems(off, True)[0]
    assert _iommu.iommu_problems(off, False) == []


def vf(address, numa, held=(), driver='ixgbevf'):
    return {'address': address, 'numa_node': numa, 'driver': driver, 'held_by': list(held),
            'sriov': {'physical_function': 'x', 'virtual_functions': [], 'max_vfs': None}}


def test_vfs_per_numa_node():
    devices = [
        {'address': '0000:03:00.0', 'numa_node': 0, 'driver': 'ixgbe', 'netdev': 'eth0', 'held_by': [],
         'sriov': {'physical_function': None, 'virtual_functions': ['0000:03:10.0', '0000:03:10.2'], 'max_vfs': 63}},
        vf('0000:03:10.0', 0), vf('0000:03:10.2', 0, driver='vfio-pci'),
        {'address': '0000:81:00.0', 'numa_node': 1, 'driver': 'ixgbe', 'netdev': None, 'held_by': [],
         'sriov': {'physical_function': None, 'virtual_functions': ['0000:81:10.0'], 'max_vfs': 8}},
        vf('0000:81:10.0', 1, held=[{'domain': 'a'}]),
        {'address': '0000:82:00.0', 'numa_node': -1, 'driver': 'ice', 'netdev': None, 'held_by': [],
         'sriov': {'physical_function': None, 'virtual_functions': [], 'max_vfs': 16}},
    ]
    pfs = _sriov.physical_functions(devices)
    assert [(p['address'], p['vfs'], p['used'], p['free']) for p in pfs] == [
        ('0000:03:00.0', 2, 1, 1), ('0000:81:00.0', 1, 1, 0), ('0000:82:00.0', 0, 0, 0)]
    assert _sriov.vfs_per_numa_node(pfs) == {'0': {'pfs': 1, 'total': 2, 'used': 1, 'free': 1},
                                             '1': {'pfs': 1, 'total': 1, 'used': 1, 'free': 0},
                                             'unknown': {'pfs': 1, 'total': 0, 'used': 0, 'free': 0}}


def facts(change=False, owed=False, kvm=True, enabled=True, problems=()):
    return {'problems': list(problems),
            'boot': {'change_needed': change, 'reboot_owed': owed, 'entries': 2,
                     'entries_lacking_args': [{}] if change else [], 'files_to_change': []},
            'kvm': {'ready': kvm, 'reasons': [] if kvm else ['no vmx']},
            'iommu': {'enabled': enabled, 'problems': []}}


def test_state_worst_first():
    assert _facts.state_of(facts())[0] == 'ready'
    assert _facts.state_of(facts(kvm=False)) == ('not_ready', ['no vmx'])
    assert _facts.state_of(facts(enabled=False))[0] == 'not_ready'
    assert _facts.state_of(facts(owed=True, kvm=False))[0] == 'reboot_owed'
    assert _facts.state_of(facts(change=True))[0] == 'change_needed'
    state, reasons = _facts.state_of(facts(change=True, problems=[{'section': 'libvirt', 'msg': 'down'}]))
    assert state == 'error' and reasons == ['libvirt: down', 'boot entries lack the wanted arguments']
    no_boot = facts()
    no_boot['boot'] = None
    assert _facts.state_of(no_boot)[0] == 'error'


def test_unsafe_interrupts_in_modprobe_files():
    assert _iommu.sets_unsafe_interrupts('# x\noptions vfio_iommu_type1 allow_unsafe_interrupts=1\n')
    assert _iommu.sets_unsafe_interrupts('options vfio-iommu-type1 foo=2 allow_unsafe_interrupts=Y')
    assert not _iommu.sets_unsafe_interrupts('# options vfio_iommu_type1 allow_unsafe_interrupts=1')
    assert not _iommu.sets_unsafe_interrupts('options vfio_iommu_type1 allow_unsafe_interrupts=0')


def test_os_name_from_an_old_release_file():
    state = {'files': {'/etc/redhat-release': 'CentOS release 5.11 (Final)\n'}}
    assert _facts.release_file_name(state) == 'CentOS release 5.11 (Final)'
    assert _facts.release_file_name({'files': {}}) is None
