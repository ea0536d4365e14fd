"""tests/lab/tiny_guest.py against the real libvirtd: a guest that exists is reused only with the
settings it was made with (the lab's nested guest is made with virt_type kvm, these with qemu)."""

import pytest

from conftest import domain_xml_both, tiny_guest

pytestmark = [pytest.mark.libvirt, pytest.mark.guest]


def test_other_virt_type_is_refused_and_the_guest_is_left_as_it_was(pc_guest):
    before = domain_xml_both(pc_guest['name'])
    with pytest.raises(tiny_guest.LabError, match=r"other settings \{'virt_type': \('qemu', 'kvm'\)\}"):
        tiny_guest.up(pc_guest['name'], machine='pc', virt_type='kvm', timeout=30)
    assert domain_xml_both(pc_guest['name']) == before
    assert tiny_guest.up(pc_guest['name'], machine='pc', timeout=30)['state'] == 'running'
