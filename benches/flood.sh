#!/usr/bin/env bash
# Flood benchmark (issue 14, item 5): bench_server (release build, token cache
# on, one tokio worker, pinned to core 0) against a JWKS served and counted by
# the driver (mcp-auth-testkit's `flood` binary, pinned to core 1), which sends
#   1. distinct valid tokens (EdDSA, each one new): the server's peak RSS must
#      stay under the baseline's plus the token cache's bound;
#   2. tokens under random unknown `kid`s, inside one unknown-kid cool-down:
#      at most one JWKS fetch;
# while a probe sends valid requests at a low rate, whose p50/p99 are compared
# with the same probe alone (the baseline) in the same run. Every flood stops at
# its count or its time limit, whichever comes first.
#
#   benches/flood.sh [valid tokens, default 1000000] [unknown-kid tokens, default 100000] [seconds per flood at most, default 240]
#
# Exit status: 0 when every check is met, 1 when one is not, 2 when the run failed.
set -euo pipefail
cd "$(dirname "$0")/.."

VALID=${1:-1000000}
KIDS=${2:-100000}
MAX_SECONDS=${3:-240}
TARGET=${CARGO_TARGET_DIR:-target}

cargo build -q --release -p mcp-auth-examples --bin bench_server -p mcp-auth-testkit --bin flood

PIN_SERVER=()
PIN_DRIVER=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  PIN_SERVER=(--server-cpu 0)
  PIN_DRIVER=(taskset -c 1)
else
  echo "note: taskset missing or a single core: server and driver share the CPUs" >&2
fi

echo "Machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Floods: $VALID distinct valid tokens, $KIDS unknown-kid tokens, at most ${MAX_SECONDS}s each"
echo
# The driver's own limits bound the run; this bounds it should the server hang.
timeout $((2 * MAX_SECONDS + 120)) "${PIN_DRIVER[@]}" "$TARGET/release/flood" \
  --server "$TARGET/release/bench_server" "${PIN_SERVER[@]}" \
  --valid-tokens "$VALID" --kid-tokens "$KIDS" --max-seconds "$MAX_SECONDS"
