"""Summarise an ``ansible-test sanity`` run for scripts/sanity.sh.

Usage: python summarize.py <console log> <tests/output/junit directory>

Reads the console log (which tests ran, how many issues each found, which were
skipped and why) and the JUnit files written by ``--junit`` (the status of every
test).  Exits 1 when a test failed, or when a test did not run because the set-up
is broken (no virtual environment, a missing program such as ``shellcheck``), else 0.
"""

import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

RUNNING = re.compile(r'Running sanity test "([^"]+)"(?: on Python (\S+))?')
FOUND = re.compile(r'ERROR: Found (\d+) \S+ issue')
NOTE = re.compile(r'WARNING: (Skipping sanity test .*|Required program .* not found.*)')
SKIPPED_NAME = re.compile(r'Skipping sanity test "([^"]+)"(?: on Python (\S+))?')
BROKEN = re.compile(r'virtual environment|could not be found|Required program')
PY_SUFFIX = re.compile(r'-python-\d+(\.\d+)*$')


def key(name):
    """Return the test name without its '-python-X.Y' suffix (the console and JUnit differ there)."""
    return PY_SUFFIX.sub('', name)


def read_log(path):
    """Return the tests in run order, their issue counts and their skip notes."""
    ran, issues, notes, current = [], {}, {}, None
    with open(path, encoding='utf-8', errors='replace') as log:
        for line in log:
            line = line.rstrip('\n')
            match = RUNNING.match(line)
            if match:
                current = match.group(1)
                ran.append(current)
                continue
            match = FOUND.match(line)
            if match and current:
                issues[current] = int(match.group(1))
                continue
            match = NOTE.match(line)
            if match:
                named = SKIPPED_NAME.search(line)
                if named:
                    name = named.group(1)
                else:
                    name = current or 'ansible-test'
                notes.setdefault(name, []).append(match.group(1))
    return ran, issues, notes


def read_junit(directory):
    """Return {test name: 'passed' | 'failed' | 'skipped: <reason>'}."""
    status = {}
    for path in sorted(glob.glob(os.path.join(directory, 'ansible-test-sanity-*.xml'))):
        for case in ET.parse(path).iter('testcase'):
            name = case.get('name')
            skipped = case.find('skipped')
            if case.find('failure') is not None or case.find('error') is not None:
                status[key(name)] = 'failed'
            elif skipped is not None:
                status[key(name)] = 'skipped: ' + (skipped.get('message') or skipped.text or 'No tests applicable.')
            else:
                status[key(name)] = 'passed'
    return status


def main(log_path, junit_dir):
    """Print the summary and return the exit status."""
    ran, issues, notes = read_log(log_path)
    status = read_junit(junit_dir)
    names = ran + sorted(set(status) - set(ran))
    failed = [n for n in names if status.get(n) == 'failed' or n in issues]
    passed = [n for n in names if status.get(n) == 'passed' and n not in failed]
    skipped = [n for n in names if n not in passed and n not in failed]

    print('\n==================== sanity summary ====================')
    print('passed  (%d): %s' % (len(passed), ', '.join(passed) or '-'))
    counted = ['%s (%s)' % (n, '%d issues' % issues[n] if n in issues else 'see above') for n in failed]
    print('failed  (%d): %s' % (len(failed), ', '.join(counted) or '-'))
    print('skipped (%d):%s' % (len(skipped), '' if skipped else ' -'))
    broken = []
    for name in skipped:
        why = '; '.join(notes.get(name, [])) or status.get(name, 'no result').replace('skipped: ', '', 1)
        print('  - %s: %s' % (name, why))
        if BROKEN.search(why):
            broken.append(name)
    if broken:
        print('set-up problem, counted as failed: %s did not run' % ', '.join(broken))
    if not names:
        print('no sanity test result found')
        return 1
    return 1 if failed or broken else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
