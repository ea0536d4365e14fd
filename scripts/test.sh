#!/usr/bin/env bash
# The whole test suite, as CI runs it (bash .ci/run calls exactly this):
#   set-up (packages, venv, libvirtd), the tiny guest build, ansible-test sanity + ansible-doc,
#   the same on ansible-core 2.16 and 2.20 (scripts/matrix.sh --ci), the ecosystem tools
#   (scripts/ecosystem.sh), the Molecule scenarios (real guests), then pytest (unit L0, fixture
#   trees L1 with the AWX jobs through ansible-runner, real libvirt L2).
# Extra arguments go to pytest, e.g.  bash scripts/test.sh -k disk
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/setup.sh
source "$TOP/scripts/setup.sh"
cd "$TOP"
export ANSIBLE_NOCOLOR=1 PY_COLORS=0

section() { printf '\n\033[1m===== %s =====\033[0m\n' "$*"; }

section "tiny test guest"
python tests/lab/tiny_guest.py build

section "ansible-test sanity and ansible-doc"
bash scripts/sanity.sh

section "ansible-core matrix: sanity + unit tests on the oldest and newest line (scripts/matrix.sh --ci)"
bash scripts/matrix.sh --ci

section "ecosystem tools: ansible-lint, antsibull-docs, galaxy-importer, ansible-builder, antsibull-changelog"
bash scripts/ecosystem.sh

section "Molecule scenarios (extensions/molecule)"
molecule test --all

section "pytest"
set +e
python -m pytest -ra -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: that is a broken suite, not a pass" >&2
    exit 1
fi
exit "$rc"
