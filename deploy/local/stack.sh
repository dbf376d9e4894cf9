#!/usr/bin/env bash
# The whole stack on this machine, without Docker: the five services as processes, an
# nginx reverse proxy putting them under one origin, and the SMTP sink. The
# infrastructure (Kafka, PostgreSQL, Redis) is started by infra.sh first (`make up`).
#   stack.sh up | down | status
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# A second stack (e.g. a test of this script) can run beside the first with its own
# directory and ports.
STATE="${FORBEDRING_STACK_DIR:-$ROOT/.state}"
RUN="$STATE/run"
LOGS="$STATE/logs"
PROXY_PORT="${FORBEDRING_PROXY_PORT:-8080}"
# A namespace keeps such a stack's databases and topics apart from `make up`'s too:
# forbedring_<namespace>_<service> and <namespace>.<topic>.
NAMESPACE="${FORBEDRING_STACK_NAMESPACE:-}"
BASE="${FORBEDRING_SERVICE_PORT_BASE:-8100}"
SERVICES=(survey aggregation publication actionplan notification)
declare -A PORTS=([survey]=$((BASE + 1)) [aggregation]=$((BASE + 2)) [publication]=$((BASE + 3))
                  [actionplan]=$((BASE + 4)) [notification]=$((BASE + 5)))

mkdir -p "$RUN" "$LOGS"
# shellcheck disable=SC1090
source <("$ROOT/deploy/local/infra.sh" env)

running() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

ensure_nginx() {
  command -v nginx >/dev/null && return
  echo "installing nginx (the local reverse proxy)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }
}

database_url_for() {  # the admin URL with the service's own database name
  echo "${DATABASE_URL%/*}/forbedring_${NAMESPACE:+${NAMESPACE}_}$1"
}

topic_prefix() { echo "${NAMESPACE:+$NAMESPACE.}"; }

ensure_namespace() {  # the namespace's own databases and topics (make up's exist already)
  [[ -z "$NAMESPACE" ]] && return
  local svc
  for svc in "${SERVICES[@]}"; do
    "$ROOT/.venv/bin/python" - "$DATABASE_URL" "forbedring_${NAMESPACE}_$svc" <<'PY'
import asyncio, sys
import asyncpg
async def main(url: str, name: str) -> None:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
asyncio.run(main(*sys.argv[1:]))
PY
  done
  "$ROOT/.venv/bin/python" "$ROOT/deploy/local/apply_topics.py" --bootstrap "$KAFKA_BOOTSTRAP_SERVERS" \
    --file "$ROOT/deploy/topics.yaml" --prefix "$(topic_prefix)" --wait 60 >/dev/null
}

# The local stack is a development stack: every service trusts one development issuer
# (demo sign-in without a password), whose key is made once and shared so a token from
# one service's /dev-login is valid at all of them.
dev_issuer_key() {
  local key="$STATE/dev-issuer.pem"
  if [[ ! -s "$key" ]]; then
    "$ROOT/.venv/bin/python" - "$key" <<'PY'
import os, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, pem); os.close(fd)
PY
  fi
  cat "$key"
}

service_env() {  # the environment a service (or its command-line tools) runs with
  local svc=$1 upper=${1^^}
  echo "${upper}_DATABASE_URL=$(database_url_for "$svc")"
  echo "${upper}_KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS"
  echo "${upper}_KAFKA_TOPIC_PREFIX=$(topic_prefix)"
  echo "${upper}_REDIS_URL=$REDIS_URL"
  echo "${upper}_HTTP_PORT=${PORTS[$svc]}"
  echo "${upper}_DEV_ISSUER_ENABLED=true"
  echo "${upper}_DEV_ISSUER_URL=http://127.0.0.1:$PROXY_PORT/dev-issuer"
}

start_service() {
  local svc=$1 upper=${1^^}
  local pidfile="$RUN/$svc.pid"
  if running "$pidfile"; then echo "$svc: already running"; return; fi
  local -a vars; mapfile -t vars < <(service_env "$svc")
  # Read here, not in the backgrounded command below: expanded there, each service's
  # subshell would race to create the key on a first run and get one of its own.
  local key; key="$(dev_issuer_key)"
  env "${vars[@]}" "${upper}_DEV_ISSUER_PRIVATE_KEY=$key" \
      nohup "$ROOT/.venv/bin/python" -m "forbedring_$svc" >>"$LOGS/$svc.log" 2>&1 &
  echo $! >"$pidfile"
}

write_proxy_config() {
  mkdir -p "$STATE/nginx/tmp"
  {
    echo "worker_processes 1; pid $RUN/nginx.pid; error_log $LOGS/nginx-error.log;"
    echo "events { worker_connections 1024; }"
    echo "http {"
    echo "  access_log $LOGS/nginx-access.log; client_body_temp_path $STATE/nginx/tmp;"
    echo "  proxy_temp_path $STATE/nginx/tmp; fastcgi_temp_path $STATE/nginx/tmp;"
    echo "  uwsgi_temp_path $STATE/nginx/tmp; scgi_temp_path $STATE/nginx/tmp;"
    echo "  server {"
    echo "    listen 127.0.0.1:$PROXY_PORT;"
    # An organisation file for a 100,000-employee trust is about 25 MB of JSON (the demo
    # hospital's is 2.3 MB); nginx's default of 1 MB refuses it with 413.
    echo "    client_max_body_size 100m;"
    # Metrics are scraped from each service's own port, never through the proxy.
    echo "    location ~ ^/[a-z]+/metrics { return 404; }"
    for svc in "${SERVICES[@]}"; do
      echo "    location /$svc/ {"
      echo "      proxy_pass http://127.0.0.1:${PORTS[$svc]}/;"
      echo "      proxy_set_header Host \$host; proxy_set_header X-Forwarded-Prefix /$svc;"
      echo "      proxy_set_header X-Forwarded-For \$remote_addr; proxy_set_header X-Forwarded-Proto \$scheme;"
      echo "    }"
    done
    echo "    location /mail/ { proxy_pass ${SMTP_WEB_URL}; }"
    echo "    location = / { return 302 /survey/; }"
    echo "  }"
    echo "}"
  } >"$STATE/nginx/nginx.conf"
}

wait_ready() {
  # A loaded machine (a benchmark beside test suites) may need longer: FORBEDRING_READY_TIMEOUT.
  local svc=$1 timeout=${FORBEDRING_READY_TIMEOUT:-90}
  local deadline=$((SECONDS + timeout))
  until curl -fsS "http://127.0.0.1:$PROXY_PORT/$svc/readyz" >/dev/null 2>&1; do
    if ! running "$RUN/$svc.pid"; then
      echo "$svc exited; last lines of $LOGS/$svc.log:" >&2; tail -20 "$LOGS/$svc.log" >&2; exit 1
    fi
    if (( SECONDS > deadline )); then
      echo "$svc not ready after $timeout s; see $LOGS/$svc.log" >&2; exit 1
    fi
    sleep 0.5
  done
}

up() {
  ensure_nginx
  "$ROOT/deploy/local/infra.sh" smtp-up
  ensure_namespace
  dev_issuer_key >/dev/null  # one key for the whole stack, made before any service starts
  for svc in "${SERVICES[@]}"; do start_service "$svc"; done
  write_proxy_config
  if running "$RUN/nginx.pid"; then nginx -c "$STATE/nginx/nginx.conf" -s reload
  else nginx -c "$STATE/nginx/nginx.conf"; fi
  for svc in "${SERVICES[@]}"; do wait_ready "$svc"; done
  load_demo
  cat <<MSG

Forbedring is running (all five services report ready):
  answer the survey  http://127.0.0.1:$PROXY_PORT/survey/
  participation      http://127.0.0.1:$PROXY_PORT/survey/participation
  survey API         http://127.0.0.1:$PROXY_PORT/survey/docs
  aggregation API    http://127.0.0.1:$PROXY_PORT/aggregation/docs
  publication API    http://127.0.0.1:$PROXY_PORT/publication/docs
  actionplan API     http://127.0.0.1:$PROXY_PORT/actionplan/docs
  notification API   http://127.0.0.1:$PROXY_PORT/notification/docs
  mail (sink)        http://127.0.0.1:$PROXY_PORT/mail/
Sign in (development, no password): http://127.0.0.1:$PROXY_PORT/survey/dev-login
  with demo-employee, demo-leader, demo-safety-rep or demo-hr-admin (list above)
Health: /<service>/readyz   Metrics: http://127.0.0.1:<port>/metrics ($(status_ports))
Logs: $LOGS
Stop everything with: make down
MSG
}

load_demo() {
  [[ "${FORBEDRING_DEMO:-1}" == "0" ]] && return
  local -a vars; mapfile -t vars < <(service_env survey)
  echo "loading the demo hospital (about 12,000 employees): last year's period, answered and"
  echo "closed, then this year's, opened"
  # FORBEDRING_DEMO_PREVIOUS=0: this year's period only (last year's takes minutes).
  local -a only_this_year=()
  [[ "${FORBEDRING_DEMO_PREVIOUS:-1}" == "0" ]] && only_this_year=(--no-previous-period)
  env "${vars[@]}" "$ROOT/.venv/bin/python" -m forbedring_survey.cli load-demo --wait-open 60 \
    "${only_this_year[@]}" \
    | tee "$LOGS/demo.log"
  # Last year's results go through aggregation and publication as events; once actionplan
  # has opened the plans, the demo's leaders write them through its API.
  local previous
  previous=$(sed -n 's/^Previous period: \([^ ]*\) .*/\1/p' "$LOGS/demo.log")
  [[ -z "$previous" ]] && return
  "$ROOT/.venv/bin/python" -m forbedring_actionplan.demo \
    --url "http://127.0.0.1:${PORTS[actionplan]}" --period "$previous" --wait 600
}

down() {
  if running "$RUN/nginx.pid"; then nginx -c "$STATE/nginx/nginx.conf" -s quit || true; fi
  for svc in "${SERVICES[@]}"; do
    local pidfile="$RUN/$svc.pid"
    if running "$pidfile"; then
      kill -TERM "$(cat "$pidfile")"
      for _ in $(seq 1 60); do running "$pidfile" || break; sleep 0.25; done
      running "$pidfile" && kill -KILL "$(cat "$pidfile")"
      echo "$svc: stopped"
    fi
    rm -f "$pidfile"
  done
  # The sink is shared: a namespaced stack (a test's, a benchmark's) leaves it running.
  [[ -n "$NAMESPACE" ]] || "$ROOT/deploy/local/infra.sh" smtp-down || true
}

status_ports() {
  local svc out=""
  for svc in "${SERVICES[@]}"; do out+="$svc ${PORTS[$svc]}, "; done
  echo "${out%, }"
}

status() {
  for svc in "${SERVICES[@]}"; do
    if running "$RUN/$svc.pid"; then echo "$svc: running on 127.0.0.1:${PORTS[$svc]}"
    else echo "$svc: stopped"; fi
  done
  if running "$RUN/nginx.pid"; then echo "proxy: running on 127.0.0.1:$PROXY_PORT"; else echo "proxy: stopped"; fi
}

case "${1:-}" in
  up) up ;; down) down ;; status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
