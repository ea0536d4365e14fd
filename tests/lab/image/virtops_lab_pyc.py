"""Lab VM only: keep the bytecode Python compiles for Ansible's module payloads.

Ansible runs every module from a zip it sends (AnsiballZ), and zipimport compiles each source
file of that zip again on every run: in a TCG guest that is seconds per task. This hook, loaded
by a .pth file of the lab image, keeps each compiled code object under /var/cache, keyed by the
file's path inside the zip and a hash of its source, so a file is compiled once. What runs is
unchanged: the same source gives the same bytecode. Only the lab image carries it (tests/lab/lab_vm.py).
"""
import hashlib
import marshal
import os
import zipimport

CACHE_DIR = "/var/cache/virtops-lab-pyc"
_compile = zipimport._compile_source


def _cached_compile(pathname, source):
    inner = pathname.rsplit(".zip" + os.sep, 1)[-1]
    key = hashlib.sha256(inner.encode() + b"\0" + bytes(source)).hexdigest()
    path = os.path.join(CACHE_DIR, key)
    try:
        with open(path, "rb") as fh:
            return marshal.load(fh)
    except (OSError, ValueError, EOFError, TypeError):
        pass
    code = _compile(pathname, source)
    try:
        os.makedirs(CACHE_DIR, mode=0o700, exist_ok=True)
        tmp = "%s.%d.tmp" % (path, os.getpid())
        with open(tmp, "wb") as fh:
            marshal.dump(code, fh)
        os.replace(tmp, path)
    except OSError:
        pass
    return code


zipimport._compile_source = _cached_compile
