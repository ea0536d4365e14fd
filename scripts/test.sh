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
    trap 'kill -TERM -- "-$LAB_PID" 2>/dev/null || true; unyield' EXIT
fi

# While the lab runs, every other step yields the CPU to it: its TCG VMs are the slowest part
# of CI. The kernel first shares the CPU between sessions (autogroups), and a nice value only
# counts inside its own session; libvirtd starts every QEMU in a session of its own. So the
# steps yield through this session's autogroup (nice 10 in /proc/self/autogroup, put back at
# the end), and through nice 10 where the kernel has no autogroups. The guests Molecule and
# pytest boot are sessions of their own too: they keep the normal priority, so their boot
# and hotplug timeouts hold.
YIELD=()
AUTOGROUP_NICE=
unyield() {
    if [ -n "$AUTOGROUP_NICE" ]; then echo "$AUTOGROUP_NICE" > /proc/self/autogroup 2>/dev/null || true; fi
}
if [ -n "$LAB_PID" ]; then
    YIELD=(nice -n 10)
    # the file reads "/autogroup-<id> nice <n>"
    if [ -w /proc/self/autogroup ] && read -r _ _ AUTOGROUP_NICE < /proc/self/autogroup; then
        echo 10 > /proc/self/autogroup 2>/dev/null || AUTOGROUP_NICE=
    fi
fi

section "ansible-test sanity and ansible-doc"
"${YIELD[@]}" bash scripts/sanity.sh

section "ansible-core matrix: sanity + unit tests on the oldest and newest line (scripts/matrix.sh --ci)"
"${YIELD[@]}" bash scripts/matrix.sh --ci

section "ecosystem tools: ansible-lint, antsibull-docs, galaxy-importer, ansible-builder, antsibull-changelog"
"${YIELD[@]}" bash scripts/ecosystem.sh

section "Molecule scenario on tiny guests (extensions/molecule/disk_hotplug)"
"${YIELD[@]}" molecule test -s disk_hotplug

section "pytest"
set +e
"${YIELD[@]}" python -m pytest -ra -p no:cacheprovider "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: that is a broken suite, not a pass" >&2
    rc=1
fi

section "the lab (L3): waiting for scripts/lab.sh"
lab_rc=0
if [ -n "$LAB_PID" ]; then wait "$LAB_PID"; lab_rc=$?; fi
trap - EXIT
unyield
cat "$LAB_LOG"
set -e
[ "$lab_rc" -eq 0 ] || { echo "the lab failed (tests/output/lab/*.log)" >&2; exit 1; }
exit "$rc"
