#!/usr/bin/env bash
# micro-gw soak (issue 6, item 6). `make soak` runs it. SOAK_SECONDS (default 600) of mixed valid,
# invalid and revoked keys through an inline API to the sample backend, at a steady paced rate, then a
# verdict: every valid key 200, every invalid or revoked key 401, no socket error, no crash; resident
# memory sampled every 10 s and reported at the start (after the warm-up) and at the end.
#
# Everything listens on 127.0.0.1, lives in one temp dir, is tracked by PID and stopped by the trap;
# wrk, curl and the build are bounded with timeout.
#
# Knobs (environment):
#   SOAK_SECONDS=600   traffic duration (wrk -d)
#   WARMUP_SECONDS=30  the "start" RSS is the sample taken this long after the traffic began
#   SOAK_RATE=2000     target requests/s over all connections (paced with wrk's delay()); 0 = as fast
#                      as the gateway answers
#   CONNS=8            wrk connections, one per wrk thread (so each thread's replies come back in the
#                      order of its requests and are attributed to the right key class exactly)
#   VALID_KEYS=16 REVOKED_KEYS=8   keys issued through /apikey (the revoked ones then revoked through
#                      POST /apikey/revoke)
#   BACKEND_THREADS=64 sample backend --threads (micro-gw keeps its defaults: ioThreads and
#                      workerThreads one per core)
#   BUILD=build-soak   build tree (Release)   KEEP_TMP=1  keep the temp dir (configs, logs, samples)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-soak}
SOAK_SECONDS=${SOAK_SECONDS:-600}
WARMUP_SECONDS=${WARMUP_SECONDS:-30}
SOAK_RATE=${SOAK_RATE:-2000}
CONNS=${CONNS:-8}
VALID_KEYS=${VALID_KEYS:-16}
REVOKED_KEYS=${REVOKED_KEYS:-8}
BACKEND_THREADS=${BACKEND_THREADS:-64}
JOBS=${JOBS:-2}
SAMPLE_SECONDS=10

for tool in wrk curl python3 openssl timeout cmake; do
  command -v "$tool" >/dev/null || { echo "soak: $tool is missing (make bench-deps)" >&2; exit 1; }
done
[ "$WARMUP_SECONDS" -lt "$SOAK_SECONDS" ] || { echo "soak: WARMUP_SECONDS must be < SOAK_SECONDS" >&2; exit 1; }

. "$(dirname "$0")/lib.sh"
bench_setup soak

log() { echo "soak: $(date -u +%T) $*" >&2; }
rss_kb() { awk '$1=="VmRSS:" {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
threads_of() { awk '$1=="Threads:" {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
fds_of() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

wait_ready() {  # pid file name
  for _ in $(seq 3000); do
    [ -s "$2" ] && return 0
    kill -0 "$1" 2>/dev/null || { log "$3 exited before it was ready:"; tail -5 "$TMP/logs/$3.log" >&2; return 1; }
    sleep 0.01
  done
  log "$3 not ready after 30 s"; return 1
}

# ---------------------------------------------------------------------------------------------- build
log "building micro-gw and the sample backend (Release) in $BUILD"
timeout 3600 cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
timeout 3600 cmake --build "$BUILD" -j"$JOBS" --target micro-gw mgw-sample-backend >/dev/null
MGW=$BUILD/micro-gw
BACKEND=$BUILD/samples/backend/mgw-sample-backend
ADMIN_HASH=$(sed -n 's/^[[:space:]]*password[[:space:]]*=[[:space:]]*"\(\$argon2id\$[^"]*\)".*/\1/p' "$ROOT/conf/micro-gw.conf" | head -1)
[ -n "$ADMIN_HASH" ] || { log "no argon2id admin hash in conf/micro-gw.conf"; exit 1; }
BASIC="Basic $(printf admin:admin | base64)"
mkdir -p "$TMP/logs" "$TMP/keys" "$TMP/foreign" "$TMP/home/conf"
"$MGW" keystore init --alg RS256 --out "$TMP/keys" >/dev/null 2>&1
"$MGW" keystore init --alg RS256 --out "$TMP/foreign" >/dev/null 2>&1  # signs the "foreign" invalid key

# ---------------------------------------------------------------------------------------------- start
"$BACKEND" --host 127.0.0.1 --port 0 --threads "$BACKEND_THREADS" --ready-file "$TMP/backend.ready" \
  >"$TMP/logs/backend.log" 2>&1 &
BACKEND_PID=$!; PIDS+=("$BACKEND_PID")
wait_ready "$BACKEND_PID" "$TMP/backend.ready" backend
BACKEND_PORT=$(json_field "$TMP/backend.ready" port)

cat > "$TMP/home/conf/micro-gw.conf" <<EOF
[listenerConfig]
host = "127.0.0.1"
httpPort = 0
httpsPort = 0

[b7a.users.admin]
password = "$ADMIN_HASH"
roles = ["admin"]

[apikey.issuer.tokenConfig]
enabled = true
issuer = "https://localhost:9095/apikey"
certificateAlias = "ballerina"
validityTime = 86400
signatureAlgorithm = "RS256"
keyStorePath = "$TMP/keys/micro-gw-signing.pem"

[[apikey.issuer.api]]
name = "SoakAPI"
versions = "*"

[[apis.api]]
name = "SoakAPI"
version = "1.0.0"
context = "/soak/1.0.0"
production = "http://127.0.0.1:$BACKEND_PORT/echo"
EOF
MGW_RUNTIME_HOME=$TMP/home "$MGW" --config "$TMP/home/conf/micro-gw.conf" --ready-file "$TMP/mgw.ready" \
  >"$TMP/logs/micro-gw.log" 2>&1 &
MGW_PID=$!; PIDS+=("$MGW_PID")
wait_ready "$MGW_PID" "$TMP/mgw.ready" micro-gw
HTTP=$(json_field "$TMP/mgw.ready" httpPort)
HTTPS=$(json_field "$TMP/mgw.ready" httpsPort)
API="http://127.0.0.1:$HTTP/soak/1.0.0"
log "backend pid $BACKEND_PID port $BACKEND_PORT; micro-gw pid $MGW_PID http $HTTP https $HTTPS"

# ----------------------------------------------------------------------------------------------- keys
issue() {
  curl -sk --fail --max-time 20 -H "Authorization: $BASIC" "https://127.0.0.1:$HTTPS/apikey"
}
: > "$TMP/valid.txt"; : > "$TMP/revoked.txt"; : > "$TMP/invalid.txt"
for _ in $(seq "$VALID_KEYS"); do issue >> "$TMP/valid.txt"; echo >> "$TMP/valid.txt"; done
for _ in $(seq "$REVOKED_KEYS"); do
  key=$(issue)
  body=$(python3 -c 'import json,sys; print(json.dumps({"apiKey": sys.argv[1]}))' "$key")
  code=$(curl -sk --max-time 20 -o "$TMP/revoke.out" -w '%{http_code}' -X POST -H "Authorization: $BASIC" \
         -H "Content-Type: application/json" --data-binary "$body" "https://127.0.0.1:$HTTPS/apikey/revoke")
  [ "$code" = 200 ] || { log "revoke answered $code: $(cat "$TMP/revoke.out")"; exit 1; }
  echo "$key" >> "$TMP/revoked.txt"
done
# Invalid keys, each refused at a different step: a flipped signature byte (the full signature check
# runs), a key with the same claims signed by a foreign RS256 key, alg "none", a truncated key, a
# malformed value, a random opaque value.
python3 - "$(head -1 "$TMP/valid.txt")" "$TMP/foreign/micro-gw-signing.pem" > "$TMP/invalid.txt" <<'EOF'
import base64, json, secrets, subprocess, sys
key = sys.argv[1]
h, p, s = key.split(".")
def b64d(x): return base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
def b64e(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
i = len(s) - 10
print(h + "." + p + "." + s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1:])
signing_input = (h + "." + p).encode()  # the same header and claims, signed by another RSA key
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", sys.argv[2]], input=signing_input,
                     capture_output=True, check=True).stdout
print(h + "." + p + "." + b64e(sig))
print(b64e(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." + p + ".")
print(key[: len(key) // 2])
print("not-a-key." + secrets.token_hex(8))
print(secrets.token_urlsafe(32))
EOF
for class in valid revoked invalid; do
  [ "$(grep -c . "$TMP/$class.txt")" -gt 0 ] || { log "no $class keys"; exit 1; }
done
# Sanity before the soak: each key answers as its class must.
check() {  # class expected
  local key code
  while read -r key; do
    [ -n "$key" ] || continue
    code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H "apikey: $key" "$API/$1/check")
    [ "$code" = "$2" ] || { log "a $1 key answered $code before the soak (expected $2)"; exit 1; }
  done < "$TMP/$1.txt"
}
check valid 200; check revoked 401; check invalid 401
# The request mix, cycled by every connection: 2 valid : 1 invalid : 1 revoked.
python3 - "$TMP" > "$TMP/mix.txt" <<'EOF'
import itertools, sys
d = sys.argv[1]
keys = {c: [l.strip() for l in open(f"{d}/{c}.txt") if l.strip()] for c in ("valid", "invalid", "revoked")}
cyc = {c: itertools.cycle(v) for c, v in keys.items()}
n = 2 * max(len(v) for v in keys.values())
for _ in range(n):
    for c in ("valid", "invalid", "valid", "revoked"):
        print(c, next(cyc[c]))
EOF
log "keys: $(grep -c . "$TMP/valid.txt") valid, $(grep -c . "$TMP/invalid.txt") invalid, $(grep -c . "$TMP/revoked.txt") revoked; mix of $(wc -l < "$TMP/mix.txt") requests per cycle"

# ------------------------------------------------------------------------------------------ wrk script
# One connection per wrk thread, one request in flight on it: every reply answers the thread's most
# recent request() (wrk makes the next request only after a reply, and again after a reconnect), so
# each status is attributed to its key class exactly. (Not a FIFO: wrk calls request() once more on
# thread 0 before the run to check the request, and that one is never sent.) The attribution is
# cross-checked on every reply: a 200 echoes the request path (which names the class); a 401 for a
# revoked key says "revoked", one for an invalid key does not.
cat > "$TMP/soak.lua" <<'EOF'
local counter, threads = 0, {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local reqs, classes, n, i = {}, {}, 0, 0
local last = nil
local pause = 0
sent, got, mismatch = {}, {}, 0
function init(args)
  local seq = 0
  for line in io.lines(os.getenv("MIXFILE")) do
    local class, key = line:match("^(%S+) (%S+)$")
    if class then
      n = n + 1
      classes[n] = class
      reqs[n] = wrk.format("GET", wrk.path .. "/" .. class .. "/" .. n, {["apikey"] = key, ["Host"] = wrk.headers["Host"]})
    end
  end
  i = (id * 13) % n
  local rate = tonumber(os.getenv("SOAK_RATE") or "0")
  local conns = tonumber(os.getenv("CONNS") or "1")
  if rate > 0 then pause = math.floor(1000 * conns / rate) end
end
function delay()
  return pause
end
function request()
  i = i % n + 1
  last = classes[i]
  sent[classes[i]] = (sent[classes[i]] or 0) + 1
  return reqs[i]
end
function response(status, headers, body)
  local class = last
  if class == nil then mismatch = mismatch + 1; return end
  local k = class .. ":" .. status
  got[k] = (got[k] or 0) + 1
  body = body or ""
  if status == 200 then
    if not body:find("/" .. class .. "/", 1, true) then mismatch = mismatch + 1 end
  elseif status == 401 then
    local says = body:find("revoked", 1, true) ~= nil
    if says ~= (class == "revoked") then mismatch = mismatch + 1 end
  end
end
function done(summary, latency, requests)
  local totals_sent, totals_got, mis = {}, {}, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("sent") or {}) do totals_sent[k] = (totals_sent[k] or 0) + v end
    for k, v in pairs(t:get("got") or {}) do totals_got[k] = (totals_got[k] or 0) + v end
    mis = mis + (t:get("mismatch") or 0)
  end
  local e = summary.errors
  io.write(string.format("SOAK total %d\n", summary.requests))
  io.write(string.format("SOAK seconds %.1f\n", summary.duration / 1e6))
  io.write(string.format("SOAK sockerr %d %d %d %d\n", e.connect, e.read, e.write, e.timeout))
  io.write(string.format("SOAK latency_us %d %d %d %d\n", latency:percentile(50), latency:percentile(99),
                         latency:percentile(99.9), latency.max))
  io.write(string.format("SOAK mismatch %d\n", mis))
  for k, v in pairs(totals_sent) do io.write(string.format("SOAK sent %s %d\n", k, v)) end
  for k, v in pairs(totals_got) do io.write(string.format("SOAK got %s %d\n", k, v)) end
end
EOF

# ---------------------------------------------------------------------------------------------- soak
SAMPLES=$TMP/rss.txt
: > "$SAMPLES"
sampler() {  # t_seconds rss_kb threads fds, every SAMPLE_SECONDS while micro-gw lives
  local t=0
  while kill -0 "$MGW_PID" 2>/dev/null; do
    echo "$t $(rss_kb "$MGW_PID") $(threads_of "$MGW_PID") $(fds_of "$MGW_PID")" >> "$SAMPLES"
    sleep "$SAMPLE_SECONDS"; t=$(( t + SAMPLE_SECONDS ))
  done
}
log "idle: VmRSS $(rss_kb "$MGW_PID") KiB, $(threads_of "$MGW_PID") threads, $(fds_of "$MGW_PID") fds"
IDLE_RSS=$(rss_kb "$MGW_PID")
LOG_START=$(wc -l < "$TMP/logs/micro-gw.log")  # errors logged before the traffic (start-up) are not the soak's
log "soak: ${SOAK_SECONDS}s, $CONNS connections, target ${SOAK_RATE} req/s (0 = unpaced)"
sampler & SAMPLER_PID=$!; PIDS+=("$SAMPLER_PID")
set +e
MIXFILE=$TMP/mix.txt SOAK_RATE=$SOAK_RATE CONNS=$CONNS timeout $(( SOAK_SECONDS + 120 )) \
  wrk -t"$CONNS" -c"$CONNS" -d"${SOAK_SECONDS}s" --timeout 10s -s "$TMP/soak.lua" "$API" > "$TMP/wrk.out" 2>&1
WRK_RC=$?
set -e
kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; drop_pid "$SAMPLER_PID"
END_RSS=$(rss_kb "$MGW_PID"); END_THREADS=$(threads_of "$MGW_PID"); END_FDS=$(fds_of "$MGW_PID")

# ------------------------------------------------------------------------------------------- verdict
MGW_ALIVE=no; kill -0 "$MGW_PID" 2>/dev/null && MGW_ALIVE=yes
BACKEND_ALIVE=no; kill -0 "$BACKEND_PID" 2>/dev/null && BACKEND_ALIVE=yes
# A clean stop: SIGTERM drains and exits 0.
kill -TERM "$MGW_PID" 2>/dev/null || true
for _ in $(seq 150); do kill -0 "$MGW_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$MGW_PID" 2>/dev/null && { log "micro-gw still running 15 s after SIGTERM: SIGKILL"; kill -KILL "$MGW_PID"; }
set +e; wait "$MGW_PID" 2>/dev/null; MGW_RC=$?; set -e
drop_pid "$MGW_PID"

python3 - "$TMP/wrk.out" "$SAMPLES" "$WRK_RC" "$MGW_ALIVE" "$BACKEND_ALIVE" "$MGW_RC" "$WARMUP_SECONDS" \
  "$IDLE_RSS" "$END_RSS" "$END_THREADS" "$END_FDS" "$TMP/logs/micro-gw.log" "$SOAK_RATE" "$CONNS" "$LOG_START" <<'EOF'
import sys
(wrk_out, samples_path, wrk_rc, mgw_alive, backend_alive, mgw_rc, warmup, idle_rss, end_rss, end_threads,
 end_fds, mgw_log, rate, conns, log_start) = sys.argv[1:]
warmup = int(warmup)
lines = open(wrk_out, errors="replace").read().splitlines()
soak = [l.split()[1:] for l in lines if l.startswith("SOAK ")]
problems = []
if not soak:
    print("\n".join(lines[-20:]))
    problems.append(f"wrk produced no summary (exit {wrk_rc})")
total = seconds = mismatch = 0
sockerr = [0, 0, 0, 0]
lat = [0, 0, 0, 0]
sent, got = {}, {}
for f in soak:
    if f[0] == "total": total = int(f[1])
    elif f[0] == "seconds": seconds = float(f[1])
    elif f[0] == "sockerr": sockerr = list(map(int, f[1:]))
    elif f[0] == "latency_us": lat = list(map(int, f[1:]))
    elif f[0] == "mismatch": mismatch = int(f[1])
    elif f[0] == "sent": sent[f[1]] = int(f[2])
    elif f[0] == "got":
        cls, status = f[1].split(":")
        got.setdefault(cls, {})[int(status)] = int(f[2])
expected = {"valid": 200, "invalid": 401, "revoked": 401}
print()
print(f"requests: {total:,} in {seconds:.0f} s ({total / seconds if seconds else 0:,.0f} req/s; "
      f"{conns} connections, target {rate} req/s)")
print(f"latency: p50 {lat[0]/1000:.2f} ms, p99 {lat[1]/1000:.2f} ms, p99.9 {lat[2]/1000:.2f} ms, max {lat[3]/1000:.2f} ms")
for cls in ("valid", "invalid", "revoked"):
    statuses = got.get(cls, {})
    answered = sum(statuses.values())
    shown = ", ".join(f"{s}: {n:,}" for s, n in sorted(statuses.items())) or "none"
    print(f"{cls:8s} sent {sent.get(cls, 0):,}, answered {answered:,} -> {shown}")
    unexpected = {s: n for s, n in statuses.items() if s != expected[cls]}
    if unexpected:
        problems.append(f"{cls} keys got unexpected statuses {unexpected} (expected all {expected[cls]})")
    if answered == 0:
        problems.append(f"no {cls} request was answered")
print(f"attribution mismatches (echoed path / 'revoked' in the fault vs class sent): {mismatch}")
if mismatch:
    problems.append(f"{mismatch} replies did not match the key class they were attributed to")
print(f"socket errors: connect {sockerr[0]}, read {sockerr[1]}, write {sockerr[2]}, timeout {sockerr[3]}")
if any(sockerr):
    problems.append(f"socket errors {sockerr}")
print(f"processes: micro-gw alive at the end: {mgw_alive} (SIGTERM exit code {mgw_rc}); backend alive: {backend_alive}")
if mgw_alive != "yes":
    problems.append("micro-gw died during the soak")
elif mgw_rc != "0":
    problems.append(f"micro-gw exited {mgw_rc} on SIGTERM")
if backend_alive != "yes":
    problems.append("the sample backend died during the soak")
samples = [tuple(map(int, l.split())) for l in open(samples_path) if len(l.split()) == 4]
if samples:
    start = min(samples, key=lambda s: abs(s[0] - warmup))
    after = [s for s in samples if s[0] >= start[0]]
    rss = [s[1] for s in after]
    print(f"VmRSS: idle {int(idle_rss):,} KiB; start (t={start[0]} s) {start[1]:,} KiB; end {int(end_rss):,} KiB "
          f"({int(end_rss) - start[1]:+,} KiB, {100.0 * (int(end_rss) - start[1]) / start[1]:+.1f}%); "
          f"after warm-up min {min(rss):,} max {max(rss):,} KiB ({len(after)} samples every 10 s)")
    print(f"threads: start {start[2]}, end {end_threads}; open fds: start {start[3]}, end {end_fds}")
    print("RSS samples (s:KiB): " + " ".join(f"{s[0]}:{s[1]}" for s in samples))
# micro-gw's own view: its access log (one line per gateway request) by status and refusal reason.
import json
from collections import Counter
access, reasons, errors, other = Counter(), Counter(), [], 0
with open(mgw_log, errors="replace") as f:
    for n, l in enumerate(f):
        if '"type":"access"' in l:
            try:
                e = json.loads(l)
            except ValueError:
                continue
            access[e.get("status")] += 1
            if "reason" in e:
                reasons[e["reason"]] += 1
        else:
            other += 1
            if '"level":"error"' in l and n >= int(log_start):
                errors.append(l.strip())
print("micro-gw access log: " + ", ".join(f"{s}: {n:,}" for s, n in sorted(access.items())) +
      " (reasons: " + ", ".join(f"{r} {n:,}" for r, n in reasons.most_common()) + ")")
print(f"micro-gw other log lines: {other}; at level error during the soak: {len(errors)}")
for l in errors[:5]:
    print("  " + l[:300])
if errors:
    problems.append(f"micro-gw logged {len(errors)} errors")
print()
if problems:
    print("SOAK FAILED:")
    for p in problems:
        print("  - " + p)
    sys.exit(1)
print("SOAK PASSED: no unexpected status, no socket error, no crash")
EOF
