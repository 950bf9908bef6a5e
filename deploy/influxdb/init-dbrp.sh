#!/bin/bash
# InfluxDB 2 initialisation for Nattevakt, run once by the influxdb:2 image after its own setup
# (DOCKER_INFLUXDB_INIT_MODE=setup made the org, the bucket with its retention, and the admin token).
# What it adds:
#   1. the DBRP mapping: the server reads sensor events with InfluxQL (/query?db=BUCKET), which
#      InfluxDB 2 answers only for a database/retention-policy pair mapped to a bucket;
#   2. a token that can only read and write that bucket, printed once, for INFLUX_TOKEN of the
#      servers (the admin token stays with the operators).
# Outside the container, run it with INFLUX_HOST and INFLUX_TOKEN (admin) set, and the DOCKER_INFLUXDB_INIT_*
# names below, e.g. DOCKER_INFLUXDB_INIT_ORG=nattevakt DOCKER_INFLUXDB_INIT_BUCKET=nattevakt.
set -euo pipefail

org="${DOCKER_INFLUXDB_INIT_ORG:?DOCKER_INFLUXDB_INIT_ORG is not set}"
bucket="${DOCKER_INFLUXDB_INIT_BUCKET:?DOCKER_INFLUXDB_INIT_BUCKET is not set}"
token="${DOCKER_INFLUXDB_INIT_ADMIN_TOKEN:-${INFLUX_TOKEN:-}}"
[ -n "$token" ] || { echo "no admin token (DOCKER_INFLUXDB_INIT_ADMIN_TOKEN or INFLUX_TOKEN)" >&2; exit 2; }
export INFLUX_TOKEN="$token"

bucket_id=$(influx bucket list --org "$org" --name "$bucket" --hide-headers | awk 'NR==1 {print $1}')
[ -n "$bucket_id" ] || { echo "bucket $bucket not found in org $org" >&2; exit 1; }

# The server's InfluxQL database is the bucket name; its retention policy is the bucket's default ("autogen").
if influx v1 dbrp list --org "$org" --db "$bucket" --hide-headers | grep -q "$bucket_id"; then
  echo "DBRP $bucket/autogen -> $bucket_id exists"
else
  influx v1 dbrp create --org "$org" --db "$bucket" --rp autogen --bucket-id "$bucket_id" --default
fi

if [ "${NATTEVAKT_CREATE_SERVER_TOKEN:-yes}" = yes ]; then
  echo "token for the Nattevakt servers (INFLUX_TOKEN), read and write on bucket $bucket only:"
  influx auth create --org "$org" --description "nattevakt-server" \
    --read-bucket "$bucket_id" --write-bucket "$bucket_id" --hide-headers | awk '{print $3}'
fi
