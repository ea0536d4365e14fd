"""Inside a guest tree: device names, fstab, modprobe/modules.conf, initrd tools, Xen configs, the PV plan, apply and checks.
Imports only _common (never _libvirt, _disks, _pci, _boot)."""
