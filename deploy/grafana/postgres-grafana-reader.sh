#!/bin/bash
# Runs once in the postgres image's first start (docker-entrypoint-initdb.d): the read-only login
# role of Grafana's nurse-in-charge dashboard. What it may read is granted by grant-grafana-reader.sql
# once the server has made its tables: the alarm tables only, nothing about people, sessions or tokens.
# Outside the image: POSTGRES_USER=postgres POSTGRES_DB=nattevakt GRAFANA_DB_PASSWORD=… PGHOST=… ./postgres-grafana-reader.sh
set -euo pipefail
reader="${GRAFANA_DB_USER:-grafana_reader}"
if [ -z "${GRAFANA_DB_PASSWORD:-}" ]; then
  echo "GRAFANA_DB_PASSWORD is not set: no $reader role made" >&2
  exit 0
fi
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader="$reader" -v password="$GRAFANA_DB_PASSWORD" -v dbname="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"reader" LOGIN PASSWORD :'password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
GRANT CONNECT ON DATABASE :"dbname" TO :"reader";
GRANT USAGE ON SCHEMA public TO :"reader";
SQL
