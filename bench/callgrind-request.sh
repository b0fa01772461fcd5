#!/usr/bin/env bash
# Instructions and heap allocations per proxied GET with one valid key (user space, counted by
# callgrind: independent of the machine's load, for changes a wall-clock run on a shared machine
# cannot see). Needs a temp dir kept by `KEEP_TMP=1 ROUNDS=1 DURATION=1 LAYOUTS=pinned
# SECTIONS=proxy TARGETS="nginx micro-gw" CASES=one CONNS=64 bench/run.sh` (its nginx backend
# config, gateway config and keys; the gateway's runtime home is copied, the kept one is not used).
# After 500 warm-up requests the counters are zeroed, N requests are counted (h2load, 16
# connections; PROTO=h2: 8 connections of 8 streams), and the dump's totals are divided by N.
#   bench/callgrind-request.sh BENCH_TMP_DIR [BINARY] [N]      PROTO=h1|h2 (default h1)
set -euo pipefail
D=$1; BIN=${2:-$(cd "$(dirname "$0")/.." && pwd)/build-bench/micro-gw}; N=${3:-5000}
PROTO=${PROTO:-h1}
for tool in valgrind callgrind_control callgrind_annotate h2load nginx python3; do
  command -v "$tool" >/dev/null || { echo "callgrind-request: $tool is missing" >&2; exit 1; }
done
GW=$(ls -d "$D"/gateway-pinned "$D"/gateway-unpinned 2>/dev/null | head -1 || true)
WORK=$(mktemp -d /tmp/callgrind.request.XXXXXX); echo "callgrind-request: work dir $WORK" >&2
cp -r "$GW/runtime" "$WORK/runtime"
nginx -e stderr -p "$D/nginx" -c "$D/nginx/backend.conf" 2>/dev/null & NP=$!
MGW_RUNTIME_HOME=$WORK/runtime valgrind --tool=callgrind \
  --callgrind-out-file="$WORK/callgrind.out" "$BIN" --config "$GW/conf/micro-gw.conf" \
  --ready-file "$WORK/ready" >"$WORK/micro-gw.log" 2>&1 & VP=$!
trap 'kill $VP $NP 2>/dev/null || true' EXIT
for _ in $(seq 1200); do [ -s "$WORK/ready" ] && break; sleep 0.1; done
P=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["httpPort"])' "$WORK/ready")
KEY=$(head -1 "$D/all-keys.txt")
URL="http://127.0.0.1:$P/bench/data"
CLIENT=(--h1 -c 16); [ "$PROTO" = h2 ] && CLIENT=(-c 8 -m 8)
timeout 300 h2load "${CLIENT[@]}" -n 500 -H "apikey: $KEY" "$URL" >/dev/null
callgrind_control -z "$VP" | grep -q "OK" || { echo "callgrind_control -z failed" >&2; exit 1; }
timeout 600 h2load "${CLIENT[@]}" -n "$N" -H "apikey: $KEY" "$URL" | grep -E "^status codes"
callgrind_control -d "$VP" | grep -q "OK" || { echo "callgrind_control -d failed" >&2; exit 1; }
kill -TERM $VP; wait $VP 2>/dev/null || true
DUMP=$(grep -l "^desc: Trigger: dump" "$WORK"/callgrind.out* | head -1)
total=$(callgrind_annotate "$DUMP" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "instructions per request: $(( total / N ))"
# Calls into malloc/calloc/realloc, from the dump's call records (cfn= then calls=). They are
# glibc's: a binary linked with tcmalloc (the default, MGW_TCMALLOC) allocates without them, so its
# count is not printed; configure the build with -DMGW_TCMALLOC=OFF to count allocations.
if ldd "$BIN" | grep -q tcmalloc; then echo "heap allocations per request: not counted ($BIN uses tcmalloc)"; echo "dump: $DUMP"; exit 0; fi
python3 - "$DUMP" "$N" <<'PY'
import re, sys
names, cfn, calls = {}, None, {}
def name(tok):
    m = re.match(r'\((\d+)\)(?: (.*))?', tok)
    if not m: return tok
    if m.group(2): names[m.group(1)] = m.group(2)
    return names.get(m.group(1), tok)
for line in open(sys.argv[1], errors='replace'):
    if line.startswith(('fn=', 'cfn=')):
        n = name(line.split('=', 1)[1].strip())
        cfn = n if line.startswith('cfn=') else None
    elif line.startswith('calls=') and cfn in ('malloc', 'calloc', 'realloc'):
        calls[cfn] = calls.get(cfn, 0) + int(line[6:].split()[0]); cfn = None
n = int(sys.argv[2])
print("heap allocations per request: %.1f (%s)" % (
    sum(calls.values()) / n, ", ".join("%s %.1f" % (k, v / n) for k, v in sorted(calls.items()))))
PY
echo "dump: $DUMP"
