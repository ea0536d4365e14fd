"""How tests/conftest.py groups the test files for pytest-xdist (scripts/test.sh: -n 2 --dist loadgroup)."""

import xdist_groups

LIBVIRT_FILES = {'tests/functional/test_virt_disk_hotplug.py'}


def test_files_that_use_libvirtd_share_one_group():
    assert xdist_groups.xdist_group_of('tests/functional/test_virt_disk_hotplug.py', LIBVIRT_FILES) == 'libvirtd'


def test_files_that_use_the_cached_debian_trees_share_one_group():
    assert xdist_groups.xdist_group_of('tests/functional/test_pv_debian12.py', LIBVIRT_FILES) == 'debian12-trees'
    assert xdist_groups.xdist_group_of('tests/functional/test_pv_dracut.py', LIBVIRT_FILES) == 'debian12-trees'


def test_any_other_functional_file_is_a_group_of_its_own():
    assert xdist_groups.xdist_group_of('tests/functional/test_bad_input_matrix.py', LIBVIRT_FILES) == 'test_bad_input_matrix'


def test_unit_tests_are_not_grouped():
    assert xdist_groups.xdist_group_of('tests/unit/plugins/module_utils/_guest/test_pv_apply.py', LIBVIRT_FILES) is None


def test_this_session_put_every_libvirt_test_in_the_libvirtd_group(request):
    """The groups this very run gave: every test marked libvirt or guest is in 'libvirtd'."""
    for item in request.session.items:
        if item.get_closest_marker('libvirt') or item.get_closest_marker('guest'):
            assert [m.args[0] for m in item.iter_markers('xdist_group')] == ['libvirtd'], item.nodeid
