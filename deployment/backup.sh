#!/usr/bin/env bash
# Back up the app's database (SQLite: online copy; PostgreSQL: pg_dump) with a .sha256 checksum
# and a .json manifest, keeping the BACKUP_KEEP newest in BACKUP_DIR (default DATA_DIR/backups).
#   docker compose exec app /app/deployment/backup.sh [--keep N] [--dir DIR]
#   kubectl exec deploy/agentplatform -- /app/deployment/backup.sh
# Copy the files off the volume (all three per backup) to keep them safe from the host's loss.
set -euo pipefail

APP_BIN="${APP_BIN:-agentplatform}"
exec "$APP_BIN" backup "$@"
