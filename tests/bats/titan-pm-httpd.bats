#!/usr/bin/env bats
# titan-pm-httpd: the Package Manager over real HTTP on loopback — uploads,
# the brick list a control peer reads, brick code an original control peer
# installs, updates, deletes, control-peer notifications, the admin check,
# CORS, hostile archives, restarts and the CLI contract.

bats_require_minimum_version 1.5.0

setup() {
	bats_load_library bats-support
	bats_load_library bats-assert
	: "${TITAN_BIN:=$BATS_TEST_DIRNAME/../../build/bin}"
	: "${TITAN_TOP:=$BATS_TEST_DIRNAME/../..}"
	PM="$TITAN_BIN/titan-pm-httpd"
	H="$TITAN_TOP/tests/helpers"
	PY=/usr/bin/python3
	T="$BATS_TEST_TMPDIR"
	PIDS=()
	# Each test: its own store, no /etc config, a static admin token, no
	# User Service unless the test starts one.
	export TITAN_PM_PACKAGE_FOLDER="$T/store"
	export TITAN_PM_CONFIG_FILE=
	export TITAN_PM_ADMIN_TOKENS=admintok
	export TITAN_PM_USER_MANAGER=
	AUTH=(-H "Authorization: admintok")
}

teardown() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}

wait_file() { # FILE: until it exists and is non-empty (5 s)
	for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done
	echo "timeout waiting for $1" >&2
	return 1
}

start_pm() { # [args...]: PM on an ephemeral port; sets PM_PID, BASE
	rm -f "$T/port"
	"$PM" --port 0 --address 127.0.0.1 --port-file "$T/port" "$@" 3>&- 2>>"$T/pm.log" &
	PM_PID=$!
	PIDS+=("$PM_PID")
	wait_file "$T/port"
	BASE="http://127.0.0.1:$(cat "$T/port")/packagemanager"
}

stop_pm() {
	kill "$PM_PID"
	wait "$PM_PID"
}

start_double() { # NAME SCRIPT [args...]: sets <NAME>_PORT
	local name=$1 script=$2
	shift 2
	"$PY" "$H/$script" --port-file "$T/$name.port" "$@" 3>&- &
	PIDS+=("$!")
	wait_file "$T/$name.port"
	printf -v "${name}_PORT" '%s' "$(cat "$T/$name.port")"
}

make_pkg() { # OUT KIND [options]
	"$PY" "$H/pm_make_package.py" "$T/$1" "${@:2}"
}

upload() { # FILE [curl args]: prints the body, then the status on its own line
	curl -s -w '\n%{http_code}' "${@:2}" -F "package=@$T/$1" "$BASE/packages"
}

jq_py() { # EXPR: evaluate a Python expression over the JSON on stdin as `d`
	"$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

bricks() { curl -s "$BASE/bricks"; }
brick_id() { bricks | jq_py "[b['id'] for b in d if b['name']=='$1'][0]"; }
store_state() { # everything an upload may change
	curl -s "$BASE/bricks"
	curl -s "$BASE/packages"
	ls "$T/store/bricks"
}

# --- CLI contract ----------------------------------------------------------

@test "--help, --version and usage errors" {
	run "$PM" --help
	assert_success
	assert_output --partial "usage: titan-pm-httpd"
	assert_output --partial "Exit status"
	run "$PM" --version
	assert_success
	assert_output --regexp '^titan-pm-httpd [0-9]+\.[0-9]+\.[0-9]+$'
	run "$PM" --no-such-option
	assert_equal "$status" 64
	assert_output --partial "see titan-pm-httpd --help"
	run "$PM" extra-argument
	assert_equal "$status" 64
}

@test "configuration: file < environment < options, Go-style -port, secrets hidden" {
	cat > "$T/pm.yaml" <<-EOF
	port: 9100
	log-level: warning
	package-folder: /from/file
	allowed-origins: [http://a.example, http://b.example]
	service-ids: [svc-secret]
	ignore-package-content: [tests]
	EOF
	run env -u TITAN_PM_PACKAGE_FOLDER "$PM" --config-file "$T/pm.yaml" --print-config
	assert_success
	assert_line 'port: 9100'
	assert_line 'package-folder: "/from/file"'
	assert_line 'allowed-origins: ["http://a.example", "http://b.example"]'
	assert_line 'service-ids: ["***"]'
	refute_output --partial svc-secret
	assert_output --regexp 'ignore-package-content: \[".git",.*"doc", "tests"\]'
	TITAN_PM_PACKAGE_FOLDER=/from/env TITAN_PM_PORT=9200 run "$PM" -config-file "$T/pm.yaml" -port 9300 --print-config
	assert_success
	assert_line 'package-folder: "/from/env"'
	assert_line 'port: 9300'
}

@test "configuration errors name the file, line and column; MongoDB is refused" {
	printf 'port: 8087\nno-such-key: 1\n' > "$T/bad.yaml"
	run "$PM" --config-file "$T/bad.yaml"
	assert_equal "$status" 78
	assert_output --partial "bad.yaml:2:1: unknown key 'no-such-key'"
	printf 'port: 8087\nport: 8088\n' > "$T/dup.yaml"
	run "$PM" --config-file "$T/dup.yaml"
	assert_equal "$status" 78
	assert_output --partial "dup.yaml:2:1: key 'port' given twice"
	TITAN_PM_DATABASE=127.0.0.1:27017 run "$PM" --print-config
	assert_equal "$status" 78
	assert_output --partial "MongoDB"
	run "$PM" --config-file "$T/missing.yaml"
	assert_equal "$status" 78
	run "$PM" --port 70000
	assert_equal "$status" 78
}

@test "SIGTERM stops cleanly with status 0; a second server on the same folder is refused" {
	start_pm
	run "$PM" --port 0 --address 127.0.0.1
	assert_equal "$status" 75
	assert_output --partial "in use by another titan-pm-httpd"
	kill -TERM "$PM_PID"
	local st=0
	wait "$PM_PID" || st=$?
	assert_equal "$st" 0
	run cat "$T/pm.log"
	assert_output --partial "stopping signal=SIGTERM"
}

@test "a busy port gives exit status 69" {
	start_pm
	local port
	port=$(cat "$T/port")
	TITAN_PM_PACKAGE_FOLDER="$T/other" run "$PM" --port "$port" --address 127.0.0.1
	assert_equal "$status" 69
	assert_output --partial "cannot listen"
}

# --- reading -------------------------------------------------------------------

@test "empty store: GET /bricks is [] as application/json, with and without slash" {
	start_pm
	for p in bricks bricks/ packages packages/; do
		run curl -s -D "$T/h" "$BASE/$p"
		assert_output "[]"
		run grep -i '^content-type: application/json' "$T/h"
		assert_success
	done
}

@test "upload tar.gz: brick list has the fields control peers and the GM use" {
	make_pkg demo.tar.gz good --urn acme:demo:1.2.3
	start_pm
	run upload demo.tar.gz "${AUTH[@]}"
	assert_line --index 1 200
	run bricks
	assert_success
	echo "$output" | jq_py "len(d)" | grep -qx 2
	local gen
	gen=$(echo "$output" | jq_py "[b for b in d if b['name']=='Gen'][0]")
	echo "$gen" | grep -Eq "'id': '[0-9a-f]{24}'"
	run jq_py "[(b['name'], b['family'], b['urn'], b['package'], b['lastmodified'] > 1600000000,
		type(b['lastmodified']).__name__) for b in d]" <<<"$(bricks)"
	assert_output "[('Gen', 'Inlet', 'acme:demo:1.2.3:Gen', 'demo', True, 'int'), ('Sink', 'General', 'acme:demo:1.2.3:Sink', 'demo', True, 'int')]"
	run jq_py "[b for b in d if b['name']=='Gen'][0]" <<<"$(bricks)"
	assert_output --partial "'parameters': [{'name': 'Limit', 'value': 42.5, 'type': 'float64'}, {'name': 'Label', 'value': 'hello', 'type': 'string'}]"
	assert_output --partial "'outputPorts': [{'name': 'Out', 'typeName': 'Number', 'schema': 'Number = integer;\\n'"
	assert_output --partial "'ouputPorts': [{'name': 'Out'"
	assert_output --partial "'inputPorts': [{'name': 'In', 'typeName': 'Number'"
	assert_output --partial "'autoscaleQueueLevel': 7, 'autoscaleMaxInstances': 3, 'exitAfterIdleSeconds': 11"
	# The icon, base64 of the svg bytes; none for the second brick.
	run jq_py "[__import__('base64').b64decode(b['brickimage']).decode() for b in d]" <<<"$(bricks)"
	assert_output "[\"<svg xmlns='http://www.w3.org/2000/svg'/>\", '']"
	# packageId ties bricks to GET /packages.
	run jq_py "d" <<<"$(curl -s "$BASE/packages")"
	assert_output --regexp "^\[\{'id': '[0-9a-f]{24}', 'urn': 'acme:demo:1.2.3', 'author': 'ACME', 'name': 'demo', 'version': '1.2.3', 'description': 'demo bricks'\}\]$"
	local pid
	pid=$(curl -s "$BASE/packages" | jq_py "d[0]['id']")
	run jq_py "sorted(set(b['packageId'] for b in d))" <<<"$(bricks)"
	assert_output "['$pid']"
	run jq_py "len(d)" <<<"$(curl -s "$BASE/bricks?packageId=$pid")"
	assert_output 2
	run curl -s "$BASE/bricks?packageId=nope"
	assert_output "[]"
}

@test "zip and tar packages are accepted too; the POST answer lists the available bricks" {
	make_pkg one.zip good --format zip --name one --bricks A1
	make_pkg two.tar good --format tar --name two --bricks B1,B2
	start_pm
	run upload one.zip "${AUTH[@]}"
	assert_line --index 1 200
	run upload two.tar "${AUTH[@]}"
	assert_line --index 1 200
	run jq_py "sorted(b['name'] for b in d)" <<<"${lines[0]}"
	assert_output "['A1', 'B1', 'B2']"
	run jq_py "sorted(p['name'] for p in d)" <<<"$(curl -s "$BASE/packages")"
	assert_output "['one', 'two']"
}

@test "an original control peer installs every brick from the PM (zip layout, module lookup)" {
	make_pkg demo.tar.gz good
	start_pm
	upload demo.tar.gz "${AUTH[@]}" >/dev/null
	run "$PY" "$H/pm_cp_install.py" "$BASE" "$T/cp"
	assert_success
	assert_line --regexp '^installed [0-9a-f]{24} Gen gen$'
	assert_line --regexp '^installed [0-9a-f]{24} Sink sink.py$'
	local gen
	gen=$(brick_id Gen)
	# Contents of the brick folder at the zip's root; ignored names left out.
	assert [ -f "$T/cp/$gen/gen/__init__.py" ]
	assert [ -f "$T/cp/$gen/requirements.txt" ]
	assert [ -f "$T/cp/$gen/description.yaml" ]
	assert [ ! -e "$T/cp/$gen/README.md" ]
	assert [ ! -e "$T/cp/$gen/.git" ]
	assert [ ! -e "$T/cp/$gen/Gen" ]
	run curl -s -D "$T/h" -o /dev/null "$BASE/bricks/$gen/"
	run grep -i '^content-type: application/zip' "$T/h"
	assert_success
	# A second start of the control peer finds everything up to date.
	touch -d '+1 minute' "$T/cp"/*
	run "$PY" "$H/pm_cp_install.py" "$BASE" "$T/cp"
	assert_success
	assert_output --partial "skipped $gen Gen"
}

@test "lastmodified: bare digits, equal to the list's value; unknown id is 404" {
	make_pkg demo.tar.gz good
	start_pm
	upload demo.tar.gz "${AUTH[@]}" >/dev/null
	local id lm
	id=$(brick_id Sink)
	lm=$(bricks | jq_py "[b['lastmodified'] for b in d if b['name']=='Sink'][0]")
	run curl -s "$BASE/bricks/$id/lastmodified"
	assert_output "$lm"
	run curl -s "$BASE/bricks/$id/lastmodified/"
	assert_output "$lm"
	run curl -s -o /dev/null -w '%{http_code}' "$BASE/bricks/0123456789abcdef01234567"
	assert_output 404
	run curl -s -w ' %{http_code}' "$BASE/bricks/0123456789abcdef01234567/lastmodified"
	assert_output '{"detail":"no brick with id 0123456789abcdef01234567"} 404'
	run curl -s -o /dev/null -w '%{http_code}' "$BASE/bricks/..%2f..%2fetc"
	assert_output 404
}

# --- updates and deletes ------------------------------------------------------------

@test "re-upload keeps ids, raises lastmodified, appends new bricks and never deletes" {
	make_pkg v1.tgz good --bricks Gen,Sink --tag v1
	make_pkg v2.tgz good --bricks Gen,Extra --tag v2
	start_pm
	upload v1.tgz "${AUTH[@]}" >/dev/null
	local gen sink lm1
	gen=$(brick_id Gen)
	sink=$(brick_id Sink)
	lm1=$(curl -s "$BASE/bricks/$gen/lastmodified")
	run upload v2.tgz "${AUTH[@]}"
	assert_line --index 1 200
	assert_equal "$(brick_id Gen)" "$gen"
	assert_equal "$(brick_id Sink)" "$sink"
	run jq_py "[b['name'] for b in d]" <<<"$(bricks)"
	assert_output "['Gen', 'Sink', 'Extra']"
	local lm2
	lm2=$(curl -s "$BASE/bricks/$gen/lastmodified")
	assert [ "$lm2" -gt "$lm1" ]
	# The new code is served.
	curl -s -o "$T/gen.zip" "$BASE/bricks/$gen"
	run "$PY" -c "import zipfile; print(zipfile.ZipFile('$T/gen.zip').read('gen/__init__.py').decode().splitlines()[0])"
	assert_output "# v2"
	# One package entry (same name, no URN), old zips cleaned up.
	run jq_py "len(d)" <<<"$(curl -s "$BASE/packages")"
	assert_output 1
	run ls "$T/store/bricks"
	assert_equal "${#lines[@]}" 4 # 3 zips + 1 icon
}

@test "without package.yaml the package is named after the archive" {
	make_pkg my-bricks.tar.gz good --name folder --no-package-yaml
	start_pm
	run upload my-bricks.tar.gz "${AUTH[@]}"
	assert_line --index 1 200
	run jq_py "[p['name'] for p in d]" <<<"$(curl -s "$BASE/packages")"
	assert_output "['my-bricks']"
}

@test "DELETE /packages?name=A&name=B answers per-package brick counts and removes the code" {
	make_pkg a.tgz good --name A --bricks A1,A2
	make_pkg b.tgz good --name B --bricks B1
	start_pm
	upload a.tgz "${AUTH[@]}" >/dev/null
	upload b.tgz "${AUTH[@]}" >/dev/null
	local a1
	a1=$(brick_id A1)
	run curl -s -w ' %{http_code}' -X DELETE "${AUTH[@]}" "$BASE/packages?name=A&name=Nope"
	assert_output '{"A":2,"Nope":0} 200'
	run jq_py "[b['name'] for b in d]" <<<"$(bricks)"
	assert_output "['B1']"
	run curl -s -o /dev/null -w '%{http_code}' "$BASE/bricks/$a1"
	assert_output 404
	run ls "$T/store/bricks"
	assert_equal "${#lines[@]}" 2 # B1's zip and icon
	run curl -s -w ' %{http_code}' -X DELETE "${AUTH[@]}" "$BASE/packages/"
	assert_output --partial "400"
}

# --- control peers -------------------------------------------------------------------

@test "control peers register (repeatedly), get install notifications, deregister" {
	start_double CP cp_recorder.py --record "$T/cp.jsonl"
	make_pkg demo.tgz good
	start_pm
	for _ in 1 2; do
		run curl -s -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
			-d "\"127.0.0.1:$CP_PORT\"" "$BASE/controlpeers"
		assert_output 200
	done
	upload demo.tgz "${AUTH[@]}" >/dev/null
	wait_file "$T/cp.jsonl"
	sleep 0.3
	run wc -l < "$T/cp.jsonl"
	assert_output 1 # registered twice, notified once
	run jq_py "(d['path'], d['content_type'], sorted(b['name'] for b in d['body']['bricks']))" < "$T/cp.jsonl"
	assert_output "('/api/v1/bricks/install', 'application/json', ['Gen', 'Sink'])"
	run jq_py "sorted(b['id'] for b in d['body']['bricks'])" < "$T/cp.jsonl"
	assert_output "$(bricks | jq_py "sorted(b['id'] for b in d)")"
	run curl -s -w '%{http_code}' -X DELETE -d "\"127.0.0.1:$CP_PORT\"" "$BASE/controlpeers/"
	assert_output 200
	upload demo.tgz "${AUTH[@]}" >/dev/null
	sleep 0.5
	run wc -l < "$T/cp.jsonl"
	assert_output 1
	run grep -c "control peer notified" "$T/pm.log"
	assert_output 1
}

@test "an unreachable control peer neither delays nor fails the upload, and is logged" {
	make_pkg demo.tgz good
	start_pm
	curl -s -X POST -d '"192.0.2.1:8000"' "$BASE/controlpeers" >/dev/null
	curl -s -X POST -d '127.0.0.1:1' "$BASE/controlpeers" >/dev/null # bare text is fine too
	local t0 t1
	t0=$(date +%s%N)
	run upload demo.tgz "${AUTH[@]}"
	t1=$(date +%s%N)
	assert_line --index 1 200
	assert [ $(( (t1 - t0) / 1000000 )) -lt 1500 ]
	for _ in $(seq 100); do grep -q 'peer=127.0.0.1:1' "$T/pm.log" && break; sleep 0.05; done
	run grep 'control peer not notified peer=127.0.0.1:1' "$T/pm.log"
	assert_success
}

@test "control-peer routes reject bodies that are not an address" {
	start_pm
	for body in '' '{"address": "x"}' '"a b"' '"'"$(printf 'x%.0s' $(seq 300))"'"'; do
		run curl -s -w ' %{http_code}' -X POST -d "$body" "$BASE/controlpeers"
		assert_output --partial ' 400'
		assert_output --partial '"detail"'
	done
	run curl -s -o /dev/null -w '%{http_code}' "$BASE/controlpeers"
	assert_output 405
}

# --- admin check -----------------------------------------------------------------------

@test "admin check: missing and unknown tokens 401, static token and service id accepted" {
	make_pkg demo.tgz good
	TITAN_PM_SERVICE_IDS=svc-1 start_pm
	run upload demo.tgz
	assert_line --index 1 401
	assert_output --partial '"detail"'
	run upload demo.tgz -H 'Authorization: wrong'
	assert_line --index 1 401
	run curl -s -o /dev/null -w '%{http_code}' -X DELETE "$BASE/packages?name=demo"
	assert_output 401
	run upload demo.tgz -H 'Authorization: Bearer admintok'
	assert_line --index 1 200
	run curl -s -o /dev/null -w '%{http_code}' -X DELETE -H 'Authorization: svc-1' "$BASE/packages?name=demo"
	assert_output 200
	# Reads and control-peer routes need no token.
	run curl -s -o /dev/null -w '%{http_code}' "$BASE/bricks"
	assert_output 200
}

@test "admin check against the User Service: admin 200, user 403, bad token 401, header forwarded" {
	start_double US userservice_double.py --record "$T/us.jsonl" --users boss=admin --users joe=user
	make_pkg demo.tgz good
	TITAN_PM_USER_MANAGER="http://127.0.0.1:$US_PORT" TITAN_PM_ADMIN_TOKENS= start_pm
	run upload demo.tgz -H 'Authorization: Bearer boss'
	assert_line --index 1 200
	run upload demo.tgz -H 'Authorization: joe'
	assert_line --index 1 403
	assert_output --partial "admin rights required"
	run upload demo.tgz -H 'Authorization: forged'
	assert_line --index 1 401
	run jq_py "(d['path'], d['authorization'])" < <(head -1 "$T/us.jsonl")
	assert_output "('/userservice/user', 'Bearer boss')"
	# The answer is cached: a second upload asks the service no more.
	local n
	n=$(wc -l < "$T/us.jsonl")
	run upload demo.tgz -H 'Authorization: Bearer boss'
	assert_line --index 1 200
	assert_equal "$(wc -l < "$T/us.jsonl")" "$n"
}

@test "admin check: User Service down or failing gives 503, store unchanged" {
	start_double US userservice_double.py --record "$T/us.jsonl" --fail
	make_pkg demo.tgz good
	TITAN_PM_USER_MANAGER="http://127.0.0.1:$US_PORT" start_pm
	run upload demo.tgz -H 'Authorization: someone'
	assert_line --index 1 503
	stop_pm
	TITAN_PM_USER_MANAGER="http://127.0.0.1:1" start_pm
	run upload demo.tgz -H 'Authorization: someone'
	assert_line --index 1 503
	assert_output --partial "unreachable"
	run bricks
	assert_output "[]"
}

# --- CORS ---------------------------------------------------------------------------------

@test "CORS: preflight for allowed origins, refused for others, no headers without Origin" {
	TITAN_PM_ALLOWED_ORIGINS="http://ui.example, http://other.example" start_pm
	run curl -s -D - -o /dev/null -X OPTIONS -H 'Origin: http://ui.example' \
		-H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: authorization' "$BASE/packages"
	assert_line --partial "HTTP/1.1 204"
	assert_line --partial "Access-Control-Allow-Origin: http://ui.example"
	assert_output --regexp "Access-Control-Allow-Methods: [^$'\r']*POST"
	assert_output --regexp "Access-Control-Allow-Headers: [^$'\r']*Authorization"
	run curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -H 'Origin: http://evil.example' \
		-H 'Access-Control-Request-Method: DELETE' "$BASE/packages"
	assert_output 403
	run curl -s -D - -o /dev/null -H 'Origin: http://other.example' "$BASE/bricks"
	assert_line --partial "Access-Control-Allow-Origin: http://other.example"
	assert_line --partial "Vary: Origin"
	run curl -s -D - -o /dev/null -H 'Origin: http://evil.example' "$BASE/bricks"
	assert_line --partial "HTTP/1.1 200"
	refute_output --partial "Access-Control-Allow-Origin"
	run curl -s -D - -o /dev/null "$BASE/bricks"
	refute_output --partial "Access-Control"
}

# --- hostile and broken uploads ----------------------------------------------------------------

# KIND [options] -> expect STATUS and a detail containing TEXT, store unchanged
hostile() {
	local want=$1 text=$2 kind=$3
	shift 3
	make_pkg "h-$kind" "$kind" "$@"
	local before
	before=$(store_state)
	run upload "h-$kind" "${AUTH[@]}"
	assert_line --index 1 "$want"
	assert_line --index 0 --partial '"detail":'
	assert_line --index 0 --partial "$text"
	assert_equal "$(store_state)" "$before"
	run ls -A "$T/store/tmp"
	assert_output ""
}

@test "hostile archives are refused with 400 and change nothing" {
	make_pkg good.tgz good --name keep --bricks K1
	start_pm
	upload good.tgz "${AUTH[@]}" >/dev/null
	hostile 400 "'..'" zipslip --format zip
	hostile 400 "'..'" zipslip --format tgz
	hostile 400 "absolute path" abspath --format tar
	hostile 400 "symbolic links are not allowed" symlink --format zip
	hostile 400 "symbolic links are not allowed" symlink --format tgz
	hostile 400 "hard links are not allowed" hardlink
	hostile 400 "more than 10000 entries" bomb-entries
	hostile 400 "size limit" bomb-size
	hostile 400 "h-truncated" truncated --format tgz
	hostile 400 "h-truncated" truncated --format zip
	assert [ ! -e "$T/pm-evil.txt" ]
	assert [ ! -e /tmp/pm-evil-abs.txt ]
}

@test "broken packages are refused with a detail naming the file and the problem" {
	make_pkg good.tgz good --name keep --bricks K1
	start_pm
	upload good.tgz "${AUTH[@]}" >/dev/null
	hostile 400 "demo/Sink/description.yaml: missing" nodesc
	hostile 400 "demo/Sink/description.yaml:3:" badyaml
	hostile 400 "demo/Sink: brick code missing: expected 'Sink.py'" nocode
	hostile 400 "exactly one folder" twodirs
	hostile 400 "too large (too many values)" yamlbomb
	printf 'not an archive' > "$T/junk.zip"
	run upload junk.zip "${AUTH[@]}"
	assert_line --index 1 400
	assert_line --index 0 --partial "junk.zip: not a readable zip, tar or tar.gz archive"
	run curl -s -w ' %{http_code}' "${AUTH[@]}" -F "other=@$T/junk.zip" "$BASE/packages"
	assert_output --partial "field 'package'"
	assert_output --partial " 400"
}

@test "a body over the upload limit is 413 without being read; other routes have a small limit" {
	start_pm
	truncate -s 65M "$T/huge.tgz"
	run upload huge.tgz "${AUTH[@]}"
	assert_line --index 1 413
	assert_line --index 0 --partial '"detail"'
	head -c 70000 /dev/zero | tr '\0' 'a' > "$T/big.txt"
	run curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "@$T/big.txt" "$BASE/controlpeers"
	assert_output 413
	run bricks
	assert_output "[]"
}

@test "concurrent uploads of different packages all land" {
	for i in 1 2 3 4; do make_pkg "p$i.tgz" good --name "P$i" --bricks "B${i}a,B${i}b"; done
	start_pm
	local up=()
	for i in 1 2 3 4; do
		upload "p$i.tgz" "${AUTH[@]}" > "$T/r$i" 3>&- &
		up+=("$!")
	done
	wait "${up[@]}" # not a bare wait: the server is a child too
	for i in 1 2 3 4; do run tail -1 "$T/r$i"; assert_output 200; done
	run jq_py "len(d), len(set(b['id'] for b in d))" <<<"$(bricks)"
	assert_output "8 8"
}

# --- restart and routing -------------------------------------------------------------------------

@test "restart keeps packages, bricks, code and registered control peers" {
	start_double CP cp_recorder.py --record "$T/cp.jsonl"
	make_pkg demo.tgz good
	start_pm
	curl -s -X POST -d "\"127.0.0.1:$CP_PORT\"" "$BASE/controlpeers" >/dev/null
	upload demo.tgz "${AUTH[@]}" >/dev/null
	local before
	before=$(curl -s "$BASE/bricks"; curl -s "$BASE/packages")
	wait_file "$T/cp.jsonl"
	stop_pm
	# A file left by a crash between moving an upload in and its commit.
	echo junk > "$T/store/bricks/0123456789abcdef01234567-1.zip"
	start_pm
	assert_equal "$(curl -s "$BASE/bricks"; curl -s "$BASE/packages")" "$before"
	assert [ ! -e "$T/store/bricks/0123456789abcdef01234567-1.zip" ]
	run ls "$T/store/bricks"
	assert_equal "${#lines[@]}" 3 # two zips and one icon
	run "$PY" "$H/pm_cp_install.py" "$BASE" "$T/cp"
	assert_success
	upload demo.tgz "${AUTH[@]}" >/dev/null
	for _ in $(seq 100); do [ "$(wc -l < "$T/cp.jsonl")" -ge 2 ] && break; sleep 0.05; done
	run wc -l < "$T/cp.jsonl"
	assert_output 2
}

@test "unknown routes are 404, wrong methods 405, both with a JSON detail" {
	start_pm
	run curl -s -w ' %{http_code}' "http://127.0.0.1:$(cat "$T/port")/elsewhere"
	assert_output --partial '"detail"'
	assert_output --partial ' 404'
	run curl -s -w ' %{http_code}' "$BASE/nothing"
	assert_output --partial ' 404'
	run curl -s -D - -o /dev/null -X PUT "$BASE/bricks"
	assert_line --partial "HTTP/1.1 405"
	assert_line --partial "Allow: GET"
	run curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/bricks/abc"
	assert_output 405
}
