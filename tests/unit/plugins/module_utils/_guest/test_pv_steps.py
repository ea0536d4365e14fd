"""L0: each named step of the PV migration plan on its own, with facts written by hand."""

from ansible_collections.virtops.devices.plugins.module_utils._guest import _initrd
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_facts
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_plan
from ansible_collections.virtops.devices.plugins.module_utils._guest import _pv_steps

K5 = '2.6.18-128.el5'
K4 = '2.4.21-52.EL'
GRUB = '/boot/grub/grub.conf'
MENU = ('default=0\ntimeout=5\n'
        'title CentOS (%s)\n'
        '        root (hd0,0)\n'
        '        kernel /boot/vmlinuz-%s ro root=/dev/hda1\n'
        '        initrd /boot/initrd-%s.img\n') % (K5, K5, K5)


def virtio_info(**extra):
    info = {'installed': True, 'modules': {'virtio_blk', 'virtio_net', 'virtio_pci'}, 'config': '',
            'initrd': '/boot/initrd-%s.img' % K5, 'initrd_size': 1024}
    info.update(extra)
    return info


def guest(**extra):
    facts = {'files': {}, 'kernels': {}, 'problems': [], 'initrd_tool': 'mkinitrd', 'tool_binary': '/sbin/mkinitrd',
             'legacy_grub': None, 'filesystems': [], 'links': {}, 'boot_free': None, 'offline': True}
    facts.update(extra)
    return facts


def test_pv_drivers_picks_block_and_nic_and_records_the_initrd_drivers():
    plan, info = _pv_plan.Plan(), virtio_info()
    assert _pv_steps.pv_drivers(plan, guest(), {'target': 'virtio'}, K5, info) == ('virtio_blk', 'virtio_net')
    assert info['pv_drivers'] == ['virtio_pci', 'virtio_blk'] and info['omit'] == ()
    assert plan.problems == [] and plan.notes == []


def test_pv_drivers_without_a_driver_or_a_tool_is_a_problem():
    plan = _pv_plan.Plan()
    assert _pv_steps.pv_drivers(plan, guest(), {'target': 'virtio'}, K5, virtio_info(modules=set())) is None
    assert plan.problems[0].startswith('kernel %s has no paravirtual block and network driver' % K5)
    plan = _pv_plan.Plan()
    assert _pv_steps.pv_drivers(plan, guest(tool_binary=None), {'target': 'virtio'}, K5, virtio_info()) is None
    assert plan.problems == ['initrd tool mkinitrd is not installed in the guest']


def test_pv_drivers_remove_emulated_omits_with_dracut_notes_with_update_initramfs():
    info = virtio_info()
    _pv_steps.pv_drivers(_pv_plan.Plan(), guest(initrd_tool='dracut'), {'target': 'virtio', 'remove_emulated': True},
                         K5, info)
    assert info['omit'] == _initrd.EMULATED_BLOCK_DRIVERS
    plan, info = _pv_plan.Plan(), virtio_info()
    _pv_steps.pv_drivers(plan, guest(initrd_tool='update-initramfs'), {'target': 'virtio', 'remove_emulated': True},
                         K5, info)
    assert info['omit'] == () and 'cannot leave drivers out' in plan.notes[0]


def test_aliases_point_the_nic_and_disk_at_the_pv_drivers():
    plan = _pv_plan.Plan()
    facts = guest(files={'/etc/modprobe.conf': 'alias eth0 e1000\nalias scsi_hostadapter ata_piix\n',
                         '/etc/fstab': 'untouched'})
    _pv_steps.aliases(plan, facts, 'virtio', 'virtio_net', 'virtio_blk')
    assert plan.order == ['/etc/modprobe.conf']
    after = plan.files['/etc/modprobe.conf'][1]
    assert 'alias eth0 virtio_net' in after and 'virtio_blk' in after


def test_initrd_config_writes_dracut_conf_or_the_initramfs_tools_list():
    plan = _pv_plan.Plan()
    _pv_steps.initrd_config(plan, guest(initrd_tool='dracut'), {'pv_drivers': ['virtio_blk'], 'omit': ('ahci',)})
    assert plan.files[_pv_facts.DRACUT_CONF][1].endswith('add_drivers+=" virtio_blk "\nomit_drivers+=" ahci "\n')
    plan = _pv_plan.Plan()
    _pv_steps.initrd_config(plan, guest(initrd_tool='update-initramfs'), {'pv_drivers': ['virtio_blk'], 'omit': ()})
    assert 'virtio_blk' in plan.files['/etc/initramfs-tools/modules'][1]
    plan = _pv_plan.Plan()
    _pv_steps.initrd_config(plan, guest(), {'pv_drivers': ['virtio_blk'], 'omit': ()})
    assert plan.order == []


def test_legacy_nodes_refuses_virtio_and_writes_the_rc_local_loader_for_xen():
    plan = _pv_plan.Plan()
    _pv_steps.legacy_nodes(plan, guest(), {'target': 'virtio'}, K4, {})
    assert 'only Xen PV drivers' in plan.problems[0]
    plan = _pv_plan.Plan()
    module_dir = '/lib/modules/%s/extra/xenpv/0.1' % K4
    info = {'legacy_dir': module_dir, 'legacy_files': {'xen-vbd.o': None, 'xen-platform-pci.o': None}}
    facts = guest(rc_local='/etc/rc.d/rc.local', interfaces=['eth0'], udev=False)
    _pv_steps.legacy_nodes(plan, facts, {'target': 'xen', 'legacy_disks': ['xvdb']}, K4, info)
    rc = plan.files['/etc/rc.d/rc.local'][1]
    assert rc.index('insmod %s/xen-platform-pci.o' % module_dir) < rc.index('insmod %s/xen-vbd.o' % module_dir)
    assert 'mknod /dev/xvdb b $major' in rc and plan.files['/etc/rc.d/rc.local'][2] == 0o755
    assert plan.problems == [] and 'boots from the emulated disk' in plan.notes[0]


def test_fstab_renames_emulated_disks_and_keep_leaves_it():
    facts = guest(files={'/etc/fstab': '/dev/hda1 / ext3 defaults 1 1\n'})
    plan = _pv_plan.Plan()
    _pv_steps.fstab(plan, facts, {'target': 'virtio', 'fstab': 'device'})
    assert plan.files['/etc/fstab'][1] == '/dev/vda1 / ext3 defaults 1 1\n'
    plan = _pv_plan.Plan()
    _pv_steps.fstab(plan, facts, {'target': 'virtio', 'fstab': 'keep'})
    assert plan.order == []


def test_device_maps_point_grub_at_the_pv_disk():
    plan = _pv_plan.Plan()
    _pv_steps.device_maps(plan, guest(files={'/boot/grub/device.map': '(hd0) /dev/hda\n'}), {'target': 'xen'})
    assert plan.files['/boot/grub/device.map'][1] == '(hd0) /dev/xvda\n'


def test_initrd_run_rebuilds_in_place_keeping_the_old_initrd_the_first_time():
    plan = _pv_plan.Plan()
    info = virtio_info(pv_drivers=['virtio_blk'], omit=())
    output = _pv_steps.initrd_run(plan, guest(), {'target': 'virtio'}, K5, info)
    assert output == '/boot/initrd-%s.img' % K5
    assert plan.commands[0]['keep'] == (output, output + '.pre-pv')
    assert plan.commands[0]['reasons'] == ['first rebuild']


def test_initrd_run_beside_a_legacy_grub_and_stops_when_boot_is_full():
    facts = guest(legacy_grub=GRUB)
    info = virtio_info(pv_drivers=['virtio_blk'], omit=())
    plan = _pv_plan.Plan()
    assert _pv_steps.initrd_run(plan, facts, {'target': 'virtio'}, K5, info) == '/boot/initrd-%s.pv.img' % K5
    assert plan.commands[0]['reasons'] == ['new initrd'] and plan.commands[0]['keep'] is None
    plan = _pv_plan.Plan()
    assert _pv_steps.initrd_run(plan, guest(boot_free=0), {'target': 'virtio'}, K5, info) is None
    assert plan.problems[0].startswith('/boot has 0 KiB free') and plan.commands == []


def test_boot_entry_clones_the_legacy_entry_or_notes_grub2():
    facts = guest(legacy_grub=GRUB, files={GRUB: MENU})
    plan = _pv_plan.Plan()
    _pv_steps.boot_entry(plan, facts, {'target': 'virtio', 'fstab': 'device'}, K5, virtio_info(),
                         '/boot/initrd-%s.pv.img' % K5)
    after = plan.files[GRUB][1]
    assert after.startswith(MENU) and 'title CentOS (%s) (virtio PV drivers)' % K5 in after
    assert 'initrd /boot/initrd-%s.pv.img' % K5 in after and 'root=/dev/vda1' in after
    plan = _pv_plan.Plan()
    _pv_steps.boot_entry(plan, guest(), {'target': 'virtio'}, K5, virtio_info(), '/boot/initrd-%s.img' % K5)
    assert plan.order == [] and 'generates its entries (GRUB 2/BLS)' in plan.notes[0]


def test_the_plan_is_the_steps_in_order():
    facts = guest(kernels={K5: virtio_info()}, legacy_grub=GRUB,
                  files={GRUB: MENU, '/etc/fstab': '/dev/hda1 / ext3 defaults 1 1\n',
                         '/etc/modprobe.conf': 'alias eth0 e1000\n'})
    plan = _pv_plan.plan_migration(facts, {'target': 'virtio', 'fstab': 'device'})
    assert plan.problems == []
    assert plan.order == ['/etc/modprobe.conf', '/etc/fstab', GRUB]
    assert plan.files['/etc/modprobe.conf'][1] == 'alias eth0 virtio_net\n'
    assert [c['kernel'] for c in plan.commands] == [K5]
    assert plan.commands[0]['reasons'] == ['new initrd', 'configuration changed']
