"""L1: xen_domain_config run by Ansible on dom0 config files (runbooks 001 and 002)."""

import os
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'guests'))
import trees  # noqa: E402

SEED001 = trees.XM_SEED001
SEED001_AFTER = '''# CentOS 5.3 HVM guest
name = "centos53_32hvm"
builder = "hvm"
memory = 512
disk = [ "tap:aio:/var/lib/xen/images/centos53_32hvm.img,hda,w!",
         "tap:aio:/var/lib/xen/images/centos53_32hvm.img,xvda,w!" ]
vif = [ "mac=00:16:3e:5a:1b:2c, bridge=xenbr0" ]
boot = "c"
'''


def test_seed001_config_check_then_apply_then_idempotent(run_module, tmp_path):
    conf = tmp_path / 'etc' / 'xen' / 'centos53_32hvm'
    conf.parent.mkdir(parents=True)
    conf.write_text(SEED001)
    os.chmod(conf, 0o600)
    args = {'root': str(tmp_path), 'path': '/etc/xen/centos53_32hvm', 'backup': True}
    result = run_module('xen_domain_config', args, check=True, diff=True)
    assert result['changed'] and result['restart_required'] and conf.read_text() == SEED001
    assert result['diff']['after'] == SEED001_AFTER
    result = run_module('xen_domain_config', args)
    assert result['changed'] and conf.read_text() == SEED001_AFTER
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o600
    assert open(result['backup_file']).read() == SEED001
    assert run_module('xen_domain_config', args)['changed'] is False


def test_injections_are_refused_naming_the_option_and_the_file_is_unchanged(run_module, tmp_path):
    """Issue 8: a disk_map value with a quote and a comma must not add a raw host disk; ../ in path fails cleanly."""
    conf = tmp_path / 'etc' / 'xen' / 'centos53_32hvm'
    conf.parent.mkdir(parents=True)
    conf.write_text(SEED001)
    outside = tmp_path.parent / ('%s-outside' % tmp_path.name)
    outside.write_text(SEED001)
    cases = [
        ({'path': '/etc/xen/centos53_32hvm', 'disk_map': {'hda': 'xvda,w!", "phy:/dev/sda,xvdb,w'}},
         'disk_map.hda: '),
        ({'path': '/etc/xen/centos53_32hvm', 'disk_map': {'hda': ['xvda']}}, "disk_map.hda: ['xvda'] is not allowed"),
        ({'path': '/etc/xen/centos53_32hvm', 'disk_map': {'hda': '../sda'}}, "disk_map.hda: '../sda' is not allowed"),
        ({'path': '/etc/xen/../../%s' % outside.name}, "path: '/etc/xen/../../%s' is not allowed" % outside.name),
    ]
    for extra, named in cases:
        result = run_module('xen_domain_config', dict(extra, root=str(tmp_path)))
        assert result.get('failed') and named in result['msg'], result.get('msg')
        assert 'Traceback' not in result.get('module_stderr', '')
        assert conf.read_text() == SEED001 and outside.read_text() == SEED001
    assert sorted(os.listdir(str(conf.parent))) == ['centos53_32hvm']
    outside.unlink()
