"""L0: boot setup detection and planning, on in-memory state dicts."""

import os

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._boot import _bootsetup as bs

WANT = ['intel_iommu=on', 'iommu=pt']


def state(files, tools=(), real=None):
    st = {'files': dict(files), 'real': dict((p, p) for p in files), 'tools': {}, 'bls': [],
          'dropins': [], 'efi_cfgs': []}
    st['real'].update(real or {})
    for name in tools:
        st['tools'][name] = '/usr/sbin/' + name
    for path in files:
        if path.startswith('/boot/loader/entries/'):
            st['bls'].append(path)
        elif path.startswith('/etc/default/grub.d/'):
            st['dropins'].append(path)
        elif path.startswith('/boot/efi/EFI/'):
            st['efi_cfgs'].append(path)
    for key in ('bls', 'dropins', 'efi_cfgs'):
        st[key].sort()
    return st


DEBIAN = {'/etc/os-release': 'ID=debian\n', '/etc/default/grub': 'GRUB_CMDLINE_LINUX=""\n'}
EL7 = {'/etc/os-release': 'ID="centos"\nID_LIKE="rhel fedora"\n',
       '/etc/default/grub': 'GRUB_CMDLINE_LINUX="rhgb quiet"\n'}
FULL_CFG = "menuentry 'x' {\n linux16 /vmlinuz ro\n}\n"
STUB_CFG = 'configfile $prefix/grub.cfg\n'


def test_debian_setup_prefers_update_grub():
    setup = bs.boot_setup(state(DEBIAN, ['update-grub', 'grub-mkconfig']))
    assert (setup['name'], setup['tool']) == ('debian', ['/usr/sbin/update-grub'])
    setup = bs.boot_setup(state(DEBIAN, ['grub-mkconfig']))
    assert setup['tool'] == ['/usr/sbin/grub-mkconfig', '-o', '/boot/grub/grub.cfg']


def test_el7_bios_and_uefi_outputs():
    bios = dict(EL7, **{'/boot/grub2/grub.cfg': FULL_CFG})
    assert bs.boot_setup(state(bios, ['grub2-mkconfig']))['tool'] == \
        ['/usr/sbin/grub2-mkconfig', '-o', '/boot/grub2/grub.cfg']
    uefi = dict(EL7, **{'/boot/efi/EFI/centos/grub.cfg': FULL_CFG})
    assert bs.boot_setup(state(uefi, ['grub2-mkconfig']))['config'] == '/boot/efi/EFI/centos/grub.cfg'
    # a live system decides by /sys/firmware/efi
    assert bs.boot_setup(state(uefi, ['grub2-mkconfig']), efi_booted=False)['config'] == '/boot/grub2/grub.cfg'


def test_efi_stub_never_overwritten():
    tree = dict(EL7, **{'/boot/efi/EFI/redhat/grub.cfg': STUB_CFG, '/boot/grub2/grub.cfg': FULL_CFG})
    setup = bs.boot_setup(state(tree, ['grub2-mkconfig']), firmware='uefi')
    assert setup['config'] == '/boot/grub2/grub.cfg'


def test_both_full_configs_need_a_firmware_choice():
    tree = dict(EL7, **{'/boot/efi/EFI/centos/grub.cfg': FULL_CFG, '/boot/grub2/grub.cfg': FULL_CFG})
    with pytest.raises(bs.BootSetupError, match='set firmware'):
        bs.boot_setup(state(tree, ['grub2-mkconfig']))
    assert bs.boot_setup(state(tree, ['grub2-mkconfig']), firmware='uefi')['config'] == \
        '/boot/efi/EFI/centos/grub.cfg'


def test_suse_always_writes_boot_grub2():
    tree = {'/etc/os-release': 'ID="sles"\nID_LIKE="suse"\n', '/etc/default/grub': '',
            '/boot/efi/EFI/sles/grub.cfg': STUB_CFG}
    setup = bs.boot_setup(state(tree, ['grub2-mkconfig']), firmware='uefi')
    assert (setup['family'], setup['config']) == ('suse', '/boot/grub2/grub.cfg')


def test_bls_needs_blscfg_and_grubby():
    tree = dict(EL7, **{'/boot/loader/entries/a.conf': 'title a\nlinux /vmlinuz\noptions ro\n'})
    tree['/etc/default/grub'] += 'GRUB_ENABLE_BLSCFG=true\n'
    assert bs.boot_setup(state(tree, ['grubby', 'grub2-mkconfig']))['name'] == 'bls'
    with pytest.raises(bs.BootSetupError, match='install grubby'):
        bs.boot_setup(state(tree, ['grub2-mkconfig']))
    tree['/etc/default/grub'] = tree['/etc/default/grub'].replace('true', 'false')
    assert bs.boot_setup(state(tree, ['grubby', 'grub2-mkconfig']))['name'] == 'mkconfig'


def test_legacy_and_nothing():
    tree = {'/boot/grub/grub.conf': 'title x\n kernel /vmlinuz ro\n'}
    assert bs.boot_setup(state(tree))['name'] == 'legacy'
    with pytest.raises(bs.BootSetupError, match='no boot setup recognised'):
        bs.boot_setup(state({'/etc/os-release': 'ID=alpine\n'}))


def test_grubby_argv_only_what_differs():
    entries = [{'args': ['ro', 'intel_iommu=off']}, {'args': ['ro', 'iommu=pt', 'intel_iommu=on']}]
    assert bs.grubby_argv(entries, WANT, []) == [
        '--update-kernel=ALL', '--args=intel_iommu=on iommu=pt', '--remove-args=intel_iommu=off']
    assert bs.grubby_argv([{'args': ['intel_iommu=on', 'iommu=pt']}], WANT, []) == []


def test_debian_plan_puts_missing_args_in_the_dropin():
    st = state(dict(DEBIAN, **{'/etc/default/grub': 'GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=off"\n',
                               '/boot/grub/grub.cfg': "menuentry 'd' {\n linux /vmlinuz ro quiet intel_iommu=off\n}\n"}),
               ['update-grub'])
    setup = bs.boot_setup(st)
    plan = bs.boot_plan(setup, st, WANT, [])
    assert plan['files']['/etc/default/grub'][1] == 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
    assert 'intel_iommu=on iommu=pt' in plan['files'][bs.DROPIN][1]
    assert plan['tool'] == ['/usr/sbin/update-grub']
    assert plan['entries'][0]['args_after'] == 'ro quiet intel_iommu=on iommu=pt'


def test_debian_plan_fails_when_a_later_dropin_resets_the_cmdline():
    st = state(dict(DEBIAN, **{'/etc/default/grub.d/zz-cloud.cfg': 'GRUB_CMDLINE_LINUX="console=ttyS0"\n'}),
               ['update-grub'])
    with pytest.raises(bs.BootSetupError, match='zz-cloud.cfg'):
        bs.boot_plan(bs.boot_setup(st), st, WANT, [])


def test_nothing_to_do_means_no_tool():
    st = state(dict(DEBIAN, **{'/etc/default/grub': 'GRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"\n',
                               '/boot/grub/grub.cfg': "menuentry 'd' {\n linux /vmlinuz intel_iommu=on iommu=pt\n}\n"}),
               ['update-grub'])
    plan = bs.boot_plan(bs.boot_setup(st), st, WANT, [])
    assert plan['files'] == {} and plan['tool'] is None


def test_path_in_root_follows_links_inside_the_tree(tmp_path):
    os.makedirs(str(tmp_path / 'etc' / 'default'))
    (tmp_path / 'etc' / 'default' / 'grub').write_text('x')
    os.makedirs(str(tmp_path / 'etc' / 'sysconfig'))
    os.symlink('../default/grub', str(tmp_path / 'etc' / 'sysconfig' / 'grub'))
    os.symlink('/etc/default/grub', str(tmp_path / 'etc' / 'abs'))
    assert bs.path_in_root(str(tmp_path), '/etc/sysconfig/grub') == '/etc/default/grub'
    assert bs.path_in_root(str(tmp_path), '/etc/abs') == '/etc/default/grub'
