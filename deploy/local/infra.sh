#!/usr/bin/env bash
# Forbedring's local infrastructure without Docker: PostgreSQL and Redis from Debian's
# packages, Apache Kafka (KRaft, one combined broker/controller) run from Maven Central
# jars with Java, the topics from deploy/topics.yaml, and an SMTP sink for the demo.
#
#   infra.sh install   install what is missing (apt packages, uv, Kafka jars, SMTP sink)
#   infra.sh up        start PostgreSQL, Redis and Kafka (reusing what runs), create topics
#   infra.sh down      stop everything this script started
#   infra.sh status    one line per component
#   infra.sh env       export lines:  source <(deploy/local/infra.sh env)
#   infra.sh smtp-up / smtp-down    the SMTP sink (the stack script starts it)
#   infra.sh start|stop postgres|redis|kafka   one component (the fault suite's outages)
#
# All state lives in <repo>/.state/; `infra.sh down && rm -rf .state` resets everything.
# FORBEDRING_STATE_DIR and the FORBEDRING_*_PORT variables run a second, private set
# beside it (the fault suite stops that one, never the one other tests share); the Kafka
# jars are taken from FORBEDRING_KAFKA_LIBS when set, so they are fetched once.
# KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL or REDIS_URL set to something other than the local
# address means that component is provided elsewhere: `up` neither starts nor stops it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${FORBEDRING_STATE_DIR:-$ROOT/.state}"
LOGS="$STATE/logs"
HOST=127.0.0.1
# Remember the caller's SMTP settings before our own names are set (for `env`).
CALLER_SMTP_HOST="${SMTP_HOST:-}"
CALLER_SMTP_PORT="${SMTP_PORT:-}"
# pip --user puts uv here; make it visible to this script on a fresh machine.
export PATH="$HOME/.local/bin:$PATH"

# Non-default ports so a system PostgreSQL/Redis/Kafka on this machine cannot clash.
# Ports can be moved (e.g. to run a second checkout beside this one).
PG_PORT="${FORBEDRING_PG_PORT:-55432}"
REDIS_PORT="${FORBEDRING_REDIS_PORT:-56379}"
KAFKA_PORT="${FORBEDRING_KAFKA_PORT:-59092}"
KAFKA_CONTROLLER_PORT="${FORBEDRING_KAFKA_CONTROLLER_PORT:-59093}"
SMTP_SINK_PORT="${FORBEDRING_SMTP_PORT:-51025}"
SMTP_SINK_UI_PORT="${FORBEDRING_SMTP_UI_PORT:-58025}"

LOCAL_DATABASE_URL="postgresql://forbedring:forbedring@$HOST:$PG_PORT/postgres"
LOCAL_REDIS_URL="redis://$HOST:$REDIS_PORT/0"
LOCAL_KAFKA="$HOST:$KAFKA_PORT"
SERVICE_DATABASES=(forbedring_survey forbedring_aggregation forbedring_publication
                   forbedring_actionplan forbedring_notification)

PGDATA="$STATE/postgres"
PG_RUN="$STATE/run"            # unix socket directory (owned by postgres)
PG_LOG="$LOGS/postgres.log"
REDIS_DIR="$STATE/redis"
REDIS_LOG="$LOGS/redis.log"
KAFKA_HOME="$STATE/kafka"
KAFKA_LIBS="${FORBEDRING_KAFKA_LIBS:-$KAFKA_HOME/libs}"
KAFKA_PID="$KAFKA_HOME/kafka.pid"
KAFKA_PROPS="$KAFKA_HOME/server.properties"
KAFKA_LOG="$KAFKA_HOME/logs/server.log"
KAFKA_POM="$ROOT/deploy/kafka/pom.xml"
SMTP_VENV="${FORBEDRING_SMTP_VENV:-$STATE/smtp-venv}"
SMTP_PID="$STATE/smtp/smtp.pid"
SMTP_LOG="$LOGS/smtp.log"

TOPICS_FILE="$ROOT/deploy/topics.yaml"
START_TIMEOUT="${INFRA_START_TIMEOUT:-90}"   # seconds a component may take to become ready

# --- helpers -------------------------------------------------------------------------

say() { printf '==> %s\n' "$*"; }
die() { printf 'infra: error: %s\n' "$*" >&2; exit 1; }

require_root() {
    # apt-get and running PostgreSQL as its own user (runuser) need root.
    [[ $EUID -eq 0 ]] || die "run as root (needed for apt-get and runuser)"
}

# Serialise install/up/down: two `make test` runs must not start two brokers.
# Every process started while holding it gets `9>&-`, or it would keep the lock forever.
take_lock() {
    mkdir -p "$STATE"
    exec 9>"$STATE/.infra.lock"
    flock 9
}

port_open() {  # port_open PORT: something accepts TCP connections on 127.0.0.1:PORT
    timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

pid_alive() {  # pid_alive PIDFILE [PATTERN]: the process is running (and is ours)
    local pid
    [[ -s $1 ]] || return 1
    pid="$(<"$1")"
    kill -0 "$pid" 2>/dev/null || return 1
    # A recycled pid must not be mistaken for ours: check its command line.
    [[ -z ${2:-} ]] || tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

# Logs are appended across restarts; remember where this attempt's lines begin.
declare -A LOG_FROM=()
mark_log() {  # mark_log LOGFILE
    LOG_FROM[$1]=$(stat -c %s "$1" 2>/dev/null || echo 0)
}

fail_with_log() {  # fail_with_log NAME LOGFILE MESSAGE
    local from=${LOG_FROM[$2]:-0} recent
    printf 'infra: error: %s: %s\n' "$1" "$3" >&2
    if [[ -f $2 ]]; then
        (($(stat -c %s "$2") >= from)) || from=0   # the log was rotated meanwhile
        recent="$(tail -c "+$((from + 1))" "$2")"
        # Java stack traces hide the cause far from the end: show error lines first.
        if grep -qE '\b(ERROR|FATAL)\b|^Caused by:' <<<"$recent"; then
            printf -- '--- errors in %s ---\n' "$2" >&2
            grep -E '\b(ERROR|FATAL)\b|^Caused by:' <<<"$recent" | tail -n 12 >&2
        fi
        printf -- '--- last lines of %s ---\n' "$2" >&2
        tail -n 20 <<<"$recent" >&2
        printf -- '---\n' >&2
    fi
    exit 1
}

# wait_ready NAME LOGFILE PIDFILE -- COMMAND...: poll COMMAND until it succeeds;
# fail early if the process (PIDFILE, may be "") died, fail after START_TIMEOUT seconds.
wait_ready() {
    local name=$1 logfile=$2 pidfile=$3 deadline=$((SECONDS + START_TIMEOUT))
    shift 4
    until "$@" >/dev/null 2>&1; do
        # Alive is enough: the pid was just written, and until the background subshell
        # has exec'd the command its command line is still this script's (no pattern).
        if [[ -n $pidfile ]] && ! pid_alive "$pidfile"; then
            fail_with_log "$name" "$logfile" "the process exited while starting"
        fi
        if ((SECONDS >= deadline)); then
            fail_with_log "$name" "$logfile" "not ready after ${START_TIMEOUT}s"
        fi
        sleep 0.5
    done
}

stop_pid() {  # stop_pid NAME PIDFILE PATTERN TIMEOUT: SIGTERM, wait, SIGKILL as a last resort
    local name=$1 pidfile=$2 pattern=$3 timeout=$4 pid i
    if ! pid_alive "$pidfile" "$pattern"; then
        rm -f "$pidfile"
        return 0
    fi
    pid="$(<"$pidfile")"
    kill -TERM "$pid"
    for ((i = 0; i < timeout * 2; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "$name did not stop within ${timeout}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    say "$name stopped"
}

# Our listening ports lie inside Linux's ephemeral range (32768-60999): while a server is
# down, an outgoing connection may be given its port, and its restart then fails with
# 'Address already in use' (a fault case's Kafka restart did). A reserved port is never
# handed out as an ephemeral one. Best effort: skipped where the setting is read-only.
reserve_ports() {  # reserve_ports PORT...
    local file=/proc/sys/net/ipv4/ip_local_reserved_ports current merged
    [[ -w $file ]] || return 0
    current="$(<"$file")"
    merged="$(printf '%s\n' ${current//,/ } "$@" | sort -u | paste -sd, -)"
    [[ $merged == "$current" ]] || echo "$merged" >"$file" 2>/dev/null || true
}

reserve_our_ports() {
    reserve_ports "$PG_PORT" "$REDIS_PORT" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" \
        "$SMTP_SINK_PORT" "$SMTP_SINK_UI_PORT"
}

# A component is external when its variable is set to something else than our address.
external() {  # external VAR LOCAL_VALUE
    [[ -n ${!1:-} && ${!1} != "$2" ]]
}

as_postgres() {
    # initdb/pg_ctl refuse to run as root; the cluster belongs to the postgres OS user.
    runuser -u postgres -- "$@"
}

pg_bin() {
    # Prefer the binaries matching an existing cluster, else the newest installed.
    local version
    if [[ -s $PGDATA/PG_VERSION ]]; then
        version="$(<"$PGDATA/PG_VERSION")"
        [[ -x /usr/lib/postgresql/$version/bin/postgres ]] && {
            echo "/usr/lib/postgresql/$version/bin"
            return
        }
        die "the cluster in $PGDATA is PostgreSQL $version, which is not installed"
    fi
    local dirs=(/usr/lib/postgresql/*/bin)
    [[ -d ${dirs[0]} ]] && printf '%s\n' "${dirs[@]}" | sort -V | tail -n 1
}

jars_stamp() {
    # The jars are fetched again only when the pom changes.
    echo "$KAFKA_LIBS/.fetched-$(sha256sum "$KAFKA_POM" | cut -c1-16)"
}

# --- install -------------------------------------------------------------------------

apt_install_missing() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    say "apt-get install ${missing[*]}"
    # Package scripts must not start their own default PostgreSQL/Redis on the standard
    # ports: policy-rc.d answering 101 is Debian's way to forbid that during install.
    local added_policy=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT   # also when apt-get fails
        added_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" >/dev/null
    [[ -z $added_policy ]] || rm -f /usr/sbin/policy-rc.d
}

install_uv() {
    command -v uv >/dev/null && return 0
    say "installing uv with pip (--user)"
    python3 -m pip --version >/dev/null 2>&1 || apt_install_missing python3-pip
    # Debian's own python3 refuses --user installs (PEP 668) unless told otherwise.
    python3 -m pip install -q --user uv 2>/dev/null ||
        python3 -m pip install -q --user --break-system-packages uv
    command -v uv >/dev/null || die "uv was installed but is not on PATH"
}

install_kafka_jars() {
    local stamp tmp
    stamp="$(jars_stamp)"
    if [[ -f $stamp ]]; then
        say "Kafka jars present ($(find "$KAFKA_LIBS" -name '*.jar' | wc -l) in $KAFKA_LIBS)"
        return 0
    fi
    say "fetching Apache Kafka jars from Maven Central (deploy/kafka/pom.xml)"
    # Copy into a scratch folder first so an interrupted fetch never looks complete.
    tmp="$KAFKA_HOME/libs.partial"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    mark_log "$LOGS/maven.log"
    mvn -B -Dstyle.color=never -f "$KAFKA_POM" dependency:copy-dependencies \
        -DoutputDirectory="$tmp" >>"$LOGS/maven.log" 2>&1 ||
        fail_with_log Maven "$LOGS/maven.log" "could not fetch the Kafka jars"
    rm -rf "$KAFKA_LIBS"
    mv "$tmp" "$KAFKA_LIBS"
    touch "$(jars_stamp)"
    say "Kafka jars: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) in $KAFKA_LIBS"
    # A running broker keeps its open jars; it uses the new ones after a restart.
    ! kafka_running || say "Kafka is running: '$0 down && $0 up' to use the new jars"
}

install_smtp_sink() {
    # Mailpit cannot be installed here (see README), so the SMTP sink is a small aiosmtpd
    # script in its own virtualenv, independent of the workspace's lockfile.
    if "$SMTP_VENV/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
        say "SMTP sink present ($SMTP_VENV)"
        return 0
    fi
    say "installing the SMTP sink (aiosmtpd) into $SMTP_VENV"
    uv venv -q --allow-existing --python "$(command -v python3)" "$SMTP_VENV"
    uv pip install -q --python "$SMTP_VENV/bin/python" 'aiosmtpd>=1.4,<2'
}

cmd_install() {
    require_root
    take_lock
    mkdir -p "$LOGS" "$KAFKA_HOME"
    local packages=(postgresql redis-server)
    command -v java >/dev/null || packages+=(openjdk-17-jre-headless)
    command -v mvn >/dev/null || packages+=(maven)
    command -v unzip >/dev/null || packages+=(unzip)  # Keycloak's distribution (keycloak.sh)
    # The aggregation service's counting is compiled (Cython) when uv installs it.
    command -v cc >/dev/null || packages+=(gcc libc6-dev)
    # The browser tests drive Debian's Chromium (Playwright's own download cannot work here).
    [[ -x /usr/bin/chromium ]] || packages+=(chromium)
    apt_install_missing "${packages[@]}"
    install_uv
    install_kafka_jars
    install_smtp_sink
    # The tests' OpenID provider (tests/oidc), fetched from Maven Central once.
    "$ROOT/deploy/local/keycloak.sh" install >/dev/null
    say "install done"
}

# --- PostgreSQL ----------------------------------------------------------------------

ensure_postgres_can_reach() {
    # The postgres OS user must be able to walk down to .state (x on every parent).
    as_postgres test -x "$STATE" && return 0
    local dir="$STATE"
    while [[ $dir != / ]]; do
        if ! as_postgres test -x "$dir"; then
            chmod o+x "$dir"
            say "gave others search permission (o+x) on $dir so postgres can reach its data"
        fi
        dir="$(dirname "$dir")"
    done
}

write_postgres_conf() {
    # Rewritten on every `up` (applies after a restart); postgresql.conf includes it.
    cat >"$PGDATA/forbedring.conf" <<EOF
# Generated by deploy/local/infra.sh; edit the script, not this file.
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
# Five services with connection pools plus parallel tests.
max_connections = 300
# A throwaway development cluster: durability traded for speed.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    chown postgres:postgres "$PGDATA/forbedring.conf"
}

bootstrap_postgres() {
    # The application role and one database per service; idempotent.
    local dbs
    dbs="$(printf "'%s'," "${SERVICE_DATABASES[@]}")"
    as_postgres "$(pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" \
        -U postgres -d postgres >/dev/null <<SQL
SET client_min_messages = warning;
SELECT 'CREATE ROLE forbedring LOGIN CREATEDB PASSWORD ''forbedring'''
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'forbedring')\gexec
-- DROP DATABASE ... WITH (FORCE) must also end an autovacuum worker in the database,
-- which PostgreSQL checks as a backend of no role: only pg_signal_backend may.
GRANT pg_signal_backend TO forbedring;
SELECT format('CREATE DATABASE %I OWNER forbedring', name)
  FROM unnest(ARRAY[${dbs%,}]) AS name
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name)\gexec
SQL
}

postgres_up() {
    id postgres >/dev/null 2>&1 || die "no postgres OS user: run '$0 install' first"
    local bin
    bin="$(pg_bin)"
    [[ -n $bin ]] || die "PostgreSQL is not installed: run '$0 install' first"
    ensure_postgres_can_reach
    install -d -o postgres -g postgres -m 700 "$PGDATA"
    install -d -o postgres -g postgres -m 755 "$PG_RUN"
    touch "$PG_LOG" && chown postgres:postgres "$PG_LOG"
    mark_log "$PG_LOG"

    if [[ ! -s $PGDATA/PG_VERSION ]]; then
        say "PostgreSQL: creating the cluster in $PGDATA"
        # Local socket: trust (only root/postgres reach it); TCP: passwords.
        as_postgres "$bin/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1 ||
            fail_with_log PostgreSQL "$PG_LOG" "initdb failed"
        echo "include_if_exists = 'forbedring.conf'" >>"$PGDATA/postgresql.conf"
    fi
    write_postgres_conf

    if as_postgres "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        say "PostgreSQL already running on $HOST:$PG_PORT"
    else
        say "PostgreSQL: starting on $HOST:$PG_PORT"
        as_postgres "$bin/pg_ctl" -D "$PGDATA" -l "$PG_LOG" -w -t "$START_TIMEOUT" start \
            >/dev/null 9>&- || fail_with_log PostgreSQL "$PG_LOG" "pg_ctl could not start the server"
    fi
    wait_ready PostgreSQL "$PG_LOG" "" -- "$bin/pg_isready" -q -h "$HOST" -p "$PG_PORT"
    bootstrap_postgres || fail_with_log PostgreSQL "$PG_LOG" "creating role/databases failed"
}

postgres_down() {
    local bin
    bin="$(pg_bin)"
    [[ -n $bin && -s $PGDATA/PG_VERSION ]] || return 0
    if as_postgres "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        # "fast": roll back open transactions and disconnect clients, then a clean stop.
        as_postgres "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
        say "PostgreSQL stopped"
    fi
}

# --- Redis ---------------------------------------------------------------------------

redis_ping() { [[ $(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

redis_up() {
    command -v redis-server >/dev/null || die "Redis is not installed: run '$0 install' first"
    mkdir -p "$REDIS_DIR"
    if redis_ping; then
        say "Redis already running on $HOST:$REDIS_PORT"
        return 0
    fi
    # Redis holds caches, rate limits and leases here: nothing worth persisting.
    cat >"$REDIS_DIR/redis.conf" <<EOF
# Generated by deploy/local/infra.sh; edit the script, not this file.
bind $HOST
port $REDIS_PORT
daemonize yes
pidfile $REDIS_DIR/redis.pid
logfile $REDIS_LOG
dir $REDIS_DIR
save ""
appendonly no
EOF
    say "Redis: starting on $HOST:$REDIS_PORT"
    mark_log "$REDIS_LOG"
    redis-server "$REDIS_DIR/redis.conf" 9>&- || fail_with_log Redis "$REDIS_LOG" "redis-server failed"
    wait_ready Redis "$REDIS_LOG" "" -- redis_ping
}

redis_down() {
    redis_ping || return 0
    # Only stop the Redis we started (its pid file is ours).
    pid_alive "$REDIS_DIR/redis.pid" redis-server || return 0
    redis-cli -h "$HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    local i
    for ((i = 0; i < 20; i++)); do
        redis_ping || break
        sleep 0.5
    done
    stop_pid Redis "$REDIS_DIR/redis.pid" redis-server 10   # in case shutdown was refused
    say "Redis stopped"
}

# --- Kafka ---------------------------------------------------------------------------

# java with the fetched jars; Log4j 2 writes to .state/kafka/logs (see deploy/kafka/).
KAFKA_JAVA=(java -Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.properties"
    -Dkafka.logs.dir="$KAFKA_HOME/logs"
    -cp "$KAFKA_LIBS/*")

write_kafka_props() {
    cat >"$KAFKA_PROPS" <<EOF
# Generated by deploy/local/infra.sh on every up; edit the script, not this file.
# One node that is both KRaft controller and broker.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_HOME/data

# Topics come from deploy/topics.yaml only; a typo in a topic name must fail, not create.
auto.create.topics.enable=false
num.partitions=1
# A single node: every internal topic has one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
# Fewer internal partitions than the default 50: faster first start on a small machine.
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10
# Tests start consumers constantly: no 3 s wait before the first rebalance.
group.initial.rebalance.delay.ms=0
# Two cores here.
num.network.threads=2
num.io.threads=4
EOF
}

kafka_running() { pid_alive "$KAFKA_PID" kafka.Kafka; }

kafka_up() {
    local port
    [[ -f $(jars_stamp) ]] || die "the Kafka jars are missing: run '$0 install' first"
    command -v java >/dev/null || die "java is missing: run '$0 install' first"
    mkdir -p "$KAFKA_HOME/data" "$KAFKA_HOME/logs"
    write_kafka_props
    mark_log "$KAFKA_HOME/logs/format.log"
    mark_log "$KAFKA_LOG"

    if [[ ! -f $KAFKA_HOME/data/meta.properties ]]; then
        # KRaft storage is formatted once, with a cluster id kept beside it; --standalone
        # makes this node the whole (dynamic) controller quorum.
        [[ -s $KAFKA_HOME/cluster.id ]] ||
            "${KAFKA_JAVA[@]}" kafka.tools.StorageTool random-uuid >"$KAFKA_HOME/cluster.id"
        say "Kafka: formatting KRaft storage (cluster id $(<"$KAFKA_HOME/cluster.id"))"
        "${KAFKA_JAVA[@]}" kafka.tools.StorageTool format --standalone \
            -t "$(<"$KAFKA_HOME/cluster.id")" -c "$KAFKA_PROPS" \
            >>"$KAFKA_HOME/logs/format.log" 2>&1 ||
            fail_with_log Kafka "$KAFKA_HOME/logs/format.log" "formatting the storage failed"
    fi

    if kafka_running; then
        say "Kafka already running on $LOCAL_KAFKA (pid $(<"$KAFKA_PID"))"
    else
        for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
            port_open "$port" && die "Kafka: port $port is taken by another process"
        done
        say "Kafka: starting on $LOCAL_KAFKA (controller $HOST:$KAFKA_CONTROLLER_PORT)"
        # setsid: the broker outlives this script and the terminal that ran it.
        # kafka.out catches what is not logged via Log4j (JVM errors, a crash).
        setsid "${KAFKA_JAVA[@]}" kafka.Kafka "$KAFKA_PROPS" \
            >"$KAFKA_HOME/logs/kafka.out" 2>&1 </dev/null 9>&- &
        echo $! >"$KAFKA_PID"
    fi
    wait_ready Kafka "$KAFKA_LOG" "$KAFKA_PID" -- port_open "$KAFKA_PORT"
}

kafka_down() {
    # A clean shutdown lets the next start skip log recovery.
    stop_pid Kafka "$KAFKA_PID" kafka.Kafka 60
}

apply_topics() {  # apply_topics BOOTSTRAP LOGFILE (the broker's log, "" if external)
    local bootstrap=$1 logfile=$2
    say "topics: applying $(basename "$TOPICS_FILE") to $bootstrap"
    # --wait: the first real metadata round trip is the proof that the broker is ready.
    (cd "$ROOT" && uv run -q --frozen python deploy/local/apply_topics.py \
        --bootstrap "$bootstrap" --file "$TOPICS_FILE" --wait "$START_TIMEOUT") |
        sed 's/^/    /' ||
        fail_with_log Kafka "$logfile" "the broker did not accept the topics"
}

# --- SMTP sink -----------------------------------------------------------------------

cmd_smtp_up() {
    [[ -x $SMTP_VENV/bin/python ]] || die "the SMTP sink is missing: run '$0 install' first"
    mkdir -p "$(dirname "$SMTP_PID")" "$LOGS"
    if pid_alive "$SMTP_PID" smtp_sink.py; then
        say "SMTP sink already running on $HOST:$SMTP_SINK_PORT (web http://$HOST:$SMTP_SINK_UI_PORT/)"
        return 0
    fi
    port_open "$SMTP_SINK_PORT" && die "port $SMTP_SINK_PORT is taken by another process"
    mark_log "$SMTP_LOG"
    say "SMTP sink: starting on $HOST:$SMTP_SINK_PORT (web http://$HOST:$SMTP_SINK_UI_PORT/)"
    setsid "$SMTP_VENV/bin/python" "$ROOT/deploy/local/smtp_sink.py" --host "$HOST" \
        --smtp-port "$SMTP_SINK_PORT" --http-port "$SMTP_SINK_UI_PORT" --dir "$STATE/mail" \
        >>"$SMTP_LOG" 2>&1 </dev/null 9>&- &
    echo $! >"$SMTP_PID"
    wait_ready "SMTP sink" "$SMTP_LOG" "$SMTP_PID" -- port_open "$SMTP_SINK_UI_PORT"
    wait_ready "SMTP sink" "$SMTP_LOG" "$SMTP_PID" -- port_open "$SMTP_SINK_PORT"
}

cmd_smtp_down() {
    stop_pid "SMTP sink" "$SMTP_PID" smtp_sink.py 10
}

# --- commands ------------------------------------------------------------------------

cmd_up() {
    require_root
    take_lock
    mkdir -p "$LOGS"
    reserve_our_ports
    local started=$SECONDS
    if external DATABASE_URL "$LOCAL_DATABASE_URL"; then
        say "PostgreSQL: using DATABASE_URL from the environment"
    else
        postgres_up
    fi
    if external REDIS_URL "$LOCAL_REDIS_URL"; then
        say "Redis: using REDIS_URL from the environment"
    else
        redis_up
    fi
    if external KAFKA_BOOTSTRAP_SERVERS "$LOCAL_KAFKA"; then
        say "Kafka: using KAFKA_BOOTSTRAP_SERVERS from the environment"
        apply_topics "$KAFKA_BOOTSTRAP_SERVERS" ""
    else
        kafka_up
        apply_topics "$LOCAL_KAFKA" "$KAFKA_LOG"
    fi
    say "up in $((SECONDS - started))s"
    cmd_status
}

cmd_down() {
    require_root
    take_lock
    cmd_smtp_down
    kafka_down
    redis_down
    postgres_down
}

cmd_status() {
    local state
    if external DATABASE_URL "$LOCAL_DATABASE_URL"; then
        state=external
    elif "$(pg_bin)/pg_isready" -q -h "$HOST" -p "$PG_PORT" 2>/dev/null; then
        state=running
    else
        state=stopped
    fi
    printf '%-10s %-8s %s\n' postgres "$state" "${DATABASE_URL:-$LOCAL_DATABASE_URL}"

    if external REDIS_URL "$LOCAL_REDIS_URL"; then state=external
    elif redis_ping; then state=running
    else state=stopped; fi
    printf '%-10s %-8s %s\n' redis "$state" "${REDIS_URL:-$LOCAL_REDIS_URL}"

    if external KAFKA_BOOTSTRAP_SERVERS "$LOCAL_KAFKA"; then state=external
    elif kafka_running && port_open "$KAFKA_PORT"; then state=running
    else state=stopped; fi
    printf '%-10s %-8s %s\n' kafka "$state" "${KAFKA_BOOTSTRAP_SERVERS:-$LOCAL_KAFKA}"

    if pid_alive "$SMTP_PID" smtp_sink.py && port_open "$SMTP_SINK_PORT"; then state=running
    else state=stopped; fi
    printf '%-10s %-8s %s\n' smtp "$state" \
        "smtp://$HOST:$SMTP_SINK_PORT, web http://$HOST:$SMTP_SINK_UI_PORT/"
}

cmd_env() {
    # Values already in the environment win, so sourcing this twice changes nothing.
    printf 'export KAFKA_BOOTSTRAP_SERVERS=%q\n' "${KAFKA_BOOTSTRAP_SERVERS:-$LOCAL_KAFKA}"
    printf 'export DATABASE_URL=%q\n' "${DATABASE_URL:-$LOCAL_DATABASE_URL}"
    printf 'export REDIS_URL=%q\n' "${REDIS_URL:-$LOCAL_REDIS_URL}"
    printf 'export SMTP_HOST=%q\n' "${CALLER_SMTP_HOST:-$HOST}"
    printf 'export SMTP_PORT=%q\n' "${CALLER_SMTP_PORT:-$SMTP_SINK_PORT}"
    printf 'export SMTP_WEB_URL=%q\n' "http://$HOST:$SMTP_SINK_UI_PORT"
}

usage() {
    sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

case "${1:-}" in
    install) cmd_install ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    smtp-up) require_root; take_lock; reserve_our_ports; cmd_smtp_up ;;
    smtp-down) require_root; take_lock; cmd_smtp_down ;;
    start | stop)
        require_root
        take_lock
        mkdir -p "$LOGS"
        reserve_our_ports
        case "${2:-}" in
            postgres | redis) "${2}_$([[ $1 == start ]] && echo up || echo down)" ;;
            kafka) if [[ $1 == start ]]; then kafka_up; else kafka_down; fi ;;
            *) usage 2 >&2 ;;
        esac
        ;;
    -h | --help | help) usage 0 ;;
    *) usage 2 >&2 ;;
esac
