#!/usr/bin/env bash
# The ansible-core version matrix: `ansible-test sanity` (+ ansible-doc, exactly what
# scripts/sanity.sh runs) and tests/unit on every ansible-core line meta/runtime.yml promises.
#
#   scripts/matrix.sh                 # every line below (about 2 minutes a line once its venv exists,
#                                     # two lines at a time)
#   scripts/matrix.sh --ci            # only the oldest and the newest line, side by side (scripts/test.sh)
#   scripts/matrix.sh 2.18 2.20       # the named lines
#
# One venv per line, <top>/.venv-core-<line> (git-ignored; VIRTOPS_MATRIX_VENVS names another folder), holding that line's ansible-core
# (exact version below), the runtime libraries and pytest at the versions of requirements-lock.txt.
# A venv is rebuilt only when its row of this table or those pins change; pip's own cache is used.
# ansible-core 2.20 and later need Python >= 3.12 on the controller: those lines use pyenv's 3.12
# (or a python3.12 on PATH that really runs). One result line per core line; exit 1 if any failed
# (2: set-up error). The logs go to <top>/tests/output/matrix/ (git-ignored).
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCK=$TOP/requirements-lock.txt
OUT=$TOP/tests/output/matrix
VENVS=${VIRTOPS_MATRIX_VENVS:-$TOP}

# line  exact ansible-core  controller Python
MATRIX=(
    "2.16 2.16.19 3.11"
    "2.17 2.17.14 3.11"
    "2.18 2.18.19 3.11"
    "2.19 2.19.14 3.11"
    "2.20 2.20.10 3.12"
)

log() { printf '[matrix] %s\n' "$*"; }
die() { printf '[matrix] ERROR: %s\n' "$*" >&2; exit 2; }

# --- which lines -------------------------------------------------------------------------------
ALL_LINES=()
for row in "${MATRIX[@]}"; do ALL_LINES+=("${row%% *}"); done
WANT=()
if [ "${1:-}" = "--ci" ]; then
    WANT=("${ALL_LINES[0]}" "${ALL_LINES[-1]}")
elif [ $# -gt 0 ]; then
    WANT=("$@")
else
    WANT=("${ALL_LINES[@]}")
fi
row_of() {  # row_of <line>: the table row of that line, or nothing
    local row
    for row in "${MATRIX[@]}"; do
        if [ "${row%% *}" = "$1" ]; then printf '%s\n' "$row"; return 0; fi
    done
    return 1
}
for line in "${WANT[@]}"; do
    row_of "$line" >/dev/null || die "unknown ansible-core line '$line' (known: ${ALL_LINES[*]})"
done

# --- a Python that really runs (a pyenv shim may exist and fail: FIELD-NOTES) -------------------
find_python() {  # find_python <major.minor>: print the path of a working interpreter
    local want=$1 cand
    for cand in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$want".*/bin/python"$want" \
                "/usr/bin/python$want" "/usr/local/bin/python$want" "$(command -v "python$want" || true)"; do
        [ -n "$cand" ] && [ -x "$cand" ] || continue
        if [ "$("$cand" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$want" ] \
            && "$cand" -c 'import venv, ensurepip' 2>/dev/null; then
            printf '%s\n' "$cand"
            return 0
        fi
    done
    return 1
}

pin() {  # pin <name>: the name==version line of requirements-lock.txt
    grep -E "^$1==" "$LOCK" || die "$1 is not pinned in $LOCK"
}
PINS=("$(pin libvirt-python)" "$(pin lxml)" "$(pin pytest)")

make_venv() {  # make_venv <dir> <python> <ansible-core version>
    local dir=$1 python=$2 core=$3 want
    want=$(printf '%s\n' "$python" "$core" "${PINS[@]}" | sha256sum | cut -d' ' -f1)
    if [ -x "$dir/bin/ansible-test" ] && [ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    log "creating $dir (ansible-core $core, $("$python" -V 2>&1))"
    rm -rf "$dir"
    "$python" -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check -U pip 2>&1 | { grep -v "^WARNING: Location" || true; }
    "$dir/bin/pip" install -q --disable-pip-version-check "ansible-core==$core" "${PINS[@]}" 2>&1 \
        | { grep -v "^WARNING: Location" || true; }
    "$dir/bin/python" -c "import ansible, libvirt, lxml, pytest"
    echo "$want" > "$dir/.requirements.sha256"
}

# --- one line: venv, sanity, unit tests ---------------------------------------------------------
run_line() {  # run_line <line>: prints the line's result (and the failures' lines); exit 1 if it failed
    local line=$1 core pyver venv python t sanity_rc=0 unit_rc=0 sanity_line ntests unit_line summary
    read -r _ core pyver <<<"$(row_of "$line")"
    t=$SECONDS
    venv=$VENVS/.venv-core-$line
    if ! python=$(find_python "$pyver"); then
        log "FAIL ansible-core $core: no working Python $pyver (pyenv install $pyver?)"
        return 1
    fi
    if ! make_venv "$venv" "$python" "$core" >"$OUT/venv-$line.log" 2>&1; then
        log "FAIL ansible-core $core: could not create $venv"
        sed 's/^/       /' "$OUT/venv-$line.log"
        return 1
    fi

    VIRTOPS_VENV=$venv bash "$TOP/scripts/sanity.sh" >"$OUT/sanity-$line.log" 2>&1 || sanity_rc=$?
    sanity_line=$(grep -E '^\S*\[sanity\]\S* total ' "$OUT/sanity-$line.log" | tail -n 1 | sed 's/^.*\] //')
    ntests=$(grep -cE '^Running sanity test ' "$OUT/sanity-$line.log" || true)

    (cd "$TOP" && "$venv/bin/python" -m pytest tests/unit -q -p no:cacheprovider) >"$OUT/unit-$line.log" 2>&1 || unit_rc=$?
    unit_line=$(grep -E '[0-9]+ (passed|failed|error)' "$OUT/unit-$line.log" | tail -n 1 | tr -d '=' | xargs)

    summary="ansible-core $core (Python $pyver): sanity $ntests tests, ${sanity_line:-no result line}; tests/unit ${unit_line:-no result line} ($((SECONDS - t))s)"
    if [ "$sanity_rc" -eq 0 ] && [ "$unit_rc" -eq 0 ]; then
        log "PASS $summary"
        return 0
    fi
    log "FAIL $summary"
    [ "$sanity_rc" -eq 0 ] || grep -m 40 -E 'ERROR|FAIL|error:' "$OUT/sanity-$line.log" | sed 's/^/       /'
    [ "$unit_rc" -eq 0 ] || tail -n 30 "$OUT/unit-$line.log" | sed 's/^/       /'
    return 1
}

# The lines run JOBS at a time (VIRTOPS_MATRIX_JOBS, default 2: the machines have 2 cores and
# ansible-test is mostly single-threaded); each line's output is printed when it ends.
mkdir -p "$OUT"
JOBS=${VIRTOPS_MATRIX_JOBS:-2}
FAILED=()
START=$SECONDS
declare -A PIDS=()
finish() {  # finish <line>: wait for it, print its output, note a failure
    local line=$1 rc=0
    wait "${PIDS[$line]}" || rc=$?
    cat "$OUT/result-$line.txt"
    [ "$rc" -eq 0 ] || FAILED+=("$line")
    unset "PIDS[$line]"
}
QUEUE=()
for line in "${WANT[@]}"; do
    while [ "${#PIDS[@]}" -ge "$JOBS" ]; do
        finish "${QUEUE[0]}"; QUEUE=("${QUEUE[@]:1}")
    done
    run_line "$line" >"$OUT/result-$line.txt" 2>&1 &
    PIDS[$line]=$!
    QUEUE+=("$line")
done
for line in "${QUEUE[@]}"; do finish "$line"; done

if [ ${#FAILED[@]} -eq 0 ]; then
    log "all ${#WANT[@]} ansible-core lines passed (${WANT[*]}) in $((SECONDS - START))s"
else
    log "FAILED lines: ${FAILED[*]} ($((SECONDS - START))s); logs in $OUT"
    exit 1
fi
