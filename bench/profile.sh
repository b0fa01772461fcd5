#!/usr/bin/env bash
# perf profile of the pinned micro-gw under wrk -c64 (the layout of bench/run.sh's targets (a)-(c)).
# Needs a temp dir kept by `KEEP_TMP=1 SECTIONS=proxy LAYOUTS=pinned bench/run.sh` (its nginx backend
# config, pinned gateway config and keys).
#   bench/profile.sh BENCH_TMP_DIR [CASE=one|pool|invalid] [SECONDS=10] [BINARY]
# micro-gw and the nginx backend on CPU 0, wrk -t1 -c64 on CPU 1; perf record -g -F 999 on micro-gw.
# Prints the shares by DSO and the top symbols (self time), and keeps perf.data in the temp dir.
set -euo pipefail
D=$1; CASE=${2:-one}; SECS=${3:-10}
BIN=${4:-$(cd "$(dirname "$0")/.." && pwd)/build-bench/micro-gw}
GW=$D/gateway-pinned
for tool in perf wrk nginx taskset; do command -v "$tool" >/dev/null || { echo "profile: $tool is missing" >&2; exit 1; }; done
OUT=$D/perf-$CASE.data
taskset -c 0 nginx -e stderr -p "$D/nginx" -c "$D/nginx/backend.conf" 2>/dev/null & NP=$!
rm -f "$GW/ready"
MGW_RUNTIME_HOME=$GW taskset -c 0 "$BIN" --config "$GW/conf/micro-gw.conf" --ready-file "$GW/ready" \
  >/dev/null 2>"$D/logs/profile-mgw.err" & MP=$!
trap 'kill $MP $NP 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 300); do [ -s "$GW/ready" ] && break; sleep 0.02; done
P=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["httpPort"])' "$GW/ready")
case $CASE in
  one) export APIKEY; APIKEY=$(head -1 "$D/all-keys.txt"); S=$D/key.lua ;;
  invalid) export APIKEY
    APIKEY=$(python3 -c 'import sys; k=sys.argv[1]; i=len(k)-20; print(k[:i] + ("A" if k[i] != "A" else "B") + k[i+1:])' "$(head -1 "$D/all-keys.txt")")
    S=$D/key.lua ;;
  pool) export KEYFILE=$D/pool-keys.txt; S=$D/pool.lua ;;
esac
# Warm (connections, caches), then profile while wrk runs.
timeout 30 taskset -c 1 wrk -t1 -c64 -d2s -s "$S" "http://127.0.0.1:$P/bench/data" >/dev/null
timeout $(( SECS + 30 )) taskset -c 1 wrk -t1 -c64 -d"$(( SECS + 2 ))s" -s "$S" "http://127.0.0.1:$P/bench/data" \
  > "$D/profile-wrk-$CASE.txt" 2>&1 & WP=$!
sleep 1
timeout $(( SECS + 30 )) perf record -F 999 -g -o "$OUT" -p "$MP" -- sleep "$SECS" 2>/dev/null >/dev/null
wait $WP || true
echo "== $CASE: wrk: $(grep -E 'Requests/sec|RESULT' "$D/profile-wrk-$CASE.txt" | tr '\n' ' ')"
echo "== by DSO (self)"
perf report -i "$OUT" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -12
echo "== top symbols (self)"
perf report -i "$OUT" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -40
echo "(perf data: $OUT)"
