#!/usr/bin/env bash
# Starts a Docker engine of our own (Debian's docker.io), with its own data root, exec root and socket, so that it
# never touches a system engine or its images; prints the DOCKER_HOST to use. Quiet when it already answers.
# The engine keeps running after this script: `kill "$(cat "$Z2M_DOCKER_DIR/docker.pid")"` stops it.
# Needs root; installs docker.io, docker-compose (1.29, Debian's only Compose) and debootstrap when missing.
set -euo pipefail
DIR="${Z2M_DOCKER_DIR:-/run/z2m-docker}"
DATA="${Z2M_DOCKER_DATA:-/var/lib/z2m-docker}"
SOCK="$DIR/docker.sock"
HOST="unix://$SOCK"
DOCKER=/usr/bin/docker

answers() { [ -S "$SOCK" ] && DOCKER_HOST="$HOST" "$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if answers; then
  echo "$HOST"
  exit 0
fi

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if ((${#missing[@]})); then
  echo "installing ${missing[*]} from apt" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

mkdir -p "$DIR" "$DATA"
echo "starting dockerd (data $DATA, socket $SOCK)" >&2
# setsid: the engine outlives this script and the shell that ran it, like a service would.
setsid dockerd --data-root "$DATA" --exec-root "$DIR/exec" --pidfile "$DIR/docker.pid" -H "$HOST" \
  >"$DIR/dockerd.log" 2>&1 </dev/null &
for _ in $(seq 1 150); do
  if answers; then
    echo "$HOST"
    exit 0
  fi
  sleep 0.2
done
echo "dockerd did not answer on $SOCK within 30 s; its log:" >&2
tail -n 30 "$DIR/dockerd.log" >&2
exit 1
