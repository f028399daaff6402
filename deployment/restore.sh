#!/usr/bin/env bash
# Restore a backup written by backup.sh, replacing ALL data. The file, its .sha256 and its .json
# manifest are checked first (checksum, size, database kind, migration revision): a bad backup
# is refused before anything changes. Stop other app replicas first; then, for example:
#   docker compose exec app /app/deployment/restore.sh /data/backups/agentplatform-....pgdump --yes
# Without --yes it asks for confirmation (and refuses when there is no terminal to ask on).
set -euo pipefail

APP_BIN="${APP_BIN:-agentplatform}"
if [[ $# -lt 1 || "$1" == -* ]]; then
  echo "usage: $0 BACKUP_FILE [--yes]" >&2
  exit 2
fi
exec "$APP_BIN" restore "$@"
