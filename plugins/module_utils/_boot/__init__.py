"""Host boot arguments: kernel-argument rules, GRUB/BLS readers and writers, boot-setup detection and its apply.
Imports only _common (never _libvirt, _disks, _pci, _guest)."""
