"""L0: xm/xl domain config rewriting for Xen PV drivers (runbooks 001 and 002)."""

import os
import sys

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._guest import _xenconfig

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'fixtures', 'guests'))
import trees  # noqa: E402

SEED001_BEFORE = trees.XM_SEED001
SEED001_DISKS_AFTER = ['tap:aio:/var/lib/xen/images/centos53_32hvm.img,hda,w!',
                       'tap:aio:/var/lib/xen/images/centos53_32hvm.img,xvda,w!']

SEED002_BEFORE = '''name = "rhel3_64_fv"
kernel = "/usr/lib/xen/boot/hvmloader"
disk = [ 'file:/var/lib/libvirt/images/rhel3_64_fv.dsk,hda,w',  # boot disk
         ',hdc:cdrom,r' ]
vif = [ 'type=ioemu, mac=00:16:3e:00:12:34, bridge=xenbr0', 'mac=00:16:3e:00:12:35, bridge=xenbr1,type=ioemu,model=e1000' ]
'''


def test_seed001_dual_mapping():
    after, changes = _xenconfig.rewrite_config(SEED001_BEFORE)
    lists = _xenconfig.config_lists(after)
    assert lists['disk'] == SEED001_DISKS_AFTER
    assert lists['vif'] == ['mac=00:16:3e:5a:1b:2c, bridge=xenbr0']
    assert [c['name'] for c in changes] == ['disk', 'vif']
    assert after.startswith('# CentOS 5.3 HVM guest\nname = "centos53_32hvm"\nbuilder = "hvm"\nmemory = 512\n')
    assert after.endswith('boot = "c"\n')
    assert 'disk = [ "tap:aio:/var/lib/xen/images/centos53_32hvm.img,hda,w!",\n' in after
    again, changes = _xenconfig.rewrite_config(after)
    assert again == after and changes == []


def test_seed001_pv_only_after_the_transition():
    dual, _c = _xenconfig.rewrite_config(SEED001_BEFORE)
    after, _c = _xenconfig.rewrite_config(dual, disk_mode='pv')
    assert _xenconfig.config_lists(after)['disk'] == ['tap:aio:/var/lib/xen/images/centos53_32hvm.img,xvda,w!']
    fresh, _c = _xenconfig.rewrite_config(SEED001_BEFORE, disk_mode='pv')
    assert _xenconfig.config_lists(fresh)['disk'] == ['tap:aio:/var/lib/xen/images/centos53_32hvm.img,xvda,w']


def test_seed002_keep_disks_drop_ioemu_keep_quotes_and_cdrom():
    after, changes = _xenconfig.rewrite_config(SEED002_BEFORE, disk_mode='keep')
    lists = _xenconfig.config_lists(after)
    assert lists['disk'] == ['file:/var/lib/libvirt/images/rhel3_64_fv.dsk,hda,w', ',hdc:cdrom,r']
    assert lists['vif'] == ['mac=00:16:3e:00:12:34, bridge=xenbr0', 'mac=00:16:3e:00:12:35, bridge=xenbr1']
    assert "# boot disk" in after                      # the untouched disk assignment keeps its comment
    assert "vif = [ 'mac=00:16:3e:00:12:34, bridge=xenbr0',\n        'mac=" in after
    assert [c['name'] for c in changes] == ['vif']


def test_dual_keeps_cdrom_and_phy_and_existing_twin():
    specs = ['phy:/dev/vg0/guest,hda,w', ',hdc:cdrom,r', 'file:/img/data.img,hdb,w', 'file:/img/data.img,xvdb,w']
    assert _xenconfig.rewrite_disks(specs, 'dual') == [
        'phy:/dev/vg0/guest,hda,w!', 'phy:/dev/vg0/guest,xvda,w!', ',hdc:cdrom,r',
        'tap:aio:/img/data.img,hdb,w!', 'file:/img/data.img,xvdb,w']


def test_keyvalue_disks_and_disk_map():
    specs = ['format=raw, vdev=hdc, access=rw, target=/img/guest.img']
    assert _xenconfig.rewrite_disks(specs, 'pv', disk_map={'hdc': 'xvda'}) == [
        'format=raw, vdev=xvda, access=rw, target=/img/guest.img']
    assert _xenconfig.rewrite_disks(specs, 'dual') == [
        'format=raw, vdev=hdc, access=rw, target=/img/guest.img',
        'format=raw, vdev=xvdc, access=rw, target=/img/guest.img']


def test_bad_values_raise():
    with pytest.raises(_xenconfig.XenConfigError, match='not a list of strings'):
        _xenconfig.rewrite_config('disk = [ file_img ]\n')
    with pytest.raises(_xenconfig.XenConfigError, match='is not'):
        _xenconfig.rewrite_disks(['file:/x,hda'], 'dual')


def test_assignments_span_lines_and_skip_comments():
    text = 'a = 1\n# disk = [ "x" ]\ndisk = [ "one",\n  "two" ] # tail\nb = "#not a comment"\n'
    found = _xenconfig.assignments(text)
    assert [(name, text[s:e]) for name, s, e, _v in found] == [
        ('a', 'a = 1\n'), ('disk', 'disk = [ "one",\n  "two" ] # tail\n'), ('b', 'b = "#not a comment"\n')]


@pytest.mark.parametrize('params,option', [
    ({'path': '/etc/xen/../../etc/shadow'}, 'path'),
    ({'path': 'etc/xen/g'}, 'path'),
    ({'disk_map': {'hda': 'xvda",\'phy:/dev/sda,xvdb,w'}}, 'disk_map.hda'),
    ({'disk_map': {'hda': ['xvda']}}, 'disk_map.hda'),
    ({'disk_map': 'hda'}, 'disk_map'),
    ({'disk_map': {'hda': 'vda'}}, 'disk_map.hda'),
    ({'disk_map': {'xvda': 'xvdb'}}, 'disk_map.xvda'),
])
def test_config_rules_refuse(params, option):
    from ansible_collections.virtops.devices.plugins.module_utils._common import _validate as v
    with pytest.raises(v.InvalidValue) as err:
        v.check_params(params, _xenconfig.config_rules())
    assert err.value.option == option


def test_a_disk_map_value_cannot_inject_a_second_disk_even_unchecked():
    """Belt and braces: rewrite_config itself refuses a twin name that is not an xvd name."""
    text = 'disk = [ "file:/img/g.img,hda,w" ]\n'
    with pytest.raises(_xenconfig.XenConfigError):
        _xenconfig.rewrite_config(text, disk_map={'hda': 'xvda",\'phy:/dev/sda,xvdb,w'})
    with pytest.raises(_xenconfig.XenConfigError):
        _xenconfig.render_list('disk', ['a"b'])
    assert _xenconfig.rewrite_config(text, disk_mode='pv', disk_map={'hda': 'xvdc'})[0] == \
        'disk = [ "tap:aio:/img/g.img,xvdc,w" ]\n'
