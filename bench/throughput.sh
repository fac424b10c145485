#!/usr/bin/env bash
# HTTP keep-alive throughput on loopback: brink beside wrk, hey and vegeta.
#
# The target (nginx from Debian if installed, else a tiny Go server) is
# pinned to CPU 0 and every load generator to CPU 1 (taskset), each with 50
# connections for 10 s, in A B A B order so drift hits everyone alike.
# brink runs as `brink probe URL --vus 50 --duration 10s --headless` (its
# per-window histograms and ticks on, as in a real run); if the brink
# binary cannot be built, bench/cmd/engineload runs the engine with the same
# shape. Tools that are not installed are skipped. Each run's CPU (user +
# sys) per request is shown beside its requests/s: on a busy box the target
# or a neighbour may cap requests/s, and CPU per request still compares.
#
#   bench/throughput.sh                 # defaults
#   DUR=5s VUS=100 ROUNDS=3 bench/throughput.sh
set -euo pipefail

DUR=${DUR:-10s} # in seconds, "Ns"
VUS=${VUS:-50}
ROUNDS=${ROUNDS:-2}
PORT=${PORT:-18089}
TARGET_CPU=${TARGET_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
URL="http://127.0.0.1:${PORT}/"

source "$(dirname "$0")/lib.sh"

command -v taskset >/dev/null || { echo "throughput.sh: taskset is needed (util-linux)" >&2; exit 1; }
PATH="$PATH:$(go env GOPATH)/bin"

# --- the load generators under test -------------------------------------
brink_mode=engineload
if go build -o "$work/brink" . 2>"$work/build.log" && "$work/brink" probe --help >/dev/null 2>&1; then
	brink_mode=probe
fi
go build -o "$work/engineload" ./bench/cmd/engineload

# --- the target ----------------------------------------------------------
NGINX=$(nginx_bin)
if [[ -n $NGINX ]]; then
	start_nginx "$NGINX" "$PORT" taskset -c "$TARGET_CPU"
	target_name="nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///')"
else
	start_go_target "$PORT" taskset -c "$TARGET_CPU"
	target_name="Go net/http (GOMAXPROCS=1)"
fi
wait_up "$URL" throughput.sh

# timed CMD... runs CMD and leaves its user+sys CPU seconds in $work/cpu:
# with the box loaded, CPU per request says more than requests/s.
timed() {
	python3 -c 'import resource, subprocess, sys
rc = subprocess.run(sys.argv[2:]).returncode
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write("%.3f\n" % (r.ru_utime + r.ru_stime))
sys.exit(rc)' "$work/cpu" "$@"
}

# --- one run of each tool, printing requests/s ----------------------------
run_brink() {
	if [[ $brink_mode == probe ]]; then
		GOMAXPROCS=1 timed taskset -c "$LOAD_CPU" "$work/brink" probe "$URL" --vus "$VUS" --duration "$DUR" --headless \
			--report "$work/report.json" >"$work/brink.out" 2>&1 || true
		# requests / the run's length, counted the way wrk and hey count
		python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["summary"]["requests"] / float(sys.argv[2])))' \
			"$work/report.json" "${DUR%s}"
	else
		run_engineload
	fi
}
run_engineload() {
	GOMAXPROCS=1 timed taskset -c "$LOAD_CPU" "$work/engineload" --vus "$VUS" --duration "$DUR" "$URL" |
		sed -n 's/^RESULT rps=\([0-9]*\).*/\1/p'
}
run_wrk() {
	timed taskset -c "$LOAD_CPU" wrk -t1 -c"$VUS" -d"$DUR" "$URL" | awk '/Requests\/sec/ {printf "%.0f\n", $2}'
}
run_hey() {
	GOMAXPROCS=1 timed taskset -c "$LOAD_CPU" hey -c "$VUS" -z "$DUR" "$URL" | awk '/Requests\/sec/ {printf "%.0f\n", $2}'
}
run_vegeta() {
	echo "GET $URL" | GOMAXPROCS=1 timed taskset -c "$LOAD_CPU" vegeta attack -rate=0 -max-workers="$VUS" -workers="$VUS" -duration="$DUR" |
		vegeta report | awk -F'[ ,]+' '/^Requests/ {printf "%.0f\n", $(NF)}'
}

tools=(brink)
[[ $brink_mode == probe ]] && tools+=(engineload)
for t in wrk hey vegeta; do command -v "$t" >/dev/null && tools+=("$t"); done

declare -A sum cnt runs cpus
for r in $(seq "$ROUNDS"); do
	for t in "${tools[@]}"; do
		echo 0 >"$work/cpu"
		rps=$("run_$t" || true)
		rps=${rps:-0}
		# CPU µs per request: the run's user+sys over its requests
		us=$(awk -v c="$(cat "$work/cpu")" -v r="$rps" -v d="${DUR%s}" 'BEGIN { if (r > 0) printf "%.2f", c * 1e6 / (r * d); else print 0 }')
		echo "round $r  $t  $rps req/s  $us µs CPU/req  (load $(cut -d' ' -f1 /proc/loadavg))" >&2
		sum[$t]=$(( ${sum[$t]:-0} + rps ))
		cnt[$t]=$(( ${cnt[$t]:-0} + 1 ))
		runs[$t]="${runs[$t]:-} $rps"
		cpus[$t]="${cpus[$t]:-} $us"
	done
done

brink_mean=$(( sum[brink] / cnt[brink] ))
echo
echo "target: $target_name on CPU $TARGET_CPU; generators on CPU $LOAD_CPU; $VUS connections, $DUR each, $ROUNDS rounds (A B A B)"
echo "brink as: $brink_mode"
printf "%-11s %-24s %10s %14s  %s\n" tool "runs (req/s)" mean "brink / tool" "CPU µs/req (runs)"
for t in "${tools[@]}"; do
	mean=$(( sum[$t] / cnt[$t] ))
	ratio="-"
	if (( mean > 0 )); then ratio=$(awk -v a="$brink_mean" -v b="$mean" 'BEGIN { printf "%.2f", a / b }'); fi
	printf "%-11s %-24s %10d %14s  %s\n" "$t" "${runs[$t]# }" "$mean" "$ratio" "${cpus[$t]# }"
done
