-- Grafana's read-only role may read the alarm tables, and nothing about people, sessions, tokens or
-- site plans. Run after the server's first start (its migrations make the tables), and again after
-- an upgrade that adds alarm tables; the role comes from postgres-grafana-reader.sh:
--   docker compose -f deploy/compose.yaml exec -T postgres psql -U nattevakt -d nattevakt < deploy/grafana/grant-grafana-reader.sql
-- Another role name: psql -v reader=NAME …
\set ON_ERROR_STOP on
\if :{?reader}
\else
\set reader grafana_reader
\endif
GRANT SELECT ON alarms, alarm_audit, alarm_delivery TO :"reader";
REVOKE ALL ON sites, users, user_sites, sessions, gateways FROM :"reader";
