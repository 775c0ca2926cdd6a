# Shared set-up steps for scripts/run.sh and scripts/test.sh (sourced, not run).
# Each step is idempotent and skips work already done.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_apt PACKAGE:PATH... installs each Debian package whose PATH is missing.
ensure_apt() {
  local missing=() spec
  for spec in "$@"; do
    [ -e "${spec#*:}" ] || missing+=("${spec%%:*}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ensure_python_env REQUIREMENTS installs the pinned packages into .venv once per change.
ensure_python_env() {
  local requirements=$1 stamp
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Python 3.11 or newer is required (found $(python3 --version 2>&1))" >&2
    exit 1
  fi
  if [ ! -x "$PY" ]; then
    python3 -m venv "$VENV" 2>/dev/null || {
      ensure_apt python3-venv:/usr/lib/python3/dist-packages/venv
      python3 -m venv "$VENV"
    }
  fi
  stamp="$VENV/.installed-$(cat "$ROOT"/requirements*.txt | sha256sum | cut -c1-16)-$(basename "$requirements")"
  if [ ! -f "$stamp" ]; then
    log "installing Python packages from $requirements"
    "$PY" -m pip install -q --disable-pip-version-check -r "$ROOT/$requirements"
    touch "$stamp"
  fi
}

# ensure_npm_packages DIR installs DIR's pinned npm packages once per lock-file change.
ensure_npm_packages() {
  local dir="$ROOT/$1" stamp
  [ -f "$dir/package-lock.json" ] || return 0
  command -v npm >/dev/null || { echo "Node 20 with npm is required" >&2; exit 1; }
  stamp="$dir/node_modules/.installed-$(sha256sum "$dir/package-lock.json" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    log "installing npm packages in $1"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
}

# ensure_frontend installs the frontend's npm packages and builds frontend/dist.
ensure_frontend() {
  [ -f "$ROOT/frontend/package.json" ] || return 0
  ensure_npm_packages frontend
  log "building the frontend"
  (cd "$ROOT/frontend" && npm run --silent build)
}

# load_env reads .env (if any) into the environment and, with no DJANGO_SECRET_KEY,
# selects development mode, as scripts/run.sh and scripts/manage.sh both need.
load_env() {
  if [ -f "$ROOT/.env" ]; then set -a; source "$ROOT/.env"; set +a; fi
  if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
    export DJANGO_DEBUG=${DJANGO_DEBUG:-true}
    log "DJANGO_SECRET_KEY is unset: development mode (DJANGO_DEBUG=$DJANGO_DEBUG)"
  fi
}
