#!/usr/bin/env bash
# Scheduled mongodump with retention (compose `backup` service, Kubernetes CronJob).
#   mongo-backup.sh           dump now, then every BACKUP_INTERVAL_SECONDS (compose)
#   mongo-backup.sh --once    dump once and exit (the CronJob)
#   mongo-backup.sh --check   exit 0 when the newest dump is younger than two intervals
# Each dump is BACKUP_DIR/photoflux-<UTC time>.archive.gz (mongodump --archive --gzip),
# written under a temporary name and renamed, so a half-written dump never counts.
# Dumps older than BACKUP_RETENTION_DAYS are deleted after a successful dump.
# The password is read from MONGO_ROOT_PASSWORD_FILE (or the whole connection string
# from MONGO_URI_FILE) and passed in a config file, never
# on the command line (where `ps` would show it). The field-encryption keys are NOT in
# these dumps: back them up separately (README "Backups").
set -euo pipefail

BACKUP_DIR="${BACKUP_DIR:-/backups}"
INTERVAL="${BACKUP_INTERVAL_SECONDS:-86400}"
RETENTION_DAYS="${BACKUP_RETENTION_DAYS:-14}"
MONGO_HOST="${MONGO_HOST:-mongo}"
MONGO_DB="${MONGO_DB:-photoflux}"

check() {
  local max_age_min=$(( 2 * INTERVAL / 60 + 1 ))
  [ -n "$(find "$BACKUP_DIR" -maxdepth 1 -name 'photoflux-*.archive.gz' -mmin "-$max_age_min" -print -quit)" ]
}

dump_once() {
  local stamp tmp config
  stamp="$(date -u +%Y%m%dT%H%M%SZ)"
  mkdir -p "$BACKUP_DIR"
  tmp="$BACKUP_DIR/.photoflux-$stamp.partial"
  config="$(mktemp)"
  chmod 600 "$config"
  local target=()
  if [ -n "${MONGO_URI_FILE:-}" ]; then
    # a replica set (Kubernetes): the whole connection string, credentials included
    printf 'uri: "%s"\n' "$(cat "$MONGO_URI_FILE")" > "$config"
  else
    printf 'password: "%s"\n' "$(cat "$MONGO_ROOT_PASSWORD_FILE")" > "$config"
    target=(--host "$MONGO_HOST" --username "${MONGO_ROOT_USER:-root}" --authenticationDatabase admin)
  fi
  if ! mongodump "${target[@]}" --config "$config" \
    --db "$MONGO_DB" --archive="$tmp" --gzip; then
    rm -f "$config" "$tmp"
    return 1
  fi
  rm -f "$config"
  chmod 600 "$tmp"
  mv "$tmp" "$BACKUP_DIR/photoflux-$stamp.archive.gz"
  echo "backup: wrote $BACKUP_DIR/photoflux-$stamp.archive.gz"
  # retention only after a good dump: a failing mongodump never deletes the last backups
  find "$BACKUP_DIR" -maxdepth 1 -name 'photoflux-*.archive.gz' -mtime "+$RETENTION_DAYS" -print -delete \
    | sed 's/^/backup: expired /'
}

case "${1:-}" in
  --check) check ;;
  --once) dump_once ;;
  "")
    while true; do
      dump_once || echo "backup: FAILED (will retry next interval)" >&2
      sleep "$INTERVAL"
    done
    ;;
  *) echo "usage: $0 [--once|--check]" >&2; exit 2 ;;
esac
