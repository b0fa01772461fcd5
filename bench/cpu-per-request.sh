#!/usr/bin/env bash
# CPU time per proxied request, user and system, of each proxy and of the backend behind it: the
# nginx proxy, HAProxy (jwt_verify) and micro-gw in turn, one valid key, all servers pinned to CPU 0
# and the client on CPU 1, as bench/run.sh's pinned layout. Where req/s says which is faster,
# this says where each spends its time (user space or kernel) and how much the backend costs
# behind it (a backend sharing the core is woken more often behind a slower proxy).
# The figures are the processes' utime/stime ticks (/proc/PID/stat, 10 ms) over the run divided by
# its requests, so a run of a few seconds resolves about 0.1 us per request.
#   bench/cpu-per-request.sh BENCH_TMP_DIR [BINARY]
#     BENCH_TMP_DIR: kept by `KEEP_TMP=1 ROUNDS=1 DURATION=1 LAYOUTS=pinned SECTIONS=proxy
#                    TARGETS="nginx haproxy micro-gw" CASES=one CONNS=64 bench/run.sh`
#     PROTO=h1|h2 (h1: wrk -t1 -c64; h2: h2load -c8 -m8)  SECS=5  WHICH="nginx haproxy micro-gw"
#     POOL=1: h1, a different key of the kept dir's pool-keys.txt on every request (run.sh's "pool"
#             case: micro-gw's cache holds fewer, so every request verifies a signature)
set -euo pipefail
D=$1; BIN=${2:-$(cd "$(dirname "$0")/.." && pwd)/build-bench/micro-gw}
PROTO=${PROTO:-h1}; SECS=${SECS:-5}; WHICH=${WHICH:-"nginx haproxy micro-gw"}
for tool in nginx haproxy taskset python3 $([ "$PROTO" = h2 ] && echo h2load || echo wrk); do
  command -v "$tool" >/dev/null || { echo "cpu-per-request: $tool is missing (make bench-deps)" >&2; exit 1; }
done
GW=$D/gateway-pinned; KEY=$(head -1 "$D/all-keys.txt")
TICK_US=$(( 1000000 / $(getconf CLK_TCK) ))
ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }  # utime stime

taskset -c 0 nginx -e stderr -p "$D/nginx" -c "$D/nginx/backend.conf" -g 'master_process off;' 2>/dev/null &
NP=$!; SP=""
trap 'kill $NP $SP 2>/dev/null || true; wait 2>/dev/null || true' EXIT
sleep 0.5

load() {  # seconds url -> "requests" on stdout
  if [ "$PROTO" = h2 ]; then
    taskset -c 1 h2load -c8 -m8 -D"$1" -H "apikey: $KEY" "$2" | awk '/^requests:/ {print $8}'
  elif [ -n "${POOL:-}" ]; then
    KEYFILE=$D/pool-keys.txt taskset -c 1 wrk -t1 -c64 -d"$1" -s "$D/pool.lua" "$2" | awk '/requests in/ {print $1}'
  else
    taskset -c 1 wrk -t1 -c64 -d"$1" -H "apikey: $KEY" "$2" | awk '/requests in/ {print $1}'
  fi
}

printf "%-9s %10s %22s %22s\n" "$PROTO${POOL:+ pool}" "req/s" "proxy user+sys us/req" "backend user+sys us/req"
for w in $WHICH; do
  case $w in
    nginx)
      taskset -c 0 nginx -e stderr -p "$D/nginx" -c "$D/nginx/proxy.conf" -g 'master_process off;' 2>/dev/null &
      SP=$!; sleep 0.5
      port=$(grep -oE "listen +127.0.0.1:[0-9]+$([ "$PROTO" = h2 ] && echo ' http2' || echo ' backlog')" \
        "$D/nginx/proxy.conf" | head -1 | sed -E 's/.*:([0-9]+).*/\1/');;
    haproxy)
      taskset -c 0 haproxy -db -f "$D/haproxy.cfg" >/dev/null 2>&1 &
      SP=$!; sleep 0.5
      port=$(awk -v h2="$([ "$PROTO" = h2 ] && echo 1 || echo 0)" \
        '/^ *bind/ && ((h2 && /proto h2/) || (!h2 && !/proto h2/)) {split($2, a, ":"); print a[2]; exit}' "$D/haproxy.cfg");;
    micro-gw)
      rm -f "$GW/ready"
      MGW_RUNTIME_HOME=$GW taskset -c 0 "$BIN" --config "$GW/conf/micro-gw.conf" --ready-file "$GW/ready" \
        >/dev/null 2>&1 &
      SP=$!
      for _ in $(seq 600); do [ -s "$GW/ready" ] && break; sleep 0.1; done
      port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["httpPort"])' "$GW/ready");;
    *) echo "cpu-per-request: unknown target $w" >&2; exit 1;;
  esac
  url="http://127.0.0.1:$port/bench/data"
  load 2 "$url" >/dev/null  # warm: connections, the key cache, the backend pool
  read -r pu0 ps0 < <(ticks "$SP"); read -r bu0 bs0 < <(ticks "$NP")
  start=$(date +%s%N)
  n=$(load "$SECS" "$url")
  end=$(date +%s%N)
  read -r pu1 ps1 < <(ticks "$SP"); read -r bu1 bs1 < <(ticks "$NP")
  awk -v w="$w" -v n="$n" -v ns=$(( end - start )) -v t="$TICK_US" \
      -v pu=$(( pu1 - pu0 )) -v ps=$(( ps1 - ps0 )) -v bu=$(( bu1 - bu0 )) -v bs=$(( bs1 - bs0 )) \
    'BEGIN { printf "%-9s %10.0f %10.2f + %-10.2f %10.2f + %-10.2f\n", w, n / (ns / 1e9),
             pu * t / n, ps * t / n, bu * t / n, bs * t / n }'
  kill "$SP"; wait "$SP" 2>/dev/null || true; SP=""
done
