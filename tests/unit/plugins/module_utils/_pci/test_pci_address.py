"""L0: reading and writing host PCI addresses in sysfs, lspci and libvirt forms."""

import pytest

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
from ansible_collections.virtops.devices.plugins.module_utils._pci import _pci_address
from ansible_collections.virtops.devices.plugins.module_utils._pci._pci_address import AddressError


@pytest.mark.parametrize('text, expected', [
    ('0000:01:00.0', (0, 1, 0, 0)),
    ('0000:3b:1f.7', (0, 0x3b, 0x1f, 7)),
    ('  0001:AF:02.3 ', (1, 0xaf, 2, 3)),
    ('01:00.1', (0, 1, 0, 1)),
    ('pci_0000_01_00_0', (0, 1, 0, 0)),
    ('PCI_0000_82_10_2', (0, 0x82, 0x10, 2)),
    ('ffff:ff:1f.7', (0xffff, 0xff, 0x1f, 7)),
])
def test_parses_every_form(text, expected):
    assert _pci_address.parse_pci_address(text) == expected


@pytest.mark.parametrize('text, why', [
    ('', 'malformed PCI address'),
    ('0000:01:00', 'malformed PCI address'),
    ('0000:01:00.8', 'malformed PCI address'),
    ('0000:1:0.0', 'malformed PCI address'),
    ('pci_0000_01_00', 'malformed PCI address'),
    ('pci-0000-01-00-0', 'malformed PCI address'),
    ('eth0', 'malformed PCI address'),
    ('0000:01:20.0', 'slot 0x20 is above 0x1f'),
    ('10000:01:00.0', 'PCI domain 0x10000 is above 0xffff'),
])
def test_bad_forms_are_named(text, why):
    with pytest.raises(AddressError) as err:
        _pci_address.parse_pci_address(text)
    assert why in str(err.value)
    assert repr(text) in str(err.value)
    if why == 'malformed PCI address':
        assert "'pci_0000_01_00_0'" in str(err.value)


def test_non_string_is_refused():
    with pytest.raises(AddressError, match='is not a string'):
        _pci_address.parse_pci_address(1)


def test_round_trips_between_forms():
    addr = _pci_address.parse_pci_address('pci_0000_3b_02_1')
    assert _pci_address.address_text(addr) == '0000:3b:02.1'
    assert _pci_address.nodedev_name(addr) == 'pci_0000_3b_02_1'
    assert _pci_address.normalize('3b:02.1') == '0000:3b:02.1'


def test_xml_attributes_and_back():
    attrs = _pci_address.address_attributes((0, 0x3b, 0x10, 2))
    assert attrs == {'domain': '0x0000', 'bus': '0x3b', 'slot': '0x10', 'function': '0x2'}
    node = _domain_xml.element('address', attrs)
    assert _pci_address.address_from_element(node) == (0, 0x3b, 0x10, 2)


def test_decimal_xml_values_are_read_as_decimal():
    node = _domain_xml.parse("<address domain='0' bus='10' slot='08' function='1'/>")
    assert _pci_address.address_from_element(node) == (0, 10, 8, 1)
