#!/usr/bin/env bash
# Where the memory of held keep-alive connections goes: micro-gw under valgrind massif while
# bench/hold_client.py holds N connections (default 2000). Needs a temp dir kept by
# `KEEP_TMP=1 SECTIONS=hold bench/run.sh` (its hold-1 gateway config and hold backend config).
#   bench/hold-massif.sh BENCH_TMP_DIR [N] [BINARY]     then: ms_print <the massif file it names>
set -uo pipefail
D=$1; N=${2:-2000}; HERE=$(cd "$(dirname "$0")" && pwd); BIN=${3:-$HERE/../build-bench/micro-gw}
GW=$D/hold-1; K=$(head -1 "$D/all-keys.txt" 2>/dev/null || true)
[ -n "$K" ] || { echo "hold-massif: no key in $D/all-keys.txt" >&2; exit 1; }
BPORT=$(sed -n 's/.*production = "http:\/\/127.0.0.1:\([0-9]*\)".*/\1/p' "$GW/conf/micro-gw.conf")
sed "s/listen 127.0.0.1:[0-9]*/listen 127.0.0.1:$BPORT/" "$D/nginx/hold-backend.conf" > "$D/nginx/massif-backend.conf"
nginx -e stderr -p "$D/nginx" -c "$D/nginx/massif-backend.conf" 2>/dev/null & NP=$!
OUT=$D/massif.hold.out
rm -f "$GW/ready"
MGW_RUNTIME_HOME=$GW timeout 600 valgrind --tool=massif --threshold=2 --massif-out-file="$OUT" "$BIN" \
  --config "$GW/conf/micro-gw.conf" --ready-file "$GW/ready" >/dev/null 2>"$D/logs/massif.err" & VP=$!
trap 'kill $VP $NP 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 600); do [ -s "$GW/ready" ] && break; sleep 0.1; done
P=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["httpPort"])' "$GW/ready")
(ulimit -n "$(ulimit -Hn)"; timeout 300 python3 "$HERE/hold_client.py" --port "$P" --path /bench/data \
  --header "apikey: $K" --pid "$VP" --conns "$N" --batch 100 --idle 2 --probes 2 --recheck 10) | grep -E 'opened|growth'
kill -TERM $VP; wait $VP 2>/dev/null
echo "massif: $OUT (the peak snapshot is the held state: ms_print $OUT)"
