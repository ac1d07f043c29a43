#!/usr/bin/env bash
# Builds every fuzz target with libFuzzer's coverage instrumentation and runs each
# for SECONDS (default 60), one after the other, then prints the executions and
# findings of each. Usage: fuzz/run.sh [SECONDS] [TARGET...]
#
# Works with the stable toolchain: the instrumentation is what cargo-fuzz passes
# (`-Cpasses=sancov-module` and the sanitizer-coverage options), without
# AddressSanitizer, which needs a nightly `-Zsanitizer` (safe Rust does not need
# it to find panics, overflows and hangs). With cargo-fuzz installed,
# `RUSTC_BOOTSTRAP=1 cargo fuzz run -s none TARGET` runs a target the same way.
#
# A crash is written to fuzz/artifacts/TARGET/; the corpus grows in
# fuzz/corpus/TARGET/ (seeded from fuzz/seeds/TARGET/). Neither is committed.
set -euo pipefail

cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=(authorization_header jwt_verify jwks_parse oauth_forms client_metadata_document)
fi

triple="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/target}"
export RUSTFLAGS="-Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# --target keeps the instrumentation off build scripts and proc macros.
cargo build --release --target "$triple" --bins

summary=()
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t" "seeds/$t"
  log="artifacts/$t/last-run.log"
  echo "== $t: ${seconds}s"
  set +e
  "$CARGO_TARGET_DIR/$triple/release/$t" "corpus/$t" "seeds/$t" \
    -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 \
    -artifact_prefix="artifacts/$t/" >"$log" 2>&1
  rc=$?
  set -e
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  crashes="$(find "artifacts/$t" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) | wc -l)"
  corpus="$(find "corpus/$t" -type f | wc -l)"
  summary+=("$t: ${execs:-?} executions (${rate:-?}/s), exit $rc, $crashes finding(s), corpus $corpus")
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then status=1; tail -30 "$log"; fi
done
echo
printf '%s\n' "${summary[@]}"
exit "$status"
