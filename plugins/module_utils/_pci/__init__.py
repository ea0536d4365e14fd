"""Host PCI devices: addresses, node devices, IOMMU groups, hostdev/interface XML and plans, VF pools.
Imports only _common (never _libvirt, _disks, _boot, _guest)."""
