#!/usr/bin/env bash
# Installs the Node dependencies of the interop fixture (interop/node_modules)
# from package-lock.json. Cheap when they are already installed: npm ci runs only
# when node_modules/.package-lock.json is missing or older than package-lock.json.
set -euo pipefail

here="${BASH_SOURCE[0]%/*}"
[[ "$here" == "${BASH_SOURCE[0]}" ]] && here=.
cd "$here"

need="the interop suite needs Node.js 20 or newer with npm: install it (Debian: apt-get install nodejs npm, or https://nodejs.org) and re-run"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "interop/install.sh: node or npm not found; $need" >&2
  exit 1
fi

major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if ! [[ "$major" =~ ^[0-9]+$ ]] || (( major < 20 )); then
  echo "interop/install.sh: found Node.js $(node --version 2>/dev/null || echo '(unknown)'); $need" >&2
  exit 1
fi

stamp=node_modules/.package-lock.json
if [[ -f "$stamp" && ! "$stamp" -ot package-lock.json ]]; then
  echo "interop: node dependencies up to date"
  exit 0
fi

if ! log="$(npm ci --no-audit --no-fund --loglevel=error 2>&1)"; then
  echo "$log" >&2
  echo "interop/install.sh: npm ci failed (see above)" >&2
  exit 1
fi
# npm ci rewrites the stamp; touch it so that it is never older than the lock file.
touch "$stamp"
echo "interop: node dependencies installed ($(node --version))"
