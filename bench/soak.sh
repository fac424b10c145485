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

source "$(dirname "$0")/lib.sh"

go build -o "$work/engineload" ./bench/cmd/engineload
NGINX=$(nginx_bin)
if [[ -n $NGINX ]]; then
	start_nginx "$NGINX" "$PORT"
else
	start_go_target "$PORT"
fi
wait_up "$URL" soak.sh

"$work/engineload" --rate "$RATE" --vus 200 --duration "$DUR" --rss-every "$EVERY" "$URL"
