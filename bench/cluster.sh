#!/usr/bin/env bash
# Issue 14: one node with [cluster] on (throttling counters in Redis: one EVALSHA per request)
# against the same node with [cluster] off (the in-process counters), same run, interleaved.
# A throttled API (api-level tier, a limit never reached, so every request is charged), one STS key,
# wrk against the HTTP listener. Prints req/s per round and the ratio on/off.
#   ROUNDS=2 DURATION=10 CONNS=32 bench/cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_setup cluster
BUILD=${BUILD:-build}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10}
CONNS=${CONNS:-32}
MGW=$BUILD/micro-gw
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_file() { for _ in $(seq 300); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "timeout: $1" >&2; exit 1; }

REDIS_PORT=$(free_port)
REDIS_PASSWORD=bench-$(date +%s%N)  # [cluster] redisPassword is required (issue 22 item 7)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" \
  --requirepass "$REDIS_PASSWORD" >"$TMP/redis.log" 2>&1 &
PIDS+=($!)
# nginx as the backend (the sample backend's thread pool would be held by the first node's idle
# upstream connections).
BACKEND_PORT=$(free_port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/backend.conf" <<NGINX
daemon off;
worker_processes 1;
pid $TMP/nginx/backend.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000;
  client_body_temp_path $TMP/nginx/b-body; proxy_temp_path $TMP/nginx/b-proxy;
  fastcgi_temp_path $TMP/nginx/b-fcgi; uwsgi_temp_path $TMP/nginx/b-uwsgi; scgi_temp_path $TMP/nginx/b-scgi;
  server {
    listen 127.0.0.1:$BACKEND_PORT backlog=4096;
    location / { default_type application/json; return 200 '{"ok":true}'; }
  }
}
NGINX
nginx -e stderr -p "$TMP/nginx" -c "$TMP/nginx/backend.conf" 2>>"$TMP/nginx/error.log" &
PIDS+=($!)
sleep 0.3
HASH=$(grep -m1 'password = "\$argon2id' conf/micro-gw.conf | cut -d'"' -f2)

start_node() {  # name, extra config
  local home=$TMP/$1
  mkdir -p "$home/conf"
  cat >"$home/conf/micro-gw.conf" <<CONF
[listenerConfig]
host = "127.0.0.1"
httpPort = 0
httpsPort = 0
[b7a.users.admin]
password = "$HASH"
roles = ["admin"]
[apikey.issuer.tokenConfig]
enabled = true
issuer = "https://localhost:9095/apikey"
certificateAlias = "ballerina"
validityTime = -1
[[apikey.issuer.api]]
name = "Bench"
versions = "*"
[[throttling.policy]]
name = "Huge"
level = "api"
count = 1000000000
unitTime = 1
timeUnit = "min"
[[apis.api]]
name = "Bench"
version = "1.0.0"
context = "/bench/1.0.0"
production = "http://127.0.0.1:$BACKEND_PORT"
throttlingTier = "Huge"
$2
CONF
  MGW_RUNTIME_HOME=$home "$MGW" --config "$home/conf/micro-gw.conf" --ready-file "$home/ready" \
    >"$home/log" 2>&1 &
  PIDS+=($!)
  wait_file "$home/ready"
}
start_node off ""
start_node on "[cluster]
redis = \"redis://127.0.0.1:$REDIS_PORT/0\"
redisPassword = \"$REDIS_PASSWORD\""

declare -A PORT KEY
for n in off on; do
  PORT[$n]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["httpPort"])' "$TMP/$n/ready")
  https=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["httpsPort"])' "$TMP/$n/ready")
  KEY[$n]=$(curl -sk -u admin:admin -X POST "https://127.0.0.1:$https/apikey")
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "apikey: ${KEY[$n]}" "http://127.0.0.1:${PORT[$n]}/bench/1.0.0/x")
  [ "$code" = 200 ] || { echo "$n: first request answered $code" >&2; exit 1; }
done

echo "load1 at start: $(cut -d' ' -f1 /proc/loadavg)"
declare -A SUM
for r in $(seq "$ROUNDS"); do
  for n in off on; do
    out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -H "apikey: ${KEY[$n]}" \
          "http://127.0.0.1:${PORT[$n]}/bench/1.0.0/x")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    echo "round $r cluster=$n: $rps req/s, p99 $p99, non-2xx ${non2xx:-0}, load1 $(cut -d' ' -f1 /proc/loadavg)"
    SUM[$n]=$(python3 -c "print(${SUM[$n]:-0} + $rps)")
  done
done
python3 -c "print(f'ratio on/off (mean over rounds): {${SUM[on]} / ${SUM[off]}:.2f}')"
grep -h 'counters' "$TMP/on/log" | head -3 || true
