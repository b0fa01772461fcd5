#!/usr/bin/env bash
# Schema validation cost (issue 27): one micro-gw, two APIs of the same OpenAPI definition, one with
# request validation on (x-mgw-validation: {request: true}) and one without, a POST of a 1 KiB JSON
# body to each, alternated ROUNDS times in the same run; with BASELINE=<another micro-gw binary>
# (e.g. main's build) also the unvalidated API on that binary, to show an API without validation is
# unchanged; with BASELINE_CHECKED=1 also its validated API (before/after of the validation itself,
# same run). nginx is the backend (answers 200 "{}"). Ratios only, from the same run.
#   bench/validation.sh                       ROUNDS=3 DURATION=5 CONNS=16 BASELINE=
#   BUILD=build (default: build-bench if it has micro-gw, else build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-16}
BASELINE=${BASELINE:-}
if [ -z "${BUILD:-}" ]; then
  BUILD=$ROOT/build-bench
  [ -x "$BUILD/micro-gw" ] || BUILD=$ROOT/build
fi
MGW=$BUILD/micro-gw
for tool in wrk nginx curl python3 timeout; do
  command -v "$tool" >/dev/null || { echo "validation bench: $tool is missing (make bench-deps)" >&2; exit 1; }
done
. "$(dirname "$0")/lib.sh"
bench_setup validation

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The backend.
BP=$(port)
mkdir -p "$TMP/nginx/logs"
cat > "$TMP/nginx/backend.conf" <<NGINX
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_buffer_size 64k;
  server {
    listen 127.0.0.1:$BP;
    keepalive_requests 1000000;
    location / { return 200 '{}'; }
  }
}
NGINX
nginx -e stderr -p "$TMP/nginx" -c "$TMP/nginx/backend.conf" -g 'daemon off;' 2>/dev/null &
PIDS+=($!)

# The definitions: the same API twice, validation on for one.
mkdir -p "$TMP/defs"
for name in plain checked; do
  switch=$([ $name = checked ] && echo '{request: true, response: false}' || echo false)
  cat > "$TMP/defs/$name.yaml" <<YAML
openapi: 3.0.3
info: {title: Bench-$name, version: 1.0.0}
x-wso2-basePath: /$name
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:$BP"]}
x-mgw-validation: $switch
security: []
paths:
  /orders:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {\$ref: "#/components/schemas/Order"}
      responses:
        "200": {description: ok}
components:
  schemas:
    Line:
      type: object
      required: [sku, quantity]
      additionalProperties: false
      properties:
        sku: {type: string, pattern: "^[A-Z]{3}-[0-9]{4}$"}
        quantity: {type: integer, minimum: 1, maximum: 1000}
        note: {type: string, nullable: true, maxLength: 64}
    Order:
      type: object
      required: [id, customer, lines]
      properties:
        id: {type: integer, format: int64}
        customer: {type: string, maxLength: 64}
        express: {type: boolean}
        lines: {type: array, maxItems: 100, items: {\$ref: "#/components/schemas/Line"}}
YAML
done
python3 - "$TMP/body.json" <<'PY'
import json, sys
lines = [{"sku": "ABC-%04d" % i, "quantity": i + 1, "note": None if i % 2 else "fragile"} for i in range(17)]
body = json.dumps({"id": 4242, "customer": "bench customer", "express": True, "lines": lines})
while len(body) < 1024:
    body = body[:-1] + ' }'
open(sys.argv[1], "w").write(body)
PY
echo "body: $(wc -c < "$TMP/body.json") bytes"
cat > "$TMP/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$TMP/body.json"); wrk.body = f:read("*a"); f:close()
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f\n", summary.requests / (summary.duration / 1e6)))
end
LUA

start_gw() {  # binary dir -> sets GW_PID and GW_PORT (not in a subshell: PIDS must keep the PID)
  local bin=$1 home=$2
  mkdir -p "$home/conf"
  cat > "$home/conf/micro-gw.conf" <<CONF
[listenerConfig]
host = "127.0.0.1"
httpPort = 0
httpsPort = -1
keepAliveMaxRequests = 100000
[apis]
definitions = ["$TMP/defs"]
[observability]
metricsPort = -1
CONF
  rm -f "$home/ready"
  MGW_RUNTIME_HOME=$home "$bin" --config "$home/conf/micro-gw.conf" --ready-file "$home/ready" >"$home/log" 2>&1 &
  GW_PID=$!
  PIDS+=($GW_PID)
  for _ in $(seq 300); do [ -s "$home/ready" ] && break; sleep 0.05; done
  GW_PORT=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["httpPort"])' "$home/ready")
}

start_gw "$MGW" "$TMP/gw"
P=$GW_PORT
MAIN_PID=$GW_PID
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$TMP/body.json" "http://127.0.0.1:$P/checked/orders")
[ "$code" = 200 ] || { echo "the valid body was refused ($code)" >&2; cat "$TMP/gw/log" >&2; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary '{"id":1}' "http://127.0.0.1:$P/checked/orders")
[ "$code" = 400 ] || { echo "an invalid body was not refused ($code)" >&2; exit 1; }
if [ -n "$BASELINE" ]; then
  start_gw "$BASELINE" "$TMP/baseline"
  BP2=$GW_PORT
  BASE_PID=$GW_PID
fi
# micro-gw's own CPU (user + system, from /proc) per request: less sensitive to what else runs on
# the host than the rate, which also carries wrk's and nginx's share of the two cores.
TICK_US=$((1000000 / $(getconf CLK_TCK)))
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() { timeout $((DURATION + 20)) wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$TMP/post.lua" "$1" | awk '/^RESULT/ {print $2}'; }
declare -A sum cpu
for r in $(seq "$ROUNDS"); do
  for c in plain checked $([ -n "$BASELINE" ] && echo baseline) \
           $([ -n "$BASELINE" ] && [ -n "${BASELINE_CHECKED:-}" ] && echo baseline_checked); do
    url="http://127.0.0.1:$P/$c/orders"
    [ $c = baseline ] && url="http://127.0.0.1:$BP2/plain/orders"
    [ $c = baseline_checked ] && url="http://127.0.0.1:$BP2/checked/orders"
    pid=$MAIN_PID
    case $c in baseline*) pid=$BASE_PID ;; esac
    t0=$(cpu_ticks "$pid")
    rps=$(run "$url")
    t1=$(cpu_ticks "$pid")
    us=$(python3 -c "print(round(($t1 - $t0) * $TICK_US / ($rps * $DURATION), 2))")
    echo "round $r $c $rps req/s, micro-gw CPU $us us/request"
    sum[$c]=$(python3 -c "print(${sum[$c]:-0} + $rps)")
    cpu[$c]=$(python3 -c "print(${cpu[$c]:-0} + $us)")
  done
done
python3 - "${sum[plain]}" "${sum[checked]}" "${sum[baseline]:-0}" "${sum[baseline_checked]:-0}" \
  "${cpu[plain]}" "${cpu[checked]}" "${cpu[baseline]:-0}" "${cpu[baseline_checked]:-0}" "$ROUNDS" <<'PY'
import sys
plain, checked, baseline, baseline_checked = map(float, sys.argv[1:5])
cplain, cchecked, cbaseline, cbaseline_checked = (float(v) / int(sys.argv[9]) for v in sys.argv[5:9])
print(f"validated / unvalidated (same binary, same run): {checked / plain:.3f}")
print(f"micro-gw CPU per request: unvalidated {cplain:.2f} us, validated {cchecked:.2f} us: "
      f"{cplain / cchecked:.3f} (the rate ratio if micro-gw alone were the bottleneck)")
if cbaseline_checked:
    print(f"BASELINE binary's CPU per request: unvalidated {cbaseline:.2f} us, validated "
          f"{cbaseline_checked:.2f} us: {cbaseline / cbaseline_checked:.3f}")
if baseline:
    print(f"unvalidated API, this binary / BASELINE binary: {plain / baseline:.3f}")
if baseline_checked:
    print(f"BASELINE binary: validated / its unvalidated: {baseline_checked / baseline:.3f}")
    print(f"validated API, this binary / BASELINE binary: {checked / baseline_checked:.3f}")
PY
