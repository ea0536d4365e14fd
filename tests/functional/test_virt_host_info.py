"""virt_host_info, L2: the real libvirtd of this machine, and an unreachable URI."""

import pytest

pytestmark = pytest.mark.libvirt


def test_real_libvirtd_offers_qemu_domains(run_module):
    result = run_module('virt_host_info', {})
    assert result['reachable'] is True and not result['changed']
    assert result['hypervisor'] == 'QEMU'
    assert 'qemu' in result['domain_types']
    assert result['libvirt_version'].count('.') == 2
    assert result['host_cpu']['arch'] == 'x86_64'
    assert any(g['arch'] == 'x86_64' and 'qemu' in g['domain_types'] for g in result['guests'])


def test_unreachable_libvirt_is_reported_or_fails_on_request(run_module):
    uri = 'qemu:///session?socket=/nonexistent/virtops.sock'
    reported = run_module('virt_host_info', {'uri': uri})
    assert reported['reachable'] is False and 'cannot connect to libvirt' in reported['error']
    failed = run_module('virt_host_info', {'uri': uri, 'fail_when_unreachable': True})
    assert failed['failed'] and 'cannot connect to libvirt at %s' % uri in failed['msg']
