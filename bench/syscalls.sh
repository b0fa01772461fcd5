#!/usr/bin/env bash
# System calls per request, micro-gw against HAProxy jwt_verify (strace -c -f while wrk -t1 -c64 runs
# for 3 s with the one valid key). Needs a temp dir kept by `KEEP_TMP=1 SECTIONS=proxy bench/run.sh`.
#   bench/syscalls.sh BENCH_TMP_DIR [BINARY]
# strace slows every server down; only the calls per request mean anything.
set -uo pipefail
D=$1; BIN=${2:-$(cd "$(dirname "$0")/.." && pwd)/build-bench/micro-gw}
GW=$D/gateway-pinned; export APIKEY; APIKEY=$(head -1 "$D/all-keys.txt")
command -v strace >/dev/null || { echo "syscalls: strace is missing" >&2; exit 1; }
taskset -c 0 nginx -e stderr -p "$D/nginx" -c "$D/nginx/backend.conf" 2>/dev/null & NP=$!
taskset -c 0 haproxy -db -f "$D/haproxy.cfg" >/dev/null 2>&1 & HP=$!
rm -f "$GW/ready"
MGW_RUNTIME_HOME=$GW taskset -c 0 "$BIN" --config "$GW/conf/micro-gw.conf" --ready-file "$GW/ready" >/dev/null 2>&1 & MP=$!
trap 'kill $MP $HP $NP 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 300); do [ -s "$GW/ready" ] && break; sleep 0.02; done
P=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["httpPort"])' "$GW/ready")
HPORT=$(awk '/bind/ {split($2,a,":"); print a[2]}' "$D/haproxy.cfg")
for t in "micro-gw $MP $P" "haproxy $HP $HPORT"; do
  set -- $t
  timeout 30 strace -c -f -p "$2" -o "$D/strace-$1.txt" 2>/dev/null & SP=$!
  sleep 0.5
  out=$(timeout 30 taskset -c 1 wrk -t1 -c64 -d3s -s "$D/key.lua" "http://127.0.0.1:$3/bench/data" | grep RESULT)
  sleep 0.2; kill -INT $SP; wait $SP 2>/dev/null
  n=$(echo "$out" | awk '{print $8}')
  echo "$1: $n requests under strace"
  awk -v n="$n" 'NR>2 && $NF!="total" && $4+0>0 {printf "  %-14s %8d calls  %.2f per request\n", $NF, $4, $4/n}' \
    "$D/strace-$1.txt" | sort -k2 -nr | head -8
done
