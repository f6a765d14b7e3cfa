#!/usr/bin/env bats
# titan-metrics-pipe: telemetry lines to Kafka (librdkafka's mock cluster in
# its own process, tests/helpers/mockbroker.c) or a local sink. Round trips
# are read back with kcat and checked with CPython's pickle and titan-ujo.

bats_require_minimum_version 1.5.0

PY=/usr/bin/python3

setup_file() {
	export TITAN_BIN="${TITAN_BIN:-$BATS_TEST_DIRNAME/../../build/bin}"
	export TITAN_HELPERS="${TITAN_HELPERS:-$BATS_TEST_DIRNAME/../../build/helpers}"
	export TITAN_TOP="${TITAN_TOP:-$BATS_TEST_DIRNAME/../..}"
	: >"$BATS_FILE_TMPDIR/empty.yaml"
	# One broker for the tests that never take it down; every test has
	# its own topics, created here with one partition (ordered reads).
	local d="$BATS_FILE_TMPDIR/shared" t args=()
	for t in rt.metrics rt.logs json.metrics json.logs log.metrics log.logs hostile.metrics \
		hostile.logs fifo.metrics fifo.logs drain.metrics drain.logs x.logs; do
		args+=(-t "$t")
	done
	mkdir -p "$d"
	"$TITAN_HELPERS/mockbroker" "${args[@]}" -a "$d/addr" >/dev/null 2>"$d/err" 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/shared.pid"
	wait_file "$d/addr"
	export SHARED="$(cat "$d/addr")"
}

teardown_file() {
	kill "$(cat "$BATS_FILE_TMPDIR/shared.pid")" 2>/dev/null || true
}

setup() {
	bats_load_library bats-support
	bats_load_library bats-assert
	P="$TITAN_BIN/titan-metrics-pipe"
	T="$BATS_TEST_TMPDIR"
	export TITAN_CONFIG="$BATS_FILE_TMPDIR/empty.yaml"
	unset TITAN_KAFKA TITAN_KAFKA_LOG_TOPIC TITAN_METRICS_DISABLED TITANFE_WITHOUT_KAFKA
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# ---------------------------------------------------------------------
# helpers

wait_file() { # FILE: until it exists and is not empty (10 s)
	local i
	for i in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done
	echo "timed out waiting for $1" >&2
	return 1
}

wait_for() { # COMMAND...: until it succeeds (15 s)
	local i
	for i in $(seq 150); do "$@" && return 0; sleep 0.1; done
	echo "timed out waiting for: $*" >&2
	return 1
}

# broker NAME [mockbroker options]: a broker of this test's own; sets
# B (bootstrap), MB (pid) and MBS (its state file)
broker() {
	local d="$T/$1"
	shift
	mkdir -p "$d"
	"$TITAN_HELPERS/mockbroker" "$@" -a "$d/addr" -s "$d/state" >/dev/null 2>"$d/err" 3>&- &
	MB=$!
	PIDS+=("$MB")
	wait_file "$d/addr"
	B="$(cat "$d/addr")"
	MBS="$d/state"
}

state_is() { [ "$(cat "$MBS" 2>/dev/null)" = "$1" ]; }
broker_down() { kill -USR1 "$MB" && wait_for state_is down; }
broker_up() { kill -USR2 "$MB" && wait_for state_is up; }

# consume BOOTSTRAP TOPIC OUT: every value so far, as kcat -f '%R%s'
# (4-byte big-endian length, then the value). No consumer group.
consume() {
	kcat -b "$1" -C -t "$2" -o beginning -e -q -f '%R%s' >"$3"
}

check() { "$PY" "$TITAN_TOP/tests/helpers/metrics_check.py" "$@"; }
writer() { "$PY" "$TITAN_TOP/tests/helpers/metrics_writer.py" "$@"; }

# the last "stopped"/"stats" counter NAME from a stderr file
counter() { grep -oE "(stats|stopped) .*" "$1" | tail -1 | grep -oE " $2=[0-9]+" | cut -d= -f2; }
counter_is() { [ "$(counter "$1" "$2")" = "$3" ]; }

# start_pipe ERRFILE ARGS...: the pipe in the background, pid in PP
start_pipe() {
	local err=$1
	shift
	"$P" "$@" 2>"$err" 3>&- &
	PP=$!
	PIDS+=("$PP")
}

# stop_pipe: SIGTERM, then its exit status in PST
stop_pipe() {
	kill -TERM "$PP"
	PST=0
	wait "$PP" || PST=$?
}

# queue_stable ERRFILE: the queued count did not move for half a second
queue_stable() {
	local q1
	q1=$(counter "$1" queued)
	sleep 0.5
	[ "$q1" -gt 0 ] && [ "$(counter "$1" queued)" = "$q1" ]
}

rss_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

records() { # the three metric kinds, titanfe's fields and units
	cat <<'EOF'
{"content_type":"titan-brick-metrics","flow":"Flow","brick":"Brick","brick_type":"Generator","brick_family":"Inlets","runner":"R-0a1b2c3d","host":"node1","timestamp":"2024-05-06T07:08:09.123456","execution_time":1.5}
{"content_type":"titan-packet-metrics","flow":"Flow","brick":"Brick","brick_type":"Generator","brick_family":"Inlets","runner":"R-0a1b2c3d","host":"node1","timestamp":"2024-05-06T07:08:09.223456","packet":"P-0a1b2c3d","execution_time":2,"traveling_time":12.75,"time_in_input":0.5,"time_in_output":0.25,"time_on_wire":9.125,"at_outlet":false}
{"content_type":"titan-queue-metrics","flow":"Flüss €","brick":"Brick","brick_type":"BrickType?","brick_family":"BrickFamily?","runner":"RunnerUid?","host":"node1","timestamp":"2024-05-06T07:08:09.323456","queue_name":"Input.Brick","queue_length":3}
EOF
}

# ---------------------------------------------------------------------
# command line

@test "--version and --help" {
	run "$P" --version
	assert_success
	assert_output --regexp '^titan-metrics-pipe [0-9]+\.[0-9]+\.[0-9]+$'
	run "$P" --help
	assert_success
	assert_output --partial "usage: titan-metrics-pipe"
	assert_output --partial "--metrics-format"
	assert_output --partial "--prometheus"
}

@test "usage errors are one line and exit 64" {
	for args in "--bogus" "-Z" "--metrics-format xml" "--sink tcp:x" "--sink file:" \
		"--flush-timeout -1" "--flush-timeout nan" "--stats-interval 0.01" "--log-level loud" \
		"--metrics-topic a/b" "--log-topic x?y" "a b" "--kafka" "-X novalue" "-X =v"; do
		run -64 "$P" $args </dev/null
		assert_equal "${#lines[@]}" 1
		assert_output --regexp '^titan-metrics-pipe: error: .*\(see titan-metrics-pipe --help\)$'
	done
}

@test "an input that cannot be read exits 66, a bad configuration 78" {
	run -66 "$P" "$T/missing"
	assert_output --partial "cannot open input $T/missing"
	run -66 "$P" "$T"
	assert_output --partial "is a directory"
	echo "Kafk: x" >"$T/bad.yaml"
	run -78 "$P" -c "$T/bad.yaml" </dev/null
	assert_output --partial "unknown key 'Kafk'"
	echo "KafkaLogTopic: 'no spaces'" >"$T/topic.yaml"
	run -78 "$P" -c "$T/topic.yaml" </dev/null
	assert_output --partial "KafkaLogTopic is not a Kafka topic name"
	run -78 "$P" -k "$SHARED" -X no.such.property=1 </dev/null
	assert_output --partial "no.such.property"
	run -73 "$P" --sink "file:$T/no/such/dir/out" </dev/null
	assert_output --partial "cannot open the sink file"
}

@test "--print-config shows Kafka and the log topic with their sources" {
	run "$P" --print-config -k "kafka1:9092" --log-topic my.logs
	assert_success
	assert_line --regexp '^Kafka: "kafka1:9092" +# from command line$'
	assert_line --regexp '^KafkaLogTopic: "my.logs" +# from command line$'
	TITAN_METRICS_DISABLED=TRUE run "$P" --print-config
	assert_line --regexp '^MetricsDisabled: true +# from env'
}

# ---------------------------------------------------------------------
# Kafka round trips

@test "metric records unpickle to titanfe's dicts, byte for byte CPython's pickle" {
	records >"$T/in"
	run "$P" -k "$SHARED" --metrics-topic rt.metrics --log-topic rt.logs "$T/in"
	assert_success
	assert_line --partial "delivered=3 failed=0"
	consume "$SHARED" rt.metrics "$T/out"
	run check same-as-python "$T/in" "$T/out"
	assert_success
	assert_output "3 identical"
	run check unpickle "$T/out"
	assert_line --index 0 --partial '"content_type": "titan-brick-metrics", "flow": "Flow",'
	assert_line --index 0 --partial '"execution_time": 1.5}'
	# titanfe's ms fields are floats even when written as 2; bools stay bools
	assert_line --index 1 --partial '"execution_time": 2.0, "traveling_time": 12.75,'
	assert_line --index 1 --partial '"at_outlet": false}'
	assert_line --index 2 --partial '"flow": "Flüss €",'
	assert_line --index 2 --partial '"queue_name": "Input.Brick", "queue_length": 3}'
}

@test "titan-log records are titanfe's UJO map: UTF-8 keys in order, a UJO timestamp" {
	cat >"$T/in" <<'EOF'
{"content_type":"titan-log","Timestamp":"2024-05-06T07:08:09.123456","Severity":"INFO","Message":"hello Grüße","Hostname":"node1","Servicename":"BrickRunner","Source":"titanfe.bricks.gen","FlowUID":"F-1","FlowName":"Flow","BrickUID":"B-1","BrickName":"Gen"}
{"content_type":"titan-log","Timestamp":"2024-05-06T07:08:09Z","Severity":"ERROR","Message":"boom\nTraceback (most recent call last):","BrickName":null}
{"content_type":"titan-log","Severity":"METRIC","Message":"no time given"}
{"content_type":"titan-log","Timestamp":"2024-05-06 07:08:09.5"}
{"content_type":"titan-log","Timestamp":"2024-05-06T07:08:09.999999+02:00"}
{"content_type":"titan-log","Timestamp":"2024-12-31T23:30:00-0100"}
EOF
	TZ=XXX-2 run "$P" -k "$SHARED" --metrics-topic log.metrics --log-topic log.logs "$T/in"
	assert_success
	consume "$SHARED" log.logs "$T/out"
	mkdir "$T/v"
	check split "$T/out" "$T/v"
	# the first record, byte for byte what titanfe's py_to_ujo_bytes makes
	"$TITAN_BIN/titan-ujo" encode >"$T/want" <<'EOF'
{"Timestamp": {"@type": "timestamp", "@value": "2024-05-06T07:08:09.123"}, "Severity": "INFO", "Message": "hello Grüße", "Hostname": "node1", "Servicename": "BrickRunner", "Source": "titanfe.bricks.gen", "FlowUID": "F-1", "FlowName": "Flow", "BrickUID": "B-1", "BrickName": "Gen"}
EOF
	assert_equal "$(xxd -p "$T/v/1.bin" | tr -d '\n')" "$(xxd -p "$T/want" | tr -d '\n')"
	# a UTC time becomes local (TZ two hours east); absent keys are "",
	# Hostname this node's name
	run "$TITAN_BIN/titan-ujo" decode -t "$T/v/2.bin"
	assert_output --partial '"Timestamp":{"@type":"timestamp","@value":"2024-05-06T09:08:09.000"}'
	assert_output --partial '"Message":"boom\nTraceback (most recent call last):"'
	assert_output --partial "\"Hostname\":\"$(uname -n)\",\"Servicename\":\"\""
	assert_output --partial '"BrickName":""}'
	# no Timestamp: the time the pipe got the record
	run "$TITAN_BIN/titan-ujo" decode -t "$T/v/3.bin"
	assert_output --regexp '"Timestamp":\{"@type":"timestamp","@value":"20[2-9][0-9]-'
	# other ISO forms; fractions cut to milliseconds; an offset across a year
	local i want=(x x x x 2024-05-06T07:08:09.500 2024-05-06T07:08:09.999 2025-01-01T02:30:00.000)
	for i in 4 5 6; do
		run "$TITAN_BIN/titan-ujo" decode -t "$T/v/$i.bin"
		assert_output --partial "\"Timestamp\":{\"@type\":\"timestamp\",\"@value\":\"${want[$i]}\"}"
	done
	consume "$SHARED" log.metrics "$T/none"
	assert_equal "$(check count "$T/none")" 0
}

@test "--metrics-format json sends the line itself; logs stay UJO" {
	records >"$T/in"
	echo '{"content_type":"titan-log","Message":"m"}' >>"$T/in"
	run "$P" -k "$SHARED" --metrics-format json --metrics-topic json.metrics --log-topic json.logs "$T/in"
	assert_success
	consume "$SHARED" json.metrics "$T/out"
	run check values "$T/out"
	assert_output "$(records)"
	consume "$SHARED" json.logs "$T/logs"
	mkdir "$T/v"
	check split "$T/logs" "$T/v"
	run "$TITAN_BIN/titan-ujo" decode "$T/v/1.bin"
	assert_output --partial '"Message":"m"'
}

# ---------------------------------------------------------------------
# hostile input

hostile_input() {
	local f=$1 x4k
	echo '{"content_type":"titan-brick-metrics","brick":"A","execution_time":1.0}' >"$f"
	head -c 3000 /dev/urandom | tr -d '\n' >>"$f"
	echo >>"$f"                                                  # garbage: invalid
	head -c 1048576 /dev/zero | tr '\0' 'x' >>"$f"
	echo >>"$f"                                                  # 1 MiB: oversize
	# exactly 4096 bytes is fine, 4097 is not
	x4k=$(head -c 4047 /dev/zero | tr '\0' 'y')
	printf '{"content_type":"titan-brick-metrics","brick":"%s"}\n' "$x4k" >>"$f"
	printf '{"content_type":"titan-brick-metrics","brick":"%sy"}\n' "$x4k" >>"$f"
	printf '{"content_type":"titan-log","Message":"\xff"}\n' >>"$f"            # invalid UTF-8
	printf '{"content_type":"titan-log","Message":"\xc0\xaf"}\n' >>"$f"        # overlong
	printf '{"content_type":"titan-log","Message":"\xed\xa0\x80"}\n' >>"$f"    # surrogate
	printf '{"content_type":"titan-log","Message":"\\ud800"}\n' >>"$f"         # lone surrogate escape
	printf '{"content_type":"titan-log","Message":"a\\u0000b"}\n' >>"$f"       # NUL escape
	printf '{"content_type":"titan-log","Message":"a\0b"}\n' >>"$f"            # NUL byte
	printf '{"content_type":"titan-log","Message":"\\\\u0000"}\n' >>"$f"       # a backslash, fine
	printf '{"content_type":"titan-brick-metrics","ok":1} trailing\n' >>"$f"  # not JSON
	printf '[1,2,3]\n"str"\nnull\n' >>"$f"                                    # not objects
	printf '{"content_type":7}\n{"no":"type"}\n' >>"$f"                       # no content_type string
	printf '{"content_type":"titan-unknown"}\n{"content_type":"\xc3\xa9t\xc3\xa9"}\n' >>"$f" # unknown
	printf '{"content_type":"titan-log","Timestamp":"yesterday"}\n' >>"$f"
	printf '{"content_type":"titan-log","Timestamp":"2024-02-30T00:00:00"}\n' >>"$f"
	printf '{"content_type":"titan-log","Severity":40}\n' >>"$f"
	printf '{"content_type":"titan-queue-metrics","deep":%s1%s}\n' \
		"$(printf '[%.0s' $(seq 100))" "$(printf ']%.0s' $(seq 100))" >>"$f" # deeper than pickle's 64
	printf '%s\n' "$(printf '[%.0s' $(seq 2000))" >>"$f"                     # deeper than cJSON's 1000
	printf '\n   \n\t\r\n' >>"$f"                                           # blank: ignored
	printf '{"content_type":"titan-queue-metrics","queue_length":5}\r\n' >>"$f" # CRLF
	printf '{"content_type":"titan-packet-metrics","brick":"B"}' >>"$f"     # no newline at EOF
}

@test "hostile input is counted and skipped, never fatal (local sink)" {
	hostile_input "$T/in"
	run --separate-stderr "$P" "$T/in"
	assert_success
	assert_equal "${#lines[@]}" 5
	assert_line --index 0 '{"content_type":"titan-brick-metrics","brick":"A","execution_time":1.0}'
	assert_equal "${#lines[1]}" 4096
	assert_line --index 2 '{"content_type":"titan-log","Message":"\\u0000"}'
	assert_line --index 3 '{"content_type":"titan-queue-metrics","queue_length":5}'
	assert_line --index 4 '{"content_type":"titan-packet-metrics","brick":"B"}'
	[[ "$stderr" == *"stopped read=27 oversize=2 invalid=18 unknown=2 delivered=5 failed=0"* ]]
	[[ "$stderr" == *"skipped a line: NUL byte in the line line=2 text="* ]]
	[[ "$stderr" == *"unknown content_type=titan-unknown"* ]]
	# one warning a second at most: the rest are counted
	[ "$(grep -c 'skipped a line' <<<"$stderr")" -lt 5 ]
	head -c 100000 /dev/zero | tr '\0' '{' >"$T/big"
	run "$P" --sink none "$T/big"
	assert_success
	assert_line --partial "skipped a line: longer than 4096 bytes line=1"
	printf '{"content_type":"titan-log","Message":"\xff"}\n' >"$T/utf"
	run "$P" --sink none "$T/utf"
	assert_line --partial "skipped a line: invalid UTF-8 line=1"
}

@test "hostile input into Kafka: the good records arrive, the pipe survives random bytes" {
	hostile_input "$T/in"
	echo >>"$T/in"
	head -c 2000000 /dev/urandom >>"$T/in"
	echo >>"$T/in"
	echo '{"content_type":"titan-log","Message":"after the noise"}' >>"$T/in"
	run "$P" -k "$SHARED" --metrics-topic hostile.metrics --log-topic hostile.logs "$T/in"
	assert_success
	assert_line --partial "unknown=2 delivered=6 failed=0"
	consume "$SHARED" hostile.metrics "$T/out"
	run check unpickle "$T/out"
	assert_equal "${#lines[@]}" 4
	assert_line --index 3 '{"content_type": "titan-packet-metrics", "brick": "B"}'
	consume "$SHARED" hostile.logs "$T/logs"
	mkdir "$T/v"
	check split "$T/logs" "$T/v"
	run "$TITAN_BIN/titan-ujo" decode "$T/v/1.bin"
	assert_output --partial '"Message":"\\u0000"'
	run "$TITAN_BIN/titan-ujo" decode "$T/v/2.bin"
	assert_output --partial '"Message":"after the noise"'
}

# ---------------------------------------------------------------------
# local sink

@test "no Kafka: the local sink gets the accepted lines (stdout, file, none)" {
	records >"$T/in"
	printf 'junk\n{"content_type":"titan-log","Message":"m"}\n' >>"$T/in"
	run --separate-stderr "$P" "$T/in"
	assert_success
	assert_output "$(records; echo '{"content_type":"titan-log","Message":"m"}')"
	[[ "$stderr" == *"sink=stdout reason=no-kafka"* ]]
	# a file sink appends
	echo "old" >"$T/sink"
	run "$P" --sink "file:$T/sink" "$T/in"
	assert_success
	assert_equal "$(wc -l <"$T/sink")" 5
	assert_equal "$(head -1 "$T/sink")" old
	run --separate-stderr "$P" --sink none "$T/in"
	assert_success
	assert_output ""
	[[ "$stderr" == *"delivered=0 failed=0 dropped=4"* ]]
}

@test "TITAN_METRICS_DISABLED / TITANFE_WITHOUT_KAFKA keep telemetry local even with Kafka set" {
	records >"$T/in"
	TITAN_METRICS_DISABLED=true run --separate-stderr "$P" -k "$SHARED" --log-topic x.logs --metrics-topic x.metrics "$T/in"
	assert_success
	assert_output "$(records)"
	[[ "$stderr" == *"reason=metrics-disabled"* ]]
	TITANFE_WITHOUT_KAFKA=True run --separate-stderr "$P" -k "$SHARED" --metrics-topic x.metrics "$T/in"
	assert_output "$(records)"
	TITAN_KAFKA="$SHARED" TITANFE_WITHOUT_KAFKA=1 run --separate-stderr "$P" --sink "file:$T/f" --metrics-topic x.metrics "$T/in"
	assert_equal "$(cat "$T/f")" "$(records)"
}

@test "SIGHUP reopens a file sink (log rotation); --stats-interval writes stats lines" {
	mkfifo "$T/fifo"
	start_pipe "$T/err" --sink "file:$T/out" --stats-interval 0.2 "$T/fifo"
	writer "$T/fifo" 1 10 brick
	wait_for counter_is "$T/err" delivered 10
	mv "$T/out" "$T/out.1"
	kill -HUP "$PP"
	wait_for grep -q "sink: reopened" "$T/err"
	writer "$T/fifo" 11 5 brick
	wait_for counter_is "$T/err" delivered 15
	stop_pipe
	assert_equal "$PST" 0
	assert_equal "$(wc -l <"$T/out.1")" 10
	assert_equal "$(wc -l <"$T/out")" 5
	grep -q "stats read=15 oversize=0 invalid=0 unknown=0 delivered=15" "$T/err"
}

# ---------------------------------------------------------------------
# FIFO, signals, outages

@test "a FIFO: writers come and go without EOF; SIGTERM flushes and exits 0" {
	mkfifo "$T/fifo"
	start_pipe "$T/err" -k "$SHARED" --metrics-topic fifo.metrics --log-topic fifo.logs "$T/fifo"
	run writer "$T/fifo" 1 100 packet
	assert_output "written=100 dropped=0"
	run writer "$T/fifo" 101 50 log
	assert_output "written=50 dropped=0"
	run writer "$T/fifo" 151 50 queue
	assert_output "written=50 dropped=0"
	kill -0 "$PP" # still there after three writers closed
	stop_pipe
	assert_equal "$PST" 0
	grep -q "stopped read=200 .* delivered=200 failed=0" "$T/err"
	consume "$SHARED" fifo.metrics "$T/out"
	assert_equal "$(check unpickle "$T/out" | grep -oE '"n": [0-9]+' | sort -u | wc -l)" 150
}

@test "SIGTERM first reads what runners already wrote into the FIFO" {
	mkfifo "$T/fifo"
	start_pipe "$T/err" -k "$SHARED" --metrics-topic drain.metrics --log-topic drain.logs "$T/fifo"
	wait_for grep -q started "$T/err"
	kill -STOP "$PP"
	run writer "$T/fifo" 1 100 brick # fits in the FIFO (64 KiB)
	assert_output "written=100 dropped=0"
	kill -TERM "$PP"
	kill -CONT "$PP"
	PST=0
	wait "$PP" || PST=$?
	assert_equal "$PST" 0
	consume "$SHARED" drain.metrics "$T/out"
	assert_equal "$(check count "$T/out")" 100
}

@test "Kafka down at start, up later, down again: every record delivered exactly once" {
	broker eo -t eo.metrics -t eo.logs -d
	mkfifo "$T/fifo"
	start_pipe "$T/err" -k "$B" --metrics-topic eo.metrics --log-topic eo.logs --stats-interval 0.2 "$T/fifo"
	for i in $(seq 1 500); do echo "{\"content_type\":\"titan-queue-metrics\",\"n\":$i}"; done >"$T/fifo"
	wait_for counter_is "$T/err" queued 500
	counter_is "$T/err" delivered 0
	broker_up
	wait_for counter_is "$T/err" delivered 500
	broker_down
	for i in $(seq 501 1000); do echo "{\"content_type\":\"titan-queue-metrics\",\"n\":$i}"; done >"$T/fifo"
	wait_for counter_is "$T/err" queued 500
	broker_up
	wait_for counter_is "$T/err" delivered 1000
	# down while a burst is in flight
	for i in $(seq 1001 3000); do echo "{\"content_type\":\"titan-queue-metrics\",\"n\":$i}"; done >"$T/fifo"
	broker_down
	sleep 0.5
	broker_up
	wait_for counter_is "$T/err" delivered 3000
	stop_pipe
	assert_equal "$PST" 0
	grep -q "kafka: delivering again" "$T/err"
	consume "$B" eo.metrics "$T/out"
	check unpickle "$T/out" | grep -oE '"n": [0-9]+' | cut -d' ' -f2 >"$T/n"
	assert_equal "$(wc -l <"$T/n")" 3000
	assert_equal "$(sort -n "$T/n")" "$(seq 1 3000)"
}

@test "Kafka unreachable at the end: the flush deadline holds and the exit is 75" {
	broker dl -t dl.metrics -d
	for i in $(seq 10); do echo '{"content_type":"titan-brick-metrics","execution_time":1}'; done >"$T/in"
	SECONDS=0
	run -75 "$P" -k "$B" --metrics-topic dl.metrics --flush-timeout 0.5 "$T/in"
	[ "$SECONDS" -le 5 ]
	assert_line --partial "flush deadline passed: undelivered=10 (queued=10 not_sent=0)"
	assert_line --partial "delivered=0 failed=10"
	# a second signal gives up at once, whatever the deadline
	mkfifo "$T/fifo"
	start_pipe "$T/err" -k "$B" --metrics-topic dl.metrics --flush-timeout 60 "$T/fifo"
	cat "$T/in" >"$T/fifo"
	wait_for grep -q started "$T/err"
	SECONDS=0
	kill -TERM "$PP"
	sleep 0.3
	stop_pipe
	assert_equal "$PST" 75
	[ "$SECONDS" -le 5 ]
	grep -q "giving up the flush" "$T/err"
}

@test "a writer faster than Kafka: back pressure into the FIFO, memory bounded, then all delivered" {
	broker bp -t bp.metrics -d
	mkfifo "$T/fifo"
	# 400000 records (150 MB) against librdkafka's queue of METRICS_QUEUE_*
	"$PY" - "$T/data" <<'EOF'
import sys
line = ('{"content_type":"titan-packet-metrics","flow":"Flow","brick":"Brick","brick_type":"T",'
        '"brick_family":"F","runner":"R-0a1b2c3d","host":"node1","timestamp":"2024-05-06T07:08:09.123456",'
        '"packet":"P-%08x","execution_time":0.5,"traveling_time":2.5,"time_in_input":0.25,'
        '"time_in_output":0.125,"time_on_wire":0.0625,"at_outlet":false}\n')
with open(sys.argv[1], "w") as f:
    f.writelines(line % i for i in range(400000))
EOF
	start_pipe "$T/err" -k "$B" --metrics-topic bp.metrics --stats-interval 0.2 "$T/fifo"
	cat "$T/data" >"$T/fifo" 3>&- &
	W=$!
	PIDS+=("$W")
	# the queue fills, then the pipe stops reading: the writer blocks ...
	wait_for grep -qE "stats read=[0-9]{5}" "$T/err"
	wait_for queue_stable "$T/err"
	kill -0 "$W"
	# ... a runner's non-blocking writes fail at once and are counted there ...
	run timeout 10 "$PY" "$TITAN_TOP/tests/helpers/metrics_writer.py" "$T/fifo" 1 200
	assert_output "written=0 dropped=200"
	# ... and the pipe's memory stays bounded (150 MB were offered;
	# ASan's shadow memory and quarantine would blur the figure)
	bounded() { ldd "$P" | grep -q libasan || [ "$(rss_kb "$PP")" -lt 100000 ]; }
	bounded
	broker_up
	wait "$W"
	wait_for counter_is "$T/err" delivered 400000
	bounded
	stop_pipe
	assert_equal "$PST" 0
	run kcat -b "$B" -Q -t bp.metrics:0:-1
	assert_output "bp.metrics [0] offset 400000"
}

# ---------------------------------------------------------------------
# --prometheus

# scraped URL LINE: the exposition at URL has that line
scraped() { curl -s "$1" | grep -qxF "$2"; }
prom_port() { grep -oE 'prometheus: serving /metrics addr=[^ ]+ port=[0-9]+' "$1" | grep -oE '[0-9]+$'; }

@test "--prometheus serves per-brick aggregates and the pipe's counters" {
	mkfifo "$T/fifo"
	start_pipe "$T/err" --sink none --prometheus 127.0.0.1:0 "$T/fifo"
	wait_for grep -q started "$T/err"
	U="http://127.0.0.1:$(prom_port "$T/err")/metrics"
	writer "$T/fifo" 1 10 brick
	writer "$T/fifo" 1 7 packet
	printf '%s\n' 'junk' '{"content_type":"other"}' >"$T/fifo"
	wait_for scraped "$U" 'titan_metrics_pipe_lines_read_total 19'
	run curl -si "$U"
	assert_line --partial "Content-Type: text/plain; version=0.0.4"
	assert_line '# TYPE titan_brick_execution_seconds summary'
	assert_line 'titan_brick_execution_seconds_sum{flow="Flow",brick="Brick"} 0.0125'
	assert_line 'titan_brick_execution_seconds_count{flow="Flow",brick="Brick"} 10'
	assert_line 'titan_brick_packets_total{flow="Flow",brick="Brick"} 7'
	assert_line 'titan_metrics_pipe_lines_invalid_total 1'
	assert_line 'titan_metrics_pipe_records_unknown_total 1'
	assert_line 'titan_metrics_pipe_records_dropped_total 17'
	# queue gauges, label values escaped; written again until one scrape
	# comes within the second a report is fresh (slow machines)
	queues_shown() {
		printf '%s\n' '{"content_type":"titan-queue-metrics","flow":"Flow","brick":"Brick","queue_name":"Input.Brick","queue_length":3}' \
			'{"content_type":"titan-queue-metrics","flow":"a\"b\\c\nd","brick":"x","queue_name":"q","queue_length":4}' >"$T/fifo"
		curl -s "$U" >"$T/scrape"
		grep -qxF 'titan_queue_length{flow="Flow",brick="Brick",queue="Input.Brick"} 3' "$T/scrape" &&
			grep -qxF 'titan_queue_length{flow="a\"b\\c\nd",brick="x",queue="q"} 4' "$T/scrape"
	}
	wait_for queues_shown
	# titanfe reports a queue only while it is not empty: silence means 0
	sleep 1.2
	run curl -s "$U"
	assert_line 'titan_queue_length{flow="Flow",brick="Brick",queue="Input.Brick"} 0'
	assert_line 'titan_queue_length{flow="a\"b\\c\nd",brick="x",queue="q"} 0'
	run curl -s -o /dev/null -w '%{http_code}' "${U%/metrics}/other"
	assert_output 404
	run curl -s -o /dev/null -w '%{http_code}' -X POST "$U"
	assert_output 405
	stop_pipe
	assert_equal "$PST" 0
}

@test "--prometheus: series are capped, a bad address is a usage error, a busy port exits 69" {
	mkfifo "$T/fifo"
	start_pipe "$T/err" --sink none --prometheus 127.0.0.1:0 "$T/fifo"
	wait_for grep -q started "$T/err"
	U="http://127.0.0.1:$(prom_port "$T/err")/metrics"
	for i in $(seq 5000); do echo "{\"content_type\":\"titan-packet-metrics\",\"flow\":\"F\",\"brick\":\"b$i\"}"; done >"$T/fifo"
	wait_for scraped "$U" 'titan_metrics_pipe_lines_read_total 5000'
	run curl -s "$U"
	assert_equal "$(grep -c '^titan_brick_packets_total{' <<<"$output")" 4096
	assert_line 'titan_metrics_pipe_untracked_records_total 904'
	for a in localhost:9100 127.0.0.1 127.0.0.1:99999 '[::1]:x' 1.2.3:80; do
		run -64 "$P" --prometheus "$a" </dev/null
		assert_output --partial "--prometheus takes a numeric ADDR:PORT"
	done
	run -69 "$P" --sink none --prometheus "127.0.0.1:$(prom_port "$T/err")" </dev/null
	assert_output --partial "cannot listen"
	stop_pipe
	assert_equal "$PST" 0
}
