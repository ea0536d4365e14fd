"""Offline stand-in for ansible-test's ``get-pip.py`` bootstrap script.

``ansible-test`` creates every sanity-test virtual environment with
``python -m venv --without-pip`` and then bootstraps pip in it by running
``https://ci-files.testing.ansible.com/ansible-test/get-pip-<version>.py``.
That host is not reachable from our machines, but ansible-test first looks for
a cached copy at ``~/.ansible/test/cache/get_pip_<version with _>.py``;
``scripts/sanity.sh`` installs this file there.

How ansible-test calls it (ansible_test/_util/target/setup/requirements.py,
``bootstrap()``): ``<venv python> quiet_pip.py --disable-pip-version-check
pip==<version> --no-setuptools --no-wheel`` with ``GET_PIP=<this file>`` in the
environment; ``quiet_pip.py`` then runs this file with
``runpy.run_module(..., run_name='__main__', alter_sys=True)``, so
``sys.argv[1:]`` holds those arguments and ``sys.executable`` is the python of
the new virtual environment.

What it does, like the real get-pip.py:

1. gets a working pip from the pip wheel bundled with Python: it runs pip
   straight from ``ensurepip/_bundled/pip-*.whl`` (fast, installs nothing) or,
   when that wheel is not there, bootstraps it with ``python -m ensurepip`` in a
   child process: ensurepip deletes every ``PIP_*`` variable and sets
   ``PIP_CONFIG_FILE=/dev/null`` in the process that runs it, which would drop
   this machine's pip settings (certificates, index, find-links);
2. runs ``pip install --upgrade --force-reinstall <arguments>`` with the
   caller's environment (minus a ``PIP_CONFIG_FILE`` pointing at
   ``/dev/null``), so the requested pip comes from the configured package index;
3. honours ``--no-setuptools`` / ``--no-wheel`` (and ``PIP_NO_SETUPTOOLS`` /
   ``PIP_NO_WHEEL``): ensurepip on Python < 3.12 also installs setuptools, which
   is then removed again unless it was asked for.
"""

import glob
import os
import re
import subprocess
import sys

_NAME_RE = re.compile(r'^\s*([A-Za-z0-9][A-Za-z0-9._-]*)')


def _log(message):
    sys.stderr.write('get-pip stand-in: %s\n' % message)
    sys.stderr.flush()


def _requirement_name(arg):
    """Return the normalised project name of a requirement argument, or None for an option."""
    if arg.startswith('-'):
        return None
    match = _NAME_RE.match(arg)
    return match.group(1).lower().replace('_', '-') if match else None


def _truthy(value):
    return str(value).strip().lower() in ('1', 'true', 'yes', 'on')


def _pip_env():
    env = dict(os.environ)
    if env.get('PIP_CONFIG_FILE') == os.devnull:
        del env['PIP_CONFIG_FILE']
    return env


def _run(cmd, env):
    _log('running: %s' % ' '.join(cmd))
    result = subprocess.run(cmd, env=env, check=False)
    if result.returncode != 0:
        _log('command failed with exit code %d' % result.returncode)
        sys.exit(result.returncode)


def _installed(python, env, name):
    cmd = [python, '-c', 'import importlib.metadata as m, sys\n'
           'try:\n    m.version(sys.argv[1])\nexcept m.PackageNotFoundError:\n    sys.exit(1)\n', name]
    return subprocess.run(cmd, env=env, check=False).returncode == 0


def _bundled_pip_wheel():
    """Return the path of the pip wheel that ships with this Python's ensurepip, or None."""
    try:
        import ensurepip
    except ImportError:
        return None
    wheels = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', 'pip-*.whl')))
    return wheels[-1] if wheels else None


def main(argv):
    python = sys.executable
    args = list(argv)
    no_setuptools = '--no-setuptools' in args or _truthy(os.environ.get('PIP_NO_SETUPTOOLS', ''))
    no_wheel = '--no-wheel' in args or _truthy(os.environ.get('PIP_NO_WHEEL', ''))
    args = [a for a in args if a not in ('--no-setuptools', '--no-wheel')]

    requested = {_requirement_name(a) for a in args} - {None}
    if 'pip' not in requested:
        args.append('pip')
    if not no_setuptools and 'setuptools' not in requested:
        args.append('setuptools')
    if not no_wheel and 'wheel' not in requested:
        args.append('wheel')

    env = _pip_env()

    had_setuptools = _installed(python, env, 'setuptools')
    install = ['install', '--quiet', '--upgrade', '--force-reinstall'] + args
    wheel = _bundled_pip_wheel()
    if wheel:
        # 1+2. run the bundled pip from its wheel to install the requested pip from the index
        _run([python, os.path.join(wheel, 'pip')] + install, env)
    else:
        # 1. the bundled pip (child process: ensurepip scrubs PIP_* from its own environment)
        _run([python, '-m', 'ensurepip', '--default-pip'], dict(env))
        # 2. the requested pip (and friends) from the configured package index
        _run([python, '-m', 'pip'] + install, env)

    # 3. ensurepip (Python < 3.12) brings setuptools along: drop it unless wanted
    if no_setuptools and 'setuptools' not in requested and not had_setuptools \
            and _installed(python, env, 'setuptools'):
        _run([python, '-m', 'pip', 'uninstall', '--quiet', '--yes', '--disable-pip-version-check', 'setuptools'], env)

    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
