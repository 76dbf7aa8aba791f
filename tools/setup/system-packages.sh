#!/usr/bin/env bash
# Installs the servers the stack and the tests run, from Debian's packages, when they are missing:
# PostgreSQL, Redis, Chromium for the browser tests, and the HA engines (etcd, Patroni, Redis Sentinel).
# Needs root (or sudo) on Debian/Ubuntu.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# Browser tests drive Debian's Chromium through playwright-core (no browser download from npm).
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
# Bookworm's Patroni itself is too old (patroni.sh below fetches trixie's); its package brings the Python dependencies.
dpkg -s patroni >/dev/null 2>&1 || missing+=(patroni)
command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
if ((${#missing[@]})); then
  echo "installing ${missing[*]} from apt" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
"$(dirname "$0")/patroni.sh" >/dev/null
