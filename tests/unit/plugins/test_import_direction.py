"""L0: the imports under plugins/ run one way: modules and filters -> concern packages -> _common.

The rule is data (ALLOWED below, the same as in docs/architecture.md, which also holds each
package's description: the packages' __init__.py files stay empty); the test parses the
imports of every file under plugins/ with ``ast`` and names each one that goes against it.
"""

import ast
import os
import re

import pytest

PLUGINS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'plugins')
PREFIX = 'ansible_collections.virtops.devices.plugins.'

COMMON = '_common'
CONCERNS = ('_libvirt', '_disks', '_pci', '_boot', '_guest')
# rooms above the concerns: _host composes them into one host's facts; _fleet (the fleet report's
# aggregation and schema) stands on _common alone. Their __init__.py are empty: docs/architecture.md
# describes them.
HOST = '_host'
FLEET = '_fleet'
COMPOSERS = (HOST, FLEET)
ROOMS = (COMMON,) + CONCERNS + COMPOSERS

# room -> the rooms it may import. A room is a module_utils package, or a plugin folder.
ALLOWED = {
    'modules': set(ROOMS),
    'filter': set(ROOMS),
    'doc_fragments': set(),
    COMMON: {COMMON},
    HOST: {HOST, COMMON} | set(CONCERNS),
    FLEET: {FLEET, COMMON},
}
for _concern in CONCERNS:
    ALLOWED[_concern] = {_concern, COMMON}


def room_of_file(relpath):
    """Return the room of a file given relative to plugins/ (``modules``, ``_pci`` ...)."""
    parts = relpath.replace(os.sep, '/').split('/')
    if parts[0] == 'module_utils':
        return parts[1] if len(parts) > 2 else 'module_utils (flat)'
    return parts[0]


def imported_rooms(source):
    """Yield ``(line, dotted name, room)`` for each import of this collection's plugins in ``source``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                yield node.lineno, '.' * node.level + (node.module or ''), 'relative import'
                continue
            names = [(node.module or '') + '.' + alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if not name.startswith(PREFIX):
                continue
            parts = name[len(PREFIX):].split('.')
            if parts[0] == 'module_utils':
                room = parts[1] if len(parts) > 1 else 'module_utils'
                if room not in ROOMS:
                    room = 'module_utils (flat)'
            else:
                room = parts[0]
            yield node.lineno, name, room


def violations(relpath, source):
    """Return the imports of ``source`` (the file ``relpath`` under plugins/) the rule forbids."""
    room = room_of_file(relpath)
    allowed = ALLOWED.get(room)
    if allowed is None:
        return ['%s: file outside every room (%s)' % (relpath, room)]
    return ['%s:%d imports %s (%s -> %s is not allowed)' % (relpath, line, name, room, target)
            for line, name, target in imported_rooms(source) if target not in allowed]


def plugin_files():
    found = []
    for dirpath, _dirs, files in os.walk(PLUGINS):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(dirpath, name)
                found.append(os.path.relpath(path, PLUGINS))
    return sorted(found)


def test_every_import_under_plugins_runs_one_way():
    problems = []
    for relpath in plugin_files():
        with open(os.path.join(PLUGINS, relpath)) as handle:
            problems.extend(violations(relpath, handle.read()))
    assert problems == []


ARCHITECTURE = os.path.join(PLUGINS, '..', 'docs', 'architecture.md')


def room_descriptions(text):
    """Return room -> its line in docs/architecture.md (``- `_room`: what lives there. Imports ...``)."""
    found = {}
    for line in text.splitlines():
        match = re.match(r'^- `(_[a-z]+)`: (.+)$', line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_module_utils_has_only_the_rooms_and_each_says_what_it_may_import():
    top = os.path.join(PLUGINS, 'module_utils')
    assert sorted(n for n in os.listdir(top) if not n.startswith('__pycache__')) == sorted(ROOMS)
    with open(ARCHITECTURE) as handle:
        described = room_descriptions(handle.read())
    for room in ROOMS:
        # ansible-test's empty-init sanity test: a package's __init__.py holds nothing.
        assert os.path.getsize(os.path.join(top, room, '__init__.py')) == 0, room
        assert room in described, 'docs/architecture.md has no line "- `%s`: ..." for the package' % room
        assert 'imports' in described[room].lower(), 'its line in docs/architecture.md says not what %s may import' % room
    assert sorted(described) == sorted(ROOMS), 'docs/architecture.md describes packages that do not exist'


@pytest.mark.parametrize('relpath, source', [
    ('module_utils/_guest/_x.py', 'from ansible_collections.virtops.devices.plugins.module_utils._boot import _grub\n'),
    ('module_utils/_pci/_x.py', 'import ansible_collections.virtops.devices.plugins.module_utils._libvirt._hotplug\n'),
    ('module_utils/_common/_x.py', 'from ansible_collections.virtops.devices.plugins.module_utils._pci import _nodedev\n'),
    ('module_utils/_disks/_x.py', 'from ansible_collections.virtops.devices.plugins.modules import virt_hostdev\n'),
    ('module_utils/_boot/_x.py', 'from ._grub import parse\n'),
    ('modules/m.py', 'from ansible_collections.virtops.devices.plugins.module_utils import _files\n'),
    ('module_utils/_flat.py', ''),
])
def test_a_wrong_way_import_is_named(relpath, source):
    assert len(violations(relpath, source)) == 1


def test_the_allowed_ways_pass():
    source = ('from ansible_collections.virtops.devices.plugins.module_utils._common import _files\n'
              'from ansible_collections.virtops.devices.plugins.module_utils._guest import _fstab\n'
              'import os\n')
    assert violations('module_utils/_guest/_x.py', source) == []
    assert violations('modules/m.py', source) == []
    assert violations('filter/f.py', source) == []
    assert violations('module_utils/_host/_x.py', source) == []


def test_host_composes_the_concerns_and_fleet_stands_on_common():
    boot = 'from ansible_collections.virtops.devices.plugins.module_utils._boot import _grub\n'
    host = 'from ansible_collections.virtops.devices.plugins.module_utils._host import _facts\n'
    assert violations('module_utils/_host/_x.py', boot) == []
    assert len(violations('module_utils/_fleet/_x.py', boot)) == 1
    assert len(violations('module_utils/_boot/_x.py', host)) == 1
    assert len(violations('module_utils/_fleet/_x.py', host)) == 1
