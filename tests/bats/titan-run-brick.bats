#!/usr/bin/env bats
# titan-run-brick in platform mode: real runners, real TCP, real Python
# bricks, wired by a scripted Grid Manager double (tests/helpers/gm_double.py).

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

TOP=${TITAN_TOP:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
BIN=${TITAN_BIN:-$TOP/build/bin}
RB=$BIN/titan-run-brick

# ---- helpers ------------------------------------------------------------

# start_gm FLOW_JSON [extra args]: a Grid Manager double; sets GM_URL, GM_PID
start_gm() {
	local dir=$BATS_TEST_TMPDIR/gm
	mkdir -p "$dir"
	printf '%s' "$1" >"$dir/flow.json"
	shift
	/usr/bin/python3 "$TOP/tests/helpers/gm_double.py" --port-file "$dir/port" --record "$dir" \
		--flow "$dir/flow.json" "$@" 3>&- &
	GM_PID=$!
	for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
	GM_URL="http://127.0.0.1:$(cat "$dir/port")/gridmanager"
	GM_LOG=$dir/requests.jsonl
	cat >"$BATS_TEST_TMPDIR/titan.yaml" <<-EOF
		GridManager: "$GM_URL"
		BrickFolder: "$TOP/tests/bricks"
		IP: 127.0.0.1
		Kafka: ""
	EOF
}

# definition UID NAME ID BRICK PARAMS_JSON OUTBOUND_JSON [INBOUND_JSON]
definition() {
	local inbound=${7:-}
	[ -n "$inbound" ] || inbound='{}'
	cat <<-EOF
		{"Configuration": {"instanceId": "$1", "name": "$2", "brick": "$4", "id": "$3",
		  "family": "test", "parameters": $5, "autoscale_max_instances": 2,
		  "autoscale_queue_level": 0, "exit_after_idle_seconds": ${EXIT_IDLE:-0},
		  "inputPorts": [], "outputPorts": []},
		 "FlowID": "F-1", "FlowName": "test flow",
		 "Inbound": $inbound, "Outbound": $6}
	EOF
}

# start_runner NAME DEFINITION: runs titan-run-brick, waits until ready
start_runner() {
	local name=$1
	printf '%s' "$2" >"$BATS_TEST_TMPDIR/$name.json"
	"$RB" -c "$BATS_TEST_TMPDIR/titan.yaml" ${RB_ARGS:-} --definition "$BATS_TEST_TMPDIR/$name.json" \
		--telemetry "$BATS_TEST_TMPDIR/$name.tele" 2>"$BATS_TEST_TMPDIR/$name.log" 3>&- &
	eval "PID_$name=$!"
	for _ in $(seq 200); do
		grep -q ' ready ' "$BATS_TEST_TMPDIR/$name.log" 2>/dev/null && break
		kill -0 "$(pid_of "$name")" 2>/dev/null || break
		sleep 0.05
	done
	grep -q ' ready ' "$BATS_TEST_TMPDIR/$name.log" || { cat "$BATS_TEST_TMPDIR/$name.log"; return 1; }
}

pid_of() { eval "echo \$PID_$1"; }
addr_of() { sed -n 's/.* ready .*address=\([^ ]*\).*/\1/p' "$BATS_TEST_TMPDIR/$1.log" | head -1; }

# wait_lines FILE N [SECONDS]
wait_lines() {
	for _ in $(seq $((${3:-20} * 20))); do
		[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	echo "only $(wc -l <"$1" 2>/dev/null || echo 0) of $2 lines in $1" >&2
	return 1
}

# wait_exit PID [SECONDS]: waits for a background process to end, sets EXIT
wait_exit() {
	for _ in $(seq $((${2:-10} * 20))); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; EXIT=$?; return 0; }
		sleep 0.05
	done
	return 1
}

# send_raw HOST:PORT HEX: connects, sends the bytes, waits a moment, closes
send_raw() {
	/usr/bin/python3 - "$1" "$2" <<-'EOF'
		import socket, sys, time
		h, p = sys.argv[1].rsplit(":", 1)
		s = socket.create_connection((h, int(p)), timeout=5)
		s.sendall(bytes.fromhex(sys.argv[2]))
		time.sleep(0.3)
		s.close()
	EOF
}

consumer() { # consumer INSTANCE PORT [MAPPING_JSON] [BUFFER_JSON] [SCHEMA] [TYPENAME]
	local buffer=${4:-} mapping=${3:-}
	[ -n "$buffer" ] || buffer='{}'
	[ -n "$mapping" ] || mapping='[]'
	printf '{"InstanceID": "%s", "autoscale_queue_level": 0, "targetPort": {"schema": "%s", "typeName": "%s"}, "buffer": %s, "mapping": %s}' \
		"$1" "${5:-}" "${6:-}" "$buffer" "$mapping"
}

teardown() {
	for v in $(compgen -v PID_); do kill "${!v}" 2>/dev/null || true; done
	for v in $(compgen -v PID_); do wait "${!v}" 2>/dev/null || true; done
	[ -n "${GM_PID:-}" ] && kill "$GM_PID" 2>/dev/null || true
	unset $(compgen -v PID_) GM_PID
}

FLOW3='{"connections": [
 {"from": "B-1", "port": "Output", "to": "B-2", "target_port": "Input"},
 {"from": "B-2", "port": "Output", "to": "B-3", "target_port": "Input"}]}'

# ---- command line -------------------------------------------------------

@test "--help and --version" {
	run "$RB" --help
	assert_success
	assert_output --partial "--definition"
	run "$RB" --version
	assert_success
	assert_output --regexp '^titan-run-brick [0-9]'
}

@test "usage errors exit 64, unreadable definition 66, bad definition 65" {
	run "$RB"
	assert_equal "$status" 64
	run "$RB" --definition /nonexistent/def.json
	assert_equal "$status" 66
	echo '{"Configuration": {"name": "x"}}' >"$BATS_TEST_TMPDIR/bad.json"
	run "$RB" --definition "$BATS_TEST_TMPDIR/bad.json"
	assert_equal "$status" 65
	assert_output --partial "instanceId is missing"
	echo 'not json' >"$BATS_TEST_TMPDIR/bad2.json"
	run "$RB" --definition "$BATS_TEST_TMPDIR/bad2.json"
	assert_equal "$status" 65
}

@test "a Grid Manager that refuses registration: exit 69 with a clear error" {
	start_gm "$FLOW3" --fail-register
	definition B-3 sink chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/out\"}" '{}' '{"x": 1}' >"$BATS_TEST_TMPDIR/d.json"
	run "$RB" -c "$BATS_TEST_TMPDIR/titan.yaml" --definition "$BATS_TEST_TMPDIR/d.json"
	assert_equal "$status" 69
	assert_output --partial "register"
}

# ---- the data path ----------------------------------------------------------

@test "a chain of 3 runners delivers every packet in order" {
	start_gm "$FLOW3"
	start_runner sink "$(definition B-3 sink chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/out\"}" '{}' '{"x": 1}')"
	start_runner pass "$(definition B-2 pass chain_pass Passthrough '{}' "{\"Output\": [$(consumer B-3 Input)]}" '{"x": 1}')"
	start_runner gen "$(definition B-1 gen chain_gen Generator '{"count": 500}' "{\"Output\": [$(consumer B-2 Input)]}")"
	wait_lines "$BATS_TEST_TMPDIR/out" 500
	run /usr/bin/python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert [r["payload"]["n"] for r in recs] == list(range(500)), "order"
assert all(r["port"] == "Input" and r["brick"] == "sink" for r in recs)
assert recs[7]["payload"]["text"] == "packet 7"
print("ok")' "$BATS_TEST_TMPDIR/out"
	assert_output ok
	# registration bodies as the original sends them
	run grep -c '"runnerID": "R-' "$GM_LOG"
	assert_output 3
}

@test "results are mapped per consumer group with rules, constants and a buffer" {
	start_gm "$FLOW3"
	start_runner sink "$(definition B-3 sink chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/out\"}" '{}' '{"x": 1}')"
	start_runner pass "$(definition B-2 pass chain_pass Passthrough '{}' "{\"Output\": [$(consumer B-3 Input)]}" '{"x": 1}')"
	rules='[{"type": "port", "source_fields": ["Gen", "n"], "target_fields": ["In", "number"], "buffer_id": null},
	        {"type": "constant", "source_fields": [], "target_fields": ["In", "source"], "buffer_id": null,
	         "constant": {"name": "source", "type": "string", "value": "gen-1"}},
	        {"type": "buffer", "source_fields": ["Gen"], "target_fields": ["In", "copy"], "buffer_id": "t"}]'
	schema='In = { \"number\" -> int64, \"source\" -> string, \"copy\" -> string, \"extra\" -> float64 : not null default 1.5 };'
	start_runner gen "$(definition B-1 gen chain_gen Generator '{"count": 20}' "{\"Output\": [$(consumer B-2 Input "$rules" '{"t": {"source": ["Gen", "text"]}}' "$schema" In)]}")"
	wait_lines "$BATS_TEST_TMPDIR/out" 20
	run /usr/bin/python3 -c '
import json, sys
recs = [json.loads(l)["payload"] for l in open(sys.argv[1])]
assert recs[3] == {"number": 3, "source": "gen-1", "copy": "packet 3", "extra": 1.5}, recs[3]
print("ok")' "$BATS_TEST_TMPDIR/out"
	assert_output ok
}

@test "fan-out: every consumer group of a port gets every packet" {
	start_gm '{"connections": [
	 {"from": "B-1", "port": "Output", "to": "B-2", "target_port": "Input"},
	 {"from": "B-1", "port": "Output", "to": "B-3", "target_port": "Input"}]}'
	start_runner a "$(definition B-2 a chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/a\"}" '{}' '{"x": 1}')"
	start_runner b "$(definition B-3 b chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/b\"}" '{}' '{"x": 1}')"
	start_runner gen "$(definition B-1 gen chain_gen Generator '{"count": 100}' "{\"Output\": [$(consumer B-2 Input), $(consumer B-3 Input)]}")"
	wait_lines "$BATS_TEST_TMPDIR/a" 100
	wait_lines "$BATS_TEST_TMPDIR/b" 100
	sleep 0.3
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/a")" 100
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/b")" 100
}

@test "two instances of one consumer share the load, nothing lost or doubled" {
	start_gm '{"connections": [{"from": "B-1", "port": "Output", "to": "B-2", "target_port": "Input"}]}'
	start_runner s1 "$(definition B-2 s chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/out1\"}" '{}' '{"x": 1}')"
	start_runner s2 "$(definition B-2 s chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/out2\"}" '{}' '{"x": 1}')"
	# paced, so that both instances have joined long before the end
	start_runner gen "$(definition B-1 gen chain_gen Generator '{"count": 1000, "delay": 0.002}' "{\"Output\": [$(consumer B-2 Input)]}")"
	for _ in $(seq 400); do
		[ "$(cat "$BATS_TEST_TMPDIR"/out1 "$BATS_TEST_TMPDIR"/out2 2>/dev/null | wc -l)" -ge 1000 ] && break
		sleep 0.05
	done
	sleep 0.3
	run /usr/bin/python3 -c '
import json, sys
a = [json.loads(l)["payload"]["n"] for l in open(sys.argv[1])]
b = [json.loads(l)["payload"]["n"] for l in open(sys.argv[2])]
assert sorted(a + b) == list(range(1000)), (len(a), len(b), len(set(a + b)))
assert len(a) > 0 and len(b) > 0, (len(a), len(b))
print("ok")' "$BATS_TEST_TMPDIR/out1" "$BATS_TEST_TMPDIR/out2"
	assert_output ok
}

@test "a producer that registers after its consumer is pushed to it (JSON input source)" {
	start_gm '{"connections": [{"from": "B-1", "port": "Output", "to": "B-2", "target_port": "Input"}]}'
	start_runner sink "$(definition B-2 sink chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/out\"}" '{}' '{"x": 1}')"
	run grep -c 'input source added' "$BATS_TEST_TMPDIR/sink.log"
	assert_output 0
	start_runner gen "$(definition B-1 gen chain_gen Generator '{"count": 10}' "{\"Output\": [$(consumer B-2 Input)]}")"
	wait_lines "$BATS_TEST_TMPDIR/out" 10
	run grep -c '"path": "push"' "$GM_LOG"
	assert_output 1
}

@test "the consumer reconnects when its producer restarts" {
	start_gm '{"connections": [{"from": "B-1", "port": "Output", "to": "B-2", "target_port": "Input"}]}'
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	RB_ARGS="--port $port" start_runner gen "$(definition B-1 gen chain_gen Generator '{"count": 0, "delay": 0.01}' "{\"Output\": [$(consumer B-2 Input)]}")"
	start_runner sink "$(definition B-2 sink chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/out\"}" '{}' '{"x": 1}')"
	wait_lines "$BATS_TEST_TMPDIR/out" 5
	kill -9 "$PID_gen"
	wait "$PID_gen" || true
	n=$(wc -l <"$BATS_TEST_TMPDIR/out")
	# the producer comes back on the same address, as a runner restarted by s6 with --port does
	"$RB" -c "$BATS_TEST_TMPDIR/titan.yaml" --port "$port" --definition "$BATS_TEST_TMPDIR/gen.json" 2>"$BATS_TEST_TMPDIR/gen2.log" 3>&- &
	PID_gen=$!
	wait_lines "$BATS_TEST_TMPDIR/out" $((n + 5))
	run grep -c 'retrying' "$BATS_TEST_TMPDIR/sink.log"
	assert [ "$output" -ge 1 ]
}

@test "exit after idle: deregisters and exits 0" {
	start_gm '{"connections": []}'
	EXIT_IDLE=1
	start_runner sink "$(definition B-2 sink chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/out\"}" '{}' '{"x": 1}')"
	wait_exit "$PID_sink" 6
	assert_equal "$EXIT" 0
	grep -q 'Max idle time reached' "$BATS_TEST_TMPDIR/sink.log"
	run grep -c 'brickrunners/deregister' "$GM_LOG"
	assert_output 1
	unset PID_sink
}

@test "SIGTERM: deregistration with the original body, teardown, exit 0" {
	start_gm '{"connections": []}'
	start_runner sink "$(definition B-2 sink chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/out\"}" '{}' '{"x": 1}')"
	kill -TERM "$PID_sink"
	wait_exit "$PID_sink" 10
	assert_equal "$EXIT" 0
	run /usr/bin/python3 -c '
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
d = [r for r in reqs if r["path"].endswith("/brickrunners/deregister")]
assert len(d) == 1 and set(d[0]["body"]) == {"runnerId", "brickId"} and d[0]["body"]["brickId"] == "B-2", d
print("ok")' "$GM_LOG"
	assert_output ok
	unset PID_sink
}

@test "SIGTERM on an inlet stops it via stop_processing and exits 0" {
	start_gm '{"connections": []}'
	start_runner gen "$(definition B-1 gen chain_gen Generator '{"count": 0, "delay": 0.01}' "{\"Output\": [$(consumer B-2 Input)]}")"
	kill -TERM "$PID_gen"
	wait_exit "$PID_gen" 15
	assert_equal "$EXIT" 0
	unset PID_gen
}

# ---- hostile input ---------------------------------------------------------------

@test "hostile frames are refused one connection at a time; the runner keeps serving" {
	start_gm '{"connections": [{"from": "B-1", "port": "Output", "to": "B-2", "target_port": "Input"}]}'
	start_runner gen "$(definition B-1 gen chain_gen Generator '{"count": 0, "delay": 0.01}' "{\"Output\": [$(consumer B-2 Input)]}")"
	a=$(addr_of gen)
	send_raw "$a" "ffffffff"                                        # huge length prefix
	send_raw "$a" "0000000c00112233445566778899aabb"                 # garbage body
	send_raw "$a" "000000265f554a4f0100003005160000000000000030040103000000422d390401030000006f75740000"  # unknown consumer B-9/out
	send_raw "$a" "000000295f554a4f010000300516000000000000003004010300000042ff320401060000004f75747075740000"  # non-UTF-8 uid
	send_raw "$a" "0000001b5f554a4f0100003005150000000000000005190000000000000000"  # PacketRequest first
	send_raw "$a" "000000095f554a4f01000005"                          # truncated document
	kill -0 "$PID_gen"
	run grep -c -E 'connection closed|bad first message|unknown port or consumer' "$BATS_TEST_TMPDIR/gen.log"
	assert [ "$output" -ge 5 ]
	# and it still serves a real consumer
	start_runner sink "$(definition B-2 sink chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/out\"}" '{}' '{"x": 1}')"
	wait_lines "$BATS_TEST_TMPDIR/out" 5
}

@test "a bad input source announcement is logged and ignored" {
	start_gm '{"connections": []}'
	start_runner sink "$(definition B-2 sink chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/out\"}" '{}' '{"x": 1}')"
	a=$(addr_of sink)
	body=$(printf '{"port": "x"}' | xxd -p)
	send_raw "$a" "$(printf '%08x' $(( ${#body} / 2 )))$body"
	body=$(printf '{not json' | xxd -p)
	send_raw "$a" "$(printf '%08x' $(( ${#body} / 2 )))$body"
	sleep 0.2
	kill -0 "$PID_sink"
	grep -q 'input sources ignored' "$BATS_TEST_TMPDIR/sink.log"
	grep -q 'not valid JSON' "$BATS_TEST_TMPDIR/sink.log"
}

# ---- telemetry ---------------------------------------------------------------------

@test "telemetry lines: brick, packet and log records with the original keys" {
	start_gm '{"connections": [{"from": "B-1", "port": "Output", "to": "B-3", "target_port": "Input"}]}'
	start_runner sink "$(definition B-3 sink chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/out\"}" '{}' '{"x": 1}')"
	start_runner gen "$(definition B-1 gen chain_gen Generator '{"count": 5}' "{\"Output\": [$(consumer B-3 Input)]}")"
	wait_lines "$BATS_TEST_TMPDIR/out" 5
	sleep 0.3
	run /usr/bin/python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])] + [json.loads(l) for l in open(sys.argv[2])]
kinds = {l["content_type"] for l in lines}
assert {"titan-brick-metrics", "titan-packet-metrics", "titan-log"} <= kinds, kinds
pm = [l for l in lines if l["content_type"] == "titan-packet-metrics"][0]
assert set(pm) == {"content_type", "flow", "brick", "brick_type", "brick_family", "runner", "host", "timestamp",
                   "packet", "execution_time", "traveling_time", "time_in_input", "time_in_output", "time_on_wire",
                   "at_outlet"}, set(pm)
assert pm["flow"] == "test flow" and pm["packet"].startswith("P-")
log = [l for l in lines if l["content_type"] == "titan-log"][0]
assert set(log) == {"content_type", "Timestamp", "Severity", "Message", "Hostname", "Servicename", "Source",
                    "FlowUID", "FlowName", "BrickUID", "BrickName"}, set(log)
assert log["Servicename"] == "BrickRunner" and log["FlowUID"] == "F-1"
print("ok")' "$BATS_TEST_TMPDIR/gen.tele" "$BATS_TEST_TMPDIR/sink.tele"
	assert_output ok
}

@test "--metrics aggregate: one summary per interval instead of a line per packet" {
	start_gm '{"connections": [{"from": "B-1", "port": "Output", "to": "B-3", "target_port": "Input"}]}'
	RB_ARGS="--metrics aggregate=0.2" start_runner sink "$(definition B-3 sink chain_sink Sink "{\"path\": \"$BATS_TEST_TMPDIR/out\"}" '{}' '{"x": 1}')"
	start_runner gen "$(definition B-1 gen chain_gen Generator '{"count": 300}' "{\"Output\": [$(consumer B-3 Input)]}")"
	wait_lines "$BATS_TEST_TMPDIR/out" 300
	sleep 0.5
	run /usr/bin/python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert not [l for l in lines if l["content_type"] == "titan-packet-metrics"]
summ = [l for l in lines if l["content_type"] == "titan-brick-metrics"]
assert summ and all(l["aggregated"] and l["interval"] == 0.2 for l in summ), summ
assert sum(l["calls"] for l in summ) == 300 and sum(l["packets"] for l in summ) == 300, summ
assert len(summ) < 30
print("ok")' "$BATS_TEST_TMPDIR/sink.tele"
	assert_output ok
	run "$RB" --metrics sometimes --definition /dev/null
	assert_equal "$status" 64
}

@test "scaling: a group whose packets wait asks the Grid Manager for an instance, then keeps quiet" {
	start_gm '{"connections": []}'
	c='{"InstanceID": "B-2", "autoscale_queue_level": 5, "targetPort": {"schema": ""}, "mapping": []}'
	start_runner gen "$(definition B-1 gen chain_gen Generator '{"count": 0, "delay": 0.001}' "{\"Output\": [$c]}")"
	for _ in $(seq 100); do grep -q 'brickrunners/scaling' "$GM_LOG" && break; sleep 0.05; done
	sleep 1.5
	run /usr/bin/python3 -c '
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1]) if "scaling" in l]
assert len(reqs) == 1, reqs
assert reqs[0]["body"] == {"brickId": "B-1", "consumerId": "B-2"}, reqs
print("ok")' "$GM_LOG"
	assert_output ok
}

@test "an inlet that ignores stop_processing() cannot keep a stopped runner alive" {
	start_gm '{"connections": []}'
	RB_ARGS="--drain-timeout 1" start_runner st "$(definition B-1 st stubborn Stubborn '{}' "{\"Output\": [$(consumer B-2 Input)]}")"
	sleep 0.3
	kill -TERM "$PID_st"
	wait_exit "$PID_st" 9
	assert_equal "$EXIT" 0
	unset PID_st
}

@test "a brick that never returns: the runner exits after the drain and grace time" {
	start_gm '{"connections": []}'
	RB_ARGS="--drain-timeout 0.5" start_runner sl "$(definition B-1 sl sleeper Sleeper '{}' "{\"Output\": [$(consumer B-2 Input)]}")"
	kill -TERM "$PID_sl"
	wait_exit "$PID_sl" 12
	assert_equal "$EXIT" 0
	grep -q 'did not finish' "$BATS_TEST_TMPDIR/sl.log"
	unset PID_sl
}
