-- Grafana's read-only role may read the alarm tables, and nothing about people, sessions, tokens or site plans.
-- Run after the server's first start (its migrations make the tables), and again after an upgrade
-- that adds alarm tables; the role itself comes from postgres-grafana-reader.sh:
--   docker compose -f deploy/compose.yaml exec -T postgres psql -U nattevakt -d nattevakt < deploy/grafana/grant-grafana-reader.sql
GRANT SELECT ON alarms, alarm_audit, alarm_delivery TO grafana_reader;
REVOKE ALL ON sites, users, user_sites, sessions, gateways FROM grafana_reader;
