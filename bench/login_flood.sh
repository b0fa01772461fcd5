#!/usr/bin/env bash
# Issue 10 item 2: peak RSS of micro-gw under a wrong-password login flood. CONCURRENCY (200)
# concurrent POST /apikey with a wrong password, spread over ADDRESSES (50) client addresses given
# in X-Forwarded-For (trustedProxies = ["127.0.0.1"], so each is a client of its own). Every one
# runs argon2id at 64 MiB unless refused first; the worker pool bounds how many run at once.
# Prints the peak RSS (VmHWM) and the status counts. Target: < 500 MiB.
#   bench/login_flood.sh [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BUILD=${1:-build}
CONCURRENCY=${CONCURRENCY:-200}
ADDRESSES=${ADDRESSES:-50}
bench_setup login-flood

HASH=$(sed -n 's/^ *password = "\(\$argon2id\$[^"]*\)"/\1/p' conf/micro-gw.conf | head -1)
mkdir -p "$TMP/conf"
cat > "$TMP/conf/micro-gw.conf" <<CONF
[listenerConfig]
host = "127.0.0.1"
httpPort = -1
httpsPort = 0
trustedProxies = ["127.0.0.1"]

[b7a.users.admin]
password = "$HASH"
roles = ["admin"]

[[apikey.issuer.api]]
name = "PizzaShackAPI"
versions = "*"
CONF
MGW_RUNTIME_HOME=$TMP "$BUILD/micro-gw" --config "$TMP/conf/micro-gw.conf" \
  --ready-file "$TMP/ready" > "$TMP/mgw.log" 2>&1 &
MGW=$!
PIDS+=("$MGW")
for _ in $(seq 300); do [ -s "$TMP/ready" ] && break; sleep 0.1; done
PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["httpsPort"])' "$TMP/ready")
echo "login-flood: start RSS $(awk '/VmRSS/ {print $2}' /proc/$MGW/status) KiB"

python3 - "$PORT" "$CONCURRENCY" "$ADDRESSES" <<'PY'
import base64, collections, concurrent.futures, http.client, ssl, sys
port, n, addresses = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
auth = "Basic " + base64.b64encode(b"admin:wrong-password").decode()
def one(i):
    try:
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=120)
        c.request("POST", "/apikey", headers={"Authorization": auth,
                  "X-Forwarded-For": f"198.18.{i % addresses // 256}.{i % addresses % 256 + 1}"})
        return c.getresponse().status
    except Exception as e:
        return type(e).__name__
with concurrent.futures.ThreadPoolExecutor(n) as pool:
    counts = collections.Counter(pool.map(one, range(n)))
print("login-flood: statuses", dict(sorted(counts.items(), key=str)))
PY
PEAK=$(awk '/VmHWM/ {print $2}' /proc/$MGW/status)
echo "login-flood: peak RSS $((PEAK / 1024)) MiB ($PEAK KiB) for $CONCURRENCY concurrent wrong-password logins from $ADDRESSES addresses"
