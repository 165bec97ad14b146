#!/usr/bin/env bash
# Creates deploy/secrets/* (random, mode 600, git-ignored) for compose, once.
# Then copy the Redis password, MongoDB app password and metrics token into .env where
# .env.example asks for them (the API reads connection strings from its environment).
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
for name in mongo_root_password mongo_app_password redis_password metrics_token grafana_admin_password; do
  if [ ! -s "secrets/$name" ]; then
    head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40 > "secrets/$name"
    echo "created secrets/$name"
  fi
done
