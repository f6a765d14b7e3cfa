#!/usr/bin/env bats
# titan-run-brick --local: the embedded Python brick API (titanfe, ujotypes,
# the adapter) and local mode's stdin/stdout contract, with the bricks of
# tests/bricks/. Standard library only on the Python side.

bats_require_minimum_version 1.5.0

setup() {
	bats_load_library bats-support
	bats_load_library bats-assert
	: "${TITAN_BIN:=$BATS_TEST_DIRNAME/../../build/bin}"
	: "${TITAN_TOP:=$BATS_TEST_DIRNAME/../..}"
	: "${TITAN_HELPERS:=$TITAN_TOP/build/helpers}"
	RB="$TITAN_BIN/titan-run-brick"
	B="$TITAN_TOP/tests/bricks"
	T="$BATS_TEST_TMPDIR"
	# No machine configuration, no inherited secrets or paths.
	: > "$T/titan.yaml"
	export TITAN_CONFIG="$T/titan.yaml"
	unset TITAN_SECRET_KEY TITAN_PYTHON_PATH TITAN_REPOSITORY_SERVICE
	# Under `make asan`: CPython's own allocations left at exit are not ours.
	printf 'leak:libpython3.11.so\n' > "$T/lsan.supp"
	export LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
	PID= REPO_PID=
}

teardown() {
	exec 8>&- 2>/dev/null || true
	[ -z "$PID" ] || kill -KILL "$PID" 2>/dev/null || true
	[ -z "$REPO_PID" ] || kill "$REPO_PID" 2>/dev/null || true
}

# local BRICK [OPTION]... < input : run local mode, stdout in $output, stderr in $stderr
rb() {
	run --separate-stderr "$RB" --local "$@"
}

# assert_line on $stderr (this bats-assert has no --stderr)
assert_stderr_line() {
	local output="$stderr"
	local -a lines=()
	[ -z "$stderr" ] || mapfile -t lines <<< "$stderr"
	assert_line "$@"
}

# The runner in the background: stdin from a FIFO held open on fd 8 (close
# fd 8 for EOF), stdout in $T/out, stderr in $T/err, pid in $PID.
start_bg() {
	mkfifo "$T/in"
	"$RB" --local "$@" < "$T/in" > "$T/out" 2> "$T/err" 3>&- &
	PID=$!
	exec 8> "$T/in"
}

# wait_lines N FILE: until FILE has N lines (5 s at most)
wait_lines() {
	local i
	for i in $(seq 100); do
		[ "$(wc -l < "$2")" -ge "$1" ] && return 0
		sleep 0.05
	done
	echo "timed out waiting for $1 lines in $2" >&2
	return 1
}

# ---------------------------------------------------------------------
# The stdin/stdout contract

@test "passthrough: one JSON line per input, port output, values unchanged" {
	printf '%s\n' '{"a":1,"b":[1,2.5,"x",null,true]}' '42' '"text"' '[]' > "$T/in.jsonl"
	rb "$B/passthrough" < "$T/in.jsonl"
	assert_success
	assert_equal "$output" '{"port":"output","payload":{"a":1,"b":[1,2.5,"x",null,true]}}
{"port":"output","payload":42}
{"port":"output","payload":"text"}
{"port":"output","payload":[]}'
	assert_equal "$stderr" ""
}

@test "passthrough: every ujotypes type survives byte for byte (typed JSON in and out)" {
	in='{"i8":{"@type":"int8","@value":-8},"i16":{"@type":"int16","@value":-16},"i32":{"@type":"int32","@value":-32},"i64":-64,"u8":{"@type":"uint8","@value":8},"u16":{"@type":"uint16","@value":16},"u32":{"@type":"uint32","@value":32},"u64":{"@type":"uint64","@value":18446744073709551615},"f16":{"@type":"float16","@value":24.125},"f32":{"@type":"float32","@value":3.14},"f64":0.1,"c":{"@type":"cstring","@value":"C"},"s":"Grüße €😀","t":{"@type":"timestamp","@value":"2013-07-24T16:12:40.340"},"n":null,"b":false,"l":[[],{}]}'
	rb "$B/passthrough" --typed <<< "$in"
	assert_success
	assert_output "{\"port\":\"output\",\"payload\":$in}"
}

@test "decoded and re-encoded (deepcopy of every container): still byte for byte" {
	in='{"i8":{"@type":"int8","@value":-8},"u64":{"@type":"uint64","@value":18446744073709551615},"f16":{"@type":"float16","@value":24.125},"f32":{"@type":"float32","@value":0.5},"c":{"@type":"cstring","@value":"C"},"t":{"@type":"timestamp","@value":"2013-07-24T16:12:40.340"},"m":{"@type":"map","@value":[[{"@type":"int8","@value":1},"int8 key"],[{"@type":"cstring","@value":"k"},[null,true,{"x":[1]}]]]}}'
	rb "$B/deepcopy" --typed <<< "$in"
	assert_success
	assert_output "{\"port\":\"output\",\"payload\":$in}"
}

@test "a UJO type ujotypes lacks (binary) passes untouched, and fails cleanly when decoded" {
	in='{"bin":{"@type":"binary","@value":"0102"}}'
	rb "$B/passthrough" --typed <<< "$in"
	assert_success
	assert_output "{\"port\":\"output\",\"payload\":$in}"
	rb "$B/deepcopy" <<< "$in"
	assert_failure 1
	assert_output ""
	assert_stderr_line --partial 'UJO type binary is not supported by ujotypes'
}

@test "bad JSON lines are reported with line and column and skipped; blank lines ignored (exit 65)" {
	printf '%s\n' '{"n":1}' '' '{"n":' 'nope' '   ' '{"n":2}' > "$T/in.jsonl"
	rb "$B/passthrough" < "$T/in.jsonl"
	assert_failure 65
	assert_equal "$output" '{"port":"output","payload":{"n":1}}
{"port":"output","payload":{"n":2}}'
	assert_stderr_line --partial 'error: input line 3, column 6:'
	assert_stderr_line --partial 'error: input line 4, column 1:'
}

@test "the last line needs no newline; CRLF line ends are fine" {
	printf '1\r\n2' > "$T/in.jsonl"
	rb "$B/passthrough" < "$T/in.jsonl"
	assert_success
	assert_equal "$output" '{"port":"output","payload":1}
{"port":"output","payload":2}'
}

@test "--count N stops a non-inlet after N results" {
	printf '%s\n' 1 2 3 4 5 > "$T/in.jsonl"
	rb "$B/passthrough" --count 2 < "$T/in.jsonl"
	assert_success
	assert_equal "$output" '{"port":"output","payload":1}
{"port":"output","payload":2}'
}

@test "SIGINT stops a non-inlet waiting for input: exit 0" {
	start_bg "$B/passthrough"
	echo '{"x":1}' >&8
	wait_lines 1 "$T/out"
	kill -INT "$PID"
	status=0
	wait "$PID" || status=$?
	PID=
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" '{"port":"output","payload":{"x":1}}'
	grep -q 'stopping' "$T/err"
}

# ---------------------------------------------------------------------
# Parameters, ports, results

@test "transform with parameters: --params file, --param overrides, JSON or string values" {
	echo '{"factor": 2, "label": "file", "extra": [1]}' > "$T/p.json"
	rb "$B/transform" --params "$T/p.json" --param factor=3 --param label=007 <<< '{"value": 4}'
	assert_success
	assert_output '{"port":"output","payload":{"value":12,"label":"007","port":"input","params":{"factor":3,"label":"007","extra":[1]},"meta":["F-local","local","B-local","transform"]}}'
}

@test "adapter.meta, adapter.log and the input port name" {
	rb "$B/transform" --param factor=1 --input-port In --flow-uid F-1 --flow-name Flow --brick-uid B-2 --brick-name Tx <<< '{"value": 1}'
	assert_success
	assert_output '{"port":"output","payload":{"value":1,"label":"none","port":"In","params":{"factor":1},"meta":["F-1","Flow","B-2","Tx"]}}'
	assert_stderr_line 'titan-run-brick: info: titanfe.bricks.Tx: transforming on port In'
}

@test "setup() raising ConfigurationError: exit 70 with the reason" {
	rb "$B/transform" <<< '{"value": 1}'
	assert_failure 70
	assert_stderr_line --partial "cannot load the brick (calling setup()): ConfigurationError: parameter 'factor' is missing"
}

@test "--params that is not a JSON object: exit 65; a missing file: 66; --param without =: 64" {
	echo '[1]' > "$T/p.json"
	rb "$B/passthrough" --params "$T/p.json" <<< 1
	assert_failure 65
	rb "$B/passthrough" --params "$T/missing.json" <<< 1
	assert_failure 66
	rb "$B/passthrough" --param novalue <<< 1
	assert_failure 64
}

@test "tuple results go to their port; (value, None) and plain values to the default port; None drops" {
	printf '%s\n' '{"mode":"tuple","value":1,"port":"alt"}' '{"mode":"none-port","value":2}' \
		'{"mode":"drop","value":3}' '{"mode":"plain","value":4}' > "$T/in.jsonl"
	rb "$B/router" --output-port out --output-port alt < "$T/in.jsonl"
	assert_success
	assert_equal "$output" '{"port":"alt","payload":1}
{"port":"out","payload":2}
{"port":"out","payload":4}'
}

@test "unknown port and invalid tuples: a logged error for that packet, the next line works (exit 1)" {
	printf '%s\n' '{"mode":"tuple","value":1,"port":"nope"}' '{"mode":"triple","value":2}' \
		'{"mode":"badport","value":3}' '{"mode":"tuple","value":4,"port":"alt"}' > "$T/in.jsonl"
	rb "$B/router" --output-port out --output-port alt < "$T/in.jsonl"
	assert_failure 1
	assert_output '{"port":"alt","payload":4}'
	assert_stderr_line --partial "invalid brick result (packet dropped): ValueError: unknown output port 'nope' (the brick's output ports: out, alt)"
	assert_stderr_line --partial "invalid brick result: a tuple must be (value, port_name), got (UjoInt64(2), 'output', 'extra')"
	assert_stderr_line --partial "invalid brick result: a tuple must be (value, port_name), got (UjoInt64(3), 5)"
}

@test "without --output-port any port name is accepted" {
	rb "$B/router" <<< '{"mode":"tuple","value":1,"port":"anything"}'
	assert_success
	assert_output '{"port":"anything","payload":1}'
}

@test "emit_new_packet: every emit is its own line, in order, before the returned value" {
	printf '%s\n' '{"n":3}' '{"n":1,"port":"side"}' > "$T/in.jsonl"
	rb "$B/emitter" < "$T/in.jsonl"
	assert_success
	assert_equal "$output" '{"port":"output","payload":{"i":0}}
{"port":"output","payload":{"i":1}}
{"port":"output","payload":{"i":2}}
{"port":"output","payload":{"done":3}}
{"port":"side","payload":{"i":0}}
{"port":"output","payload":{"done":1}}'
}

@test "emit_new_packet on an unknown port raises ValueError in the brick" {
	rb "$B/emitter" --output-port output <<< '{"n":1,"port":"side"}'
	assert_failure 1
	assert_output ""
	assert_stderr_line --partial "brick execution failed: ValueError: unknown output port 'side'"
}

# ---------------------------------------------------------------------
# Exceptions

@test "an exception: its traceback is ONE stderr line, the next line is processed (exit 1)" {
	printf '%s\n' '{"fail":false,"n":1}' '{"fail":true,"n":2}' '{"fail":false,"n":3}' > "$T/in.jsonl"
	rb "$B/failing" < "$T/in.jsonl"
	assert_failure 1
	assert_equal "$output" '{"port":"output","payload":{"fail":false,"n":1}}
{"port":"output","payload":{"fail":false,"n":3}}'
	assert_equal "$(grep -c Traceback <<< "$stderr")" 1
	line=$(grep Traceback <<< "$stderr")
	[[ "$line" == 'titan-run-brick: error: titanfe.bricks.failing: brick execution failed: ValueError: boom 2\nTraceback (most recent call last):\n'* ]]
	[[ "$line" == *'Failing.py", line 7, in explode\n'*'ValueError: boom 2' ]]
}

@test "results python_to_ujo cannot convert are errors for that packet" {
	printf '%s\n' '{"case":"bigint"}' '{"case":"date"}' '{"case":"frozenset"}' '{"case":"object"}' \
		'{"case":"listkey"}' '{"case":"deep"}' '{"case":"bool"}' > "$T/in.jsonl"
	rb "$B/pyrules" < "$T/in.jsonl"
	assert_failure 1
	assert_output '{"port":"output","payload":[true,false]}'
	assert_stderr_line --partial 'OverflowError: Python int out of range for UJO int64'
	assert_stderr_line --partial 'NotImplementedError: cannot convert a value of type datetime.date to UJO'
	assert_stderr_line --partial 'NotImplementedError: cannot convert a value of type frozenset to UJO'
	assert_stderr_line --partial 'NotImplementedError: cannot convert a value of type object to UJO'
	assert_stderr_line --partial 'TypeError: a UJO map key must be an atomic value, not a list or map'
	assert_stderr_line --partial 'ValueError: UJO values cannot nest deeper than 64 levels'
}

@test "python_to_ujo: titanfe's rules for returned Python values" {
	for c in int float str bytes bytearray tuple-in-list set range deque ordered datetime nested intkey; do
		echo "{\"case\":\"$c\"}"
	done > "$T/in.jsonl"
	rb "$B/pyrules" --typed < "$T/in.jsonl"
	assert_success
	assert_equal "$output" '{"port":"output","payload":[0,-1,9223372036854775807,-9223372036854775808]}
{"port":"output","payload":[1.0,-2.5,1e+300]}
{"port":"output","payload":"Grüße €😀"}
{"port":"output","payload":[1,255]}
{"port":"output","payload":[65,66]}
{"port":"output","payload":[[1,2],[3,4]]}
{"port":"output","payload":[7]}
{"port":"output","payload":[0,1,2]}
{"port":"output","payload":[1,"a"]}
{"port":"output","payload":{"b":1,"a":2}}
{"port":"output","payload":{"@type":"timestamp","@value":"2020-01-02T03:04:05.678"}}
{"port":"output","payload":{"a":{"b":{"c":[1,{"d":null}]}}}}
{"port":"output","payload":{"@type":"map","@value":[[1,"bool"]]}}'
}

# ---------------------------------------------------------------------
# Inlets

@test "inlet with --count: exactly N results, then stop_processing() and teardown()" {
	start_bg "$B/ticker" --count 5
	status=0
	wait "$PID" || status=$?
	PID=
	assert_equal "$status" 0
	assert_equal "$(cat "$T/out")" '{"port":"output","payload":{"n":0}}
{"port":"output","payload":{"n":1}}
{"port":"output","payload":{"n":2}}
{"port":"output","payload":{"n":3}}
{"port":"output","payload":{"n":4}}'
	grep -q 'titanfe.bricks.ticker: stop_processing called' "$T/err"
	grep -q 'titanfe.bricks.ticker: ticker teardown' "$T/err"
}

@test "inlet: EOF on stdin stops it" {
	rb "$B/ticker" --param delay=0.001 < /dev/null
	assert_success
	assert_stderr_line --partial 'stop_processing called'
	assert_stderr_line --partial 'ticker teardown'
}

@test "inlet: --ignore-stdin runs it until process() returns" {
	rb "$B/ticker" --param limit=3 --ignore-stdin < /dev/null
	assert_success
	assert_equal "$output" '{"port":"output","payload":{"n":0}}
{"port":"output","payload":{"n":1}}
{"port":"output","payload":{"n":2}}'
	assert_stderr_line --partial 'ticker stopped after 3 packets'
}

@test "inlet: SIGINT stops it, exit 0" {
	start_bg "$B/ticker" --param delay=0.01
	wait_lines 3 "$T/out"
	kill -INT "$PID"
	status=0
	wait "$PID" || status=$?
	PID=
	assert_equal "$status" 0
	grep -q 'stop_processing called' "$T/err"
	grep -q 'ticker teardown' "$T/err"
}

@test "an inlet that ignores stop_processing(): exit 70 after --stop-timeout; a second SIGINT: 130" {
	start_bg "$B/stubborn" --count 1 --stop-timeout 0.5
	status=0
	wait "$PID" || status=$?
	PID=
	assert_equal "$status" 70
	grep -q 'did not return within 0.5 s' "$T/err"
	exec 8>&-
	rm -f "$T/in"
	start_bg "$B/stubborn" --stop-timeout 30
	wait_lines 1 "$T/out"
	kill -INT "$PID"
	sleep 0.2
	kill -INT "$PID"
	status=0
	wait "$PID" || status=$?
	PID=
	assert_equal "$status" 130
}

@test "--inlet runs any brick once with (None, TRIGGER)" {
	rb "$B/pyrules" --inlet --plain < /dev/null
	assert_failure 1
	assert_stderr_line --partial "brick execution failed: TypeError: 'NoneType' object is not subscriptable"
}

# ---------------------------------------------------------------------
# Finding and loading bricks

@test "a package-folder brick (Greeter/ with relative imports)" {
	rb "$B/greeter" <<< '"World"'
	assert_success
	assert_output '{"port":"output","payload":"Hello, World!"}'
}

@test "a .py file given directly, and --module picking one of several modules (case-insensitive)" {
	rb "$B/several/Second.py" <<< 1
	assert_success
	assert_output '{"port":"output","payload":"second"}'
	rb "$B/several" --module first <<< 1
	assert_success
	assert_output '{"port":"output","payload":"first"}'
}

@test "brick not found: exit 66" {
	rb "$B/no-such-brick" <<< 1
	assert_failure 66
	assert_stderr_line --partial 'brick not found:'
	rb "$B/several" <<< 1
	assert_failure 66
	assert_stderr_line --partial 'several modules in'
	rb "$B/several" --module third <<< 1
	assert_failure 66
	assert_stderr_line --partial 'missing module `third/` or `third.py`'
}

@test "an import error: exit 70, a clear message, the traceback starts in the brick" {
	rb "$B/badimport" <<< 1
	assert_failure 70
	assert_output ""
	assert_stderr_line "titan-run-brick: error: cannot load the brick (importing BadImport): ModuleNotFoundError: No module named 'titan_no_such_module'"
	tb=$(grep Traceback <<< "$stderr")
	[[ "$tb" == *'Traceback (most recent call last):\n  File "'*'/badimport/BadImport.py", line 1, in <module>'* ]]
}

@test "no Brick class, or setup() raising: exit 70" {
	rb "$B/nobrick" <<< 1
	assert_failure 70
	assert_stderr_line --partial 'ImportError: Brick class is missing in module: NoBrick'
	rb "$B/badsetup" <<< 1
	assert_failure 70
	assert_stderr_line --partial 'cannot load the brick (calling setup()): RuntimeError: cannot reach the database'
}

@test "a brick with a venv/ runs inside it (its site-packages first, ours before them)" {
	cp -r "$B/venvprobe" "$T/"
	/usr/bin/python3 -m venv --system-site-packages --without-pip "$T/venvprobe/venv"
	site="$T/venvprobe/venv/lib/python3.11/site-packages"
	echo 'VALUE = "from the venv"' > "$site/titan_venv_probe.py"
	# a foreign ujotypes in the venv must not replace titan's
	echo 'raise ImportError("the venv ujotypes was imported")' > "$site/ujotypes.py"
	rb "$T/venvprobe" <<< 1
	assert_success
	assert_output "{\"port\":\"output\",\"payload\":{\"probe\":\"from the venv\",\"prefix\":\"$T/venvprobe/venv\",\"base_prefix\":\"/usr\",\"executable\":\"$T/venvprobe/venv/bin/python\"}}"
	# the same brick without the venv cannot import the module
	rb "$B/venvprobe" <<< 1
	assert_failure 70
	assert_stderr_line --partial "No module named 'titan_venv_probe'"
}

@test "TITAN_PYTHON_PATH without the brick API: exit 70 naming it" {
	TITAN_PYTHON_PATH="$T" rb "$B/passthrough" <<< 1
	assert_failure 70
	assert_stderr_line --partial "the Python brick API is not in $T (TITAN_PYTHON_PATH)"
}

@test "usage errors: exit 64; --help: 0" {
	rb --help
	assert_success
	assert_line --index 0 --partial 'usage: titan-run-brick --local BRICK_DIR_OR_FILE'
	rb
	assert_failure 64
	rb "$B/passthrough" --count 0
	assert_failure 64
	rb "$B/passthrough" --bogus
	assert_failure 64
	rb "$B/passthrough" extra
	assert_failure 64
}

# ---------------------------------------------------------------------
# ujotypes and plain values

@test "ujotypes semantics seen by a brick, and Ujo objects returned" {
	in='{"key": "text", "n": 5, "f": 1.5, "flag": true, "list": [1, 2, 3], "nested": {"a": {"b": "deep"}}, "i8": {"@type": "int8", "@value": 7}, "cs": {"@type": "cstring", "@value": "c"}}'
	rb "$B/ujocheck" --typed <<< "$in"
	assert_success
	# every check is true
	/usr/bin/python3 -c '
import json, sys
checks = json.loads(sys.argv[1])["payload"]["checks"]
bad = {k: v for k, v in checks.items() if v is not True}
assert len(checks) >= 30 and not bad, bad' "$output"
	# the modified input, with the Ujo types the brick set
	[[ "$output" == *'"out":{"@type":"map","@value":[["key","text"],["n",5],["flag",true],["list",[1,2,3,{"@type":"float32","@value":0.5}]],["nested",{"a":{"b":"deep"}}],["i8",{"@type":"int8","@value":7}],["cs",{"@type":"cstring","@value":"c"}],["added",{"@type":"int8","@value":-3}],[{"@type":"cstring","@value":"ckey"},{"@type":"uint64","@value":18446744073709551615}],["ts",{"@type":"timestamp","@value":"2020-01-02T03:04:05.678"}],["f16",{"@type":"float16","@value":24.125}],["plain",7]]}}}' ]]
}

@test "titan_plain_values: process() gets and returns plain Python values" {
	rb "$B/plainvalues" <<< '{"a":1,"b":[1.5,null],"t":{"@type":"timestamp","@value":"2020-01-02T03:04:05.678"},"s":"x","u":{"@type":"uint8","@value":3},"c":{"@type":"cstring","@value":"y"}}'
	assert_success
	assert_output '{"port":"output","payload":{"input_type":"dict","types":{"a":"int","b":"list","t":"datetime","s":"str","u":"int","c":"str"},"echo":{"a":1,"b":[1.5,null],"t":"2020-01-02T03:04:05.678","s":"x","u":3,"c":"y"},"when":"2021-06-07T08:09:10.123"}}'
}

@test "--plain forces plain values on a ujotypes brick" {
	rb "$B/pyrules" <<< '{"case":"input-type"}'
	assert_output '{"port":"output","payload":"UjoMap"}'
	rb "$B/pyrules" --plain <<< '{"case":"input-type"}'
	assert_output '{"port":"output","payload":"dict"}'
}

# ---------------------------------------------------------------------
# Secrets

ref_hex=000102030405060708090a0bb6a70ff73a0fe723a5495a19c70298b0dc9b086fa881c78ec92af0

@test "decrypt_parameter: the reference vector (titanfe-protocol.md §14)" {
	TITAN_SECRET_KEY=my-secret-key-16 rb "$B/secret" --flow-uid F-1234 <<< "{\"hex\":\"$ref_hex\"}"
	assert_success
	assert_output '{"port":"output","payload":{"plain":"hello world"}}'
}

@test "decrypt_parameter: a vector made by python3-cryptography's AESGCM now" {
	hex=$(/usr/bin/python3 -c '
import hashlib, os
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
key = hashlib.pbkdf2_hmac("sha1", b"s3cr3t-k3y", b"F-9f8e", 4096, 32)
nonce = os.urandom(12)
print((nonce + AESGCM(key).encrypt(nonce, "grüße 🔑 titan".encode(), None)).hex())')
	TITAN_SECRET_KEY=s3cr3t-k3y rb "$B/secret" --flow-uid F-9f8e <<< "{\"hex\":\"$hex\"}"
	assert_success
	assert_output '{"port":"output","payload":{"plain":"grüße 🔑 titan"}}'
}

@test "decrypt_parameter: flipped tag bit, wrong flow uid, bad hex, too short, no key: clean errors" {
	flipped=${ref_hex%0}1
	printf '{"hex":"%s"}\n' "$flipped" zz 0011 > "$T/in.jsonl"
	TITAN_SECRET_KEY=my-secret-key-16 rb "$B/secret" --flow-uid F-1234 < "$T/in.jsonl"
	assert_success
	assert_equal "$output" '{"port":"output","payload":{"error":"DecryptionError: cannot decrypt the parameter: the authentication tag does not match (wrong secret key or flow uid, or altered data)","is_value_error":true}}
{"port":"output","payload":{"error":"DecryptionError: cannot decrypt the parameter: the encrypted parameter is not a hex string","is_value_error":true}}
{"port":"output","payload":{"error":"DecryptionError: cannot decrypt the parameter: the encrypted parameter is too short (needs a 12-byte nonce and a 16-byte tag)","is_value_error":true}}'
	TITAN_SECRET_KEY=my-secret-key-16 rb "$B/secret" --flow-uid F-1235 <<< "{\"hex\":\"$ref_hex\"}"
	assert_output --partial 'the authentication tag does not match'
	rb "$B/secret" --flow-uid F-1234 <<< "{\"hex\":\"$ref_hex\"}"
	assert_output --partial 'no secret key is configured'
}

@test "decrypt_parameter: the secret key from the configuration file" {
	echo 'SecretKey: my-secret-key-16' > "$T/titan.yaml"
	rb "$B/secret" --flow-uid F-1234 <<< "{\"hex\":\"$ref_hex\"}"
	assert_output '{"port":"output","payload":{"plain":"hello world"}}'
}

# ---------------------------------------------------------------------
# State

start_repo() {
	/usr/bin/python3 "$TITAN_TOP/tests/helpers/repo_double.py" "$T/repo.port" "$T/repo.log" 3>&- &
	REPO_PID=$!
	local i
	for i in $(seq 100); do [ -s "$T/repo.port" ] && break; sleep 0.05; done
	REPO="http://127.0.0.1:$(cat "$T/repo.port")/object"
}

@test "state.set/get/reset: PATCH/GET/DELETE {repo}/ with titanfe's JSON body" {
	start_repo
	printf '%s\n' '{"op":"get"}' '{"op":"set","value":{"count":3,"names":["a"]}}' '{"op":"get"}' '{"op":"reset"}' '{"op":"get"}' > "$T/in.jsonl"
	rb "$B/stateful" --repo "$REPO" --flow-uid F-7 --brick-uid B-9 < "$T/in.jsonl"
	assert_success
	assert_equal "$output" '{"port":"output","payload":{"op":"get","result":{}}}
{"port":"output","payload":{"op":"set","result":{"count":3,"names":["a"]}}}
{"port":"output","payload":{"op":"get","result":{"count":3,"names":["a"]}}}
{"port":"output","payload":{"op":"reset","result":{}}}
{"port":"output","payload":{"op":"get","result":{}}}'
	run /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["method"], r["path"], r["content_type"], r["raw"])' "$T/repo.log"
	assert_equal "$output" 'GET /object/ application/json {"collection": "F-7", "document": "B-9", "value": null, "find": null, "database": "titan"}
PATCH /object/ application/json {"collection": "F-7", "document": "B-9", "value": {"count": 3, "names": ["a"]}, "find": null, "database": "titan"}
GET /object/ application/json {"collection": "F-7", "document": "B-9", "value": null, "find": null, "database": "titan"}
DELETE /object/ application/json {"collection": "F-7", "document": "B-9", "value": null, "find": null, "database": "titan"}
GET /object/ application/json {"collection": "F-7", "document": "B-9", "value": null, "find": null, "database": "titan"}'
}

@test "state without a reachable Repository Service: {} and a logged error" {
	rb "$B/stateful" --repo http://127.0.0.1:9/object <<< '{"op":"get"}'
	assert_success
	assert_output '{"port":"output","payload":{"op":"get","result":{}}}'
	assert_stderr_line --partial 'state GET http://127.0.0.1:9/object/ failed:'
}

# ---------------------------------------------------------------------
# stdout belongs to results

@test "print(), sys.stdout, fd 1 and subprocesses of a brick go to stderr; stdin is not theirs" {
	printf '%s\n' 7 8 > "$T/in.jsonl"
	rb "$B/printer" < "$T/in.jsonl"
	assert_success
	assert_output '{"port":"output","payload":7}
{"port":"output","payload":8}'
	assert_stderr_line 'a subprocess read 0 bytes of stdin'
	assert_stderr_line "the brick read '' from stdin"
	# no signal blocked beyond what the test's own processes have
	mask=$(grep SigBlk /proc/self/status)
	assert_equal "$(grep -c "^$mask\$" <<< "$stderr")" 4
	assert_stderr_line 'print from setup'
	assert_stderr_line 'print from process 7'
	assert_stderr_line 'sys.stdout.write'
	assert_stderr_line 'os.write to fd 1'
	assert_stderr_line 'echo from a subprocess'
}
