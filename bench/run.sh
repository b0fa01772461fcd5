#!/usr/bin/env bash
# micro-gw side-by-side benchmark (issues 5 and 9). `make bench` runs it; every figure in bench/RESULTS.md
# comes from this script. Everything listens on 127.0.0.1, lives in one temp dir, is tracked by PID
# and stopped by the trap; every wrk/openssl/benchmark run is bounded with timeout.
#
# Knobs (environment):
#   ROUNDS=2        interleaved rounds per layout (every target and case once per round)
#   DURATION=5      seconds per wrk run
#   CONNS="1 64"    wrk connection counts
#   LAYOUTS="pinned unpinned"   pinned: servers on CPU 0, wrk on CPU 1 (taskset); unpinned: no affinity
#   POOL=10000      distinct keys for the cache-miss case
#   SECTIONS="proxy hold sts micro footprint"   what to run
#   BUILD=build-bench   build tree (Release)
#   TARGETS="backend nginx haproxy micro-gw micro-gw-throttled"   CASES="one pool invalid"   (subsets;
#                   micro-gw-throttled: the same API behind a throttling policy never reached, issue 13)
#   MGW_KEEPALIVE_MAX=100000  [listenerConfig] keepAliveMaxRequests, the same as nginx's
#                   keepalive_requests here (HAProxy has no such limit)
#   MGW_KEY_LOOKUP_LIMIT=2000000000  [authentication] keyLookupFailuresPerMinute: lifted, so the
#                   invalid-key flood (all from 127.0.0.1) measures the full check on every request as
#                   HAProxy's does; at micro-gw's default (100) the flood is answered 429 unchecked
#   HOLD_CONNS=10000 HOLD_IDLE=10 HOLD_PROBES=20   the "hold" section (issue 9, target (e)):
#                   keep-alive connections held on micro-gw, seconds of idle CPU measured, new clients
#   KEEP_TMP=1      keep the temp dir (configs, logs, raw results)
#   METRICS_ROUNDS=6  the "metrics" section (issue 12): micro-gw with [observability] metricsPort 0
#                   (metrics on) against -1 (off), both running, pinned to CPU 0, nginx backend; wrk
#                   with one valid key at each of CONNS, alternating on/off METRICS_ROUNDS times
# Servers get one thread per core they may use: pinned (one core) = micro-gw ioThreads 1, nginx
# worker_processes 1, HAProxy nbthread 1; unpinned = ioThreads 0 (one per core), 2 workers, 2 threads.
# micro-gw's workerThreads (the blocking pool: argon2id, store writes) keeps its default.
# Quick look while developing: ROUNDS=1 DURATION=3 LAYOUTS=pinned POOL=2000 CACHE_CAPACITY=200
#   HOLD_CONNS=2000 SECTIONS="proxy hold" bench/run.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-5}
CONNS=${CONNS:-"1 64"}
LAYOUTS=${LAYOUTS:-"pinned unpinned"}
POOL=${POOL:-10000}
SECTIONS=${SECTIONS:-"proxy hold sts micro footprint"}
CACHE_CAPACITY=${CACHE_CAPACITY:-1000}  # < POOL, so the rotating pool misses on every request
JOBS=${JOBS:-2}
TARGETS=${TARGETS:-"backend nginx haproxy micro-gw micro-gw-throttled"}
CASES=${CASES:-"one pool invalid h2"}  # h2: h2load, one key, 64 streams over 8 connections
MGW_KEEPALIVE_MAX=${MGW_KEEPALIVE_MAX:-100000}
MGW_KEY_LOOKUP_LIMIT=${MGW_KEY_LOOKUP_LIMIT:-2000000000}
HOLD_CONNS=${HOLD_CONNS:-10000}
HOLD_IDLE=${HOLD_IDLE:-10}
HOLD_PROBES=${HOLD_PROBES:-20}
HERE=$(cd "$(dirname "$0")" && pwd)

for tool in wrk nginx haproxy taskset openssl curl python3 timeout $([[ " $CASES " == *" h2 "* ]] && echo h2load); do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make bench-deps)" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || LAYOUTS=unpinned

. "$(dirname "$0")/lib.sh"
bench_setup bench

log() { echo "bench: $*" >&2; }
section() { [[ " $SECTIONS " == *" $1 "* ]]; }
now_ns() { date +%s%N; }

# A free port from the kernel (nginx and HAProxy need theirs written in their configuration).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  drop_pid "$pid"
}

wait_http() {  # url [curl args]: until it answers at all (any status)
  local url=$1; shift
  for _ in $(seq 200); do
    curl -s -o /dev/null --max-time 1 "$@" "$url" && return 0
    sleep 0.05
  done
  log "no answer from $url"; return 1
}

# ---------------------------------------------------------------------------------------------- build
log "building micro-gw (Release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMGW_BENCH=ON >/dev/null
cmake --build "$BUILD" -j"$JOBS" --target micro-gw mgw-validator-bench >/dev/null
MGW=$BUILD/micro-gw
ADMIN_HASH=$(sed -n 's/^[[:space:]]*password[[:space:]]*=[[:space:]]*"\(\$argon2id\$[^"]*\)".*/\1/p' "$ROOT/conf/micro-gw.conf" | head -1)
[ -n "$ADMIN_HASH" ] || { log "no argon2id admin hash in conf/micro-gw.conf"; exit 1; }
BASIC="Basic $(printf admin:admin | base64)"
ISSUER="https://localhost:9095/apikey"

# One RS256 signing key for every gateway instance (keys stay valid across restarts); its public key
# is what HAProxy's jwt_verify checks against.
mkdir -p "$TMP/keys/RS256" "$TMP/keys/ES256" "$TMP/keys/EdDSA" "$TMP/logs" "$TMP/nginx"
for alg in RS256 ES256 EdDSA; do
  "$MGW" keystore init --alg "$alg" --out "$TMP/keys/$alg" >/dev/null 2>&1
done
openssl x509 -in "$TMP/keys/RS256/micro-gw-signing.pem" -noout -pubkey > "$TMP/keys/rs256-public.pem"
openssl x509 -in "$TMP/keys/RS256/micro-gw-signing.pem" > "$TMP/keys/rs256-cert.pem"

# ----------------------------------------------------------------------------------- configurations
BODY=$(python3 -c 'import json; d={"id":1,"name":"bench","items":[{"sku":"SKU-%04d"%i,"qty":i,"price":i*1.25} for i in range(22)]}; s=json.dumps(d,separators=(",",":")); print(s[:1000])')
BODY=${BODY//\'/}

nginx_backend_conf() {  # port workers
  cat <<EOF
daemon off;
worker_processes $2;
pid $TMP/nginx/backend.pid;
error_log $TMP/logs/nginx-backend.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000;
  client_body_temp_path $TMP/nginx/b-body; proxy_temp_path $TMP/nginx/b-proxy;
  fastcgi_temp_path $TMP/nginx/b-fcgi; uwsgi_temp_path $TMP/nginx/b-uwsgi; scgi_temp_path $TMP/nginx/b-scgi;
  server {
    listen 127.0.0.1:$1 backlog=4096;
    location / { default_type application/json; return 200 '$BODY'; }
  }
}
EOF
}

nginx_proxy_conf() {  # port backendPort workers h2Port
  cat <<EOF
daemon off;
worker_processes $3;
pid $TMP/nginx/proxy.pid;
error_log $TMP/logs/nginx-proxy.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000;
  client_body_temp_path $TMP/nginx/p-body; proxy_temp_path $TMP/nginx/p-proxy;
  fastcgi_temp_path $TMP/nginx/p-fcgi; uwsgi_temp_path $TMP/nginx/p-uwsgi; scgi_temp_path $TMP/nginx/p-scgi;
  upstream backend { server 127.0.0.1:$2; keepalive 128; keepalive_requests 100000; }
  server {
    listen 127.0.0.1:$1 backlog=4096;
    listen 127.0.0.1:$4 http2;  # h2c with prior knowledge
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header apikey "";
    }
  }
}
EOF
}

haproxy_conf() {  # port backendPort threads h2Port
  cat <<EOF
global
  nbthread $3
  maxconn 4096
  log stderr format short local0 err
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend jwt
  bind 127.0.0.1:$1
  bind 127.0.0.1:$4 proto h2
  http-request set-var(txn.key) req.hdr(apikey)
  http-request return status 401 content-type application/json string '{"fault":{"code":900902}}' unless { var(txn.key) -m found }
  http-request set-var(txn.alg) var(txn.key),jwt_header_query('\$.alg')
  http-request set-var(txn.iss) var(txn.key),jwt_payload_query('\$.iss')
  http-request set-var(txn.exp) var(txn.key),jwt_payload_query('\$.exp','int')
  http-request set-var(txn.now) date()
  http-request return status 401 content-type application/json string '{"fault":{"code":900901}}' unless { var(txn.alg) -m str RS256 }
  http-request return status 401 content-type application/json string '{"fault":{"code":900901}}' unless { var(txn.key),jwt_verify(txn.alg,"$TMP/keys/rs256-public.pem") -m int 1 }
  http-request return status 401 content-type application/json string '{"fault":{"code":900901}}' unless { var(txn.iss) -m str $ISSUER }
  http-request return status 401 content-type application/json string '{"fault":{"code":900901}}' unless { var(txn.exp),sub(txn.now) -m int gt 0 }
  http-request del-header apikey
  default_backend be
backend be
  http-reuse always
  server b1 127.0.0.1:$2 maxconn 512
EOF
}

mgw_conf() {  # alg validityTime [backendPort [ioThreads [extra listenerConfig lines]]]
  cat <<EOF
[listenerConfig]
host = "127.0.0.1"
httpPort = 0
httpsPort = 0
ioThreads = ${4:-0}
keepAliveMaxRequests = $MGW_KEEPALIVE_MAX
${5:-}

[b7a.users.admin]
password = "$ADMIN_HASH"
roles = ["admin"]

[authentication]
keyLookupFailuresPerMinute = $MGW_KEY_LOOKUP_LIMIT

[apikey.issuer.tokenConfig]
enabled = true
issuer = "$ISSUER"
certificateAlias = "ballerina"
validityTime = $2
signatureAlgorithm = "$1"
keyStorePath = "$TMP/keys/$1/micro-gw-signing.pem"

[[apikey.issuer.api]]
name = "BenchAPI"
versions = "*"

[caching]
enabled = true
tokenCacheExpiryTime = 900
tokenCacheCapacity = $CACHE_CAPACITY

[observability]
metricsPort = ${MGW_METRICS_PORT:-0}
EOF
  if [ -n "${3:-}" ]; then
    cat <<EOF

[[apis.api]]
name = "BenchAPI"
version = "1.0.0"
context = "/bench"
production = "http://127.0.0.1:$3"

# Issue 13: the same API behind an API-level policy that is never reached (the counting costs
# what it costs; nothing is refused): target micro-gw-throttled.
[[throttling.policy]]
name = "BenchNeverReached"
level = "api"
count = 1000000000000
unitTime = 1
timeUnit = "min"

[[apis.api]]
name = "BenchAPI"
version = "2.0.0"
context = "/throttled"
production = "http://127.0.0.1:$3"
throttlingTier = "BenchNeverReached"
EOF
  fi
}

# start_mgw name conf-text cpu-prefix... : sets MGW_PID, MGW_HTTP, MGW_HTTPS, MGW_READY_MS
start_mgw() {
  local name=$1 conf=$2; shift 2
  local home=$TMP/$name
  mkdir -p "$home/conf"
  printf '%s\n' "$conf" > "$home/conf/micro-gw.conf"
  rm -f "$home/ready"
  local t0; t0=$(now_ns)
  MGW_RUNTIME_HOME=$home "$@" "$MGW" --config "$home/conf/micro-gw.conf" --ready-file "$home/ready" \
    >"$TMP/logs/$name.out" 2>"$TMP/logs/$name.err" &
  MGW_PID=$!
  PIDS+=("$MGW_PID")
  for _ in $(seq 3000); do
    [ -s "$home/ready" ] && break
    kill -0 "$MGW_PID" 2>/dev/null || { log "$name exited:"; tail -5 "$TMP/logs/$name.err" >&2; return 1; }
    sleep 0.001
  done
  MGW_READY_MS=$(( ($(now_ns) - t0) / 1000000 ))
  MGW_HTTP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["httpPort"])' "$home/ready")
  MGW_HTTPS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["httpsPort"])' "$home/ready")
}

rss_kb() { awk -v f="${2:-VmRSS}:" '$1==f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
tree_rss_kb() {  # a server and its children (nginx workers)
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do total=$(( total + $(rss_kb "$p") )); done
  echo "$total"
}

# --------------------------------------------------------------------------------------- wrk scripts
cat > "$TMP/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %d %d %d %d %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.status, e.connect + e.read + e.write + e.timeout, summary.requests))
end
EOF
{ cat <<'EOF'
-- One key (APIKEY) on every request.
wrk.headers["apikey"] = os.getenv("APIKEY")
EOF
  cat "$TMP/report.lua"; } > "$TMP/key.lua"
{ cat <<'EOF'
-- A pool of distinct keys (KEYFILE, one a line), a different one on every request; each wrk thread
-- starts at a different offset. Requests are formatted once, in init.
local counter = 0
function setup(thread)
  thread:set("offset", counter * 4999)
  counter = counter + 1
end
local reqs, i = {}, 0
function init(args)
  for line in io.lines(os.getenv("KEYFILE")) do
    if #line > 0 then reqs[#reqs + 1] = wrk.format(nil, nil, {["apikey"] = line, ["Host"] = wrk.headers["Host"]}) end
  end
  i = (offset or 0) % #reqs
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
EOF
  cat "$TMP/report.lua"; } > "$TMP/pool.lua"
cat > "$TMP/issue.lua" <<'EOF'
-- Collects issued keys: each thread writes the 200 bodies to KEYDIR/keys.<n> and stops at its quota.
local counter = 0
function setup(thread)
  thread:set("n", counter)
  counter = counter + 1
end
local f, got
function init(args)
  f = io.open(os.getenv("KEYDIR") .. "/keys." .. n, "w")
  got = 0
  quota = tonumber(os.getenv("QUOTA"))
end
function response(status, headers, body)
  if status == 200 and got < quota then
    f:write(body, "\n")
    got = got + 1
    if got >= quota then f:flush(); wrk.thread:stop() end
  end
end
done = function() end
EOF

# run_wrk cpu-prefix... -- wrk args : prints "rps p50 p99 p999 non2xx sockerr requests" (latencies in us)
run_wrk() {
  local prefix=()
  while [ "$1" != "--" ]; do prefix+=("$1"); shift; done; shift
  local out
  out=$(timeout $(( DURATION + 30 )) "${prefix[@]}" wrk "$@" 2>&1) || { log "wrk failed: $out"; echo "0 0 0 0 0 0 0"; return; }
  echo "$out" | awk '/^RESULT/ {print $2, $3, $4, $5, $6, $7, $8}'
}

# run_h2load cpu-prefix... -- h2load args : the same columns as run_wrk; h2load reports no
# percentiles, so p50 is the mean and p99 the max time per request; p999 0.
run_h2load() {
  local prefix=()
  while [ "$1" != "--" ]; do prefix+=("$1"); shift; done; shift
  local out
  out=$(timeout $(( DURATION + 30 )) "${prefix[@]}" h2load "$@" 2>&1) || { log "h2load failed: $out"; echo "0 0 0 0 0 0 0"; return; }
  echo "$out" | awk '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; return v * 1000000 }
    /^finished in/ { rps = $4 + 0 }
    /^requests:/ { total = $2; failed = $12 + $14 }
    /^status codes:/ { non2xx = $5 + $7 + $9 }
    /^time for request:/ { mean = us($6); max = us($5) }
    END { print rps, mean, max, 0, non2xx, failed, total }'
}

RESULTS=$TMP/results.txt
: > "$RESULTS"
HOLD=$TMP/hold.txt
: > "$HOLD"
FOOT=$TMP/footprint.txt
: > "$FOOT"

# -------------------------------------------------------------------------------------------- proxy
if section proxy; then
  BACKEND_PORT=$(free_port); PROXY_PORT=$(free_port); HAPROXY_PORT=$(free_port)
  PROXY_H2_PORT=$(free_port); HAPROXY_H2_PORT=$(free_port)

  # Keys: from micro-gw's own /apikey (RS256, validityTime 1 day, so HAProxy has an exp to check).
  log "issuing $POOL + 1 keys through /apikey"
  start_mgw issuer "$(mgw_conf RS256 86400)"
  ISSUER_PID=$MGW_PID
  mkdir -p "$TMP/issued"
  KEYDIR=$TMP/issued QUOTA=$(( (POOL + 1) / 2 + 1 )) timeout 300 wrk -t2 -c8 -d120s -s "$TMP/issue.lua" \
    -H "Authorization: $BASIC" "https://127.0.0.1:$MGW_HTTPS/apikey" >/dev/null
  cat "$TMP/issued"/keys.* | awk 'length > 0 && !seen[$0]++' > "$TMP/all-keys.txt"
  stop_pid "$ISSUER_PID"
  have=$(wc -l < "$TMP/all-keys.txt")
  [ "$have" -ge $(( POOL + 1 )) ] || { log "only $have keys issued"; exit 1; }
  VALID_KEY=$(head -1 "$TMP/all-keys.txt")
  sed -n "2,$(( POOL + 1 ))p" "$TMP/all-keys.txt" > "$TMP/pool-keys.txt"
  # The 401 path: a well-formed key whose signature does not verify (the full check runs).
  INVALID_KEY=$(python3 -c 'import sys; k=sys.argv[1]; i=len(k)-20; print(k[:i] + ("A" if k[i] != "A" else "B") + k[i+1:])' "$VALID_KEY")

  for layout in $LAYOUTS; do
    if [ "$layout" = pinned ]; then SRV=(taskset -c 0); CLI=(taskset -c 1); WORKERS=1; IO=1; else SRV=(); CLI=(); WORKERS=2; IO=0; fi
    log "layout $layout: starting nginx backend, nginx proxy, HAProxy, micro-gw"
    nginx_backend_conf "$BACKEND_PORT" "$WORKERS" > "$TMP/nginx/backend.conf"
    nginx_proxy_conf "$PROXY_PORT" "$BACKEND_PORT" "$WORKERS" "$PROXY_H2_PORT" > "$TMP/nginx/proxy.conf"
    haproxy_conf "$HAPROXY_PORT" "$BACKEND_PORT" "$WORKERS" "$HAPROXY_H2_PORT" > "$TMP/haproxy.cfg"
    "${SRV[@]}" nginx -e stderr -p "$TMP/nginx" -c "$TMP/nginx/backend.conf" 2>>"$TMP/logs/nginx-backend.err" & BACKEND_PID=$!; PIDS+=("$BACKEND_PID")
    "${SRV[@]}" nginx -e stderr -p "$TMP/nginx" -c "$TMP/nginx/proxy.conf" 2>>"$TMP/logs/nginx-proxy.err" & PROXY_PID=$!; PIDS+=("$PROXY_PID")
    "${SRV[@]}" haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/logs/haproxy.out" 2>&1 & HAPROXY_PID=$!; PIDS+=("$HAPROXY_PID")
    start_mgw "gateway-$layout" "$(mgw_conf RS256 86400 "$BACKEND_PORT" "$IO")" "${SRV[@]}"
    GW_PID=$MGW_PID
    sleep 1
    echo "$layout ready_ms $MGW_READY_MS" >> "$FOOT"
    echo "$layout idle_rss_kb $(rss_kb "$GW_PID")" >> "$FOOT"
    echo "$layout nginx_proxy_idle_rss_kb $(tree_rss_kb "$PROXY_PID")" >> "$FOOT"
    echo "$layout haproxy_idle_rss_kb $(rss_kb "$HAPROXY_PID")" >> "$FOOT"

    declare -A URL=(
      [backend]="http://127.0.0.1:$BACKEND_PORT/bench/data"
      [nginx]="http://127.0.0.1:$PROXY_PORT/bench/data"
      [haproxy]="http://127.0.0.1:$HAPROXY_PORT/bench/data"
      [micro-gw]="http://127.0.0.1:$MGW_HTTP/bench/data"
      [micro-gw-throttled]="http://127.0.0.1:$MGW_HTTP/throttled/data"
    )
    # HTTP/2 (cleartext, prior knowledge) on each proxy: micro-gw's HTTP port takes h2c as well.
    declare -A H2URL=(
      [nginx]="http://127.0.0.1:$PROXY_H2_PORT/bench/data"
      [haproxy]="http://127.0.0.1:$HAPROXY_H2_PORT/bench/data"
      [micro-gw]="http://127.0.0.1:$MGW_HTTP/bench/data"
    )
    for t in backend nginx haproxy micro-gw micro-gw-throttled; do wait_http "${URL[$t]}"; done
    # Sanity: every target answers 200 to the valid key and the key checkers 401 to the invalid one.
    for t in backend nginx haproxy micro-gw micro-gw-throttled; do
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "apikey: $VALID_KEY" "${URL[$t]}")
      [ "$code" = 200 ] || { log "$t answers $code to the valid key"; tail -3 "$TMP/logs/"*.err >&2; exit 1; }
    done
    for t in haproxy micro-gw; do
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "apikey: $INVALID_KEY" "${URL[$t]}")
      [ "$code" = 401 ] || { log "$t answers $code to the invalid key"; exit 1; }
    done

    for round in $(seq "$ROUNDS"); do
      for c in $CONNS; do
        threads=1; [ "$layout" = unpinned ] && [ "$c" -gt 1 ] && threads=2
        for tc in backend:one nginx:one haproxy:one micro-gw:one micro-gw-throttled:one haproxy:pool micro-gw:pool micro-gw-throttled:pool haproxy:invalid micro-gw:invalid; do
          t=${tc%%:*}; case_=${tc#*:}
          [[ " $TARGETS " == *" $t "* && " $CASES " == *" $case_ "* ]] || continue
          case $case_ in
            one) script=(-s "$TMP/key.lua"); export APIKEY=$VALID_KEY ;;
            invalid) script=(-s "$TMP/key.lua"); export APIKEY=$INVALID_KEY ;;
            pool) script=(-s "$TMP/pool.lua"); export KEYFILE=$TMP/pool-keys.txt ;;
          esac
          r=$(run_wrk "${CLI[@]}" -- -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s --latency "${script[@]}" "${URL[$t]}")
          echo "$layout $c $case_ $t $round $r $(cut -d' ' -f1 /proc/loadavg)" >> "$RESULTS"
          log "$layout c=$c $t/$case_ round $round: $r"
          if [[ "$t" == micro-gw* ]] && [ "$c" -gt 1 ]; then
            echo "$layout load_rss_kb $(rss_kb "$GW_PID")" >> "$FOOT"
          fi
        done
      done
      # HTTP/2: one key, 64 streams over 8 connections (issue 23), once per round.
      for t in nginx haproxy micro-gw; do
        [[ " $TARGETS " == *" $t "* && " $CASES " == *" h2 "* ]] || continue
        threads=1; [ "$layout" = unpinned ] && threads=2
        r=$(run_h2load "${CLI[@]}" -- -t"$threads" -c8 -m8 -D"$DURATION" -H "apikey: $VALID_KEY" "${H2URL[$t]}")
        echo "$layout 64 h2 $t $round $r $(cut -d' ' -f1 /proc/loadavg)" >> "$RESULTS"
        log "$layout h2 (-c8 -m8) $t round $round: $r"
      done
    done
    echo "$layout peak_rss_kb $(rss_kb "$GW_PID" VmHWM)" >> "$FOOT"
    echo "$layout threads $(awk '/^Threads:/ {print $2}' /proc/$GW_PID/status)" >> "$FOOT"
    echo "$layout nginx_proxy_load_rss_kb $(tree_rss_kb "$PROXY_PID")" >> "$FOOT"
    echo "$layout haproxy_load_rss_kb $(rss_kb "$HAPROXY_PID")" >> "$FOOT"
    for pid in "$GW_PID" "$HAPROXY_PID" "$PROXY_PID" "$BACKEND_PID"; do stop_pid "$pid"; done
    unset URL H2URL
  done

  echo
  echo "## Gateways (wrk, ${DURATION} s per run, ${ROUNDS} interleaved rounds, $(date -u +%F))"
  echo
  python3 "$HERE/summarize.py" table "$RESULTS"
fi

# --------------------------------------------------------------------------------------------- hold
# Issue 9, target (e): HOLD_CONNS keep-alive connections held on micro-gw (pinned to CPU 0, ioThreads
# 1; the client on CPU 1), each after one proxied GET with a valid key; every client is 127.0.0.1, so
# the per-address cap (maxConnectionsPerAddress, 256) is lifted. bench/hold_client.py measures
# micro-gw's RSS growth, its CPU time over HOLD_IDLE idle seconds, and new clients served meanwhile.
# Run twice, each on a fresh micro-gw.
if section hold; then
  HOLD_ROUNDS=${HOLD_ROUNDS:-2}
  HB_PORT=$(free_port)
  nginx_backend_conf "$HB_PORT" 1 | sed "s|backend.pid|hold-backend.pid|; s|nginx-backend.err|nginx-hold-backend.err|" \
    > "$TMP/nginx/hold-backend.conf"
  taskset -c 0 nginx -e stderr -p "$TMP/nginx" -c "$TMP/nginx/hold-backend.conf" 2>>"$TMP/logs/nginx-hold-backend.err" &
  HB_PID=$!; PIDS+=("$HB_PID")
  if [ -z "${VALID_KEY:-}" ]; then  # the proxy section did not run: one key from a short-lived issuer
    start_mgw hold-issuer "$(mgw_conf RS256 86400)"
    VALID_KEY=$(curl -sk --fail --max-time 30 -H "Authorization: $BASIC" "https://127.0.0.1:$MGW_HTTPS/apikey")
    stop_pid "$MGW_PID"
  fi
  for round in $(seq "$HOLD_ROUNDS"); do
    start_mgw "hold-$round" "$(mgw_conf RS256 86400 "$HB_PORT" 1 "maxConnections = $(( HOLD_CONNS + 100 ))
maxConnectionsPerAddress = 0
keepAliveTimeoutSeconds = 3600")" taskset -c 0
    HOLD_PID=$MGW_PID
    wait_http "http://127.0.0.1:$MGW_HTTP/bench/data"
    log "hold round $round: $HOLD_CONNS connections on micro-gw (pid $HOLD_PID)"
    out=$(ulimit -n "$(ulimit -Hn)"; timeout $(( HOLD_IDLE + 600 )) taskset -c 1 python3 "$HERE/hold_client.py" \
      --port "$MGW_HTTP" --path /bench/data --header "apikey: $VALID_KEY" --pid "$HOLD_PID" \
      --conns "$HOLD_CONNS" --idle "$HOLD_IDLE" --probes "$HOLD_PROBES") || log "hold client failed: $out"
    echo "$out" | awk -v r="$round" -v l="$(cut -d' ' -f1 /proc/loadavg)" '/^HOLD/ {print r, $2, $3} END {print r, "load1", l}' >> "$HOLD"
    echo "$out" | sed 's/^HOLD /  /' >&2
    stop_pid "$HOLD_PID"
  done
  stop_pid "$HB_PID"
  echo
  echo "## $HOLD_CONNS keep-alive connections held (micro-gw pinned to CPU 0, ioThreads 1; client on CPU 1; $(date -u +%F))"
  echo
  python3 "$HERE/summarize.py" hold "$HOLD"
fi

# ---------------------------------------------------------------------------------------------- sts
if section sts; then
  echo
  echo "## STS: keys/s through /apikey (micro-gw pinned to CPU 0, wrk -t1 -c8 on CPU 1, ${DURATION} s) vs openssl speed (CPU 0)"
  echo
  declare -A STS
  for alg in RS256 ES256 EdDSA; do
    start_mgw "sts-$alg" "$(mgw_conf "$alg" 3600 "" 1)" taskset -c 0
    pid=$MGW_PID
    # Warm: one request pays argon2id once; the credential cache serves the rest.
    curl -sk --max-time 10 -o /dev/null -H "Authorization: $BASIC" "https://127.0.0.1:$MGW_HTTPS/apikey"
    r=$(run_wrk taskset -c 1 -- -t1 -c8 -d"${DURATION}s" --timeout 10s --latency -H "Authorization: $BASIC" \
        -s "$TMP/report.lua" "https://127.0.0.1:$MGW_HTTPS/apikey")
    STS[$alg]=$r
    log "sts $alg: $r"
    stop_pid "$pid"
  done
  # micro-gw's keystore init makes RSA-3072 keys: compare with the same size (rsa2048 shown too).
  RSA_BITS=$(openssl pkey -in "$TMP/keys/RS256/micro-gw-signing.pem" -noout -text 2>/dev/null | sed -n '1s/.*(\([0-9]*\) bit.*/\1/p')
  speed=$(timeout 120 taskset -c 0 openssl speed -seconds 3 rsa2048 "rsa$RSA_BITS" ecdsap256 ed25519 2>/dev/null)
  rsa_sign=$(echo "$speed" | awk -v b="$RSA_BITS" '$1=="rsa" && $2==b {print $(NF-1)}')
  rsa2048_sign=$(echo "$speed" | awk '$1=="rsa" && $2=="2048" {print $(NF-1)}')
  ec_sign=$(echo "$speed" | awk '/^ *256 bits ecdsa \(nistp256\)/ {print $(NF-1)}')
  ed_sign=$(echo "$speed" | awk '/Ed25519\)/ && /bits/ {print $(NF-1)}')
  echo "RS256 signing key: RSA-$RSA_BITS (micro-gw keystore init). openssl speed rsa2048 sign/s on CPU 0: $rsa2048_sign"
  echo
  echo "| algorithm | micro-gw keys/s | p50 ms | p99 ms | non-2xx | openssl speed sign/s (1 core, same key size) | ratio |"
  echo "|---|---|---|---|---|---|---|"
  for alg in RS256 ES256 EdDSA; do
    read -r rps p50 p99 p999 non2xx _ _ <<< "${STS[$alg]}"
    case $alg in RS256) s=$rsa_sign ;; ES256) s=$ec_sign ;; EdDSA) s=$ed_sign ;; esac
    python3 -c 'import sys; a=sys.argv; r=float(a[2]); s=float(a[6] or 0); print(f"| {a[1]} | {r:,.0f} | {float(a[3])/1000:.2f} | {float(a[4])/1000:.2f} | {a[5]} | {s:,.0f} | {r/s if s else 0:.2f} |")' \
      "$alg" "$rps" "$p50" "$p99" "$non2xx" "${s:-0}"
  done
fi

# -------------------------------------------------------------------------------------------- micro
if section micro; then
  echo
  echo "## Google Benchmark: verifyToken and KeyValidator::validate (CPU 0)"
  echo
  echo '```'
  timeout 300 taskset -c 0 "$BUILD/bench/mgw-validator-bench" --benchmark_min_time=0.3 2>/dev/null |
    grep -E '^(BM_|-|Benchmark)'
  echo '```'
fi

# ---------------------------------------------------------------------------------------- footprint
if section footprint; then
  echo
  echo "## Footprint"
  echo
  # Start-to-ready, five fresh starts (no keystore generation: the keys exist).
  readies=()
  for i in 1 2 3 4 5; do
    rm -rf "$TMP/ready-probe"
    start_mgw ready-probe "$(mgw_conf RS256 3600 9)"
    readies+=("$MGW_READY_MS")
    [ "$i" = 1 ] && { sleep 1; idle=$(rss_kb "$MGW_PID"); idle_threads=$(awk '/^Threads:/ {print $2}' "/proc/$MGW_PID/status"); }
    stop_pid "$MGW_PID"
  done
  cp "$MGW" "$TMP/micro-gw.stripped" && strip "$TMP/micro-gw.stripped"
  echo "| figure | value |"
  echo "|---|---|"
  echo "| start to ready file (5 starts, ms) | ${readies[*]} |"
  echo "| idle VmRSS, fresh start (KiB) | $idle ($idle_threads threads) |"
  while read -r layout what value; do
    echo "| $layout: $what | $value |"
  done < <(awk '{k=$1" "$2} $2=="load_rss_kb" {if ($3>m[k]) m[k]=$3; next} {m[k]=$3} END {for (k in m) print k, m[k]}' "$FOOT" | sort)
  echo "| binary size, not stripped (bytes) | $(stat -c %s "$MGW") |"
  echo "| binary size, stripped (bytes) | $(stat -c %s "$TMP/micro-gw.stripped") |"
fi

# ------------------------------------------------------------------------------------------ metrics
# Issue 12: the cost of counting. Two gateways on the same core (only the one under wrk is busy), the
# same backend; runs alternate on, off, off, on, ... so drift on a shared machine hits both alike.
if section metrics; then
  METRICS_ROUNDS=${METRICS_ROUNDS:-6}
  MB_PORT=$(free_port)
  start_mgw metrics-issuer "$(mgw_conf RS256 86400)"
  MKEY=$(curl -sk --max-time 10 -H "Authorization: $BASIC" "https://127.0.0.1:$MGW_HTTPS/apikey")
  stop_pid "$MGW_PID"
  nginx_backend_conf "$MB_PORT" 1 > "$TMP/nginx/metrics-backend.conf"
  taskset -c 0 nginx -e stderr -p "$TMP/nginx" -c "$TMP/nginx/metrics-backend.conf" 2>>"$TMP/logs/nginx-backend.err" & MB_PID=$!; PIDS+=("$MB_PID")
  declare -A MURL MPID
  for mode in on off; do
    port=0; [ "$mode" = off ] && port=-1
    start_mgw "metrics-$mode" "$(MGW_METRICS_PORT=$port mgw_conf RS256 86400 "$MB_PORT" 1)" taskset -c 0
    MPID[$mode]=$MGW_PID
    MURL[$mode]="http://127.0.0.1:$MGW_HTTP/bench/data"
    wait_http "${MURL[$mode]}"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "apikey: $MKEY" "${MURL[$mode]}")
    [ "$code" = 200 ] || { log "metrics-$mode answers $code"; exit 1; }
  done
  METRICS_OUT=$TMP/metrics.txt
  : > "$METRICS_OUT"
  export APIKEY=$MKEY
  for round in $(seq "$METRICS_ROUNDS"); do
    order="on off"; [ $(( round % 2 )) -eq 0 ] && order="off on"
    for c in $CONNS; do
      for mode in $order; do
        r=$(run_wrk taskset -c 1 -- -t1 -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "$TMP/key.lua" "${MURL[$mode]}")
        echo "$c $mode $round $r" >> "$METRICS_OUT"
        log "metrics $mode c=$c round $round: $r"
      done
    done
  done
  for pid in "${MPID[on]}" "${MPID[off]}" "$MB_PID"; do stop_pid "$pid"; done
  echo
  echo "## Metrics on / off (issue 12; pinned, ioThreads 1, ${DURATION} s per run, $METRICS_ROUNDS alternating rounds, $(date -u +%F))"
  echo
  python3 - "$METRICS_OUT" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
print("| connections | metrics on, req/s (median) | metrics off, req/s (median) | on/off | per-round on/off | p99 on / off (us) |")
print("|---|---|---|---|---|---|")
for c in sorted({r[0] for r in rows}, key=int):
    on = {r[2]: r for r in rows if r[0] == c and r[1] == "on"}
    off = {r[2]: r for r in rows if r[0] == c and r[1] == "off"}
    rps_on = [float(on[k][3]) for k in on]
    rps_off = [float(off[k][3]) for k in off]
    per = [float(on[k][3]) / float(off[k][3]) for k in sorted(on, key=int) if k in off and float(off[k][3]) > 0]
    p99_on = statistics.median(int(on[k][5]) for k in on)
    p99_off = statistics.median(int(off[k][5]) for k in off)
    errors = sum(int(r[7]) + int(r[8]) for r in rows if r[0] == c)
    print(f"| {c} | {statistics.median(rps_on):.0f} | {statistics.median(rps_off):.0f} | "
          f"{statistics.median(rps_on) / statistics.median(rps_off):.3f} | "
          f"{' '.join(f'{x:.3f}' for x in per)} | {p99_on:.0f} / {p99_off:.0f} |"
          + ("" if errors == 0 else f" ({errors} errors)"))
PY
fi

# ------------------------------------------------------------------------------------------ targets
if section proxy || section hold; then
  echo
  echo "## Issue 9 targets (pinned layout; ratios of medians of the same run, per-round ratios in brackets)"
  echo
  python3 "$HERE/summarize.py" targets "$RESULTS" "$HOLD"
fi
