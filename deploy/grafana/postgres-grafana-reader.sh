#!/bin/bash
# Runs once in the postgres image's first start (docker-entrypoint-initdb.d): a read-only role for
# Grafana's nurse-in-charge dashboard. It may read the alarm tables only: no people, sessions or tokens.
# The tables are made by the server's migrations after this runs, hence the default privileges.
set -euo pipefail
: "${GRAFANA_DB_PASSWORD:=${POSTGRES_GRAFANA_PASSWORD:-}}"
if [ -z "$GRAFANA_DB_PASSWORD" ]; then
  echo "GRAFANA_DB_PASSWORD is not set: no grafana_reader role made" >&2
  exit 0
fi
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$GRAFANA_DB_PASSWORD" <<'SQL'
CREATE ROLE grafana_reader LOGIN PASSWORD :'password';
GRANT CONNECT ON DATABASE nattevakt TO grafana_reader;
GRANT USAGE ON SCHEMA public TO grafana_reader;
SQL
