"""L0: kernel argument rules (add, remove, replace, validate)."""

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._boot import _kernel_args as ka


def test_split_keeps_quoted_values_whole():
    assert ka.split_args('ro  root=/dev/sda1 foo="a b"\tquiet') == ['ro', 'root=/dev/sda1', 'foo="a b"', 'quiet']
    assert ka.split_args('') == []


def test_add_appends_only_what_is_missing():
    assert ka.args_after(['ro', 'iommu=pt'], ['intel_iommu=on', 'iommu=pt'], []) == \
        ['ro', 'iommu=pt', 'intel_iommu=on']


def test_add_replaces_another_value_of_the_same_name():
    assert ka.args_after(['ro', 'intel_iommu=off', 'quiet'], ['intel_iommu=on'], []) == \
        ['ro', 'quiet', 'intel_iommu=on']


def test_multi_valued_names_are_not_replaced():
    assert ka.args_after(['console=tty0'], ['console=ttyS0'], []) == ['console=tty0', 'console=ttyS0']


def test_remove_exact_and_bare_name():
    tokens = ['ro', 'intel_iommu=off', 'iommu=soft', 'nomodeset']
    assert ka.args_after(tokens, [], ['intel_iommu=on']) == tokens
    assert ka.args_after(tokens, [], ['intel_iommu=off']) == ['ro', 'iommu=soft', 'nomodeset']
    assert ka.args_after(tokens, [], ['iommu', 'nomodeset']) == ['ro', 'intel_iommu=off']


def test_duplicates_of_a_wanted_arg_are_dropped():
    assert ka.args_after(['iommu=pt', 'ro', 'iommu=pt'], ['iommu=pt'], []) == ['iommu=pt', 'ro']


def test_init_args_after_double_dash_are_untouched():
    tokens = ['ro', '--', 'single', 'intel_iommu=off']
    assert ka.args_after(tokens, ['intel_iommu=on'], ['intel_iommu=off']) == \
        ['ro', 'intel_iommu=on', '--', 'single', 'intel_iommu=off']
    assert not ka.args_differ(['intel_iommu=on', '--', 'intel_iommu=off'], ['intel_iommu=on'], ['intel_iommu=off'])


def test_args_differ_ignores_harmless_duplicates():
    assert not ka.args_differ(['iommu=pt', 'iommu=pt'], ['iommu=pt'], [])
    assert ka.args_differ(['ro'], ['iommu=pt'], [])
    assert ka.args_differ(['iommu=pt', 'intel_iommu=off'], ['iommu=pt'], ['intel_iommu'])


def test_args_to_remove_lists_removed_and_replaced_tokens():
    assert ka.args_to_remove(['intel_iommu=off', 'iommu=soft', 'ro'], ['iommu=pt'], ['intel_iommu']) == \
        ['intel_iommu=off', 'iommu=soft']


@pytest.mark.parametrize('arg', ['a b', 'foo="x"', "x='y'", '', '=on', 'a;b', '$(reboot)', '--'])
def test_invalid_args(arg):
    assert ka.invalid_args([arg, 'iommu=pt']) == [arg]


def test_vendor_and_no_op_args():
    assert ka.effective_wanted(['iommu=pt'], [], 'intel') == (['intel_iommu=on', 'iommu=pt'], ['intel_iommu=off'])
    assert ka.effective_wanted(['amd_iommu=on', 'iommu=pt'], [], 'amd') == (['iommu=pt'], ['amd_iommu=off'])
    assert 'amd_iommu=on' in ka.no_op_args(['amd_iommu=on'])
    assert ka.effective_wanted(['intel_iommu=on'], ['intel_iommu=on'], 'none') == (['intel_iommu=on'], [])


def test_conflicting_requests():
    assert ka.conflicting_requests(['iommu=pt'], ['iommu']) == ['iommu=pt']
    assert ka.conflicting_requests(['intel_iommu=on', 'intel_iommu=off'], []) == ['intel_iommu=on', 'intel_iommu=off']
    assert ka.conflicting_requests(['console=tty0', 'console=ttyS0'], []) == []


def test_cpu_vendor():
    assert ka.cpu_vendor('processor\t: 0\nvendor_id\t: GenuineIntel\n') == 'intel'
    assert ka.cpu_vendor('vendor_id\t: AuthenticAMD\n') == 'amd'
    assert ka.cpu_vendor('vendor_id\t: HygonGenuine\n') == 'amd'
    assert ka.cpu_vendor('vendor_id\t: SomethingElse\n') is None
    assert ka.cpu_vendor('') is None


def test_reboot_required_compares_the_running_cmdline():
    running = ka.split_args('BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro intel_iommu=on iommu=pt quiet')
    assert not ka.reboot_required(running, ['intel_iommu=on', 'iommu=pt'], ['intel_iommu=off'])
    assert ka.reboot_required(running, ['intel_iommu=on', 'iommu=pt', 'vfio-pci.ids=8086:10fb'], [])
    assert ka.reboot_required(running + ['nomodeset'], ['iommu=pt'], ['nomodeset'])
