#!/usr/bin/env bash
# Sets everything up and runs videoroom on http://127.0.0.1:${PORT:-8000}/.
# With REDIS_URL unset it runs on the in-memory layer with the room worker inside
# the server process; with REDIS_URL (or VIDEOROOM_REDIS_SENTINELS) set it also starts a
# separate room worker.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

load_env

ensure_python_env requirements.txt
ensure_frontend
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0
if [ -n "${DJANGO_SUPERUSER_USERNAME:-}" ] && [ -n "${DJANGO_SUPERUSER_PASSWORD:-}" ]; then
  "$PY" manage.py createsuperuser --noinput --email "${DJANGO_SUPERUSER_EMAIL:-admin@localhost}" 2>/dev/null || true
fi

worker_pid=""
if [ -n "${REDIS_URL:-}" ] || [ -n "${VIDEOROOM_REDIS_SENTINELS:-}" ]; then
  log "starting a room worker on ${REDIS_URL:-the master of sentinels $VIDEOROOM_REDIS_SENTINELS}"
  "$PY" manage.py roomworker &
  worker_pid=$!
  trap '[ -n "$worker_pid" ] && kill -TERM "$worker_pid" 2>/dev/null; wait' EXIT INT TERM
fi
log "videoroom on http://127.0.0.1:${PORT:-8000}/ (admin: /admin/, create a user with: bash scripts/manage.sh createsuperuser)"
# daphne as the project runs it (rooms/web/serve.py): websocket limits above the socket's
# own 1 MiB frame limit, and the send-buffer bound on clients that stop reading.
"$PY" -m rooms.web.serve -b "${BIND:-127.0.0.1}" -p "${PORT:-8000}" \
  videoroom_project.asgi:application
