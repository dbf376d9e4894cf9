#!/usr/bin/env bash
# Keycloak for the tests' real OpenID provider (tests/oidc): fetched from Maven Central
# with Maven and unpacked once into a cache directory; Java 21+ runs it.
#   keycloak.sh install   fetch and unpack if missing; print the directory (KEYCLOAK_HOME)
#   keycloak.sh java      print the JAVA_HOME to run it with
set -euo pipefail

VERSION="${KEYCLOAK_VERSION:-26.5.5}"
CACHE="${FORBEDRING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/forbedring}"
HOME_DIR="$CACHE/keycloak-$VERSION"
ARTIFACT="org.keycloak:keycloak-quarkus-dist:$VERSION:zip"
ZIP="$HOME/.m2/repository/org/keycloak/keycloak-quarkus-dist/$VERSION/keycloak-quarkus-dist-$VERSION.zip"

say() { echo "keycloak.sh: $*" >&2; }
die() { say "$*"; exit 1; }

java_home() {
    # Keycloak 26 needs Java 21 or newer; these machines carry Java 17 as the default.
    local candidate
    for candidate in "${KEYCLOAK_JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 \
        /usr/lib/jvm/temurin-21-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64 \
        /usr/lib/jvm/java-21-openjdk-amd64; do
        [[ -n "$candidate" && -x "$candidate/bin/java" ]] && { echo "$candidate"; return; }
    done
    die "no Java 21+ runtime found (set KEYCLOAK_JAVA_HOME)"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

augment() {
    # A first `start-dev` spends minutes building (Quarkus augmentation) into lib/; done once
    # here, every copy the tests start from skips it (36 s instead of 145 s, loaded machine).
    [[ -f "$HOME_DIR/.augmented" ]] && return
    say "building Keycloak once for dev mode (a few minutes)"
    local port log pid
    port="$(free_port)"
    log="$(mktemp)"
    JAVA_HOME="$(java_home)" "$HOME_DIR/bin/kc.sh" start-dev --http-host=127.0.0.1 \
        --http-port="$port" --http-management-port="$(free_port)" >"$log" 2>&1 &
    pid=$!
    local waited=0
    until python3 -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$port/realms/master', timeout=2)" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null || (( waited > 900 )); then
            kill "$pid" 2>/dev/null || true
            tail -20 "$log" >&2
            rm -f "$log"
            die "Keycloak did not start for its first build"
        fi
        sleep 2
        waited=$(( waited + 2 ))
    done
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    rm -rf "$HOME_DIR/data" "$log"
    touch "$HOME_DIR/.augmented"
}

install() {
    if [[ -x "$HOME_DIR/bin/kc.sh" ]]; then
        augment
        echo "$HOME_DIR"
        return
    fi
    command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch $ARTIFACT"
    if [[ ! -f "$ZIP" ]]; then
        say "fetching $ARTIFACT"
        mvn -B -q dependency:get -Dartifact="$ARTIFACT" >&2 || die "mvn could not fetch $ARTIFACT"
    fi
    mkdir -p "$CACHE"
    local staging
    staging="$(mktemp -d "$CACHE/keycloak-unpack.XXXXXX")"
    if command -v unzip >/dev/null; then
        unzip -q "$ZIP" -d "$staging"
    else  # Python's zipfile keeps no file modes: the scripts are made executable again
        python3 -m zipfile -e "$ZIP" "$staging"
        chmod +x "$staging/keycloak-$VERSION"/bin/*.sh
    fi
    # Moved into place whole, so a run stopped half-way leaves no half directory.
    mv "$staging/keycloak-$VERSION" "$HOME_DIR" 2>/dev/null || [[ -x "$HOME_DIR/bin/kc.sh" ]]
    rm -rf "$staging"
    augment
    echo "$HOME_DIR"
}

case "${1:-}" in
    install) install ;;
    java) java_home ;;
    *) die "usage: $0 install|java" ;;
esac
