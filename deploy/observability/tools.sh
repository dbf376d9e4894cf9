#!/usr/bin/env bash
# The tool that checks deploy/observability/ (tests/operations/test_observability.py),
# installed into <repo>/.state/observability/bin and reused on the next run
# (`make deps` runs `install`):
#
#   promtool   Prometheus's rule checker and rule unit tester, built with `go install`
#              from the Go module proxy (the first build takes many minutes)
#
#   tools.sh install   install what is missing
#   tools.sh status    one line per tool
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$ROOT/.state/observability/bin"
LOG="$ROOT/.state/observability/install.log"
# Prometheus v3's Go module versions are v0.3xx.y (v3.16.0 is v0.316.0).
PROMETHEUS_VERSION=v0.316.0

say() { printf '==> %s\n' "$*"; }
die() { printf 'observability tools: error: %s\n' "$*" >&2; exit 1; }

install_promtool() {
    if [[ -x $BIN/promtool && -f $BIN/.promtool-$PROMETHEUS_VERSION ]]; then
        say "promtool $PROMETHEUS_VERSION present"
        return 0
    fi
    command -v go >/dev/null || die "go is missing (promtool is built with go install)"
    say "building promtool $PROMETHEUS_VERSION with go install (several minutes)"
    GOBIN="$BIN" go install "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION" \
        >>"$LOG" 2>&1 || die "go install promtool failed; see $LOG"
    touch "$BIN/.promtool-$PROMETHEUS_VERSION"
}

case "${1:-}" in
    install) mkdir -p "$BIN"; install_promtool ;;
    status) printf '%-10s %s\n' promtool "$([[ -x $BIN/promtool ]] && echo "$BIN/promtool" || echo missing)" ;;
    *) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
