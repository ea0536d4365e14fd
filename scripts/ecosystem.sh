#!/usr/bin/env bash
# What Galaxy, Automation Hub, AWX and collection maintainers run, each with the tool's own command:
#
#   ansible-lint --profile production            0 findings (.ansible-lint, .yamllint)
#   yamllint -s .                                0 findings
#   antsibull-docs lint-collection-docs --plugin-docs .
#   galaxy-importer on the built tarball         0 errors, 0 warnings (no container: RUN_ANSIBLE_TEST = False)
#   ansible-builder create -f execution-environment.yml, ansible-builder introspect on the
#     installed collection, bindep on meta/ee-bindep.txt: both agree, headers in the build stage,
#     the libvirt client library in the final image
#   requirements: ranges in requirements.txt, every pin in requirements-lock.txt (inside the ranges),
#     tests/unit with the lower bounds
#   antsibull-changelog lint, then a trial `antsibull-changelog release` in the scratch copy
#   antsibull-nox extra-checks (no unwanted files in plugins/, no trailing whitespace) and
#     antsibull-nox-config (scripts/nox.sh: the sessions that install nothing)
#
# One result line per check; exit status 1 if any check found anything (2: set-up error).
# The tools live in their own venv (VIRTOPS_ECO_VENV, default <top>/.venv-eco), rebuilt only when
# requirements-lock.txt or the tool list below change; the lower-bound venv likewise
# (<top>/.venv-eco-lower). Everything runs on a git-listed copy under a temporary
# .../ansible_collections/virtops/devices with its own HOME, so nothing is written to the
# checkout or to ~/.ansible. VIRTOPS_ECO_KEEP=1 keeps the copy (its path is printed).
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VIRTOPS_ECO_VENV:-$TOP/.venv-eco}
LOWER_VENV=${VIRTOPS_ECO_LOWER_VENV:-$TOP/.venv-eco-lower}
LOCK=$TOP/requirements-lock.txt
TOOLS=(ansible-core ansible-lint yamllint antsibull-docs antsibull-changelog galaxy-importer ansible-builder bindep)
NAMESPACE=virtops
NAME=devices

log() { printf '[eco] %s\n' "$*"; }
die() { printf '[eco] ERROR: %s\n' "$*" >&2; exit 2; }
quiet_pip() { "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; return "${PIPESTATUS[0]}"; }
START=$SECONDS

# --- the tools' venv, cached by a hash of the lock and the tool list -----------------------------
make_venv() {  # make_venv <dir> <stamp text> <pip arguments...>
    local dir=$1 want=$2; shift 2
    if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    log "creating $dir"
    rm -rf "$dir"
    python3 -m venv "$dir"
    quiet_pip "$dir/bin/pip" install -q --disable-pip-version-check -U pip
    quiet_pip "$dir/bin/pip" install -q --disable-pip-version-check "$@"
    echo "$want" > "$dir/.requirements.sha256"
}
want=$( { cat "$LOCK"; echo "${TOOLS[*]}"; } | sha256sum | cut -d' ' -f1)
make_venv "$VENV" "$want" -c "$LOCK" "${TOOLS[@]}" || die "could not install the tools into $VENV"
export PATH="$VENV/bin:$PATH"
PY=$VENV/bin/python

# --- a git-listed copy under .../ansible_collections/virtops/devices -----------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/virtops-eco.XXXXXX")
cleanup() { if [ "${VIRTOPS_ECO_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM
DEST=$WORK/ansible_collections/$NAMESPACE/$NAME
mkdir -p "$DEST" "$WORK/home" "$WORK/out"
git -C "$TOP" ls-files -z --cached --others --exclude-standard \
    | (cd "$TOP" && while IFS= read -r -d '' f; do
           if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
       done) \
    | (cd "$TOP" && xargs -0 --no-run-if-empty cp -P --parents -t "$DEST")
(cd "$DEST" && git -c init.defaultBranch=main init -q && git add -A \
    && git -c user.email=eco@virtops.invalid -c user.name=eco commit -q --no-verify -m snapshot)
export HOME=$WORK/home ANSIBLE_NOCOLOR=1 NO_COLOR=1 PY_COLORS=0
export ANSIBLE_COLLECTIONS_PATH=$WORK ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
VERSION=$("$PY" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$DEST/galaxy.yml")

# --- running and reporting one check ------------------------------------------------------------
FAILED=()
result() {  # result <name> <rc> <summary> <log>: one line, and the log's end when it failed
    local name=$1 rc=$2 summary=$3 out=$4
    if [ "$rc" -eq 0 ]; then
        printf '[eco] PASS %-22s %s\n' "$name" "$summary"
    else
        printf '[eco] FAIL %-22s %s\n' "$name" "$summary"
        sed -n '1,60s/^/       /p' "$out"
        FAILED+=("$name")
    fi
}
last() { grep -v '^\s*$' "$1" | tail -n 1; }

# 1. ansible-lint with the production profile
t=$SECONDS; out=$WORK/out/ansible-lint.log; rc=0
(cd "$DEST" && ansible-lint --profile production --nocolor -f pep8) >"$out" 2>&1 || rc=$?
result ansible-lint "$rc" "$(grep -E '^(Passed|Failed):' "$out" | tail -n 1) ($((SECONDS - t))s)" "$out"

# 2. yamllint with the committed .yamllint
t=$SECONDS; out=$WORK/out/yamllint.log; rc=0
(cd "$DEST" && yamllint -s -f parsable .) >"$out" 2>&1 || rc=$?
result yamllint "$rc" "$(wc -l <"$out") finding(s) ($((SECONDS - t))s)" "$out"

# 3. antsibull-docs
t=$SECONDS; out=$WORK/out/antsibull-docs.log; rc=0
(cd "$DEST" && antsibull-docs lint-collection-docs --plugin-docs .) >"$out" 2>&1 || rc=$?
result antsibull-docs "$rc" "$(grep -c ':' "$out" || true) finding(s), exit $rc ($((SECONDS - t))s)" "$out"

# 4. the tarball Galaxy gets, through galaxy-importer
t=$SECONDS; out=$WORK/out/galaxy-importer.log; rc=0
mkdir -p "$WORK/dist" "$WORK/importer"
printf '[galaxy-importer]\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\n' >"$WORK/importer/galaxy-importer.cfg"
TARBALL=$WORK/dist/$NAMESPACE-$NAME-$VERSION.tar.gz
{ (cd "$DEST" && ansible-galaxy collection build --output-path "$WORK/dist" .) \
  && (cd "$WORK/importer" && GALAXY_IMPORTER_CONFIG=$WORK/importer/galaxy-importer.cfg \
        "$PY" -m galaxy_importer.main "$TARBALL"); } >"$out" 2>&1 || rc=$?
summary=$("$PY" "$TOP/scripts/ecosystem_checks.py" importer "$out" 2>&1) || rc=1
printf '%s\n' "$summary" >>"$out"
result galaxy-importer "$rc" "$(tail -n 1 <<<"$summary") ($((SECONDS - t))s)" "$out"

# 5. the execution environment: create, introspect on the installed collection, bindep
t=$SECONDS; out=$WORK/out/ansible-builder.log; rc=0
{ (cd "$DEST" && ansible-builder create -f execution-environment.yml --context "$WORK/ee-context" \
        --output-filename Containerfile) \
  && (cd "$WORK" && ansible-galaxy collection install --force -p "$WORK/installed" "$TARBALL") \
  && ansible-builder introspect "$WORK/installed" --write-pip "$WORK/ee-pip.txt" --write-bindep "$WORK/ee-bindep.txt" \
  && "$PY" "$TOP/scripts/ecosystem_checks.py" ee "$DEST" "$WORK/ee-context" "$WORK/ee-pip.txt" "$WORK/ee-bindep.txt"; } \
    >"$out" 2>&1 || rc=$?
result ansible-builder "$rc" "$(last "$out") ($((SECONDS - t))s)" "$out"

# 6. requirements: ranges and the lock, then tests/unit with the lower bounds
t=$SECONDS; out=$WORK/out/requirements.log; rc=0
"$PY" "$TOP/scripts/ecosystem_checks.py" requirements "$DEST" >"$out" 2>&1 || rc=$?
result requirements "$rc" "$(last "$out") ($((SECONDS - t))s)" "$out"

read -r -a LOWER <<<"$(sed -n 's/^lower bounds: //p' "$out")"
t=$SECONDS; out=$WORK/out/lower-bounds.log; rc=0
CORE=$(grep -E '^ansible-core==' "$LOCK"); PYTEST=$(grep -E '^pytest==' "$LOCK")
{ make_venv "$LOWER_VENV" "$(echo "${LOWER[*]} $CORE $PYTEST" | sha256sum | cut -d' ' -f1)" \
      "${LOWER[@]}" "$CORE" "$PYTEST" \
  && (cd "$DEST" && "$LOWER_VENV/bin/python" -m pytest -q -p no:cacheprovider tests/unit); } >"$out" 2>&1 || rc=$?
result lower-bounds "$rc" "${LOWER[*]}: tests/unit $(grep -E '[0-9]+ (passed|failed)' "$out" | tail -n 1 | tr -d '=' | xargs) ($((SECONDS - t))s)" "$out"

# 7. changelog: lint, then a trial release in the copy
t=$SECONDS; out=$WORK/out/antsibull-changelog.log; rc=0
{ (cd "$DEST" && antsibull-changelog lint) \
  && (cd "$DEST" && antsibull-changelog release --version "$VERSION" --date 2026-01-01) \
  && (cd "$DEST" && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml) \
  && "$PY" "$TOP/scripts/ecosystem_checks.py" changelog "$DEST"; } >"$out" 2>&1 || rc=$?
result antsibull-changelog "$rc" "lint, lint-changelog-yaml, trial release $VERSION: $(last "$out") ($((SECONDS - t))s)" "$out"

# 8. antsibull-nox: the sessions that install nothing (scripts/nox.sh; the others: make nox,
#    docs/compatibility.md)
t=$SECONDS; out=$WORK/out/antsibull-nox.log; rc=0
VIRTOPS_NOX_DIR=$DEST VIRTOPS_NOX_VENV=${VIRTOPS_NOX_VENV:-$TOP/.venv-nox} \
    bash "$TOP/scripts/nox.sh" -s extra-checks antsibull-nox-config >"$out" 2>&1 || rc=$?
result antsibull-nox "$rc" "extra-checks, antsibull-nox-config: $(grep -cE '^nox > Session .* was successful' "$out" || true) session(s) passed ($((SECONDS - t))s)" "$out"

# --- result -------------------------------------------------------------------------------------
if [ ${#FAILED[@]} -eq 0 ]; then
    log "all ecosystem checks passed in $((SECONDS - START))s"
else
    log "FAILED: ${FAILED[*]} ($((SECONDS - START))s)"
    exit 1
fi
