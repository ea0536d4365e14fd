"""Disk devices of a domain: target naming, <disk> XML, the hotplug plan.
Imports only _common (never _libvirt, _pci, _boot, _guest)."""
