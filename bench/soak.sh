#!/usr/bin/env bash
# Memory over a long run: the engine at a fixed arrival rate against a
# loopback nginx (or a tiny Go server), printing RSS and heap every minute.
# The design's bar: RSS flat within ±10 MiB over 30 minutes at 5 000 rps.
#
#   bench/soak.sh                       # 30 min at 5000/s
#   DUR=3m EVERY=15s bench/soak.sh      # a quick look
set -euo pipefail

DUR=${DUR:-30m}
RATE=${RATE:-5000}
EVERY=${EVERY:-1m}
PORT=${PORT:-18091}
URL="http://127.0.0.1:${PORT}/"

cd "$(dirname "$0")/.."
work=$(mktemp -d)
target_pid=""
cleanup() {
	if [[ -n $target_pid ]]; then kill "$target_pid" 2>/dev/null || true; wait "$target_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/engineload" ./bench/cmd/engineload
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [[ -x $NGINX ]]; then
	mkdir -p "$work/nginx/logs"
	cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 100000000;
	server { listen 127.0.0.1:$PORT; location / { return 200 "ok\n"; } }
}
CONF
	"$NGINX" -p "$work/nginx" -e "$work/nginx/logs/error.log" -c "$work/nginx/nginx.conf" &
	target_pid=$!
else
	echo "soak.sh: nginx not installed" >&2
	exit 1
fi
for _ in $(seq 50); do curl -fs "$URL" >/dev/null 2>&1 && break; sleep 0.1; done

"$work/engineload" --rate "$RATE" --vus 200 --duration "$DUR" --rss-every "$EVERY" "$URL"
