#!/bin/bash
# Patroni's post_bootstrap: runs once, on the member that initialised the cluster, with the superuser's connection
# URL as $1. Creates the app's role and database. Not a superuser: the app owns its database (migrations create
# tables there; since PostgreSQL 15 the owner also owns schema public) and may read the monitoring views its
# topology monitor probes (pg_monitor).
set -euo pipefail
: "${APP_DB_USER:?set APP_DB_USER}" "${APP_DB_PASSWORD:?set APP_DB_PASSWORD}"
psql "$1" -v ON_ERROR_STOP=1 --no-psqlrc -q -v app_user="$APP_DB_USER" -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';
GRANT pg_monitor TO :"app_user";
CREATE DATABASE app OWNER :"app_user";
SQL
