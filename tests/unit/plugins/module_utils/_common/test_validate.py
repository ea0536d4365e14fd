"""L0: the grammar of every value that lands in a boot file or on a command line (_validate)."""

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._common import _validate as v


def refused(check, value, *args, **kwargs):
    with pytest.raises(v.InvalidValue) as err:
        check('opt', value, *args, **kwargs)
    assert err.value.option == 'opt' and err.value.value == value
    assert str(err.value) == 'opt: %r is not allowed: %s' % (value, err.value.allowed)
    return err.value


def test_message_reads_as_documented():
    with pytest.raises(v.InvalidValue) as err:
        v.check_mapping('disk_map', {'hdc': 'xvda; rm -rf /'}, v.check_disk_name, v.check_disk_name)
    assert str(err.value) == ("disk_map.hdc: 'xvda; rm -rf /' is not allowed: a whole-disk name such as hda, sdb, "
                              "xvdc, vdd, cciss/c0d1, nvme0n1 (letters and digits only, no '/' except cciss/, "
                              "no '..')")
    assert isinstance(err.value, ValueError) and err.value.option == 'disk_map.hdc'


@pytest.mark.parametrize('good', ['hda', 'hdc', 'sdb', 'sdaa', 'xvdc', 'xvdzz', 'vdd', 'cciss/c0d1',
                                  'nvme0n1', 'nvme10n2', '/dev/hda', '/dev/xvdb', '/dev/cciss/c0d0'])
def test_disk_names_accepted(good):
    assert v.check_disk_name('opt', good) == good


@pytest.mark.parametrize('bad', ['xvda; rm -rf /', '../sda', 'sda/../../etc', 'hda1', 'xvda1', 'sd', 'sdA',
                                 'sdabcde', 'eth0', 'cciss/c0d1p1', 'nvme0n1p1', 'nvme0', '/dev/../sda', 'xvda\n',
                                 ' xvda', 'xvda ', '', 'hd\u0430', "xvda',w", '/dev/mapper/vg-root', 'dev/sda',
                                 ['xvda'], {'a': 'b'}, 3, None, True])
def test_disk_names_refused(bad):
    refused(v.check_disk_name, bad)


def test_disk_name_families_and_dev_prefix():
    assert v.check_disk_name('opt', 'xvdb', families=('xvd',)) == 'xvdb'
    err = refused(v.check_disk_name, 'vdb', families=('xvd',))
    assert 'xvd' in err.allowed
    refused(v.check_disk_name, '/dev/xvdb', allow_dev=False)
    refused(v.check_disk_name, 'sda', families=('hd',))


@pytest.mark.parametrize('good', ['hda1', 'sdb2', 'xvdc15', 'vdd3', 'sda10', 'cciss/c0d1p2', 'nvme0n1p3',
                                  '/dev/xvda1'])
def test_partition_names_accepted(good):
    assert v.check_partition_name('opt', good) == good


@pytest.mark.parametrize('bad', ['hda', 'hda0', 'sdb1;reboot', 'xvda1/..', 'cciss/c0d1', 'cciss/c0d1p0',
                                 'nvme0n1', 'nvme0n1p', 'sda1 ', 'sda1\n', ['sda1'], 1])
def test_partition_names_refused(bad):
    refused(v.check_partition_name, bad)


@pytest.mark.parametrize('good', ['/dev/hda', '/dev/sdb2', '/dev/xvdc', '/dev/cciss/c0d0p1', '/dev/nvme0n1p2'])
def test_device_paths_accepted(good):
    assert v.check_device_path('opt', good) == good
    assert v.check_block_device('opt', good) == good


@pytest.mark.parametrize('bad', ['hda', '/dev/../etc/passwd', '/dev/sda1\n/dev/sdb1 / ext3', '/dev/sda 1',
                                 '/dev/mapper/vg-root', '/dev//sda', '/devices/sda', '/dev/sda;', ['/dev/sda']])
def test_device_paths_refused(bad):
    refused(v.check_device_path, bad)


@pytest.mark.parametrize('good', ['/dev/mapper/VolGroup-lv_root', '/dev/md0', '/dev/VolGroup00/LogVol00',
                                  '/dev/vg.data/lv+1'])
def test_block_devices_accepted(good):
    assert v.check_block_device('opt', good) == good


@pytest.mark.parametrize('bad', ['/dev/mapper/../../etc/shadow', '/dev/vg/..', '/dev/mapper/a b', '/dev/a/b/c',
                                 '/dev/mapper/x\n/dev/sda / ext3 defaults 0 0', 'UUID=abc', '/etc/fstab', '/dev/',
                                 '/dev/mapper/', "/dev/mapper/x'"])
def test_block_devices_refused(bad):
    refused(v.check_block_device, bad)


@pytest.mark.parametrize('good', ['0b6d7a42-4d3e-4b4e-9d35-6f1c7e1b2a11', '0B6D7A42-4D3E-4B4E-9D35-6F1C7E1B2A11',
                                  '1234-ABCD', '1234-abcd', '0123456789ABCDEF'])
def test_uuids_accepted(good):
    assert v.check_uuid('opt', good) == good


@pytest.mark.parametrize('bad', ['0b6d7a42-4d3e-4b4e-9d35-6f1c7e1b2a11\n/dev/sdb1 / ext3 defaults 0 0',
                                 '0b6d7a42-4d3e-4b4e-9d35-6f1c7e1b2a1', '0b6d7a424d3e4b4e9d356f1c7e1b2a11',
                                 '0b6d7a42-4d3e-4b4e-9d35-6f1c7e1b2a1g', '1234-ABC', '0123456789ABCDE',
                                 ' 1234-ABCD', '1234-ABCD ', '', 'UUID=1234-ABCD', ['1234-ABCD'], 1234])
def test_uuids_refused(bad):
    refused(v.check_uuid, bad)


@pytest.mark.parametrize('good', ['/', '/boot', 'data', 'ROOT_1', 'x' * 16, 'd\u00e9j\u00e0', 'a#b', 'a=b,c'])
def test_labels_accepted(good):
    assert v.check_label('opt', good) == good


@pytest.mark.parametrize('bad', ['my data', 'a\tb', 'a\nb', 'x"y', "x'y", 'a\\b', 'a`id`', 'x' * 17,
                                 '\u00e9' * 9, '', 'a\x00', ['data'], 5])
def test_labels_refused(bad):
    refused(v.check_label, bad)


def test_label_limit_can_be_raised_for_other_filesystems():
    assert v.check_label('opt', 'x' * 40, max_bytes=255) == 'x' * 40
    assert '255 bytes' in refused(v.check_label, 'x' * 256, max_bytes=255).allowed


def test_fstab_escape():
    assert v.fstab_escape('/srv/my data\tx\\y') == '/srv/my\\040data\\011x\\134y'
    assert v.fstab_escape('/srv/data') == '/srv/data'


@pytest.mark.parametrize('good', ['2.6.18-128.el5', '6.1.0-27-amd64', '2.4.21-4.ELsmp', '5.14.0-362.el9.x86_64',
                                  '4.18.0-80.el8.x86_64+debug', '2.6.32-754.el6.x86_64'])
def test_kernel_versions_accepted(good):
    assert v.check_kernel_version('opt', good) == good


@pytest.mark.parametrize('bad', ['all', '../../etc', '2.6.18/../x', '2.6..18', '6.1.0 -27', '6.1.0\n', '6.1;id',
                                 '', '-6.1', '6.1.0-27-amd64$(id)', '1' * 65, ['6.1.0'], 6.1])
def test_kernel_versions_refused(bad):
    refused(v.check_kernel_version, bad)


@pytest.mark.parametrize('good', ['xen-vbd', 'virtio_blk', 'vfio-pci', 'e1000', 'a' * 56])
def test_module_names_accepted(good):
    assert v.check_module_name('opt', good) == good


@pytest.mark.parametrize('bad', ['xen-vbd.ko', 'a/b', '../x', 'a b', 'a;b', '', 'a' * 57, ['x']])
def test_module_names_refused(bad):
    refused(v.check_module_name, bad)


@pytest.mark.parametrize('given,normal', [('/etc/xen/g', '/etc/xen/g'), ('//etc/./xen//g', '/etc/xen/g'),
                                          ('/etc/xen/g/', '/etc/xen/g'), ('/', '/')])
def test_tree_paths_normalised(given, normal):
    assert v.check_tree_path('opt', given) == normal


@pytest.mark.parametrize('bad', ['etc/xen/g', '../etc', '/etc/../../x', '/etc/xen/..', '/etc/x\ny', '/etc/\x01',
                                 ' /etc', '/etc ', '', ['/etc'], None])
def test_tree_paths_refused(bad):
    refused(v.check_tree_path, bad)


@pytest.mark.parametrize('good', ['intel_iommu=on', 'iommu=pt', 'quiet', 'rd.lvm.lv=vg/root', 'vfio-pci.ids=8086:10d3',
                                  'root=UUID=0b6d7a42-4d3e-4b4e-9d35-6f1c7e1b2a11', 'console=ttyS0,115200n8'])
def test_kernel_args_accepted(good):
    assert v.check_kernel_arg('opt', good) == good


@pytest.mark.parametrize('bad', ['intel_iommu=on iommu=pt', 'a="b c"', "a='b'", 'x=$(id)', 'x=`id`', 'a;b',
                                 'a\nb', 'a\tb', '--', '=x', '', '.x', 'a\\b', 'a|b', 'a&b', 'a>b', 'a' * 1025,
                                 ['iommu=pt']])
def test_kernel_args_refused(bad):
    refused(v.check_kernel_arg, bad)


@pytest.mark.parametrize('given,normal', [('/var/lib/xen/images/g.img', '/var/lib/xen/images/g.img'),
                                          ('/dev/vg/lv', '/dev/vg/lv'), ('/srv//img/./g.img', '/srv/img/g.img')])
def test_xen_targets_accepted(given, normal):
    assert v.check_xen_target('opt', given) == normal


@pytest.mark.parametrize('bad', ['img/g.img', '/srv/../etc/shadow', '/srv/g.img,hdb,w', "/srv/g.img',\"phy:/dev/sda",
                                 '/srv/a b.img', '/srv/x=y', 'phy:/dev/sda', '/srv/g\n.img', '/srv/a\\b', ['/srv/g']])
def test_xen_targets_refused(bad):
    refused(v.check_xen_target, bad)


@pytest.mark.parametrize('value', [0, -5, 86401, True, '600', 1.5, None])
def test_seconds_refused(value):
    with pytest.raises(v.InvalidValue) as err:
        v.check_seconds('tool_timeout', value)
    assert str(err.value) == ('tool_timeout: %r is not allowed: a whole number from 1 to 86400 '
                              '(seconds, at most a day)' % (value,))


def test_seconds_accepted_and_the_tool_timeout_rule_uses_them():
    assert [v.check_seconds('t', n) for n in (1, 600, 86400)] == [1, 600, 86400]
    assert v.check_params({'tool_timeout': 600}, [v.TOOL_TIMEOUT_RULE]) == {'tool_timeout': 600}
    with pytest.raises(v.InvalidValue) as err:
        v.check_params({'tool_timeout': 0}, [v.TOOL_TIMEOUT_RULE])
    assert err.value.option == 'tool_timeout'


def test_one_of():
    assert v.check_one_of(('a', 'b'))('opt', 'a') == 'a'
    assert refused(v.check_one_of(('a', 'b')), 'c').allowed == 'one of a, b'


@pytest.mark.parametrize('bad,option', [
    ('hdc=xvdb', 'disk_map'),                       # a string where a dict is expected
    (['hdc', 'xvdb'], 'disk_map'),
    ({'hdc': ['xvdb']}, 'disk_map.hdc'),            # a list value
    ({'hdc': 'xvdb', 'hdd': '../sda'}, 'disk_map.hdd'),
    ({'../hdc': 'xvdb'}, 'disk_map.../hdc'),
    ({3: 'xvdb'}, 'disk_map.3'),
])
def test_mapping_refusals_name_the_entry(bad, option):
    with pytest.raises(v.InvalidValue) as err:
        v.check_mapping('disk_map', bad, v.check_disk_name, v.check_disk_name)
    assert err.value.option == option


def test_mapping_returns_a_checked_copy():
    given = {'hdc': '/dev/xvdb'}
    assert v.check_mapping('disk_map', given, v.check_disk_name, v.check_disk_name) == given
    assert v.check_mapping('disk_map', {}, v.check_disk_name, v.check_disk_name) == {}


def test_check_list():
    check = v.check_list(v.check_module_name)
    assert check('mods', ['a', 'b']) == ['a', 'b']
    with pytest.raises(v.InvalidValue) as err:
        check('mods', ['a', 'b c'])
    assert err.value.option == 'mods[1]'
    with pytest.raises(v.InvalidValue) as err:
        check('mods', 'a')
    assert err.value.option == 'mods'


RULES = [('path', v.check_tree_path), ('kernel[]', v.check_kernel_version),
         ('filesystems[].uuid', v.check_uuid), ('filesystems[].label', v.check_label)]


def test_check_params_applies_the_table_and_normalises():
    params = {'path': '//etc/xen/./g', 'kernel': ['6.1.0-27-amd64'], 'other': 'x; y',
              'filesystems': [{'device': '/dev/sda1', 'uuid': '1234-ABCD', 'label': None}]}
    out = v.check_params(params, RULES)
    assert out['path'] == '/etc/xen/g' and out['other'] == 'x; y'
    assert out['filesystems'] == params['filesystems'] and params['path'] == '//etc/xen/./g'
    assert v.check_params({'path': None, 'kernel': None, 'filesystems': None}, RULES)['path'] is None


@pytest.mark.parametrize('params,option', [
    ({'path': '/etc/../x'}, 'path'),
    ({'kernel': ['6.1.0', '../x']}, 'kernel[1]'),
    ({'kernel': '6.1.0'}, 'kernel'),
    ({'filesystems': [{'uuid': '1234-ABCD'}, {'uuid': '1234-ABCD\n/dev/sdb1 / ext3 defaults 0 0'}]},
     'filesystems[1].uuid'),
    ({'filesystems': [{'label': 'my data'}]}, 'filesystems[0].label'),
    ({'filesystems': ['x']}, 'filesystems[0]'),
])
def test_check_params_raises_the_first_bad_value(params, option):
    with pytest.raises(v.InvalidValue) as err:
        v.check_params(params, RULES)
    assert err.value.option == option


class FakeModule(object):
    def __init__(self):
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)


def test_fail_on_invalid_fails_the_module_with_the_message():
    module = FakeModule()
    with pytest.raises(SystemExit):
        v.fail_on_invalid(module, {'path': 'relative'}, RULES)
    assert module.failed == {'msg': "path: 'relative' is not allowed: %s; nothing was changed" % v.TREE_PATH_ALLOWED,
                             'option': 'path'}
    assert v.fail_on_invalid(FakeModule(), {'path': '/a'}, RULES) == {'path': '/a'}
