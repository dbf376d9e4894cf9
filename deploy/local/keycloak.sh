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

install() {
    if [[ -x "$HOME_DIR/bin/kc.sh" ]]; then
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
    echo "$HOME_DIR"
}

case "${1:-}" in
    install) install ;;
    java) java_home ;;
    *) die "usage: $0 install|java" ;;
esac
