#!/usr/bin/env bash
# manage.py with the environment scripts/run.sh uses (.env, development mode without
# a secret key), e.g. `bash scripts/manage.sh createsuperuser`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
load_env
ensure_python_env requirements.txt
exec "$PY" manage.py "$@"
