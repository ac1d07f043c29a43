#!/usr/bin/env bash
# Makes sure `redis-server` is on PATH for the Redis store tests, which start
# their own server on a free port (nothing saved to disk). Installs Debian's
# redis-server package when it is missing; does nothing when it is present.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  echo "redis: $(redis-server --version | head -n1)"
  exit 0
fi

need="the Redis tests need redis-server on PATH (Debian: apt-get install redis-server), or a disposable Redis named by MCP_AUTH_TEST_REDIS_URL"

if ! command -v apt-get >/dev/null 2>&1; then
  echo ".ci/install-redis.sh: redis-server not found and no apt-get to install it; $need" >&2
  exit 1
fi

as_root=()
if [[ "$(id -u)" != 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo ".ci/install-redis.sh: installing redis-server needs root (or sudo); $need" >&2
    exit 1
  fi
  as_root=(sudo)
fi

echo "redis: installing Debian's redis-server"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends redis-server >/dev/null
command -v redis-server >/dev/null 2>&1 || { echo ".ci/install-redis.sh: redis-server still not on PATH; $need" >&2; exit 1; }
echo "redis: $(redis-server --version | head -n1)"
