"""L0: the kernel arguments a run wants, from the module options (validation and vendor)."""

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._boot import _kernel_args as ka
from ansible_collections.virtops.devices.plugins.module_utils._common._validate import KARG_ALLOWED

INTEL_CPU = 'processor\t: 0\nvendor_id\t: GenuineIntel\n'


def test_vendor_is_added_and_no_ops_are_dropped_with_a_warning():
    args, remove, warnings = ka.wanted_args(['iommu=pt', 'amd_iommu=on'], [], 'intel')
    assert (args, remove) == (['intel_iommu=on', 'iommu=pt'], ['intel_iommu=off'])
    assert warnings == [ka.NO_OP_ARGS['amd_iommu=on']]


def test_vendor_auto_reads_cpuinfo():
    assert ka.wanted_args([], [], 'auto', INTEL_CPU)[:2] == (['intel_iommu=on'], ['intel_iommu=off'])
    with pytest.raises(ka.WantedArgsError, match='^vendor=auto: the CPU vendor in /proc/cpuinfo is '
                                                 'neither Intel nor AMD; set vendor to intel, amd or none$'):
        ka.wanted_args(['iommu=pt'], [], 'auto', '')


def test_invalid_arguments_are_named():
    with pytest.raises(ka.WantedArgsError) as err:
        ka.wanted_args(['iommu=pt', 'a b'], ['x;y'], 'none')
    assert str(err.value) == ("invalid kernel argument args[1]: 'a b' is not allowed: " + KARG_ALLOWED)
    with pytest.raises(ka.WantedArgsError) as err:
        ka.wanted_args(['iommu=pt'], ['x;y'], 'none')
    assert str(err.value) == ("invalid kernel argument remove_args[0]: 'x;y' is not allowed: " + KARG_ALLOWED)


def test_conflicts_and_nothing_to_do():
    with pytest.raises(ka.WantedArgsError, match=r'^kernel argument\(s\) iommu=pt are both wanted and '
                                                 r'removed \(or wanted with two values\); fix args, '
                                                 r'remove_args or vendor$'):
        ka.wanted_args(['iommu=pt'], ['iommu'], 'none')
    with pytest.raises(ka.WantedArgsError, match='^nothing to do: give args, remove_args or a vendor$'):
        ka.wanted_args([], [], 'none')


@pytest.mark.parametrize('args,remove,vendor,named', [
    (['iommu=pt'], ['iommu=pt'], 'none', 'iommu=pt'),           # exact: was silently dropped
    (['iommu=pt', 'quiet'], ['quiet'], 'none', 'quiet'),
    (['amd_iommu=off'], [], 'amd', 'amd_iommu=off'),           # against the vendor's removal
    (['intel_iommu=on'], ['intel_iommu'], 'none', 'intel_iommu=on'),
    ([], ['intel_iommu=on'], 'intel', 'intel_iommu=on'),       # against the vendor's addition
])
def test_the_same_argument_wanted_and_removed_is_refused_by_name(args, remove, vendor, named):
    with pytest.raises(ka.WantedArgsError) as err:
        ka.wanted_args(args, remove, vendor)
    assert str(err.value).startswith('kernel argument(s) %s are both wanted and removed' % named)


def test_amd_iommu_on_alone_is_accepted_with_the_warning():
    assert ka.wanted_args(['amd_iommu=on'], [], 'none') == ([], [], [ka.NO_OP_ARGS['amd_iommu=on']])
    assert ka.wanted_args(['amd_iommu=on'], [], 'amd') == ([], ['amd_iommu=off'], [ka.NO_OP_ARGS['amd_iommu=on']])
