"""L0: counting free PCI hotplug slots on i440fx and q35."""

from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml, _pci_slots


def q35(ports, used_buses, hotplug_off=()):
    ctl = ''.join("<controller type='pci' index='%d' model='pcie-root-port'>%s"
                  "<address type='pci' bus='0x00' slot='0x02' function='0x%x'/></controller>"
                  % (i, "<target hotplug='off'/>" if i in hotplug_off else '', i) for i in ports)
    dev = ''.join("<disk device='disk'><address type='pci' bus='0x%02x' slot='0x00'/></disk>" % b
                  for b in used_buses)
    return _domain_xml.parse("<domain><os><type machine='pc-q35-7.2'>hvm</type></os><devices>"
                             "<controller type='pci' index='0' model='pcie-root'/>%s%s</devices></domain>"
                             % (ctl, dev))


def test_q35_counts_empty_hotpluggable_root_ports():
    root = q35([1, 2, 3, 4], [1, 3], hotplug_off=(4,))
    assert _pci_slots.free_pcie_ports(root) == [2]
    assert _pci_slots.free_hotplug_slots(root) == 1


def test_q35_without_ports_has_no_slot():
    assert _pci_slots.free_hotplug_slots(q35([], [])) == 0


def test_i440fx_counts_root_bus_slots():
    dev = ''.join("<disk><address type='pci' bus='0x00' slot='0x%02x' function='0x0'/></disk>" % s
                  for s in (1, 2, 3))
    multi = "<x><address type='pci' bus='0x00' slot='0x01' function='0x1'/></x>"
    root = _domain_xml.parse("<domain><os><type machine='pc-i440fx-7.2'>hvm</type></os><devices>%s%s"
                             "</devices></domain>" % (dev, multi))
    assert _pci_slots.free_hotplug_slots(root) == 28


def test_message_names_the_fix():
    msg = _pci_slots.no_slot_message('g', 2, 1, True, ', or use bus: scsi')
    assert "pcie-root-port" in msg and 'bus: scsi' in msg and "needs 2" in msg
