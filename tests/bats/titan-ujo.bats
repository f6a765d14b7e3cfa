#!/usr/bin/env bats
# titan-ujo: the reference vectors of ujo-format.md §10 byte for byte,
# round trips, the dump, frame streams, hostile input and the CLI contract.

setup() {
	bats_load_library bats-support
	bats_load_library bats-assert
	: "${TITAN_BIN:=$BATS_TEST_DIRNAME/../../build/bin}"
	U="$TITAN_BIN/titan-ujo"
	T="$BATS_TEST_TMPDIR"
}

# ---------------------------------------------------------------------
# Reference vectors: J = annotated JSON, H = reference hex, P = plain JSON
# that decode prints for H.

vector() {
	case $1 in
	V2) J='[]' H=5f554a4f0100003000 P='[]' ;;
	V3) J='{}' H=5f554a4f0100003100 P='{}' ;;
	V6) J='[null]' H=5f554a4f010000300f00 P='[null]' ;;
	V7) J='[true, false]' H=5f554a4f010000300d010d0000 P='[true,false]' ;;
	V8) J='[9223372036854775807, -9223372036854775808, {"@type": "int32", "@value": 2147483647}, {"@type": "int32", "@value": -2147483648}, {"@type": "int16", "@value": 32767}, {"@type": "int16", "@value": -32768}, {"@type": "int8", "@value": 127}, {"@type": "int8", "@value": -128}, {"@type": "uint64", "@value": "18446744073709551615"}, {"@type": "uint32", "@value": 4294967295}, {"@type": "uint16", "@value": 65535}, {"@type": "uint8", "@value": 255}]'
	    H=5f554a4f0100003005ffffffffffffff7f05000000000000008006ffffff7f060000008007ff7f070080087f088009ffffffffffffffff0affffffff0bffff0cff00
	    P='[9223372036854775807,-9223372036854775808,2147483647,-2147483648,32767,-32768,127,-128,18446744073709551615,4294967295,65535,255]' ;;
	V9) J='[-1, 0, 20]' H=5f554a4f0100003005ffffffffffffffff05000000000000000005140000000000000000 P='[-1,0,20]' ;;
	V10) J='[{"@type": "uint16", "@value": 4660}, {"@type": "uint32", "@value": 305419896}, {"@type": "uint64", "@value": 81985529216486895}]'
	    H=5f554a4f010000300b34120a7856341209efcdab896745230100 P='[4660,305419896,81985529216486895]' ;;
	V11) J='[1.0, -2.5, 0.0, -0.0]' H=5f554a4f0100003001000000000000f03f0100000000000004c001000000000000000001000000000000008000
	    P='[1.0,-2.5,0.0,-0.0]' ;;
	V13) J='[{"@type": "float16", "@value": 1.0}, {"@type": "float16", "@value": -2.0}, {"@type": "float16", "@value": 65504.0}, {"@type": "float16", "@value": 43332.0}]'
	    H=5f554a4f0100003003003c0300c003ff7b034a7900 P='[1.0,-2.0,65504.0,43328.0]' ;;
	V14) J='[{"@type": "float16", "@value": 24.135}]' H=5f554a4f0100003003084e00 P='[24.125]' ;;
	V15) J='[{"@type": "uxtime", "@value": 9223372036854775807}, {"@type": "date", "@value": "1971-08-23"}, {"@type": "time", "@value": "23:45:12"}, {"@type": "timestamp", "@value": "2013-07-24T16:12:40.340"}]'
	    H=5f554a4f0100003010ffffffffffffff7f11b307081712172d0c13dd070718100c28540100
	    P='[9223372036854775807,"1971-08-23","23:45:12","2013-07-24T16:12:40.340"]' ;;
	V17) J='[{"@type": "cstring", "@value": "Maik Wojcieszak@tml-software.com\n"}]'
	    H=5f554a4f010000300400220000004d61696b20576f6a636965737a616b40746d6c2d736f6674776172652e636f6d0a0000
	    P='["Maik Wojcieszak@tml-software.com\n"]' ;;
	V19) J='["hello"]' H=5f554a4f0100003004010500000068656c6c6f00 P='["hello"]' ;;
	V20) J='[""]' H=5f554a4f0100003004010000000000 P='[""]' ;;
	V21) J='["Grüße €😀"]' H=5f554a4f0100003004010f0000004772c3bcc39f6520e282acf09f988000 P='["Grüße €😀"]' ;;
	V22) J='[{"@type": "utf16", "@value": "Aé😀"}]' H=5f554a4f010000300402040000004100e9003dd800de00 P='["Aé😀"]' ;;
	V23) J='[{"@type": "utf32", "@value": "A😀"}]' H=5f554a4f010000300403020000004100000000f6010000 P='["A😀"]' ;;
	V24) J='[{"@type": "binary", "@value": "010203"}]' H=5f554a4f010000300e000300000001020300 P='["010203"]' ;;
	V25) J='[{"@type": "binary", "@value": ""}]' H=5f554a4f010000300e000000000000 P='[""]' ;;
	V26) J='[{"@type": "binary", "@value": "5f554a4f0100003000", "@subtype": 1}]'
	    H=5f554a4f010000300e01090000005f554a4f010000300000 P='["5f554a4f0100003000"]' ;;
	V28) J='[12345678, {"@type": "float16", "@value": 43332.0}, {"@type": "float32", "@value": 3.14}, 9.81, {"@type": "map", "@value": [[42, {"@type": "int16", "@value": 102}], [{"@type": "int8", "@value": 21}, [true, null]]]}]'
	    H=5f554a4f01000030054e61bc0000000000034a7902c3f54840011f85eb51b89e234031052a000000000000000766000815300d010f000000
	    P='[12345678,43328.0,3.14,9.81,{"42":102,"21":[true,null]}]' ;;
	V30) J='{"a": 1}' H=5f554a4f010000310401010000006105010000000000000000 P='{"a":1}' ;;
	V31) J='{"k": null, "b": true, "f": 1.5}' H=5f554a4f010000310401010000006b0f040101000000620d010401010000006601000000000000f83f00
	    P='{"k":null,"b":true,"f":1.5}' ;;
	V32) J='{"list": [1, 2.5, null, "x"], "map": {}, "empty": []}'
	    H=5f554a4f010000310401040000006c697374300501000000000000000100000000000004400f04010100000078000401030000006d61703100040105000000656d707479300000
	    P='{"list":[1,2.5,null,"x"],"map":{},"empty":[]}' ;;
	V33) J='[[[]]]' H=5f554a4f010000303030000000 P='[[[]]]' ;;
	V35) J='[{"@type": "timestamp", "@value": "2020-01-02T03:04:05.678"}]' H=5f554a4f0100003013e4070102030405a60200
	    P='["2020-01-02T03:04:05.678"]' ;;
	V36) J='{"@type": "map", "@value": [[1.5, "x"], [true, {"@type": "int8", "@value": 1}], [null, null]]}'
	    H=5f554a4f0100003101000000000000f83f040101000000780d0108010f0f00 P='{"1.5":"x","true":1,"null":null}' ;;
	V37) J='{"@type": "table", "@value": {"columns": [{"@type": "cstring", "@value": "Name"}, {"@type": "cstring", "@value": "Age"}, {"@type": "cstring", "@value": "Phone"}], "rows": [[{"@type": "cstring", "@value": "Maik"}, {"@type": "int8", "@value": 23}, {"@type": "cstring", "@value": "+49 0431 1234"}], [{"@type": "cstring", "@value": "Stefan"}, {"@type": "int8", "@value": 36}, [{"@type": "cstring", "@value": "+49 0431 1234"}, {"@type": "cstring", "@value": "+49 127 87917"}, {"@type": "cstring", "@value": "+49 3456789"}]]]}}'
	    H=5f554a4f010000320400050000004e616d65000400040000004167650004000600000050686f6e6500000400050000004d61696b00081704000e0000002b3439203034333120313233340004000700000053746566616e0008243004000e0000002b3439203034333120313233340004000e0000002b3439203132372038373931370004000c0000002b34392033343536373839000000
	    P='[{"Name":"Maik","Age":23,"Phone":"+49 0431 1234"},{"Name":"Stefan","Age":36,"Phone":["+49 0431 1234","+49 127 87917","+49 3456789"]}]' ;;
	V38) J='{"@type": "table", "@value": {"columns": ["c"], "rows": []}}' H=5f554a4f01000032040101000000630000 P='[]' ;;
	# titanfe frames (H includes the 4-byte length)
	V39) J='[21, 25]' H=0000001b5f554a4f0100003005150000000000000005190000000000000000 P='[21,25]' ;;
	V40) J='[22, ["B-1", "out"]]' H=000000265f554a4f0100003005160000000000000030040103000000422d310401030000006f75740000
	    P='[22,["B-1","out"]]' ;;
	V41) J='[20, {"payload": null}]' H=000000225f554a4f01000030051400000000000000310401070000007061796c6f61640f0000
	    P='[20,{"payload":null}]' ;;
	V42) J='[20, {"uid": "P-1", "started": 1600000000000000000, "port": "out", "payload": {"value": 42}, "buffer": {}, "input_entry": 0.0, "input_exit": 0.0, "output_entry": 1600000000000000100, "output_exit": 1600000000000000200}]'
	    H=000000e85f554a4f0100003005140000000000000031040103000000756964040103000000502d3104010700000073746172746564050000a0d885573416040104000000706f72740401030000006f75740401070000007061796c6f61643104010500000076616c7565052a0000000000000000040106000000627566666572310004010b000000696e7075745f656e74727901000000000000000004010a000000696e7075745f6578697401000000000000000004010c0000006f75747075745f656e747279056400a0d88557341604010b0000006f75747075745f6578697405c800a0d8855734160000
	    P='[20,{"uid":"P-1","started":1600000000000000000,"port":"out","payload":{"value":42},"buffer":{},"input_entry":0.0,"input_exit":0.0,"output_entry":1600000000000000100,"output_exit":1600000000000000200}]' ;;
	*) echo "no vector $1" >&2; return 1 ;;
	esac
}

# encode reproduces the reference bytes
encodes_to_reference() {
	vector "$1"
	run bash -c 'printf "%s" "$1" | "$2" encode --hex' _ "$J" "$U"
	assert_success
	assert_output "$H"
}

# decode prints the plain JSON
decodes_to_plain() {
	vector "$1"
	printf '%s' "$H" | xxd -r -p > "$T/doc"
	run "$U" decode "$T/doc"
	assert_success
	assert_output "$P"
}

# decode --typed | encode gives the same bytes (binary, through xxd)
typed_round_trip() {
	vector "$1"
	printf '%s' "$H" | xxd -r -p > "$T/doc"
	"$U" decode --typed "$T/doc" > "$T/doc.json"
	"$U" encode "$T/doc.json" > "$T/back"
	run cmp "$T/doc" "$T/back"
	assert_success
}

@test "V2 [] encodes to the reference bytes" { encodes_to_reference V2; }
@test "V3 {} encodes to the reference bytes" { encodes_to_reference V3; }
@test "V6 [None] encodes to the reference bytes" { encodes_to_reference V6; }
@test "V7 [True, False] encodes to the reference bytes" { encodes_to_reference V7; }
@test "V8 integer limits (annotated) encode to the reference bytes" { encodes_to_reference V8; }
@test "V9 int64s encode to the reference bytes" { encodes_to_reference V9; }
@test "V10 unsigned integers encode to the reference bytes" { encodes_to_reference V10; }
@test "V11 float64s incl. -0.0 encode to the reference bytes" { encodes_to_reference V11; }
@test "V13 float16s (truncating, saturating) encode to the reference bytes" { encodes_to_reference V13; }
@test "V14 float16 24.135 truncates to 0x4e08" { encodes_to_reference V14; }
@test "V15 uxtime, date, time, timestamp encode to the reference bytes" { encodes_to_reference V15; }
@test "V17 cstring encodes to the reference bytes" { encodes_to_reference V17; }
@test "V19 utf8 string encodes to the reference bytes" { encodes_to_reference V19; }
@test "V20 empty utf8 string encodes to the reference bytes" { encodes_to_reference V20; }
@test "V21 non-ASCII utf8 string encodes to the reference bytes" { encodes_to_reference V21; }
@test "V22 utf16 with a surrogate pair encodes to the reference bytes" { encodes_to_reference V22; }
@test "V23 utf32 encodes to the reference bytes" { encodes_to_reference V23; }
@test "V24 binary encodes to the reference bytes" { encodes_to_reference V24; }
@test "V25 empty binary encodes to the reference bytes" { encodes_to_reference V25; }
@test "V26 binary with subtype 1 encodes to the reference bytes" { encodes_to_reference V26; }
@test "V28 map with non-string keys encodes to the reference bytes" { encodes_to_reference V28; }
@test "V30 {a: 1} encodes to the reference bytes" { encodes_to_reference V30; }
@test "V31 map of none, bool, float encodes to the reference bytes" { encodes_to_reference V31; }
@test "V32 nested and empty containers encode to the reference bytes" { encodes_to_reference V32; }
@test "V33 [[[]]] encodes to the reference bytes" { encodes_to_reference V33; }
@test "V35 timestamp with milliseconds encodes to the reference bytes" { encodes_to_reference V35; }
@test "V36 map with float, bool, none keys encodes to the reference bytes" { encodes_to_reference V36; }
@test "V37 table encodes to the reference bytes" { encodes_to_reference V37; }
@test "V38 table without rows encodes to the reference bytes" { encodes_to_reference V38; }

@test "V2 decodes to plain JSON" { decodes_to_plain V2; }
@test "V3 decodes to plain JSON" { decodes_to_plain V3; }
@test "V6 decodes to plain JSON" { decodes_to_plain V6; }
@test "V7 decodes to plain JSON" { decodes_to_plain V7; }
@test "V8 decodes to plain JSON" { decodes_to_plain V8; }
@test "V9 decodes to plain JSON" { decodes_to_plain V9; }
@test "V10 decodes to plain JSON" { decodes_to_plain V10; }
@test "V11 decodes to plain JSON (floats keep a '.')" { decodes_to_plain V11; }
@test "V13 decodes to plain JSON (exact float16 values)" { decodes_to_plain V13; }
@test "V14 decodes to plain JSON" { decodes_to_plain V14; }
@test "V15 decodes to plain JSON (ISO dates)" { decodes_to_plain V15; }
@test "V17 decodes to plain JSON" { decodes_to_plain V17; }
@test "V19 decodes to plain JSON" { decodes_to_plain V19; }
@test "V20 decodes to plain JSON" { decodes_to_plain V20; }
@test "V21 decodes to plain JSON" { decodes_to_plain V21; }
@test "V22 decodes to plain JSON (utf16 as UTF-8)" { decodes_to_plain V22; }
@test "V23 decodes to plain JSON (utf32 as UTF-8)" { decodes_to_plain V23; }
@test "V24 decodes to plain JSON (binary as hex)" { decodes_to_plain V24; }
@test "V25 decodes to plain JSON" { decodes_to_plain V25; }
@test "V26 decodes to plain JSON" { decodes_to_plain V26; }
@test "V28 decodes to plain JSON (keys as strings)" { decodes_to_plain V28; }
@test "V30 decodes to plain JSON" { decodes_to_plain V30; }
@test "V31 decodes to plain JSON" { decodes_to_plain V31; }
@test "V32 decodes to plain JSON" { decodes_to_plain V32; }
@test "V33 decodes to plain JSON" { decodes_to_plain V33; }
@test "V35 decodes to plain JSON" { decodes_to_plain V35; }
@test "V36 decodes to plain JSON" { decodes_to_plain V36; }
@test "V37 decodes to plain JSON (rows as objects)" { decodes_to_plain V37; }
@test "V38 decodes to plain JSON" { decodes_to_plain V38; }

@test "V2 typed round trip is byte-identical" { typed_round_trip V2; }
@test "V3 typed round trip is byte-identical" { typed_round_trip V3; }
@test "V6 typed round trip is byte-identical" { typed_round_trip V6; }
@test "V7 typed round trip is byte-identical" { typed_round_trip V7; }
@test "V8 typed round trip is byte-identical" { typed_round_trip V8; }
@test "V9 typed round trip is byte-identical" { typed_round_trip V9; }
@test "V10 typed round trip is byte-identical" { typed_round_trip V10; }
@test "V11 typed round trip is byte-identical" { typed_round_trip V11; }
@test "V13 typed round trip is byte-identical" { typed_round_trip V13; }
@test "V14 typed round trip is byte-identical" { typed_round_trip V14; }
@test "V15 typed round trip is byte-identical" { typed_round_trip V15; }
@test "V17 typed round trip is byte-identical" { typed_round_trip V17; }
@test "V19 typed round trip is byte-identical" { typed_round_trip V19; }
@test "V20 typed round trip is byte-identical" { typed_round_trip V20; }
@test "V21 typed round trip is byte-identical" { typed_round_trip V21; }
@test "V22 typed round trip is byte-identical" { typed_round_trip V22; }
@test "V23 typed round trip is byte-identical" { typed_round_trip V23; }
@test "V24 typed round trip is byte-identical" { typed_round_trip V24; }
@test "V25 typed round trip is byte-identical" { typed_round_trip V25; }
@test "V26 typed round trip is byte-identical" { typed_round_trip V26; }
@test "V28 typed round trip is byte-identical" { typed_round_trip V28; }
@test "V30 typed round trip is byte-identical" { typed_round_trip V30; }
@test "V31 typed round trip is byte-identical" { typed_round_trip V31; }
@test "V32 typed round trip is byte-identical" { typed_round_trip V32; }
@test "V33 typed round trip is byte-identical" { typed_round_trip V33; }
@test "V35 typed round trip is byte-identical" { typed_round_trip V35; }
@test "V36 typed round trip is byte-identical" { typed_round_trip V36; }
@test "V37 typed round trip is byte-identical" { typed_round_trip V37; }
@test "V38 typed round trip is byte-identical" { typed_round_trip V38; }

@test "the other reference vectors (V4 V5 V12 V16 V18 V27 V29 V34) round-trip typed, also --pretty" {
	v27=5f554a4f010000300e0000040000$(for i in 1 2 3 4; do printf '%02x' $(seq 0 255); done)00
	for h in 5f554a4f0100003003214402c3f54840011f85eb51b81e094000 \
		5f554a4f010000300801070201060403020105080706050403020100 \
		5f554a4f0100003001000000000000f87f00 5f554a4f0100003010000000000000000011ffff0c1f00 \
		5f554a4f010000300400010000000000 "$v27" \
		5f554a4f01000030054e61bc000000000003003c02c3f54840011f85eb51b89e234031052a000000000000000766000815300d010f000000 \
		5f554a4f0100003005010000000000000005ff0000000000000000; do
		run bash -c 'echo "$1" | "$2" decode --hex --typed --pretty | "$2" encode --hex' _ "$h" "$U"
		assert_success
		assert_output "$h"
	done
}

# ---------------------------------------------------------------------
# Frames

@test "V39 PacketRequest encodes to the reference frame (the man page example)" {
	run bash -c "echo '[21, 25]' | '$U' encode --frame --hex"
	assert_success
	assert_output 0000001b5f554a4f0100003005150000000000000005190000000000000000
}

@test "V40 ConsumerRegistration encodes to the reference frame" {
	vector V40
	run bash -c 'printf "%s" "$1" | "$2" encode --frame --hex' _ "$J" "$U"
	assert_success
	assert_output "$H"
}

@test "V41 minimal packet message encodes to the reference frame" {
	vector V41
	run bash -c 'printf "%s" "$1" | "$2" encode --frame --hex' _ "$J" "$U"
	assert_success
	assert_output "$H"
}

@test "V42 full packet message encodes to the reference frame" {
	vector V42
	run bash -c 'printf "%s" "$1" | "$2" encode --frame --hex' _ "$J" "$U"
	assert_success
	assert_output "$H"
}

@test "encode --frame turns several JSON values into a frame stream" {
	for v in V39 V40 V42; do vector $v; printf '%s\n' "$J"; done > "$T/msgs.json"
	for v in V39 V40 V42; do vector $v; printf '%s' "$H"; done | xxd -r -p > "$T/expected"
	"$U" encode --frame "$T/msgs.json" > "$T/stream"
	run cmp "$T/expected" "$T/stream"
	assert_success
	run "$U" encode --frame --hex "$T/msgs.json"
	assert_success
	assert_equal "${#lines[@]}" 3
	vector V40
	assert_line --index 1 "$H"
}

@test "decode --frames of V39+V40+V42 prints three JSON lines" {
	for v in V39 V40 V42; do vector $v; printf '%s' "$H"; done | xxd -r -p > "$T/stream"
	run "$U" decode --frames "$T/stream"
	assert_success
	assert_equal "${#lines[@]}" 3
	vector V39; assert_line --index 0 "$P"
	vector V40; assert_line --index 1 "$P"
	vector V42; assert_line --index 2 "$P"
}

@test "decode --frames --typed | encode --frame reproduces the stream" {
	for v in V39 V40 V41 V42; do vector $v; printf '%s' "$H"; done | xxd -r -p > "$T/stream"
	"$U" decode --frames --typed "$T/stream" | "$U" encode --frame > "$T/back"
	run cmp "$T/stream" "$T/back"
	assert_success
}

@test "decode --messages names titanfe messages" {
	for v in V39 V40 V42; do vector $v; printf '%s' "$H"; done > "$T/stream.hex"
	run "$U" decode --hex --messages "$T/stream.hex"
	assert_success
	assert_line --index 0 "--- frame 1 (27 bytes)"
	assert_line --index 1 "PacketRequest 25"
	assert_line --index 3 'ConsumerRegistration ["B-1","out"]'
	assert_line --index 4 "--- frame 3 (232 bytes)"
	assert_line --index 5 "Packet"
	assert_line --index 6 '  "uid": utf8 "P-1"'
	assert_line '  "payload": map'
	assert_line '    "value": int64 42'
	assert_line '  "input_entry": float64 0.0'
	assert_line '  "output_exit": int64 1600000000000000200'
}

@test "decode --messages dumps a frame that is no titanfe message as it is" {
	run bash -c 'echo "[99, 1]" | "$1" encode --frame --hex | "$1" decode --hex --messages' _ "$U"
	assert_success
	assert_output "--- frame 1 (27 bytes)
list
  int64 99
  int64 1"
}

@test "decode --frames prints each frame as it arrives" {
	mkfifo "$T/in"
	"$U" decode --frames < "$T/in" > "$T/out" 3>&- &
	pid=$!
	exec 4> "$T/in"
	vector V39
	printf '%s' "$H" | xxd -r -p >&4
	for _ in $(seq 100); do [ -s "$T/out" ] && break; sleep 0.05; done
	first=$(cat "$T/out")
	vector V40
	printf '%s' "$H" | xxd -r -p >&4
	exec 4>&-
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$first" '[21,25]'
	assert_equal "$rc" 0
	run cat "$T/out"
	assert_line --index 1 '[22,["B-1","out"]]'
}

# A process that has exited (a zombie counts as exited).
running() {
	local s
	s=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$s" ] && [ "$s" != Z ]
}

@test "a huge frame length is refused at once, not after waiting for its body" {
	mkfifo "$T/in"
	"$U" decode --frames < "$T/in" 2> "$T/err" 3>&- &
	pid=$!
	exec 4> "$T/in"
	printf '\xff\xff\xff\xff' >&4
	ended=no
	for _ in $(seq 100); do running "$pid" || { ended=yes; break; }; sleep 0.05; done
	exec 4>&- # the stream was still open when it gave up
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$ended" yes
	assert_equal "$rc" 65
	run cat "$T/err"
	assert_output "titan-ujo: error: frame 1: length 4294967295 at offset 0 exceeds the maximum frame size 16777216 (see --max-frame)"
}

@test "--max-frame refuses a frame above the limit, accepts one at it" {
	vector V39 # a 27-byte body
	run bash -c 'echo "$1" | "$2" decode --hex --frames --max-frame 26' _ "$H" "$U"
	assert_failure 65
	assert_output --partial "exceeds the maximum frame size 26"
	run bash -c 'echo "$1" | "$2" decode --hex --frames --max-frame 27' _ "$H" "$U"
	assert_success
	run bash -c 'echo "[21, 25]" | "$1" encode --frame --hex --max-frame 26' _ "$U"
	assert_failure 65
	assert_output --partial "exceeds the maximum frame size 26"
}

@test "a truncated frame, a short length prefix and a too small length are bad data" {
	run bash -c 'echo 0000001b5f554a4f01000030051500 | "$1" decode --hex --frames' _ "$U"
	assert_failure 65
	assert_output "titan-ujo: error: frame 1: truncated: the input ends 15 bytes into the frame at offset 0"
	run bash -c 'echo 0000001b5f554a4f0100003005150000000000000005190000000000000000 0000 | "$1" decode --hex --frames' _ "$U"
	assert_failure 65
	assert_line --index 0 '[21,25]'
	assert_output --partial "frame 2: truncated"
	run bash -c 'echo 00000002 3000 | "$1" decode --hex --frames' _ "$U"
	assert_failure 65
	assert_output --partial "frame 1: length 2 at offset 0 is too small"
}

@test "a bad document inside a frame is reported with the frame and the stream offset" {
	run bash -c 'echo 0000001b5f554a4f0100003005150000000000000005190000000000000000 0000000a5f554a4f010000301400 | "$1" decode --hex --frames' _ "$U"
	assert_failure 65
	assert_output --partial "frame 2: invalid UJO document at offset 43 (unknown type code or subtype)"
}

# ---------------------------------------------------------------------
# Dump

@test "dump shows types, float16 bits, dates and non-string keys" {
	vector V28
	run bash -c 'echo "$1" | "$2" decode --hex --dump' _ "$H" "$U"
	assert_success
	assert_output "list
  int64 12345678
  float16 43328.0 (0x794a)
  float32 3.14
  float64 9.81
  map
    int64 42: int16 102
    int8 21: list
      bool true
      none"
	vector V15
	run bash -c 'echo "$1" | "$2" decode --hex --dump' _ "$H" "$U"
	assert_line --index 2 "  date 1971-08-23"
	assert_line --index 3 "  time 23:45:12"
	assert_line --index 4 "  timestamp 2013-07-24T16:12:40.340"
}

@test "dump of V14, binary, strings and a table" {
	run bash -c 'echo 5f554a4f0100003003084e00 | "$1" decode --hex --dump' _ "$U"
	assert_line --index 1 "  float16 24.125 (0x4e08)"
	vector V26
	run bash -c 'echo "$1" | "$2" decode -x -d' _ "$H" "$U"
	assert_line --index 1 "  binary subtype 1 (9 bytes) 5f554a4f0100003000"
	vector V22
	run bash -c 'echo "$1" | "$2" decode -x -d' _ "$H" "$U"
	assert_line --index 1 '  utf16 "Aé😀"'
	vector V37
	run bash -c 'echo "$1" | "$2" decode -x -d' _ "$H" "$U"
	assert_success
	assert_line --index 0 "table"
	assert_line --index 1 '  column cstring "Name"'
	assert_line --index 4 "  row 1"
	assert_line --index 5 '    "Name": cstring "Maik"'
	assert_line --index 6 '    "Age": int8 23'
	assert_line '    "Phone": list'
	assert_line '      cstring "+49 3456789"'
	run bash -c 'echo 5f554a4f0100003010000000000000000000 | "$1" decode -x -d' _ "$U"
	assert_line --index 1 "  uxtime 0 (1970-01-01T00:00:00Z)"
}

# ---------------------------------------------------------------------
# Typed JSON beyond the reference vectors

@test "typed JSON keeps strings that are not valid text, and maps keyed @type" {
	# utf8 "hi\xff", utf16 lone surrogate d800, map {"@type": 1}
	h=5f554a4f010000300401030000006869ff04020100000000d83104010500000040747970650501000000000000000000
	run bash -c 'echo "$1" | "$2" decode --hex --typed' _ "$h" "$U"
	assert_success
	assert_output '[{"@type":"utf8","@hex":"6869ff"},{"@type":"utf16","@hex":"00d8"},{"@type":"map","@value":[["@type",1]]}]'
	run bash -c 'echo "$1" | "$2" decode --hex --typed | "$2" encode --hex' _ "$h" "$U"
	assert_output "$h"
	run bash -c 'echo "$1" | "$2" decode --hex' _ "$h" "$U"
	assert_output '["hi�","�",{"@type":1}]'
}

@test "NaN and infinities: strings in plain JSON, annotated in typed JSON" {
	h=5f554a4f0100003001000000000000f87f01000000000000f07f01000000000000f0ff00
	run bash -c 'echo "$1" | "$2" decode --hex' _ "$h" "$U"
	assert_output '["nan","inf","-inf"]'
	run bash -c 'echo "$1" | "$2" decode --hex --typed | "$2" encode --hex' _ "$h" "$U"
	assert_output "$h"
}

@test "strings with U+0000 and escapes round-trip; output escapes control characters" {
	run bash -c 'printf "%s" "[\"a\\u0000b\\t\\\"\\\\\\/\\ud83d\\ude00\"]" | "$1" encode --hex' _ "$U"
	assert_success
	assert_output 5f554a4f0100003004010b00000061006209225c2ff09f988000
	run bash -c 'echo 5f554a4f0100003004010b00000061006209225c2ff09f988000 | "$1" decode --hex' _ "$U"
	assert_output '["a\u0000b\t\"\\/😀"]'
}

@test "--pretty indents by two spaces and keeps empty containers short" {
	vector V32
	run bash -c 'echo "$1" | "$2" decode --hex --pretty' _ "$H" "$U"
	assert_success
	assert_output '{
  "list": [
    1,
    2.5,
    null,
    "x"
  ],
  "map": {},
  "empty": []
}'
}

@test "--bare encodes and decodes one value without the header" {
	run bash -c 'echo "{\"@type\": \"int8\", \"@value\": -1}" | "$1" encode --bare --hex' _ "$U"
	assert_success
	assert_output 08ff
	run bash -c 'echo 08ff | "$1" decode --bare --hex --typed' _ "$U"
	assert_output '{"@type":"int8","@value":-1}'
	run bash -c 'echo 08ff00 | "$1" decode --bare --hex' _ "$U"
	assert_failure 65
	assert_output --partial "at offset 2 (bytes after the end of the document)"
}

@test "files are read from the operand, '-' is standard input" {
	vector V31
	printf '%s' "$J" > "$T/in.json"
	"$U" encode "$T/in.json" > "$T/out.ujo"
	run "$U" decode "$T/out.ujo"
	assert_output "$P"
	run bash -c '"$1" decode - < "$2"' _ "$U" "$T/out.ujo"
	assert_output "$P"
}

# ---------------------------------------------------------------------
# Hostile UJO input: exit 65 with a message, nothing on stdout

bad_ujo() {
	run bash -c 'echo "$1" | "$2" decode --hex 2>&1 >/dev/null' _ "$1" "$U"
	assert_failure 65
	assert_output --partial "$2"
}

@test "negative vector: bad magic" { bad_ujo 5f554a4e0100003000 "at offset 0 (bad UJO header"; }
@test "negative vector: version 2" { bad_ujo 5f554a4f0200003000 "at offset 0 (bad UJO header"; }
@test "negative vector: compression 1" { bad_ujo 5f554a4f0100013000 "at offset 0 (bad UJO header"; }
@test "negative vector: atomic at root" { bad_ujo 5f554a4f010000050100000000000000 "at offset 7 (value not allowed"; }
@test "negative vector: map ending after a key" { bad_ujo "5f554a4f0100003104010100000061 00" "at offset 15 (value not allowed"; }
@test "negative vector: list as map key" { bad_ujo "5f554a4f01000031 30 00 0f 00" "at offset 8 (value not allowed"; }
@test "negative vector: unknown type 14" { bad_ujo "5f554a4f01000030 14 00" "at offset 8 (unknown type"; }
@test "negative vector: string subtype 4" { bad_ujo "5f554a4f01000030 04 04 00000000 00" "at offset 8 (unknown type"; }
@test "negative vector: truncated string data" { bad_ujo "5f554a4f01000030 04 01 05000000 6865" "at offset 8 (data ends inside a value)"; }
@test "negative vector: table without columns" { bad_ujo "5f554a4f01000032 00 00" "at offset 8 (table without columns"; }

@test "a truncated document is bad data" {
	vector V32
	bad_ujo "${H:0:60}" "data ends inside a value"
	bad_ujo 5f554a4f0100 "bad UJO header"
}

@test "trailing bytes after the root container are bad data" {
	bad_ujo 5f554a4f010000300000 "at offset 9 (bytes after the end of the document)"
}

@test "a huge string length is refused without reading past the buffer" {
	bad_ujo 5f554a4f010000300401ffffffff "at offset 8 (string or binary too long)"
	bad_ujo 5f554a4f010000300e00ffffff00 "at offset 8 (data ends inside a value)"
}

@test "100000 nested lists are refused, 64 levels are fine" {
	python3 -c 'import sys; sys.stdout.buffer.write(b"_UJO\x01\x00\x00" + b"\x30" * 100000 + b"\x00" * 100000)' > "$T/deep"
	run "$U" decode "$T/deep"
	assert_failure 65
	assert_output "titan-ujo: error: invalid UJO document at offset 71 (nesting too deep)"
	python3 -c 'import sys; sys.stdout.buffer.write(b"_UJO\x01\x00\x00" + b"\x30" * 64 + b"\x00" * 64)' > "$T/ok"
	run "$U" decode "$T/ok"
	assert_success
}

@test "an empty input is bad data" {
	run "$U" decode /dev/null
	assert_failure 65
	assert_output "titan-ujo: error: empty input: no UJO document"
	run "$U" encode --hex /dev/null
	assert_failure 65
	assert_output "titan-ujo: error: no JSON value in the input"
}

@test "hex input: non-hex characters and an odd digit count are bad data" {
	run bash -c 'echo 5f554a4f01000030zz00 | "$1" decode --hex' _ "$U"
	assert_failure 65
	assert_output "titan-ujo: error: invalid character 'z' in hex input at offset 16"
	run bash -c 'echo 5f554a4f010000300 | "$1" decode --hex' _ "$U"
	assert_failure 65
	assert_output --partial "odd number of hex digits"
	run bash -c 'echo "5F554A4F | 0100 | 00 | 30 | 00" | "$1" decode --hex' _ "$U"
	assert_success
	assert_output "[]"
}

@test "an input larger than UJO_TOOL_MAX_INPUT (256 MiB) is refused" {
	run bash -c 'head -c $((256 * 1024 * 1024 + 1)) /dev/zero | "$1" decode' _ "$U"
	assert_failure 65
	assert_output --partial "larger than 268435456 bytes"
}

# ---------------------------------------------------------------------
# Hostile and invalid JSON: exit 65, "at line L column C"

bad_json() {
	run bash -c 'printf "%s" "$1" | "$2" encode --hex 2>&1 >/dev/null' _ "$1" "$U"
	assert_failure 65
	assert_output "titan-ujo: error: $2"
}

@test "invalid JSON: trailing comma" { bad_json '[1,]' "expected a JSON value, found ']' at line 1 column 4"; }
@test "invalid JSON: leading zero" { bad_json '[01]' "leading zeros are not allowed in numbers at line 1 column 2"; }
@test "invalid JSON: NaN and Infinity" {
	bad_json '[NaN]' "expected a JSON value, found 'N' at line 1 column 2"
	bad_json '[-Infinity]' "a digit must follow '-' at line 1 column 3"
}
@test "invalid JSON: unterminated string" { bad_json '["abc' "unterminated string at line 1 column 2"; }
@test "invalid JSON: raw control character in a string" { bad_json $'["a\tb"]' "control character U+0009 in a string must be escaped at line 1 column 4"; }
@test "invalid JSON: invalid UTF-8, position in lines and characters" { bad_json $'[\n "é",\n "\xff"]' "invalid UTF-8 in a string at line 3 column 3"; }
@test "invalid JSON: lone surrogate escape" { bad_json '["\ud800x"]' 'lone surrogate \uD800 in a string at line 1 column 3'; }
@test "invalid JSON: garbage after the value" { bad_json '[1] [2]' "unexpected data after the JSON value at line 1 column 5"; }
@test "invalid JSON: duplicate keys, also when spelled with escapes" {
	bad_json '{"a": 1, "\u0061": 2}' 'duplicate key "a" in an object at line 1 column 10'
	bad_json '{"@type": "map", "@value": [[1, 2], [1, 3]]}' "duplicate key in a map at line 1 column 38"
}
@test "invalid JSON: a scalar at the top level" { bad_json '"x"' "the top level must be an array or object (a UJO document starts with a container) at line 1 column 1"; }
@test "invalid JSON: bad literal and bad number" {
	bad_json '[tru]' "invalid literal (expected true) at line 1 column 2"
	bad_json '[1.]' "a digit must follow the decimal point at line 1 column 4"
	bad_json '[1e999]' "number out of the float64 range at line 1 column 2"
}

@test "JSON nesting deeper than 64 containers is refused, 64 is fine" {
	python3 -c 'print("[" * 100000 + "]" * 100000)' > "$T/deep.json"
	run "$U" encode --hex "$T/deep.json"
	assert_failure 65
	assert_output "titan-ujo: error: nesting deeper than 64 containers at line 1 column 65"
	python3 -c 'print("[" * 64 + "]" * 64)' > "$T/ok.json"
	run "$U" encode --hex "$T/ok.json"
	assert_success
}

@test "integers outside int64 are refused with a hint, its limits are fine" {
	bad_json '[9223372036854775808]' 'integer out of the int64 range (annotate it, e.g. {"@type": "uint64", "@value": ...}, or write it as a float) at line 1 column 2'
	bad_json '[-9223372036854775809]' 'integer out of the int64 range (annotate it, e.g. {"@type": "uint64", "@value": ...}, or write it as a float) at line 1 column 2'
	run bash -c 'echo "[{\"@type\": \"uint64\", \"@value\": 18446744073709551615}]" | "$1" encode --hex' _ "$U"
	assert_output 5f554a4f0100003009ffffffffffffffff00
}

@test "bad annotations are refused with their position" {
	bad_json '[{"@type": "int9", "@value": 1}]' 'unknown type "int9" (known: none, bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, float32, float64, string, utf8, cstring, utf16, utf32, binary, uxtime, date, time, timestamp, list, map, table) at line 1 column 12'
	bad_json '[{"@type": "int8", "@value": 128}]' "value out of range for int8 (-128 to 127) at line 1 column 30"
	bad_json '[{"@type": "uint8", "@value": -1}]' "value out of range for uint8 (0 to 255) at line 1 column 31"
	bad_json '[{"@type": "int8", "@value": 1.5}]' 'int8: "@value" must be an integer (no fraction or exponent) at line 1 column 30'
	bad_json '[{"@type": "int8", "@value": 1, "x": 2}]' 'int8: unexpected key "x" in the annotation at line 1 column 33'
	bad_json '[{"@type": "int8"}]' 'int8: the annotation needs "@value" at line 1 column 2'
	bad_json '[{"@type": "float16", "@value": 65536}]' "number out of the float16 range (|x| < 65536) at line 1 column 33"
	bad_json '[{"@type": "date", "@value": "2021-02-29"}]' 'invalid date "2021-02-29" (expected YYYY-MM-DD with valid values) at line 1 column 30'
	bad_json '[{"@type": "timestamp", "@value": "2020-01-02 03:04:05"}]' 'invalid timestamp "2020-01-02 03:04:05" (expected YYYY-MM-DDTHH:MM:SS.mmm with valid values) at line 1 column 35'
	bad_json '[{"@type": "binary", "@value": "0g"}]' 'invalid hex digit in "0g" at line 1 column 32'
	bad_json '[{"@type": "cstring", "@value": "a\u0000"}]' "a cstring cannot contain U+0000 at line 1 column 33"
	bad_json '[{"@type": "map", "@value": [[[1], 2]]}]' "a map key must be an atomic value, not a container at line 1 column 31"
	bad_json '[{"@type": "table", "@value": {"columns": ["a", "b"], "rows": [[1]]}}]' "a table row needs 2 cells (one per column), not 1 at line 1 column 64"
	bad_json '[{"@type": "table", "@value": {"columns": [1], "rows": []}}]' "a table column name must be a string at line 1 column 44"
}

# ---------------------------------------------------------------------
# The command line

@test "no command prints the usage and exits 64" {
	run "$U"
	assert_failure 64
	assert_output --partial "usage: titan-ujo decode"
}

@test "usage errors exit 64 with one line" {
	for args in "frobnicate" "--frobnicate" "decode --frobnicate" "decode -q" "encode --typed" \
		"decode a b" "decode --bare --frames" "decode --messages --typed" "decode --dump --pretty" \
		"decode --frames --max-frame 8" "decode --frames --max-frame x" "decode --max-frame"; do
		run "$U" $args
		assert_failure 64
		assert_equal "${#lines[@]}" 1
		assert_output --regexp "^titan-ujo: error: .*\(see titan-ujo --help\)$"
	done
	run "$U" decode -q
	assert_output "titan-ujo: error: unknown option -q (see titan-ujo --help)"
}

@test "a missing input file exits 66" {
	run "$U" decode "$T/no-such-file"
	assert_failure 66
	assert_output "titan-ujo: error: cannot open $T/no-such-file: No such file or directory"
	run "$U" encode --hex "$T"
	assert_failure 66
}

@test "--help and --version exit 0" {
	run "$U" --help
	assert_success
	assert_output --partial "usage: titan-ujo decode"
	run "$U" decode --help
	assert_success
	assert_output --partial "--messages"
	run "$U" --version
	assert_success
	assert_output --regexp '^titan-ujo [0-9A-Za-z.+-]+$'
}

@test "encode refuses to write binary to a terminal unless --force" {
	command -v script > /dev/null || skip "script(1) is not installed"
	echo '[]' > "$T/e.json"
	run script -qec "'$U' encode '$T/e.json'" /dev/null < /dev/null
	assert_failure 64
	assert_output --partial "refusing to write binary UJO to a terminal (use --hex, or --force)"
	run script -qec "'$U' encode --hex '$T/e.json'" /dev/null < /dev/null
	assert_success
	assert_output --partial 5f554a4f0100003000
}

@test "a write error exits 74" {
	[ -w /dev/full ] || skip "no /dev/full"
	vector V42
	run bash -c 'echo "$1" | "$2" decode --hex --frames > /dev/full' _ "$H" "$U"
	assert_failure 74
	run bash -c 'echo "[1]" | "$1" encode --hex > /dev/full' _ "$U"
	assert_failure 74
}
