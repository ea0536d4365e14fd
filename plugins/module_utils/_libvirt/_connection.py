# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt connection: open it, find a domain, read its XML, and turn
libvirt's errors into messages that say what to do."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import traceback

try:
    import libvirt
    HAS_LIBVIRT = True
    LIBVIRT_IMPORT_ERROR = None
except ImportError:
    libvirt = None
    HAS_LIBVIRT = False
    LIBVIRT_IMPORT_ERROR = traceback.format_exc()


def fail_on_missing_libraries(module):
    """Fail the module with Ansible's standard message when libvirt-python or lxml is missing."""
    from ansible.module_utils.basic import missing_required_lib
    from ansible_collections.virtops.devices.plugins.module_utils._common import _domain_xml
    for has, lib, error in ((HAS_LIBVIRT, 'libvirt-python', LIBVIRT_IMPORT_ERROR),
                            (_domain_xml.HAS_LXML, 'lxml', _domain_xml.LXML_IMPORT_ERROR)):
        if not has:
            module.fail_json(msg=missing_required_lib(lib), exception=error)


class VirtError(Exception):
    """An error with a message meant for the operator."""


def _silence_libvirt_stderr():
    # libvirt prints every error to stderr by default; we report them ourselves.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


def connect(uri, events=False):
    """Open a read-write connection to ``uri``; with ``events`` one that receives domain events."""
    _silence_libvirt_stderr()
    if events:
        from ansible_collections.virtops.devices.plugins.module_utils._libvirt import _events
        _events.start_event_loop()
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise VirtError('cannot connect to libvirt at %s: %s. Is libvirtd running '
                        '(virtlogd -d; libvirtd -d without systemd) and is the uri right?'
                        % (uri, error_text(exc)))


def is_local(uri):
    """True when ``uri`` talks to the libvirtd of this machine (paths can be checked here)."""
    rest = uri.split('://', 1)[1] if '://' in uri else ''
    return rest.startswith('/')


def error_text(exc):
    """The message of a libvirtError, without libvirt's own prefixes."""
    if HAS_LIBVIRT and isinstance(exc, libvirt.libvirtError):
        return exc.get_error_message() or str(exc)
    return str(exc)


def error_code(exc):
    if HAS_LIBVIRT and isinstance(exc, libvirt.libvirtError):
        return exc.get_error_code()
    return None


def domain_names(conn):
    """Names of every domain libvirt knows, running or only defined."""
    return sorted(dom.name() for dom in conn.listAllDomains(0))


def lookup_domain(conn, name):
    """Return the domain called ``name``; a VirtError names the known ones otherwise."""
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if error_code(exc) != libvirt.VIR_ERR_NO_DOMAIN:
            raise VirtError('cannot look up domain %r: %s' % (name, error_text(exc)))
    known = domain_names(conn)
    raise VirtError('domain %r not found at %s; known domains: %s. Check the name '
                    '(option name)' % (name, conn.getURI(), ', '.join(known) or 'none'))


def domain_xml(dom, inactive=False):
    """The domain's live XML, or with ``inactive`` its persistent definition."""
    flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
    return dom.XMLDesc(flags)


def domain_scopes(dom):
    """Which definitions the domain has: ``{'live': running?, 'config': persistent?}``."""
    return {'live': bool(dom.isActive()), 'config': bool(dom.isPersistent())}


def affect_flag(scope):
    """The libvirt flag for changing the live domain or its persistent config."""
    return {'live': libvirt.VIR_DOMAIN_AFFECT_LIVE,
            'config': libvirt.VIR_DOMAIN_AFFECT_CONFIG}[scope]
