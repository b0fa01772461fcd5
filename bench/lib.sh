# Shared by bench/run.sh and bench/soak.sh: one temp dir and every started process tracked by PID,
# all stopped (TERM, then KILL after 10 s) when the script exits for any reason.
#   bench_setup NAME   -> sets TMP, PIDS and the traps; NAME prefixes messages and the temp dir
#   drop_pid PID       -> stop tracking PID (it has been stopped and waited for)

bench_setup() {
  BENCH_NAME=$1
  TMP=$(mktemp -d "/tmp/mgw-$BENCH_NAME.XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -n "${KEEP_TMP:-}" ]; then echo "$BENCH_NAME: kept $TMP" >&2; else rm -rf "$TMP"; fi
}

drop_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
