"""L0: parsing and rewriting /etc/default/grub, grub.cfg, BLS entries, menu.lst/grub.conf."""

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._boot import _grub

WANT = ['intel_iommu=on', 'iommu=pt']


# /etc/default/grub ------------------------------------------------------------

def test_assignments_quoting_styles_and_suffix():
    text = ('GRUB_TIMEOUT=5\n'
            'export GRUB_CMDLINE_LINUX="a \\"b c\\" d"  # note\n'
            "GRUB_CMDLINE_LINUX_DEFAULT='quiet splash'\n"
            'GRUB_DISABLE_RECOVERY=true\n')
    items = _grub.shell_assignments(text)
    assert [(i['name'], i['quote'], i['value']) for i in items] == [
        ('GRUB_TIMEOUT', '', '5'),
        ('GRUB_CMDLINE_LINUX', '"', 'a "b c" d'),
        ('GRUB_CMDLINE_LINUX_DEFAULT', "'", 'quiet splash'),
        ('GRUB_DISABLE_RECOVERY', '', 'true')]
    assert items[1]['prefix'] == 'export ' and items[1]['suffix'] == '  # note'


def test_value_spanning_lines():
    text = 'GRUB_CMDLINE_LINUX="rd.lvm.lv=vg/root\n  rhgb quiet"\nGRUB_X=1\n'
    items = _grub.shell_assignments(text)
    assert items[0]['start'] == 0 and items[0]['end'] == 1
    assert _grub.effective_cmdline([text]) == ['rd.lvm.lv=vg/root', 'rhgb', 'quiet']
    new = _grub.default_grub_with_args(text, WANT, [])
    assert new == 'GRUB_CMDLINE_LINUX="rd.lvm.lv=vg/root rhgb quiet intel_iommu=on iommu=pt"\nGRUB_X=1\n'


def test_unterminated_quote_is_an_error():
    with pytest.raises(ValueError, match='unterminated'):
        _grub.shell_assignments('GRUB_CMDLINE_LINUX="quiet\n')


def test_references_are_expanded_in_order():
    base = 'GRUB_CMDLINE_LINUX="ro quiet"\n'
    dropin = 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX console=ttyS0"\nGRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} x=1"\n'
    assert _grub.effective_cmdline([base, dropin]) == ['ro', 'quiet', 'console=ttyS0', 'x=1']
    assert _grub.effective_cmdline(["GRUB_CMDLINE_LINUX='$X a'\n"]) == ['$X', 'a']


def test_add_to_last_assignment_and_keep_references():
    text = 'GRUB_CMDLINE_LINUX="ro"\nGRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX quiet"\n'
    assert _grub.default_grub_with_args(text, WANT, []) == (
        'GRUB_CMDLINE_LINUX="ro"\nGRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX quiet intel_iommu=on iommu=pt"\n')


def test_add_when_no_assignment_exists():
    assert _grub.default_grub_with_args('GRUB_TIMEOUT=5', WANT, []) == \
        'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"\n'


def test_conflicts_removed_from_both_variables_and_wanted_moved_from_default():
    text = ('GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=off iommu=pt"\n'
            'GRUB_CMDLINE_LINUX="ro"\n')
    assert _grub.default_grub_with_args(text, WANT, []) == (
        'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
        'GRUB_CMDLINE_LINUX="ro intel_iommu=on iommu=pt"\n')


def test_duplicates_collapse_and_second_pass_is_stable():
    text = 'GRUB_CMDLINE_LINUX="iommu=pt ro iommu=pt intel_iommu=on"\n'
    once = _grub.default_grub_with_args(text, WANT, [])
    assert once == 'GRUB_CMDLINE_LINUX="iommu=pt ro intel_iommu=on"\n'
    assert _grub.default_grub_with_args(once, WANT, []) == once


def test_single_quoted_value_is_rewritten_in_double_quotes_when_it_must_grow():
    text = "GRUB_CMDLINE_LINUX='ro'\n"
    assert _grub.default_grub_with_args(text, WANT, []) == 'GRUB_CMDLINE_LINUX="ro intel_iommu=on iommu=pt"\n'


def test_remove_only_without_adding():
    text = 'GRUB_CMDLINE_LINUX="ro intel_iommu=off"\n'
    assert _grub.default_grub_with_args(text, WANT, ['intel_iommu'], add=False) == 'GRUB_CMDLINE_LINUX="ro"\n'


def test_dropin_text():
    assert 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX intel_iommu=on iommu=pt"' in _grub.dropin_text(WANT)
    assert 'GRUB_CMDLINE_LINUX' not in _grub.dropin_text([]).split('\n', 1)[1]


# grub.cfg ---------------------------------------------------------------------

GRUB_CFG = '''menuentry 'Debian GNU/Linux' --class debian {
\tlinux\t/boot/vmlinuz-6.1.0-27-amd64 root=UUID=abc ro  quiet
}
submenu 'Advanced options' {
\tmenuentry "Debian, recovery" {
\t\tlinux\t/boot/vmlinuz-6.1.0-27-amd64 root=UUID=abc ro single
\t}
}
menuentry 'CentOS 7' {
\tlinux16 /vmlinuz-3.10 root=/dev/sda1 ro
}
menuentry 'EFI CentOS' {
\tlinuxefi /vmlinuz-3.10 root=/dev/sda1 ro
}
menuentry 'Memory test (memtest86+x64.bin)' {
\tlinux16\t/boot/memtest86+x64.bin
}
'''


def test_grub_cfg_entries():
    entries = _grub.grub_cfg_entries(GRUB_CFG)
    assert [(e['title'], e['kernel'], e['args']) for e in entries] == [
        ('Debian GNU/Linux', '/boot/vmlinuz-6.1.0-27-amd64', ['root=UUID=abc', 'ro', 'quiet']),
        ('Debian, recovery', '/boot/vmlinuz-6.1.0-27-amd64', ['root=UUID=abc', 'ro', 'single']),
        ('CentOS 7', '/vmlinuz-3.10', ['root=/dev/sda1', 'ro']),
        ('EFI CentOS', '/vmlinuz-3.10', ['root=/dev/sda1', 'ro'])]


def test_efi_stub_detection():
    stub = 'search --no-floppy --fs-uuid --set=dev abc\nset prefix=($dev)/grub2\nexport $prefix\nconfigfile $prefix/grub.cfg\n'
    assert _grub.grub_cfg_is_stub(stub)
    assert not _grub.grub_cfg_is_stub(GRUB_CFG)
    assert not _grub.grub_cfg_is_stub('insmod blscfg\nblscfg\n')


# BLS --------------------------------------------------------------------------

BLS = '''title Red Hat Enterprise Linux (4.18.0-513.el8.x86_64) 8.9 (Ootpa)
version 4.18.0-513.el8.x86_64
linux /vmlinuz-4.18.0-513.el8.x86_64
initrd /initramfs-4.18.0-513.el8.x86_64.img $tuned_initrd
options $kernelopts $tuned_params
# a comment
grub_users $grub_users
'''


def test_bls_entry_expands_kernelopts_from_grubenv():
    env = _grub.grubenv_vars('# GRUB Environment Block\nkernelopts=root=/dev/sda1 ro intel_iommu=off\n' + '#' * 40)
    entry = _grub.bls_entry(BLS, env)
    assert entry['title'].startswith('Red Hat Enterprise Linux (4.18.0')
    assert entry['kernel'] == '/vmlinuz-4.18.0-513.el8.x86_64'
    assert entry['args'] == ['root=/dev/sda1', 'ro', 'intel_iommu=off']
    assert entry['raw_options'] == '$kernelopts $tuned_params'


def test_bls_entry_with_literal_and_repeated_options():
    text = 'title x\nlinux /vmlinuz\noptions root=/dev/sda1 ro\noptions iommu=pt\n'
    assert _grub.bls_entry(text)['args'] == ['root=/dev/sda1', 'ro', 'iommu=pt']


# legacy GRUB --------------------------------------------------------------------

MENU_LST = '''default=0
timeout=5
title CentOS (2.6.18-398.el5)
\troot (hd0,0)
\tkernel /vmlinuz-2.6.18-398.el5 ro root=LABEL=/ rhgb quiet intel_iommu=off
\tinitrd /initrd-2.6.18-398.el5.img
title CentOS Xen
\troot (hd0,0)
\tkernel /xen.gz-2.6.18 dom0_mem=1024M
\tmodule /vmlinuz-2.6.18-398.el5xen ro root=LABEL=/
\tmodule /initrd-2.6.18-398.el5xen.img
title Other OS
\trootnoverify (hd0,1)
\tchainloader +1
'''


def test_legacy_entries_and_xen_module_line():
    entries = _grub.legacy_entries(MENU_LST)
    assert [(e['title'], e['kernel']) for e in entries] == [
        ('CentOS (2.6.18-398.el5)', '/vmlinuz-2.6.18-398.el5'),
        ('CentOS Xen', '/vmlinuz-2.6.18-398.el5xen')]


def test_legacy_rewrite_touches_only_linux_lines():
    new = _grub.legacy_with_args(MENU_LST, WANT, [])
    assert '\tkernel /vmlinuz-2.6.18-398.el5 ro root=LABEL=/ rhgb quiet intel_iommu=on iommu=pt\n' in new
    assert '\tkernel /xen.gz-2.6.18 dom0_mem=1024M\n' in new
    assert '\tmodule /vmlinuz-2.6.18-398.el5xen ro root=LABEL=/ intel_iommu=on iommu=pt\n' in new
    assert '\tmodule /initrd-2.6.18-398.el5xen.img\n' in new
    assert _grub.legacy_with_args(new, WANT, []) == new


def test_legacy_remove_bare_name():
    new = _grub.legacy_with_args(MENU_LST, [], ['intel_iommu'])
    assert 'intel_iommu' not in new


def test_kernel_cmdline_file():
    assert _grub.kernel_cmdline_with_args('root=/dev/sda1 ro intel_iommu=off\n', WANT, []) == \
        'root=/dev/sda1 ro intel_iommu=on iommu=pt\n'
    same = 'root=/dev/sda1 intel_iommu=on iommu=pt\n'
    assert _grub.kernel_cmdline_with_args(same, WANT, []) is same
