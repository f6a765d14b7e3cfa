#!/usr/bin/python3
"""metrics_check.py — look at what titan-metrics-pipe put on Kafka, for the
bats tests. Input files are kcat output made with -f '%R%s': each value
preceded by its length as a 4-byte big-endian integer.

  metrics_check.py count FILE
      number of values
  metrics_check.py unpickle FILE
      each value through pickle.loads, printed as one line of JSON (floats
      keep their ".0", so int and float stay apart)
  metrics_check.py same-as-python LINES FILE
      each value must be byte for byte what CPython's
      pickle.dumps(record, protocol=3) gives for the matching JSON line of
      LINES, where record = json.loads(line) with titanfe's millisecond
      fields as floats and other integral numbers as ints
  metrics_check.py split FILE DIR
      write each value to DIR/1.bin, DIR/2.bin, ...
  metrics_check.py values FILE
      each value as text, one a line (JSON format records)
"""
import json
import os
import pickle
import struct
import sys

FLOAT_FIELDS = {"execution_time", "traveling_time", "time_in_input",
                "time_in_output", "time_on_wire"}


def values(path):
    with open(path, "rb") as f:
        data = f.read()
    out, i = [], 0
    while i < len(data):
        (n,) = struct.unpack(">i", data[i:i + 4])
        i += 4
        out.append(data[i:i + n])
        i += n
    return out


def as_titanfe(rec):
    """The dict the original would pickle for this JSON record."""
    out = {}
    for k, v in rec.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if k in FLOAT_FIELDS:
                v = float(v)
            elif isinstance(v, float) and v.is_integer() and abs(v) < 2**63:
                v = int(v)
        out[k] = v
    return out


def main(argv):
    cmd = argv[1]
    if cmd == "count":
        print(len(values(argv[2])))
    elif cmd == "unpickle":
        for v in values(argv[2]):
            print(json.dumps(pickle.loads(v), ensure_ascii=False))
    elif cmd == "values":
        for v in values(argv[2]):
            print(v.decode())
    elif cmd == "split":
        for i, v in enumerate(values(argv[2]), 1):
            with open(os.path.join(argv[3], "%d.bin" % i), "wb") as f:
                f.write(v)
    elif cmd == "same-as-python":
        with open(argv[2], encoding="utf-8") as f:
            lines = [l for l in f if l.strip()]
        got = values(argv[3])
        if len(got) != len(lines):
            print("count differs: %d lines, %d values" % (len(lines), len(got)))
            return 1
        for n, (line, v) in enumerate(zip(lines, got), 1):
            want = pickle.dumps(as_titanfe(json.loads(line)), protocol=3)
            if v != want:
                print("value %d differs\n want %s\n got  %s" % (n, want.hex(), v.hex()))
                return 1
        print("%d identical" % len(got))
    else:
        print("unknown command", cmd, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
