#!/usr/bin/env bash
# make image-test: runs the image as shipped (its own ENTRYPOINT and CMD, the shipped configuration,
# MGW_HOST from the image) and checks it from outside the container (SPEC section 11):
#   1. first start with a read-only root file system and a runtime/ volume: /health, the HEALTHCHECK
#      command, the generated password file (0600) and the log line naming it (never the password),
#      /apikey with that password over HTTPS (admin/admin refused), a proxied call with the key,
#      a revocation; SIGTERM -> exit 0 within 10 s
#   2. a restart on the same volume: the same password, the first key still verifies (signing key
#      kept), the revoked key still revoked (store kept); SIGTERM -> exit 0
#   3. micro-gw as PID 1 of its own PID namespace: SIGTERM -> exit 0 within 10 s
# ENGINE=podman runs the image with `buildah run --isolation chroot` on the host network (plain
# `podman run` cannot set rlimits on some hosts); ENGINE=docker with `docker run --read-only -p`.
# The sample backend (BACKEND) runs on the host on 9080/9081, where the sample APIs point.
set -euo pipefail
ENGINE=${ENGINE:-podman}
IMAGE=${IMAGE:-micro-gw:latest}
BACKEND=${BACKEND:?the mgw-sample-backend binary}
HTTP_PORT=9090
HTTPS_PORT=9095
METRICS_PORT=9797
UID_IN_IMAGE=10001

work=$(mktemp -d "${TMPDIR:-/tmp}/mgw-image-test-XXXXXX")
volume="$work/runtime"
mkdir -p "$volume"
chown "$UID_IN_IMAGE:$UID_IN_IMAGE" "$volume"
chmod 0700 "$volume"
backend_pid=""
run_pid=""
ctr=""
failures=0

cleanup() {
  set +e
  [ -n "$run_pid" ] && kill -KILL "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null
  stop_container_engine
  [ -n "$backend_pid" ] && kill "$backend_pid" 2>/dev/null && wait "$backend_pid" 2>/dev/null
  if [ "$failures" = 0 ] && [ -z "${MGW_KEEP_TMP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

pass() { echo "ok   $*"; }
fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
status() { curl -sk -o /dev/null -w '%{http_code}' --max-time 20 "$@"; }
wait_health() {
  for _ in $(seq 1 300); do
    [ "$(status "http://127.0.0.1:$HTTP_PORT/health")" = 200 ] && return 0
    [ -n "$run_pid" ] && ! kill -0 "$run_pid" 2>/dev/null && return 1
    sleep 0.1
  done
  return 1
}

# --- the image's own command -------------------------------------------------------------------
inspect() { $ENGINE image inspect --format "$1" "$IMAGE"; }
entry=$(inspect '{{range .Config.Entrypoint}}{{.}} {{end}}{{range .Config.Cmd}}{{.}} {{end}}')
healthcheck=$(inspect '{{if .Config.Healthcheck}}{{range .Config.Healthcheck.Test}}{{.}} {{end}}{{end}}')
user=$(inspect '{{.Config.User}}')
echo "image $IMAGE: user $user, command: $entry"
check "the image runs as a non-root user" test -n "$user" -a "$user" != root -a "$user" != 0
check "the image has a HEALTHCHECK running micro-gw health ($healthcheck)" \
  grep -q "micro-gw health" <<<"$healthcheck"
check "the image sets MGW_HOST=0.0.0.0" grep -q "MGW_HOST=0.0.0.0" <<<"$(inspect '{{.Config.Env}}')"
check "the image sets MGW_METRICS_HOST=0.0.0.0" \
  grep -q "MGW_METRICS_HOST=0.0.0.0" <<<"$(inspect '{{.Config.Env}}')"
check "the image exposes the metrics port $METRICS_PORT" \
  grep -q "$METRICS_PORT" <<<"$(inspect '{{.Config.ExposedPorts}}')"
check "conf/ and runtime/ are volumes" \
  grep -q "/opt/micro-gw/runtime" <<<"$(inspect '{{.Config.Volumes}}')"

# --- starting and stopping the container ---------------------------------------------------------
# podman: a working container whose root file system is remounted read-only, run by buildah in a
# chroot on the host network. The entry command writes its exit status to the volume, as buildah
# cannot report it for a read-only root.
start_container() {  # start_container LOGFILE
  local log=$1
  if [ "$ENGINE" = docker ]; then
    ctr=$(docker run -d --read-only -p "$HTTP_PORT:$HTTP_PORT" -p "$HTTPS_PORT:$HTTPS_PORT" \
      -p "$METRICS_PORT:$METRICS_PORT" \
      -v "$volume:/opt/micro-gw/runtime" "$IMAGE")
    (docker logs -f "$ctr" >"$log" 2>&1 &)
    return
  fi
  ctr=$(buildah from --pull-never --quiet "$IMAGE")
  local mnt
  mnt=$(buildah mount "$ctr")
  # buildah's own mount points must exist before the root goes read-only.
  touch "$mnt/run/.containerenv" "$mnt/etc/hosts" "$mnt/etc/resolv.conf" "$mnt/etc/hostname"
  mount -o remount,ro "$mnt"
  buildah run --isolation chroot --network host -v "$volume:/opt/micro-gw/runtime" "$ctr" -- \
    /bin/sh -c "$entry & echo \$! > /opt/micro-gw/runtime/.pid; wait \$!; echo \$? > /opt/micro-gw/runtime/.exit" \
    >"$log" 2>&1 &
  run_pid=$!
}
container_exec() {  # a second command in the running container
  if [ "$ENGINE" = docker ]; then docker exec "$ctr" "$@"; else
    buildah run --isolation chroot --network host "$ctr" -- "$@" 2>/dev/null
  fi
}
stop_container_engine() {
  [ -z "$ctr" ] && return 0
  if [ "$ENGINE" = docker ]; then docker rm -f "$ctr" >/dev/null 2>&1; else
    buildah umount "$ctr" >/dev/null 2>&1
    buildah rm "$ctr" >/dev/null 2>&1
  fi
  ctr=""
}
# SIGTERM as `docker stop` sends it; prints the exit status, or "timeout" after 10 s.
sigterm_container() {
  if [ "$ENGINE" = docker ]; then
    docker kill --signal TERM "$ctr" >/dev/null
    local code
    code=$(timeout 10 docker wait "$ctr" || echo timeout)
    echo "$code"
    return
  fi
  rm -f "$volume/.exit"
  kill -TERM "$(cat "$volume/.pid")"
  for _ in $(seq 1 100); do
    [ -s "$volume/.exit" ] && { cat "$volume/.exit"; wait "$run_pid" 2>/dev/null || true; run_pid=""; return; }
    sleep 0.1
  done
  echo timeout
}

# --- the sample backend on the host --------------------------------------------------------------
for port in $HTTP_PORT $HTTPS_PORT $METRICS_PORT; do
  port_free "$port" || { echo "port $port is in use: stop what listens there first"; exit 1; }
done
if port_free 9080 && port_free 9081; then
  "$BACKEND" --port 9080 --sandbox-port 9081 >"$work/backend.log" 2>&1 &
  backend_pid=$!
  for _ in $(seq 1 100); do port_free 9080 || break; sleep 0.1; done
else
  echo "9080/9081 in use: using the sample backend already there"
fi

# --- 1. first start ------------------------------------------------------------------------------
t0=$(date +%s.%N)
start_container "$work/first.log"
check "first start: /health answers 200 from outside" wait_health
t1=$(date +%s.%N)
echo "     first start to healthy: $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s"
# buildah cannot report a status for a read-only root: the command says it succeeded.
check "first start: the HEALTHCHECK command succeeds in the container" \
  grep -q HEALTHY <<<"$(container_exec /bin/sh -c "${healthcheck#CMD } && echo HEALTHY")"
password_file="$volume/security/initial-admin-password"
check "first start: runtime/security/initial-admin-password exists" test -s "$password_file"
check "first start: the password file is mode 0600" test "$(stat -c %a "$password_file")" = 600
password=$(cat "$password_file" 2>/dev/null || true)
check "first start: the log names the password file" \
  grep -q "/opt/micro-gw/runtime/security/initial-admin-password" "$work/first.log"
check "first start: the log never holds the password" \
  test -n "$password" -a "$(grep -c -F -- "$password" "$work/first.log")" = 0
check "first start: admin/admin is refused (401)" \
  test "$(status -u admin:admin "https://127.0.0.1:$HTTPS_PORT/apikey")" = 401
key=$(curl -sk --max-time 20 -u "admin:$password" "https://127.0.0.1:$HTTPS_PORT/apikey")
check "first start: /apikey over HTTPS with the generated password issues a key" \
  test "$(echo "$key" | tr -cd . | wc -c)" = 2
check "first start: a proxied call with the key (200 from the sample backend)" \
  test "$(status -H "apikey: $key" "https://127.0.0.1:$HTTPS_PORT/pizzashack/1.0.0/menu")" = 200
revoked=$(curl -sk --max-time 20 -u "admin:$password" "https://127.0.0.1:$HTTPS_PORT/apikey")
check "first start: a second key is revoked" test "$(status -u "admin:$password" -X POST \
  -d "{\"apiKey\": \"$revoked\"}" "https://127.0.0.1:$HTTPS_PORT/apikey/revoke")" = 200
check "first start: the revoked key is refused (401)" \
  test "$(status -H "apikey: $revoked" "https://127.0.0.1:$HTTPS_PORT/pizzashack/1.0.0/menu")" = 401
check "first start: /health/ready answers 200 on the metrics port" \
  test "$(status "http://127.0.0.1:$METRICS_PORT/health/ready")" = 200
metrics=$(curl -s --max-time 20 "http://127.0.0.1:$METRICS_PORT/metrics" || true)
check "first start: /metrics counts the proxied calls" \
  grep -q '^mgw_requests_total{.*status="200".*} [1-9]' <<<"$metrics"
check "first start: /metrics never holds the password or a key" \
  test "$(grep -c -F -e "$password" -e "$key" <<<"$metrics")" = 0
check "read-only root: the container's root file system refuses writes (even /tmp)" \
  grep -q read-only <<<"$(container_exec /bin/sh -c 'touch /tmp/x 2>/dev/null && echo writable || echo read-only')"
t0=$(date +%s.%N)
code=$(sigterm_container)
t1=$(date +%s.%N)
check "first start: SIGTERM -> exit 0 within 10 s (got $code in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s)" \
  test "$code" = 0
stop_container_engine

# --- 2. restart on the same volume -----------------------------------------------------------------
start_container "$work/second.log"
check "restart: /health answers 200" wait_health
check "restart: the password file is unchanged" test "$(cat "$password_file")" = "$password"
check "restart: the first key still works (signing key kept in the volume)" \
  test "$(status -H "apikey: $key" "https://127.0.0.1:$HTTPS_PORT/pizzashack/1.0.0/menu")" = 200
check "restart: the revoked key is still refused (store kept in the volume)" \
  test "$(status -H "apikey: $revoked" "https://127.0.0.1:$HTTPS_PORT/pizzashack/1.0.0/menu")" = 401
check "restart: no new password generated (log says where it is)" \
  grep -q "the admin password is the one in the file" "$work/second.log"
code=$(sigterm_container)
check "restart: SIGTERM -> exit 0 within 10 s (got $code)" test "$code" = 0
stop_container_engine

# --- 3. PID 1 ------------------------------------------------------------------------------------
# The image's root file system (read-only), micro-gw as PID 1 of a new PID namespace, non-root.
if [ "$ENGINE" = podman ]; then
  ctr=$(buildah from --pull-never --quiet "$IMAGE")
  mnt=$(buildah mount "$ctr")
  mount -o remount,ro "$mnt"
  env_args=$(inspect '{{range .Config.Env}}{{.}} {{end}}')
  unshare --mount --pid --fork --kill-child /bin/sh -c \
    "mount --bind '$volume' '$mnt/opt/micro-gw/runtime' && mount -t proc proc '$mnt/proc' &&
     exec chroot --userspec=$UID_IN_IMAGE:$UID_IN_IMAGE '$mnt' \
     /usr/bin/env -i $env_args /bin/sh -c 'cd /opt/micro-gw && echo \$\$ > runtime/.pid1 && exec $entry'" \
    >"$work/pid1.log" 2>&1 &
  run_pid=$!
  check "PID 1: /health answers 200" wait_health
  check "PID 1: micro-gw is PID 1 in its namespace" test "$(cat "$volume/.pid1" 2>/dev/null)" = 1
  # The namespace's PID 1 is the child of unshare.
  kill -TERM "$(pgrep -P "$run_pid" | head -1)"
  code=timeout
  for _ in $(seq 1 100); do
    if ! kill -0 "$run_pid" 2>/dev/null; then
      wait "$run_pid" && code=0 || code=$?
      break
    fi
    sleep 0.1
  done
  run_pid=""
  check "PID 1: SIGTERM -> exit 0 within 10 s (got $code)" test "$code" = 0
  check "PID 1: the drain was logged" grep -q "micro-gw stopped" "$work/pid1.log"
  stop_container_engine
fi

if [ "$failures" != 0 ]; then
  echo "image-test: $failures check(s) failed; logs in $work"
  for f in "$work"/*.log; do echo "== $f"; tail -20 "$f"; done
  exit 1
fi
echo "image-test: every check passed"
