#!/usr/bin/env bash
# The whole test suite, as CI runs it (bash .ci/run calls exactly this):
#   set-up (packages, venv, libvirtd) and the tiny guest build; then the lab (L3, scripts/lab.sh:
#   the lab image and its four Molecule scenarios) with the machine to itself, but for
#   ansible-test sanity + ansible-doc beside its image build (mostly downloads); then the
#   ansible-core matrix (scripts/matrix.sh --ci) and the ecosystem tools (scripts/ecosystem.sh)
#   in the background while the Molecule scenario on tiny guests and pytest (unit L0, fixture
#   trees L1, real libvirt L2; two pytest-xdist workers) run.
# Why this order: every lab VM is a TCG guest that keeps a core busy, and a lab VM beside other
# work is slow even when it gets its share of the CPU (tests/lab/README.md); the lab alone takes
# both cores for about ten minutes, the rest shares them afterwards.
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

OUT=$TOP/tests/output
mkdir -p "$OUT"
LAB_LOG=$OUT/lab.log
BG_PIDS=()
# a step failing before the end must not leave the lab or a background step running on its own
# shellcheck disable=SC2329 # (run by the trap below)
stop_background() {
    local pid
    for pid in "${BG_PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
}
trap stop_background EXIT
background() {  # background <log> <command...>: in a session of its own (killed as a group)
    local log=$1; shift
    setsid "$@" > "$log" 2>&1 &
    BG_PIDS+=("$!")
}

section "the lab (L3): scripts/lab.sh, logs in tests/output/lab/"
if [ "${VIRTOPS_SKIP_LAB:-0}" = 1 ]; then
    echo "VIRTOPS_SKIP_LAB=1: the lab is skipped" > "$LAB_LOG"
    LAB_PID=
else
    # every lab scenario gates; VIRTOPS_LAB_OPTIONAL="scenario ..." lets named ones report without gating
    background "$LAB_LOG" bash scripts/lab.sh
    LAB_PID=${BG_PIDS[-1]}
fi

section "ansible-test sanity and ansible-doc (beside the lab image build)"
bash scripts/sanity.sh

set +e
lab_rc=0
if [ -n "$LAB_PID" ]; then
    section "the lab (L3): waiting for scripts/lab.sh, alone on the machine"
    wait "$LAB_PID"; lab_rc=$?
fi
cat "$LAB_LOG"
set -e

MATRIX_LOG=$OUT/matrix.log ECO_LOG=$OUT/ecosystem.log
section "in the background: the ansible-core matrix (scripts/matrix.sh --ci) and the ecosystem tools (scripts/ecosystem.sh)"
background "$MATRIX_LOG" bash scripts/matrix.sh --ci
MATRIX_PID=${BG_PIDS[-1]}
background "$ECO_LOG" bash scripts/ecosystem.sh
ECO_PID=${BG_PIDS[-1]}

set +e
section "Molecule scenario on tiny guests (extensions/molecule/disk_hotplug)"
molecule test -s disk_hotplug
molecule_rc=$?

section "pytest (two pytest-xdist workers; the tests that share libvirtd or a cached tree share one)"
python -m pytest -ra -p no:cacheprovider -n 2 --dist loadgroup "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: that is a broken suite, not a pass" >&2
    rc=1
fi

section "ansible-core matrix: sanity + unit tests on the oldest and newest line (scripts/matrix.sh --ci)"
wait "$MATRIX_PID"; matrix_rc=$?
cat "$MATRIX_LOG"
section "ecosystem tools: ansible-lint, antsibull-docs, galaxy-importer, ansible-builder, antsibull-changelog"
wait "$ECO_PID"; eco_rc=$?
cat "$ECO_LOG"
trap - EXIT
set -e

section "result"
failed=0
report() {  # report <what> <rc>
    if [ "$2" -eq 0 ]; then echo "  passed  $1"; else echo "  FAILED  $1 (exit $2)"; failed=1; fi
}
report "the lab (tests/output/lab/*.log)" "$lab_rc"
report "ansible-core matrix (tests/output/matrix.log)" "$matrix_rc"
report "ecosystem tools (tests/output/ecosystem.log)" "$eco_rc"
report "Molecule disk_hotplug" "$molecule_rc"
report "pytest" "$rc"
exit "$failed"
