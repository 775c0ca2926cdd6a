#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: lint, types, frontend unit
# tests and pytest. Installs redis-server, coturn and Debian's chromium when
# absent; the suite starts its own redis-server and coturn on free ports and its
# own daphne and room worker processes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_apt redis-server:/usr/bin/redis-server coturn:/usr/bin/turnserver chromium:/usr/bin/chromium \
  iptables:/usr/sbin/iptables
ensure_python_env requirements-dev.txt
# tests/deploy validates docker-compose.yml and the Caddyfile offline with these two.
ensure_apt docker-compose:/usr/bin/docker-compose caddy:/usr/bin/caddy
ensure_frontend
ensure_npm_packages tests/node
ensure_npm_packages tests/stock_client

export DJANGO_DEBUG=false DJANGO_SECRET_KEY=test-only-secret-key REDIS_URL=
export CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}

log "ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
log "mypy"
"$VENV/bin/mypy" videoroom_project rooms
if [ -f frontend/package.json ]; then
  log "frontend: tsc and unit tests"
  (cd frontend && npm run --silent typecheck && npm test --silent)
fi
if [ $# -gt 0 ]; then
  "$PY" -m pytest "$@"
  exit
fi
# Two runs: Playwright's sync API keeps an event loop running in the main
# thread for the rest of the process, which the asyncio tests cannot share.
log "pytest: everything but the browser tests"
"$PY" -m pytest -m "not browser"
log "pytest: browser tests (headless chromium)"
"$PY" -m pytest -m browser
