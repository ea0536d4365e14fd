#!/usr/bin/env bash
# The lab (L3): boot-time changes proven by booting. Builds the lab image once (a GRUB-booted
# Debian 12 with emulated Intel VT-d, tests/lab/lab_vm.py; reused while its inputs are
# unchanged), then runs the Molecule scenarios that drive lab VMs over SSH on 127.0.0.1:
#   iommu_host  pv_guest  disk_hotplug_distro  hostdev_live
# Each scenario's log goes to tests/output/lab/<scenario>.log and its verify step's evidence
# to tests/output/lab/<scenario>.json; a summary with per-scenario times is printed at the end.
# Usage: bash scripts/lab.sh [--jobs N] [scenario ...]     (default: all four, 2 at a time)
# A scenario runs for at most VIRTOPS_LAB_TIMEOUT seconds (default 2700), then its VMs are
# destroyed. Scenarios named in VIRTOPS_LAB_OPTIONAL (space-separated) are run and reported
# like the others, but their failure does not fail this script: a scenario still being
# brought up is listed there, in scripts/test.sh, and named in the summary as not gating.
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VIRTOPS_VENV:-$TOP/.venv}
export PATH="$VENV/bin:$PATH" ANSIBLE_NOCOLOR=1 PY_COLORS=0 NO_COLOR=1
cd "$TOP" || exit 1

JOBS=2
if [ "${1:-}" = "--jobs" ]; then JOBS=$2; shift 2; fi
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(hostdev_live pv_guest iommu_host disk_hotplug_distro)
OUT=$TOP/tests/output/lab
mkdir -p "$OUT"

say() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
stamp() { local line; while IFS= read -r line; do printf '%(%H:%M:%S)T %s\n' -1 "$line"; done; }

# the scenarios find the collection through this link (their molecule.yml: prerun false)
mkdir -p "$TOP/tests/output/collections/ansible_collections/virtops"
ln -sfn "$TOP" "$TOP/tests/output/collections/ansible_collections/virtops/devices"

t0=$(date +%s)
say "building (or reusing) the lab image"
if ! python tests/lab/lab_vm.py build > "$OUT/build.log" 2>&1; then
    say "lab image build FAILED (tests/output/lab/build.log):"
    tail -20 "$OUT/build.log"
    exit 1
fi
say "lab image ready in $(( $(date +%s) - t0 )) s"

LAB_TIMEOUT=${VIRTOPS_LAB_TIMEOUT:-2700}
OPTIONAL=" ${VIRTOPS_LAB_OPTIONAL:-} "

run_one() {
    local s=$1 start rc
    start=$(date +%s)
    # every line stamped with the wall clock, so the log shows where the time went
    timeout -k 30 "$LAB_TIMEOUT" molecule test -s "$s" 2>&1 | stamp > "$OUT/$s.log"
    rc=${PIPESTATUS[0]}
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "timed out after $LAB_TIMEOUT s" >> "$OUT/$s.log"
        molecule destroy -s "$s" >> "$OUT/$s.log" 2>&1
    fi
    printf '%s %s %s\n' "$s" "$rc" "$(( $(date +%s) - start ))" > "$OUT/$s.result"
    say "$s: $([ "$rc" -eq 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start )) s"
}

rm -f "$OUT"/*.result
running=0
for s in "${SCENARIOS[@]}"; do
    run_one "$s" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
done
wait

failed=0
say "summary (wall $(( $(date +%s) - t0 )) s, image build included):"
for s in "${SCENARIOS[@]}"; do
    read -r name rc secs < "$OUT/$s.result" || { name=$s; rc=1; secs='?'; }
    printf '  %-22s %-7s %5s s   evidence: tests/output/lab/%s.json\n' "$name" \
        "$([ "$rc" = 0 ] && echo passed || echo FAILED)" "$secs" "$name"
    if [ "$rc" != 0 ]; then
        case $OPTIONAL in
            *" $name "*) echo "  ($name is listed in VIRTOPS_LAB_OPTIONAL: its failure does not gate)" ;;
            *) failed=1 ;;
        esac
        echo "  --- last lines of tests/output/lab/$s.log:"
        grep -E "fatal:|FAILED|ERROR|msg" "$OUT/$s.log" | tail -15 | sed 's/^/    /'
    fi
done
exit "$failed"
