# What the bench scripts share; source it right after `set -euo pipefail`.
# It moves to the repository root, makes a scratch directory ($work) that
# is removed on exit with the target ($target_pid) stopped, and offers a
# loopback target (nginx, or a tiny Go server) and a wait for it to answer.

cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d)
target_pid=""
cleanup() {
	if [[ -n $target_pid ]]; then kill "$target_pid" 2>/dev/null || true; wait "$target_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# nginx_bin prints Debian's nginx binary, or nothing when it is not installed.
nginx_bin() {
	command -v nginx || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true
}

# start_nginx NGINX PORT [PREFIX...] serves "ok" on 127.0.0.1:PORT with one
# worker and keep-alive without limit, run under PREFIX (e.g. taskset -c 0);
# it sets target_pid.
start_nginx() {
	local nginx=$1 port=$2
	shift 2
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
	keepalive_timeout 120s;
	server {
		listen 127.0.0.1:$port;
		location / { return 200 "ok\n"; }
	}
}
CONF
	"$@" "$nginx" -p "$work/nginx" -e "$work/nginx/logs/error.log" -c "$work/nginx/nginx.conf" &
	target_pid=$!
}

# start_go_target PORT [PREFIX...] serves "ok" on 127.0.0.1:PORT from a tiny
# Go net/http server on one thread (when nginx is not installed), run under
# PREFIX; it sets target_pid.
start_go_target() {
	local port=$1
	shift
	cat >"$work/target.go" <<'GO'
package main

import (
	"net/http"
	"os"
)

func main() {
	http.ListenAndServe("127.0.0.1:"+os.Args[1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	}))
}
GO
	(cd "$work" && go mod init target >/dev/null 2>&1 && go build -o target target.go)
	GOMAXPROCS=1 "$@" "$work/target" "$port" &
	target_pid=$!
}

# wait_up URL WHO waits up to 5 s for URL to answer, else fails saying so.
wait_up() {
	for _ in $(seq 50); do
		if curl -fs "$1" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "$2: target did not come up on $1" >&2
	exit 1
}
