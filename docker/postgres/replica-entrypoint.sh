#!/usr/bin/env bash
# Entrypoint of a streaming replica: on the first start, clone the primary with pg_basebackup (standby.signal
# and primary_conninfo included); on every start, run the given command (postgres ...) as the postgres user.
set -euo pipefail
: "${PGDATA:?}" "${PRIMARY_HOST:?set PRIMARY_HOST}" "${PRIMARY_PORT:=5432}"
: "${REPLICATION_USER:?set REPLICATION_USER}" "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD}"

if [ "$(id -u)" = 0 ]; then
  # As root (the container's default), hand the data directory to postgres and start again as postgres.
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  exec gosu postgres bash "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "replica: waiting for the primary at ${PRIMARY_HOST}:${PRIMARY_PORT}"
  until pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$REPLICATION_USER"; do sleep 1; done
  echo "replica: cloning the primary (pg_basebackup)"
  # -R writes standby.signal and primary_conninfo (with the password, quoted by pg_basebackup itself) into
  # postgresql.auto.conf; the standby's application_name is its cluster_name (set on the command line).
  PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup --pgdata="$PGDATA" --host="$PRIMARY_HOST" --port="$PRIMARY_PORT" \
    --username="$REPLICATION_USER" --wal-method=stream --checkpoint=fast --write-recovery-conf --no-password
  chmod 700 "$PGDATA"
fi

exec "$@"
