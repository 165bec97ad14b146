#!/usr/bin/env bash
# Runs once inside the mongo container on an empty volume (docker-entrypoint-initdb.d):
# creates `photoflux`, the API's own user, with readWrite on the photoflux database only.
# The root user (MONGO_INITDB_ROOT_*) is for operators and the backup service. The app
# password reaches mongosh through its environment, not its command line.
set -euo pipefail
APP_PASSWORD="$(cat /run/secrets/mongo_app_password)"
export APP_PASSWORD
mongosh --quiet --username "$MONGO_INITDB_ROOT_USERNAME" \
  --password "$(cat "$MONGO_INITDB_ROOT_PASSWORD_FILE")" --authenticationDatabase admin \
  photoflux --eval 'db.createUser({user: "photoflux", pwd: process.env.APP_PASSWORD,
    roles: [{role: "readWrite", db: "photoflux"}]})'
