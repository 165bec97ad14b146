#!/usr/bin/env bash
# Restores one dump made by mongo-backup.sh into the photoflux database (README "Backups").
#   compose:     docker compose run --rm backup bash /backup/mongo-restore.sh /backups/photoflux-<time>.archive.gz
#   Kubernetes:  kubectl -n photoflux create job --from=cronjob/mongo-backup restore-1 (edit
#                its command to this script and the archive), or run it in a mongo pod
# --drop (the default here) replaces each collection that is in the dump. Stop the API
# first (scale it to 0) so nothing writes while the data is replaced, and start it with
# the field keys that were in use when the dump was made (the API refuses to show leads
# otherwise: `photoflux-cloud restore` checks that, mongorestore cannot).
set -euo pipefail
archive="${1:?usage: mongo-restore.sh ARCHIVE}"
[ -f "$archive" ] || { echo "restore: no such archive: $archive" >&2; exit 2; }
config="$(mktemp)"
trap 'rm -f "$config"' EXIT
chmod 600 "$config"
printf 'password: "%s"\n' "$(cat "$MONGO_ROOT_PASSWORD_FILE")" > "$config"
mongorestore --host "${MONGO_HOST:-mongo}" --username "${MONGO_ROOT_USER:-root}" \
  --authenticationDatabase admin --config "$config" \
  --nsInclude "${MONGO_DB:-photoflux}.*" --drop --archive="$archive" --gzip
echo "restore: $archive restored into ${MONGO_DB:-photoflux}"
