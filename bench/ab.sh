#!/bin/bash
# A/B of micro-gw binaries: alternated, a fresh process per run (so every run opens 64 connections
# at once), wrk -t1 -c64 -d4s on CPU 1, micro-gw and the nginx backend on CPU 0, 3 rounds.
#   bench/ab.sh KEEP_TMP_DIR BINARY_A BINARY_B ...   (the dir from KEEP_TMP=1 SECTIONS=proxy bench/run.sh)
# A/B: micro-gw binaries alternated, fresh process per run, wrk -c64 on CPU 1, servers on CPU 0.
D=${1:?KEEP_TMP bench dir}; shift
taskset -c 0 nginx -e stderr -p $D/nginx -c $D/nginx/backend.conf 2>/dev/null & NP=$!
export APIKEY=$(head -1 $D/all-keys.txt)
for r in 1 2 3; do for b in "$@"; do
  rm -f $D/gateway-pinned/ready
  MGW_RUNTIME_HOME=$D/gateway-pinned taskset -c 0 $b --config $D/gateway-pinned/conf/micro-gw.conf --ready-file $D/gateway-pinned/ready 2>/dev/null & MP=$!
  for i in $(seq 300); do [ -s $D/gateway-pinned/ready ] && break; sleep 0.01; done
  P=$(python3 -c 'import json;print(json.load(open("'$D'/gateway-pinned/ready"))["httpPort"])')
  echo "$(basename $b) $(timeout 30 taskset -c 1 wrk -t1 -c64 -d4s --latency -s $D/key.lua http://127.0.0.1:$P/bench/data | grep RESULT)"
  kill $MP; wait $MP 2>/dev/null
done; done
kill $NP
