#!/usr/bin/env bash
# Runs once, on the primary's first start (/docker-entrypoint-initdb.d/): the application's role, the
# replication role, and the pg_hba line that lets replicas stream. The entrypoint may source this file, so no `exit`.
set -eo pipefail
: "${POSTGRES_USER:?}" "${POSTGRES_DB:?}" "${PGDATA:?}"
: "${APP_DB_USER:?set APP_DB_USER}" "${APP_DB_PASSWORD:?set APP_DB_PASSWORD}"
: "${REPLICATION_USER:?set REPLICATION_USER}" "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD}"

# psql variables (:'name', :"name") quote the passwords and names, so no value can break out of the SQL.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_user="$APP_DB_USER" -v app_password="$APP_DB_PASSWORD" -v db="$POSTGRES_DB" \
  -v repl_user="$REPLICATION_USER" -v repl_password="$REPLICATION_PASSWORD" <<'SQL'
-- Not a superuser: the app owns its database (migrations create tables there) and may read the
-- monitoring views its topology monitor probes (pg_stat_wal_receiver, replay positions).
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';
ALTER DATABASE :"db" OWNER TO :"app_user";
ALTER SCHEMA public OWNER TO :"app_user";
GRANT pg_monitor TO :"app_user";
-- Streams WAL and nothing else.
CREATE ROLE :"repl_user" LOGIN REPLICATION PASSWORD :'repl_password';
SQL

# `all` in the database column does not cover replication connections: they need their own line.
# samenet: only hosts on the primary's own networks (the compose backend network) may stream.
echo "host replication ${REPLICATION_USER} samenet scram-sha-256" >> "$PGDATA/pg_hba.conf"
