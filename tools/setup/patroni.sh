#!/usr/bin/env bash
# Prints the path of a Patroni >= 4 launcher, installing Debian trixie's `patroni` (architecture all) into a cache dir
# when it is missing. Bookworm's 3.0.2 loses acknowledged writes when a frozen leader thaws (see ARCHITECTURE.md).
# The system's apt sources stay untouched; the Python dependencies come from bookworm's `patroni` package
# (tools/setup/system-packages.sh installs it). Quiet when the launcher is already there.
set -euo pipefail
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/zero-to-millions/patroni-trixie"
ROOT="$CACHE/root"
LIB="$ROOT/usr/lib/python3/dist-packages"
LAUNCHER="$CACHE/bin/patroni"
# pyenv's python3 on PATH has no psycopg2; Debian's has every dependency.
PYTHON=/usr/bin/python3

major_version() {
  sed -n "s/^__version__ = '\([0-9]*\)\..*/\1/p" "$LIB/patroni/version.py" 2>/dev/null
}

if [ -x "$LAUNCHER" ] && [ -x "$CACHE/bin/patronictl" ] && [ "$(major_version)" -ge 4 ] 2>/dev/null; then
  echo "$LAUNCHER"
  exit 0
fi

echo "installing Debian trixie's patroni into $CACHE" >&2
mkdir -p "$CACHE/apt/lists/partial" "$CACHE/apt/cache/archives/partial" "$CACHE/bin"
echo 'deb http://deb.debian.org/debian trixie main' >"$CACHE/apt/sources.list"
# Our own sources file, lists and package cache: nothing under /etc/apt or /var/lib/apt changes.
# The download runs as us: the _apt sandbox user cannot reach a cache under $HOME.
apt_opts=(
  -o Dir::Etc::sourcelist="$CACHE/apt/sources.list"
  -o Dir::Etc::sourceparts=-
  -o Dir::State::Lists="$CACHE/apt/lists"
  -o Dir::Cache="$CACHE/apt/cache"
  -o APT::Sandbox::User="$(id -un)"
)
apt-get "${apt_opts[@]}" update -qq >&2

work="$(mktemp -d "$CACHE/download.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get "${apt_opts[@]}" download -qq patroni >&2)
dpkg -x "$work"/patroni_*.deb "$work/root"
rm -rf "$ROOT"
mv "$work/root" "$ROOT"

for tool in patroni patronictl; do
  cat >"$CACHE/bin/$tool" <<WRAPPER
#!/bin/sh
# Debian trixie's $tool on Debian's own Python 3 (written by tools/setup/patroni.sh).
PYTHONPATH="$LIB\${PYTHONPATH:+:\$PYTHONPATH}" exec $PYTHON "$ROOT/usr/bin/$tool" "\$@"
WRAPPER
  chmod 755 "$CACHE/bin/$tool"
done

if [ "$(major_version)" -lt 4 ] 2>/dev/null || ! "$LAUNCHER" --version >/dev/null; then
  echo "the patroni unpacked in $ROOT is not a working Patroni >= 4" >&2
  exit 1
fi
echo "$LAUNCHER"
