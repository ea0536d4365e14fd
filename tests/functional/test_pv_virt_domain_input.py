"""L1: virt_pv_domain refuses bad option values through ansible-playbook, before it talks to libvirt
(issue 8): the refusal names the option, the value and what is allowed; no traceback.

The domain named does not exist: a message about the option (not "domain not found") proves the
check comes first. All cases in one ansible-playbook run.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'nodedev'))

import nodedev_fixture  # noqa: E402

BASE = {'name': 'virtops-no-such-domain', 'uri': 'test:///default'}
CASES = [
    ({'shutdown_timeout': -5, 'restart': True}, "shutdown_timeout: -5 is not allowed: a whole number from 1 to 86400"),
    ({'shutdown_timeout': 0}, 'shutdown_timeout: 0 is not allowed'),
    ({'disk_map': {'hdc': 'xvda; rm -rf /'}}, "disk_map.hdc: 'xvda; rm -rf /' is not allowed"),
    ({'disk_map': {'hdc': '../sda'}}, "disk_map.hdc: '../sda' is not allowed: a whole-disk name of the vd family"),
    ({'target': 'xen', 'disk_map': {'hda': 'vda'}}, "disk_map.hda: 'vda' is not allowed: a whole-disk name of the xvd"),
    ({'disk_map': {'hdc': ['vdb']}}, "disk_map.hdc: ['vdb'] is not allowed"),
]


@pytest.fixture(scope='module')
def results():
    tasks = [('virt_pv_domain', dict(BASE, **args)) for args, _msg in CASES]
    tasks.append(('virt_pv_domain', dict(BASE, disk_map={'hdc': 'vdb'}, shutdown_timeout=60)))
    return nodedev_fixture.run_tasks(tasks)


@pytest.mark.parametrize('number', range(len(CASES)), ids=[m for _a, m in CASES])
def test_bad_value_is_refused_naming_the_option(results, number):
    result = results[number]
    assert result['failed'] and CASES[number][1] in result['msg'], result['msg']
    assert result['msg'].endswith('; nothing was changed')
    assert 'Traceback' not in str(result) and 'not found' not in result['msg']


def test_good_values_reach_libvirt(results):
    result = results[-1]
    assert result['failed'] and "virtops-no-such-domain" in result['msg'] and 'not found' in result['msg']
