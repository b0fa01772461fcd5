#!/usr/bin/env bash
# Instructions per request (user space, all threads; load-independent) of micro-gw for the
# validated and the unvalidated API of bench/validation.sh, under callgrind. Needs a temp dir kept
# by `KEEP_TMP=1 ROUNDS=1 DURATION=1 bench/validation.sh` (its nginx backend, definitions, body).
# Warm-up, counters zeroed (callgrind_control -z), N POSTs of the 1 KiB body, dump; per API.
#   bench/callgrind-validation.sh KEPT_DIR [BINARY] [N]
set -euo pipefail
D=$1; BIN=${2:-$(cd "$(dirname "$0")/.." && pwd)/build/micro-gw}; N=${3:-2000}
OUT=$(mktemp -d /tmp/callgrind.validation.XXXXXX)
nginx -e stderr -p "$D/nginx" -c "$D/nginx/backend.conf" -g 'daemon off;' 2>/dev/null & NP=$!
rm -f "$D/gw/ready"
MGW_RUNTIME_HOME=$D/gw timeout 900 valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.%p" \
  "$BIN" --config "$D/gw/conf/micro-gw.conf" --ready-file "$D/gw/ready" 2>/dev/null & VP=$!
trap 'kill $VP $NP 2>/dev/null || true' EXIT
for _ in $(seq 600); do [ -s "$D/gw/ready" ] && break; sleep 0.1; done
VG=$(pgrep -P "$VP")  # valgrind itself, under timeout
P=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["httpPort"])' "$D/gw/ready")
post() {  # api count
  python3 - "$P" "$1" "$2" "$D/body.json" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=60)
body = open(sys.argv[4], "rb").read()
for i in range(int(sys.argv[3])):
    c.request("POST", "/%s/orders" % sys.argv[2], body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
}
for api in checked plain; do
  post "$api" 200
  callgrind_control -z "$VG" >/dev/null 2>&1
  post "$api" "$N"
  callgrind_control -d "$VG" >/dev/null 2>&1
done
kill -TERM $VP; wait $VP 2>/dev/null || true
dump=1
for api in checked plain; do
  t=$(callgrind_annotate "$OUT/cg.$VG.$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  echo "$api: $((t / N)) instructions per request ($N requests; $OUT/cg.$VG.$dump)"
  dump=$((dump + 1))
done
