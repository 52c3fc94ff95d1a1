# Sourced by scripts/run and scripts/test: make .venv and install the project when needed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${METATUTOR_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

ensure_venv() {
    local extras="$1"   # "" or "[dev]"
    local stamp="$VENV/.installed$extras"
    if [ ! -x "$VENV/bin/python" ]; then
        echo "metatutor: creating a virtual environment in $VENV" >&2
        "$PYTHON" -m venv "$VENV"
    fi
    # Reinstall only when the project's requirements changed since the last install.
    local digest
    digest="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
        echo "metatutor: installing dependencies (first run takes a few minutes)" >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT$extras" >&2
        echo "$digest" > "$stamp"
    fi
}
