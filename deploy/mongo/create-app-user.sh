#!/usr/bin/env bash
# Runs once inside the mongo container on an empty volume (docker-entrypoint-initdb.d):
# creates `photoflux`, the API's own user, with readWrite on the photoflux database only.
# The root user (MONGO_INITDB_ROOT_*) is for operators and the backup service.
set -euo pipefail
app_password="$(cat /run/secrets/mongo_app_password)"
mongosh --quiet --username "$MONGO_INITDB_ROOT_USERNAME" \
  --password "$(cat "$MONGO_INITDB_ROOT_PASSWORD_FILE")" --authenticationDatabase admin \
  photoflux --file /dev/stdin <<JS
db.createUser({user: "photoflux", pwd: "${app_password}", roles: [{role: "readWrite", db: "photoflux"}]})
JS
