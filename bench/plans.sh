#!/usr/bin/env bash
# Plans and selection rules (issue 26): one micro-gw serving the same backend as two APIs, "one"
# with one plan and "three" with three plans whose rules a request walks to the last (a header
# rule and a query rule that fail, then a claim and a regex rule that hold). wrk alternates the two
# APIs ROUNDS times with one valid key, in the same run, against an nginx backend answering 200;
# prints requests/s of each and the ratio three/one (issue 26: >= 0.95).
#   ROUNDS=5 DURATION=5 CONNS=16 BUILD=build bench/plans.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
CONNS=${CONNS:-16}
for tool in wrk nginx curl python3 timeout; do
  command -v "$tool" >/dev/null || { echo "plans: $tool is missing (make bench-deps)" >&2; exit 1; }
done
[ -x "$BUILD/micro-gw" ] || { echo "plans: no $BUILD/micro-gw (build it first)" >&2; exit 1; }

. "$(dirname "$0")/lib.sh"
bench_setup plans

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

BACKEND_PORT=$(free_port)
mkdir -p "$TMP/nginx" "$TMP/gw/conf"
cat > "$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:$BACKEND_PORT; keepalive_requests 100000; location / { return 200 "ok\n"; } }
}
EOF
nginx -e "$TMP/nginx/error.log" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' &
PIDS+=($!)

ADMIN_HASH=$(printf 'admin' | sha256sum | cut -d' ' -f1)
cat > "$TMP/gw/conf/micro-gw.conf" <<EOF
[listenerConfig]
host = "127.0.0.1"
httpPort = 0
httpsPort = 0
keepAliveMaxRequests = 1000000

[b7a.users.admin]
password = "@sha256:{$ADMIN_HASH}"
roles = ["admin"]

[[apikey.issuer.api]]
name = "One"
versions = "*"
[[apikey.issuer.api]]
name = "Three"
versions = "*"

[observability]
metricsPort = -1

[[apis.api]]
name = "One"
version = "1.0.0"
context = "/one"
production = "http://127.0.0.1:$BACKEND_PORT/data"
  [[apis.api.plans]]
  name = "only"

[[apis.api]]
name = "Three"
version = "1.0.0"
context = "/three"
production = "http://127.0.0.1:$BACKEND_PORT/data"
  [[apis.api.plans]]
  name = "gold"
  selectionRule = "{#request.headers['x-tier'][0] == 'gold'}"
  [[apis.api.plans]]
  name = "regional"
  selectionRule = "request.query['region'] in ['eu', 'us'] || request.remoteAddress in '10.0.0.0/8'"
  [[apis.api.plans]]
  name = "default"
  selectionRule = "key.claims['keytype'] == 'PRODUCTION' && request.path matches '^/three/'"
EOF
MGW_RUNTIME_HOME=$TMP/gw "$BUILD/micro-gw" --config "$TMP/gw/conf/micro-gw.conf" \
  --ready-file "$TMP/gw/ready" > "$TMP/gw/log" 2>&1 &
PIDS+=($!)
for _ in $(seq 600); do [ -s "$TMP/gw/ready" ] && break; sleep 0.1; done
[ -s "$TMP/gw/ready" ] || { echo "plans: micro-gw did not start" >&2; tail "$TMP/gw/log" >&2; exit 1; }
HTTP=$(python3 -c "import json; print(json.load(open('$TMP/gw/ready'))['httpPort'])")
HTTPS=$(python3 -c "import json; print(json.load(open('$TMP/gw/ready'))['httpsPort'])")
KEY=$(curl -sk -u admin:admin "https://127.0.0.1:$HTTPS/apikey")
for api in one three; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "apikey: $KEY" "http://127.0.0.1:$HTTP/$api/x")
  [ "$status" = 200 ] || { echo "plans: /$api answers $status" >&2; exit 1; }
done
for _ in $(seq 50); do grep -q '"plan":"default"' "$TMP/gw/log" && break; sleep 0.1; done
grep -q '"plan":"default"' "$TMP/gw/log" || { echo "plans: /three did not reach plan default" >&2; exit 1; }

cat > "$TMP/key.lua" <<EOF
wrk.headers["apikey"] = "$KEY"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f\n", summary.requests / (summary.duration / 1e6)))
end
EOF
declare -A total=([one]=0 [three]=0)
for round in $(seq "$ROUNDS"); do
  for api in one three; do
    rps=$(timeout $((DURATION + 20)) wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$TMP/key.lua" \
      "http://127.0.0.1:$HTTP/$api/x" | sed -n 's/^RESULT //p')
    echo "round $round $api: $rps req/s"
    total[$api]=$((total[$api] + rps))
  done
done
python3 -c "o=${total[one]}; t=${total[three]}; print(f'one plan: {o/$ROUNDS:.0f} req/s, three plans: {t/$ROUNDS:.0f} req/s, ratio three/one: {t/o:.3f}')"
