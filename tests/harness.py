"""Test harness: run this collection's modules through real ansible-playbook.

Used by the pytest suites under tests/ (L1 and L2). A module run is a one-task
playbook written as JSON (valid YAML), run with ansible-playbook against
localhost; the registered result is written to a file and returned as a dict.
"""

import json
import os
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS_ROOT = os.path.join(TOP, 'tests', 'output', 'collections')
NAMESPACE, NAME = 'virtops', 'devices'


def collection_path():
    """Make ``tests/output/collections/ansible_collections/virtops/devices`` point at the repo."""
    parent = os.path.join(COLLECTIONS_ROOT, 'ansible_collections', NAMESPACE)
    link = os.path.join(parent, NAME)
    os.makedirs(parent, exist_ok=True)
    if not os.path.islink(link):
        try:
            os.symlink(TOP, link)
        except FileExistsError:  # another pytest-xdist worker made it first
            pass
    return COLLECTIONS_ROOT


def ansible_env(extra=None):
    """Environment for ansible-playbook: this collection, the venv's Python, quiet output."""
    env = dict(os.environ)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': collection_path(),
        'ANSIBLE_ROLES_PATH': os.path.join(TOP, 'roles'),
        'ANSIBLE_HOST_KEY_CHECKING': 'False',
        'ANSIBLE_RETRY_FILES_ENABLED': 'False',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_LOCALHOST_WARNING': 'False',
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'False',
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
    })
    bindir = os.path.dirname(sys.executable)
    env['PATH'] = bindir + os.pathsep + env.get('PATH', '')
    env.update(extra or {})
    return env


def run_playbook(playbook, check=False, diff=False, extra_vars=None, inventory=None, env=None):
    """Run ``playbook`` (a path) and return the CompletedProcess."""
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), playbook,
           '-i', inventory or 'localhost,', ]
    if not inventory:
        cmd += ['-c', 'local']
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    if extra_vars:
        cmd += ['-e', json.dumps(extra_vars)]
    return subprocess.run(cmd, env=ansible_env(env), cwd=TOP, capture_output=True, text=True, check=False)


def run_module(module, args, check=False, diff=False, env=None):
    """Run ``virtops.devices.<module>`` with ``args`` through ansible-playbook.

    Returns the registered result dict (with ``failed``/``msg`` on failure).
    """
    fqcn = module if '.' in module else '%s.%s.%s' % (NAMESPACE, NAME, module)
    with tempfile.TemporaryDirectory(prefix='virtops-run-') as tmp:
        out = os.path.join(tmp, 'result.json')
        play = [{
            'hosts': 'localhost', 'gather_facts': False,
            'tasks': [
                {'name': 'module under test', fqcn: args, 'register': 'result', 'ignore_errors': True},
                {'name': 'save result', 'ansible.builtin.copy': {
                    'content': '{{ result | to_json }}', 'dest': out}, 'check_mode': False,
                 'diff': False},
            ],
        }]
        book = os.path.join(tmp, 'play.yml')
        with open(book, 'w') as handle:
            json.dump(play, handle)
        proc = run_playbook(book, check=check, diff=diff, env=env)
        if not os.path.exists(out):
            raise AssertionError('ansible-playbook did not run the module:\n%s\n%s' % (proc.stdout, proc.stderr))
        with open(out) as handle:
            result = json.load(handle)
        result['_stdout'] = proc.stdout
        return result
