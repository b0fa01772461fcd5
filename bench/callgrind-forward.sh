#!/usr/bin/env bash
# Instructions per forwarded request (user space, deterministic: for changes too small for wrk on a
# shared machine). Needs a temp dir kept by `KEEP_TMP=1 SECTIONS=proxy bench/run.sh` (its nginx
# backend config, gateway config and keys). Counts only inside mgw::gateway::Proxy::forward.
#   bench/callgrind-forward.sh BENCH_TMP_DIR [BINARY] [N]
set -euo pipefail
D=$1; BIN=${2:-$(cd "$(dirname "$0")/.." && pwd)/build-bench/micro-gw}; N=${3:-2000}
GW=$(ls -d "$D"/gateway-pinned "$D"/gateway-unpinned 2>/dev/null | head -1)
OUT=$(mktemp /tmp/callgrind.forward.XXXXXX)
nginx -e stderr -p "$D/nginx" -c "$D/nginx/backend.conf" 2>/dev/null & NP=$!
rm -f "$GW/ready"
MGW_RUNTIME_HOME=$GW timeout 600 valgrind --tool=callgrind --callgrind-out-file="$OUT" \
  --toggle-collect='mgw::gateway::Proxy::forward*' "$BIN" --config "$GW/conf/micro-gw.conf" --ready-file "$GW/ready" 2>/dev/null & VP=$!
trap 'kill $VP $NP 2>/dev/null || true' EXIT
for _ in $(seq 600); do [ -s "$GW/ready" ] && break; sleep 0.1; done
P=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["httpPort"])' "$GW/ready")
timeout 300 python3 - "$P" "$(head -1 "$D/all-keys.txt")" "$N" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
for i in range(int(sys.argv[3])):
    c.request("GET", "/bench/data", headers={"apikey": sys.argv[2]})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
kill -TERM $VP; wait $VP 2>/dev/null || true
total=$(callgrind_annotate "$OUT" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "instructions in Proxy::forward: $total for $N requests = $(( total / N )) per request ($OUT)"
