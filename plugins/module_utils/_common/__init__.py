"""Common ground: atomic files, tree transaction and confinement, bounded tools, validation grammars, domain XML, PCI slots.
Imports nothing of this collection outside _common; every other package may import it."""
