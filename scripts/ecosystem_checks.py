"""Checks of scripts/ecosystem.sh that are more than one tool's exit status.

    ecosystem_checks.py requirements TOP          ranges, lock, lower bounds (prints the lower-bound pins)
    ecosystem_checks.py ee TOP CONTEXT PIP BINDEP the EE files, ansible-builder create's context, introspect's output
    ecosystem_checks.py importer LOG              galaxy-importer's log: no WARNING or ERROR line
    ecosystem_checks.py changelog COPY            the trial release's CHANGELOG.rst and changelog.yaml

Each prints its findings, then one summary line, and exits 1 when it found anything.
Runs in the ecosystem venv (packaging, PyYAML and bindep come with the tools).
"""
from __future__ import annotations

import os
import re
import sys

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# The runtime requirements of requirements.txt / meta/ee-requirements.txt are libraries only:
# the controller (ansible-core) is what requires_ansible and the execution environment choose.
NOT_RUNTIME = {'ansible-core', 'ansible', 'ansible-base'}


def req_lines(path, seen=None):
    """Requirement lines of a pip requirements file, following -r includes."""
    out = []
    with open(path, encoding='utf-8') as f:
        for raw in f:
            line = raw.split('#', 1)[0].strip()
            if not line:
                continue
            if line.startswith(('-r ', '--requirement ')):
                out.extend(req_lines(os.path.join(os.path.dirname(path), line.split(None, 1)[1]), seen))
                continue
            out.append(line)
    return out


def reqs(path):
    return [Requirement(line) for line in req_lines(path)]


def lock_pins(path):
    pins = {}
    for req in reqs(path):
        spec = list(req.specifier)
        if len(spec) != 1 or spec[0].operator != '==':
            raise SystemExit('%s: %s is not an exact pin' % (path, req))
        pins[canonicalize_name(req.name)] = spec[0].version
    return pins


def lower_bound(req):
    for spec in req.specifier:
        if spec.operator == '>=':
            return spec.version
    return None


def check_requirements(top):
    problems = []
    runtime = reqs(os.path.join(top, 'requirements.txt'))
    ee_runtime = reqs(os.path.join(top, 'meta', 'ee-requirements.txt'))
    pins = lock_pins(os.path.join(top, 'requirements-lock.txt'))
    for name, items in (('requirements.txt', runtime), ('meta/ee-requirements.txt', ee_runtime)):
        for req in items:
            if canonicalize_name(req.name) in NOT_RUNTIME:
                problems.append('%s lists %s: the controller is not a runtime requirement' % (name, req.name))
            ops = {s.operator for s in req.specifier}
            if ops & {'==', '===', '~='} or not ({'>='} <= ops and ops & {'<', '<='}):
                problems.append('%s: %s is not a compatible range (>=lower,<upper)' % (name, req))
    if sorted(map(str, runtime)) != sorted(map(str, ee_runtime)):
        problems.append('meta/ee-requirements.txt (%s) differs from requirements.txt (%s)'
                        % (', '.join(map(str, ee_runtime)), ', '.join(map(str, runtime))))
    for req in runtime:
        pin = pins.get(canonicalize_name(req.name))
        if pin is not None and pin not in req.specifier:
            problems.append('requirements-lock.txt pins %s==%s outside requirements.txt %s' % (req.name, pin, req.specifier))
    for req in reqs(os.path.join(top, 'requirements-test.txt')):
        if canonicalize_name(req.name) not in pins:
            problems.append('%s (requirements-test.txt) is not pinned in requirements-lock.txt' % req.name)
    for problem in problems:
        print('  ' + problem)
    lower = ['%s==%s' % (r.name, lower_bound(r)) for r in runtime if lower_bound(r)]
    print('lower bounds: ' + ' '.join(lower))
    print('%d finding(s): %d runtime range(s), %d lock pin(s)' % (len(problems), len(runtime), len(pins)))
    return 1 if problems else 0


def read_bindep(path):
    with open(path, encoding='utf-8') as f:
        return [line.split('#', 1)[0].strip() for line in f if line.split('#', 1)[0].strip()]


def active(bindep_lines, profiles):
    from bindep.depends import Depends
    return [rule[0] for rule in Depends('\n'.join(bindep_lines) + '\n').active_rules(profiles)]


def check_ee(top, context, pip_out, bindep_out):
    problems = []
    with open(os.path.join(top, 'meta', 'execution-environment.yml'), encoding='utf-8') as f:
        meta = yaml.safe_load(f)
    with open(os.path.join(top, 'execution-environment.yml'), encoding='utf-8') as f:
        example = yaml.safe_load(f)
    if meta.get('version') != 3:
        problems.append('meta/execution-environment.yml is not version 3')
    deps = meta.get('dependencies', {})
    if not meta.get('images', {}).get('base_image', {}).get('name'):
        problems.append('meta/execution-environment.yml names no base image')
    if 'ansible_core' not in deps:
        problems.append('meta/execution-environment.yml names no ansible-core')
    if deps.get('python') != 'meta/ee-requirements.txt' or deps.get('system') != 'meta/ee-bindep.txt':
        problems.append('meta/execution-environment.yml must name meta/ee-requirements.txt and meta/ee-bindep.txt '
                        '(relative to the collection root, as ansible-builder reads an installed collection)')
    for key in ('images', 'additional_build_steps'):
        if meta.get(key) != example.get(key):
            problems.append('execution-environment.yml and meta/execution-environment.yml differ in %s' % key)
    for key in ('ansible_core', 'ansible_runner', 'python_interpreter', 'python', 'system'):
        if deps.get(key) != example.get('dependencies', {}).get(key):
            problems.append('execution-environment.yml and meta/execution-environment.yml differ in dependencies.%s' % key)

    # ansible-builder create: the context installs both files
    want_pip = req_lines(os.path.join(top, 'meta', 'ee-requirements.txt'))
    want_bindep = read_bindep(os.path.join(top, 'meta', 'ee-bindep.txt'))
    containerfile = os.path.join(context, 'Containerfile')
    with open(containerfile, encoding='utf-8') as f:
        text = f.read()
    for step in ('introspect.py introspect', '/output/scripts/assemble', '/output/scripts/install-from-bindep',
                 'ansible-galaxy collection install'):
        if step not in text:
            problems.append('the Containerfile lacks the step %r' % step)
    if req_lines(os.path.join(context, '_build', 'requirements.txt')) != want_pip:
        problems.append('the build context\'s requirements.txt is not meta/ee-requirements.txt')
    if read_bindep(os.path.join(context, '_build', 'bindep.txt')) != want_bindep:
        problems.append('the build context\'s bindep.txt is not meta/ee-bindep.txt')

    # ansible-builder introspect on the installed collection
    got_pip = [line.split('#', 1)[0].strip() for line in req_lines(pip_out)]
    if got_pip != want_pip:
        problems.append('introspect found Python requirements %s, meta/ee-requirements.txt has %s' % (got_pip, want_pip))
    got_bindep = read_bindep(bindep_out)
    if got_bindep != want_bindep:
        problems.append('introspect found system requirements %s, meta/ee-bindep.txt has %s' % (got_bindep, want_bindep))

    # what the stages install: headers in the builder stage, the libvirt client library in the final image
    platforms = {'rpm': ['platform:rpm', 'platform:centos', 'platform:redhat'], 'dpkg': ['platform:dpkg', 'platform:debian']}
    need = {'rpm': (['libvirt-devel', 'gcc'], ['libvirt-libs']), 'dpkg': (['libvirt-dev', 'gcc'], ['libvirt0'])}
    summary = []
    for family, profiles in platforms.items():
        build = active(got_bindep, profiles + ['compile'])
        final = active(got_bindep, profiles)
        headers, runtime = need[family]
        for pkg in headers:
            if pkg not in build:
                problems.append('%s: the build stage would not install %s' % (family, pkg))
        for pkg in runtime:
            if pkg not in final:
                problems.append('%s: the final image would not install %s' % (family, pkg))
        summary.append('%s final image: %s' % (family, ' '.join(final)))
    for problem in problems:
        print('  ' + problem)
    print('%d finding(s); introspect: %d Python, %d system requirement(s); %s'
          % (len(problems), len(got_pip), len(got_bindep), '; '.join(summary)))
    return 1 if problems else 0


def check_importer(log):
    with open(log, encoding='utf-8', errors='replace') as f:
        lines = f.read().splitlines()
    bad = [line for line in lines if re.match(r'\s*(WARNING|ERROR)\b', line) or 'Traceback' in line]
    done = any('Importer processing completed successfully' in line for line in lines)
    for line in bad:
        print('  ' + line)
    errors = sum(1 for line in bad if 'WARNING' not in line)
    print('%d error(s), %d warning(s)%s' % (errors, len(bad) - errors, '' if done else ', import did not complete'))
    return 0 if done and not bad else 1


def check_changelog(copy):
    problems = []
    with open(os.path.join(copy, 'changelogs', 'changelog.yaml'), encoding='utf-8') as f:
        data = yaml.safe_load(f)
    releases = data.get('releases', {})
    if len(releases) != 1:
        problems.append('expected one trial release, found %s' % sorted(releases))
        release = {}
    else:
        release = next(iter(releases.values()))
    modules = sorted(m['name'] for m in release.get('modules', []))
    want_modules = sorted(os.path.splitext(n)[0] for n in os.listdir(os.path.join(copy, 'plugins', 'modules'))
                          if n.endswith('.py') and not n.startswith('_'))
    if modules != want_modules:
        problems.append('New Modules lists %s, plugins/modules has %s' % (modules, want_modules))
    objects = release.get('objects', {})
    roles = sorted(o['name'] for o in objects.get('role', []))
    want_roles = sorted(d for d in os.listdir(os.path.join(copy, 'roles')) if not d.startswith('.'))
    if roles != want_roles:
        problems.append('New Roles lists %s, roles/ has %s' % (roles, want_roles))
    playbooks = sorted(o['name'] for o in objects.get('playbook', []))
    want_playbooks = sorted(n[:-4] for n in os.listdir(os.path.join(copy, 'playbooks')) if n.endswith('.yml'))
    if playbooks != want_playbooks:
        problems.append('New Playbooks lists %s, playbooks/ has %s' % (playbooks, want_playbooks))
    filters = sorted(p['name'] for p in release.get('plugins', {}).get('filter', []))
    # Prose that announces a new plugin, role or playbook would list it a second time.
    prose = re.compile(r'^\s*[\w.,/ ]+ - new (module|role|playbook|filter|plugin)\b', re.I)
    for section, entries in release.get('changes', {}).items():
        for entry in entries if isinstance(entries, list) else []:
            if prose.match(entry):
                problems.append('%s announces a new plugin in prose: %s' % (section, entry[:100]))
    rst = os.path.join(copy, 'CHANGELOG.rst')
    if not os.path.exists(rst):
        problems.append('no CHANGELOG.rst was written')
    else:
        with open(rst, encoding='utf-8') as f:
            text = f.read()
        for title in ('New Modules', 'New Roles', 'New Playbooks', 'New Plugins'):
            if title not in text:
                problems.append('CHANGELOG.rst has no %r section' % title)
    for problem in problems:
        print('  ' + problem)
    print('%d finding(s); %d modules, %d filter(s), %d roles, %d playbooks listed once each'
          % (len(problems), len(modules), len(filters), len(roles), len(playbooks)))
    return 1 if problems else 0


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == 'requirements':
        return check_requirements(*args)
    if cmd == 'ee':
        return check_ee(*args)
    if cmd == 'importer':
        return check_importer(*args)
    if cmd == 'changelog':
        return check_changelog(*args)
    print(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
