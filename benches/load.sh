#!/usr/bin/env bash
# Load benchmark: the bench_server example (release build) against a local JWKS
# server, driven by wrk. The server is pinned to core 0 with one tokio worker,
# wrk to core 1. Reports req/s, p50/p99 latency and peak RSS per scenario, and
# the ratio of each protected scenario to the unprotected baseline of this run.
#
#   benches/load.sh [seconds per scenario, default 10] [connections, default 32]
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-10}
CONNS=${2:-32}
PORT=${BENCH_PORT:-3900}
JWKS_PORT=${BENCH_JWKS_PORT:-3901}

if ! command -v wrk >/dev/null; then
  echo "wrk not found: installing Debian's package (apt-get install wrk)" >&2
  apt-get install -y -qq wrk >/dev/null || { echo "install wrk (Debian package 'wrk') and rerun" >&2; exit 1; }
fi
command -v taskset >/dev/null || { echo "taskset (util-linux) is required" >&2; exit 1; }

cargo build -q --release -p mcp-auth-examples --bin bench_server -p mcp-auth-testkit --bin mint
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

ISSUER="http://127.0.0.1:$JWKS_PORT"
MCP_URL="http://127.0.0.1:$PORT/mcp"
eval "$(target/release/mint "$WORK" "$ISSUER" "$MCP_URL")"
(cd "$WORK" && exec python3 -m http.server "$JWKS_PORT" --bind 127.0.0.1 >/dev/null 2>&1) &
PIDS+=($!)

cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-06-18"
LUA

# run NAME AUTH CACHE TOKEN -> prints one table row, sets RPS
run() {
  local name=$1 auth=$2 cache=$3 token=$4
  MCP_AUTH_BENCH_AUTH=$auth MCP_AUTH_BENCH_TOKEN_CACHE=$cache PORT=$PORT MCP_URL=$MCP_URL \
    MCP_USE_OAUTH_CUSTOM_ISSUER=$ISSUER MCP_USE_OAUTH_CUSTOM_JWKS_URL="$ISSUER/jwks.json" \
    TOKIO_WORKER_THREADS=1 RUST_LOG=error taskset -c 0 target/release/bench_server &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
  local header=()
  [ -n "$token" ] && header=(-H "Authorization: Bearer $token")
  # Warm up (JWKS fetch, connection setup), then measure.
  taskset -c 1 wrk -t1 -c"$CONNS" -d2s -s "$WORK/post.lua" "${header[@]}" "$MCP_URL" >/dev/null
  local out
  out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$WORK/post.lua" "${header[@]}" "$MCP_URL")
  local rss
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  RPS=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local p50 p99 non2xx
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  echo "| $name | $RPS | $p50 | $p99 | $((rss / 1024)) MB | ${non2xx:-0} |"
}

echo "Machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | xargs); ${DURATION}s per scenario, $CONNS connections"
echo
echo "| scenario | req/s | p50 | p99 | peak RSS | non-2xx |"
echo "|---|---|---|---|---|---|"
run "no auth (baseline) tools/list" off on "" ; BASE=$RPS
run "RS256 valid, token cache off" on off "$RS256_TOKEN"; RS=$RPS
run "ES256 valid, token cache off" on off "$ES256_TOKEN"; ES=$RPS
run "RS256 valid, token cache on" on on "$RS256_TOKEN"; CACHED=$RPS
run "bad signature (401), cache off" on off "$BAD_SIG_TOKEN"; BAD=$RPS
run "no token (401)" on on ""; NOTOK=$RPS
echo
python3 - "$BASE" "$RS" "$ES" "$CACHED" "$BAD" "$NOTOK" <<'PY'
import sys
base, rs, es, cached, bad, notok = map(float, sys.argv[1:])
for name, v in [("RS256, cache off", rs), ("ES256, cache off", es), ("RS256, cache on", cached),
                ("bad signature 401", bad), ("no token 401", notok)]:
    print(f"- {name}: {v / base:.0%} of the unprotected baseline")
PY
