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
  echo "${DATABASE_URL%/*}/forbedring_$1"
}

start_service() {
  local svc=$1 port=${PORTS[$1]} upper=${1^^}
  local pidfile="$RUN/$svc.pid"
  if running "$pidfile"; then echo "$svc: already running"; return; fi
  env "${upper}_DATABASE_URL=$(database_url_for "$svc")" \
      "${upper}_KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS" \
      "${upper}_REDIS_URL=$REDIS_URL" \
      "${upper}_HTTP_PORT=$port" \
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
    for svc in "${SERVICES[@]}"; do
      echo "    location /$svc/ {"
      echo "      proxy_pass http://127.0.0.1:${PORTS[$svc]}/;"
      echo "      proxy_set_header Host \$host; proxy_set_header X-Forwarded-Prefix /$svc;"
      echo "      proxy_set_header X-Forwarded-For \$remote_addr; proxy_set_header X-Forwarded-Proto \$scheme;"
      echo "    }"
    done
    echo "    location /mail/ { proxy_pass ${SMTP_WEB_URL}; }"
    echo "    location = / { return 302 /survey/docs; }"
    echo "  }"
    echo "}"
  } >"$STATE/nginx/nginx.conf"
}

wait_ready() {
  local svc=$1 deadline=$((SECONDS + 90))
  until curl -fsS "http://127.0.0.1:$PROXY_PORT/$svc/readyz" >/dev/null 2>&1; do
    if ! running "$RUN/$svc.pid"; then
      echo "$svc exited; last lines of $LOGS/$svc.log:" >&2; tail -20 "$LOGS/$svc.log" >&2; exit 1
    fi
    if (( SECONDS > deadline )); then
      echo "$svc not ready after 90 s; see $LOGS/$svc.log" >&2; exit 1
    fi
    sleep 0.5
  done
}

up() {
  ensure_nginx
  "$ROOT/deploy/local/infra.sh" smtp-up
  for svc in "${SERVICES[@]}"; do start_service "$svc"; done
  write_proxy_config
  if running "$RUN/nginx.pid"; then nginx -c "$STATE/nginx/nginx.conf" -s reload
  else nginx -c "$STATE/nginx/nginx.conf"; fi
  for svc in "${SERVICES[@]}"; do wait_ready "$svc"; done
  cat <<MSG

Forbedring is running (all five services report ready):
  survey        http://127.0.0.1:$PROXY_PORT/survey/docs
  aggregation   http://127.0.0.1:$PROXY_PORT/aggregation/docs
  publication   http://127.0.0.1:$PROXY_PORT/publication/docs
  actionplan    http://127.0.0.1:$PROXY_PORT/actionplan/docs
  notification  http://127.0.0.1:$PROXY_PORT/notification/docs
  mail (sink)   http://127.0.0.1:$PROXY_PORT/mail/
Health: /<service>/readyz   Metrics: /<service>/metrics   Logs: $LOGS
Stop everything with: make down
MSG
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
  "$ROOT/deploy/local/infra.sh" smtp-down || true
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
