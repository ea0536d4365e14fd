# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host PCI addresses in the forms operators and libvirt use.

An address is a tuple ``(domain, bus, slot, function)`` of ints. Accepted text:
``0000:01:00.0`` (sysfs, lspci -D), ``01:00.0`` (lspci, PCI domain 0) and
``pci_0000_01_00_0`` (libvirt's node device name).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

_SYSFS = re.compile(r'^(?:([0-9a-f]{4,8}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$')
_NODEDEV = re.compile(r'^pci_([0-9a-f]{4,8})_([0-9a-f]{2})_([0-9a-f]{2})_([0-7])$')

FORMS = "'0000:01:00.0', '01:00.0' or 'pci_0000_01_00_0'"


class AddressError(ValueError):
    """A PCI address that cannot be read; the message names it and the accepted forms."""


def parse_pci_address(text):
    """``(domain, bus, slot, function)`` of a PCI address in any accepted form."""
    if not isinstance(text, str):
        raise AddressError('PCI address %r is not a string; write it as %s' % (text, FORMS))
    value = text.strip().lower()
    match = _SYSFS.match(value) or _NODEDEV.match(value)
    if not match:
        raise AddressError('malformed PCI address %r: write it as %s' % (text, FORMS))
    domain, bus, slot, function = [int(part, 16) if part else 0 for part in match.groups()]
    if domain > 0xffff:
        raise AddressError('malformed PCI address %r: PCI domain %#x is above 0xffff' % (text, domain))
    if slot > 0x1f:
        raise AddressError('malformed PCI address %r: slot %#x is above 0x1f (a PCI bus has 32 slots)'
                           % (text, slot))
    return (domain, bus, slot, function)


def address_text(address):
    """``0000:01:00.0`` for an address tuple."""
    return '%04x:%02x:%02x.%x' % tuple(address)


def nodedev_name(address):
    """libvirt's node device name, ``pci_0000_01_00_0``."""
    return 'pci_%04x_%02x_%02x_%x' % tuple(address)


def normalize(text):
    """Any accepted form of an address as ``0000:01:00.0``."""
    return address_text(parse_pci_address(text))


def _xml_int(text):
    text = (text or '0').strip().lower()
    return int(text, 16) if text.startswith('0x') else int(text, 10)


def address_from_element(node):
    """The address tuple of an XML ``<address domain= bus= slot= function=>`` element."""
    return tuple(_xml_int(node.get(key)) for key in ('domain', 'bus', 'slot', 'function'))


def address_attributes(address):
    """Attributes for a libvirt ``<address>`` element (hex, as libvirt writes them)."""
    domain, bus, slot, function = address
    return {'domain': '0x%04x' % domain, 'bus': '0x%02x' % bus,
            'slot': '0x%02x' % slot, 'function': '0x%x' % function}
