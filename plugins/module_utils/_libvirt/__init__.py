"""Talking to libvirt: connection and errors, host capabilities, live/config device apply with undo.
Imports only _common (never _disks, _pci, _boot, _guest)."""
