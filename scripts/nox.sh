#!/usr/bin/env bash
# The antsibull-nox sessions (antsibull-nox.toml, noxfile.py) that run on our machines:
#
#   scripts/nox.sh                      # the default sessions below
#   scripts/nox.sh -s docs-check        # any nox arguments instead
#
# nox and antsibull-nox live in <top>/.venv-nox (VIRTOPS_NOX_VENV), at the versions of
# requirements-lock.txt; each session makes its own venv under <top>/.nox (git-ignored) and installs
# its tools from the package index (antsibull-nox installs them unpinned, with -U), so a first run
# takes minutes and later runs reuse the venvs. What runs here and what does not, and why:
# docs/compatibility.md. VIRTOPS_NOX_DIR: the collection to run on (default: this checkout;
# scripts/ecosystem.sh passes its git-listed copy). Exit status: nox's (0 when every session
# passed; 2: set-up error).
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VIRTOPS_NOX_VENV:-$TOP/.venv-nox}
LOCK=$TOP/requirements-lock.txt
DEFAULT_SESSIONS=(extra-checks yamllint antsibull-nox-config)

log() { printf '[nox] %s\n' "$*"; }
die() { printf '[nox] ERROR: %s\n' "$*" >&2; exit 2; }

pins=()
for name in nox antsibull-nox; do
    pins+=("$(grep -E "^$name==" "$LOCK")") || die "$name is not pinned in $LOCK"
done
want=$(printf '%s\n' "${pins[@]}" | sha256sum | cut -d' ' -f1)
if ! [ -x "$VENV/bin/nox" ] || [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    log "creating $VENV (${pins[*]})"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${pins[@]}" 2>&1 | { grep -v "^WARNING: Location" || true; }
    echo "$want" > "$VENV/.requirements.sha256"
fi

if [ $# -eq 0 ]; then
    set -- -s "${DEFAULT_SESSIONS[@]}"
fi
cd "${VIRTOPS_NOX_DIR:-$TOP}"
export NO_COLOR=1
# --reuse-venv yes: keep each session's venv between runs (its install step still runs)
exec "$VENV/bin/nox" --no-color --reuse-venv yes "$@"
