#!/bin/bash
# bench/chain — three runners (inlet generator -> passthrough -> counting
# outlet, ~100-byte payload map) wired by the scripted Grid Manager double.
# Prints one JSON line: packets/s end to end, latency p50/p99 at a fixed
# 1000 packets/s, start-to-ready ms of a runner, peak RSS per runner.
#   bench/chain/run.sh [BIN_DIR] [PACKETS]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$top/build/bin}
n=${2:-100000}
tmp=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

/usr/bin/python3 "$top/tests/helpers/gm_double.py" --port-file "$tmp/gm.port" --record "$tmp" \
	--flow <(echo '{"connections": [
	  {"from": "B-1", "port": "Output", "to": "B-2", "target_port": "Input"},
	  {"from": "B-2", "port": "Output", "to": "B-3", "target_port": "Input"}]}') &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/gm.port" ] && break; sleep 0.05; done
cat >"$tmp/titan.yaml" <<EOF
GridManager: "http://127.0.0.1:$(cat "$tmp/gm.port")/gridmanager"
BrickFolder: "$top/bench/chain/bricks"
IP: 127.0.0.1
EOF

consumer() { printf '{"InstanceID": "%s", "targetPort": {"schema": ""}, "mapping": []}' "$1"; }
definition() { # UID ID BRICK PARAMS OUTBOUND INBOUND
	printf '{"Configuration": {"instanceId": "%s", "name": "%s", "brick": "%s", "id": "%s", "parameters": %s},
	  "FlowID": "F-bench", "FlowName": "bench", "Inbound": %s, "Outbound": %s}' "$1" "$2" "$3" "$2" "$4" "$6" "$5"
}

# start NAME DEFINITION: sets READY to the start-to-ready time in ms
start() {
	printf '%s' "$2" >"$tmp/$1.json"
	local t0; t0=$(date +%s%N)
	"$bin/titan-run-brick" -c "$tmp/titan.yaml" --definition "$tmp/$1.json" 2>"$tmp/$1.log" &
	pids+=($!)
	eval "pid_$1=$!"
	until grep -q ' ready ' "$tmp/$1.log" 2>/dev/null; do
		kill -0 "$(eval echo \$pid_$1)" || { cat "$tmp/$1.log" >&2; exit 1; }
		sleep 0.002
	done
	READY=$(( ($(date +%s%N) - t0) / 1000000 ))
}

run_chain() { # COUNT RATE -> summary in $tmp/summary.json
	rm -f "$tmp/summary.json"
	start sink "$(definition B-3 bench_sink Sink "{\"count\": $1, \"path\": \"$tmp/summary.json\"}" '{}' '{"x": 1}')"
	ready=$READY
	start pass "$(definition B-2 bench_pass Pass '{}' "{\"Output\": [$(consumer B-3)]}" '{"x": 1}')"
	start gen "$(definition B-1 bench_gen Gen "{\"count\": $1, \"rate\": $2}" "{\"Output\": [$(consumer B-2)]}" '{}')"
	# peak RSS (VmHWM) of each runner, sampled while it lives: the
	# generator exits by itself once its packets are delivered
	# and the most anonymous memory (RssAnon): the part that is really
	# per runner, as library pages are shared by every runner on a node
	declare -A hwm=([gen]=0 [pass]=0 [sink]=0) anon=([gen]=0 [pass]=0 [sink]=0)
	for _ in $(seq 6000); do
		for r in gen pass sink; do
			read -r v a < <(awk '/VmHWM/ {h=$2} /RssAnon/ {a=$2} END {print h+0, a+0}' \
				"/proc/$(eval echo \$pid_$r)/status" 2>/dev/null || echo 0 0)
			[ "${v:-0}" -gt "${hwm[$r]}" ] && hwm[$r]=$v
			[ "${a:-0}" -gt "${anon[$r]}" ] && anon[$r]=$a
		done
		[ -s "$tmp/summary.json" ] && break
		sleep 0.05
	done
	[ -s "$tmp/summary.json" ] || { echo "bench/chain: no summary" >&2; exit 1; }
	rss="${hwm[gen]} ${hwm[pass]} ${hwm[sink]} ${anon[gen]} ${anon[pass]} ${anon[sink]}"
	for r in gen pass sink; do kill "$(eval echo \$pid_$r)" 2>/dev/null || true; done
	for r in gen pass sink; do wait "$(eval echo \$pid_$r)" 2>/dev/null || true; done
}

run_chain "$n" 0
tput=$(/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("%.0f" % (s["n"] / s["seconds"]))' "$tmp/summary.json")
rss_tput=$rss
ready_ms=$ready
run_chain 5000 1000
read -r p50 p99 < <(/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("%.3f %.3f" % (s["p50_ms"], s["p99_ms"]))' "$tmp/summary.json")
set -- $rss_tput
printf '{"bench":"chain","packets":%d,"packets_per_s":%s,"latency_rate":1000,"p50_ms":%s,"p99_ms":%s,"ready_ms":%s,"rss_kib":{"gen":%s,"pass":%s,"sink":%s},"rss_anon_kib":{"gen":%s,"pass":%s,"sink":%s},"targets":{"packets_per_s":100000,"p99_ms":2,"ready_ms":100,"rss_kib":20480}}\n' \
	"$n" "$tput" "$p50" "$p99" "$ready_ms" "$1" "$2" "$3" "$4" "$5" "$6"
