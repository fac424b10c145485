#!/usr/bin/env bash
# Runs every brink test for real: installs what is missing (Debian packages
# prometheus, prometheus-node-exporter, tmux, nats-server, chromium; Go modules), checks go.mod is
# tidy, vets, checks gofmt, staticcheck and deadcode, then go test -race.
# BRINK_REQUIRE_SERVERS=1 (set by .ci/run) turns a missing server binary into
# a test failure instead of a skip.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-node-exporter >/dev/null 2>&1 || need+=(prometheus-node-exporter)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
# Debian puts nats-server in /usr/sbin, which a user's PATH may lack.
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
# chromium: the HTML report is opened in a real headless browser (with a
# font, which --no-install-recommends would leave out, so its text renders).
[ -x /usr/bin/chromium ] || need+=(chromium fonts-liberation)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "test.sh: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# apt starts the Debian services; the tests start their own on free ports.
for svc in prometheus prometheus-node-exporter nats-server; do
  if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
done

go mod download
# go.mod must list exactly what the code imports, each direct dependency as such.
go mod tidy -diff
go vet ./...
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted" >&2; exit 1; fi
# staticcheck at the version pinned in tools/go.mod (its own module, so the
# tool's dependencies stay out of brink's go.mod).
go tool -modfile=tools/go.mod staticcheck ./...
# No function that neither the program nor a test reaches (deadcode, pinned
# beside staticcheck). Example functions run under go test but are no roots
# to deadcode, so _test.go files are left to staticcheck.
dead=$(go tool -modfile=tools/go.mod deadcode -test ./...)
dead=$(grep -v '_test\.go:' <<<"$dead" || true)
if [ -n "$dead" ]; then echo "unreachable code:"$'\n'"$dead" >&2; exit 1; fi
go test -race -count=1 -timeout 20m "$@" ./...
