#!/usr/bin/env bash
# The whole test suite, as CI runs it (bash .ci/run calls exactly this):
#   set-up (packages, venv, libvirtd), the tiny guest build, ansible-test sanity + ansible-doc,
#   the same on ansible-core 2.16 and 2.20 (scripts/matrix.sh --ci), the ecosystem tools
#   (scripts/ecosystem.sh), the Molecule scenario on tiny guests,
#   pytest (unit L0, fixture trees L1, real libvirt L2), and the lab (L3, scripts/lab.sh:
#   the lab image and its four Molecule scenarios, started in the background right after
#   the set-up and waited for at the end).
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

section "the lab (L3) starts in the background: scripts/lab.sh, logs in tests/output/lab/"
LAB_LOG=$TOP/tests/output/lab.log
mkdir -p "$TOP/tests/output"
if [ "${VIRTOPS_SKIP_LAB:-0}" = 1 ]; then
    echo "VIRTOPS_SKIP_LAB=1: the lab is skipped" > "$LAB_LOG"
    LAB_PID=
else
    # every lab scenario gates; VIRTOPS_LAB_OPTIONAL="scenario ..." lets named ones report without gating
    setsid bash scripts/lab.sh > "$LAB_LOG" 2>&1 &
    LAB_PID=$!
    # a step failing before the end must not leave the lab running on its own
    trap 'kill -TERM -- "-$LAB_PID" 2>/dev/null || true' EXIT
fi

# While the lab runs, the steps that boot no guest yield the CPU (nice 10); the steps that boot
# guests (Molecule, pytest) keep the normal priority, as their guests have boot and hotplug
# timeouts. Each QEMU is a session (autogroup) of its own, so this weighs little against the
# lab's VMs; more priority for them was measured not to shorten the lab (tests/lab/README.md).
YIELD=()
if [ -n "$LAB_PID" ]; then YIELD=(nice -n 10); fi

section "ansible-test sanity and ansible-doc"
"${YIELD[@]}" bash scripts/sanity.sh

section "ansible-core matrix: sanity + unit tests on the oldest and newest line (scripts/matrix.sh --ci)"
"${YIELD[@]}" bash scripts/matrix.sh --ci

section "ecosystem tools: ansible-lint, antsibull-docs, galaxy-importer, ansible-builder, antsibull-changelog"
"${YIELD[@]}" bash scripts/ecosystem.sh

section "Molecule scenario on tiny guests (extensions/molecule/disk_hotplug)"
molecule test -s disk_hotplug

section "pytest"
set +e
python -m pytest -ra -p no:cacheprovider "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: that is a broken suite, not a pass" >&2
    rc=1
fi

section "the lab (L3): waiting for scripts/lab.sh"
lab_rc=0
if [ -n "$LAB_PID" ]; then wait "$LAB_PID"; lab_rc=$?; fi
trap - EXIT
cat "$LAB_LOG"
set -e
[ "$lab_rc" -eq 0 ] || { echo "the lab failed (tests/output/lab/*.log)" >&2; exit 1; }
exit "$rc"
