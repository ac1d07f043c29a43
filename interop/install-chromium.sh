#!/usr/bin/env bash
# Installs Debian's Chromium (package `chromium`) for the real-browser tests when
# it is missing. playwright-core drives it through `executablePath`; no browser
# is ever downloaded by npm. Prints the path of the browser on success.
#
# CHROMIUM overrides the path (a browser installed elsewhere). Needs root or
# sudo for apt-get when the package is missing; otherwise it only checks.
set -euo pipefail

browser="${CHROMIUM:-/usr/bin/chromium}"
if [[ -x "$browser" ]]; then
  echo "$browser"
  exit 0
fi
if [[ -n "${CHROMIUM:-}" ]]; then
  echo "interop/install-chromium.sh: CHROMIUM=$CHROMIUM is not an executable file" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "interop/install-chromium.sh: $browser not found and no apt-get here: install Chromium and set CHROMIUM to its path" >&2
  exit 1
fi
as_root=()
if [[ "$(id -u)" != 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "interop/install-chromium.sh: $browser not found; run as root (or with sudo): apt-get install chromium" >&2
    exit 1
  fi
  as_root=(sudo -n)
fi
# Several test processes may ask at once: one installs, the others wait for it.
exec 9>"${TMPDIR:-/tmp}/mcp-auth-chromium-install.lock"
flock 9
if [[ ! -x "$browser" ]]; then
  export DEBIAN_FRONTEND=noninteractive
  if ! log="$("${as_root[@]}" apt-get install -y -q --no-install-recommends chromium 2>&1)"; then
    # A fresh machine has no package lists yet.
    "${as_root[@]}" apt-get update -q >/dev/null 2>&1 || true
    if ! log="$("${as_root[@]}" apt-get install -y -q --no-install-recommends chromium 2>&1)"; then
      echo "$log" >&2
      echo "interop/install-chromium.sh: apt-get install chromium failed (see above)" >&2
      exit 1
    fi
  fi
fi
if [[ ! -x "$browser" ]]; then
  echo "interop/install-chromium.sh: chromium installed but $browser is missing" >&2
  exit 1
fi
echo "$browser"
