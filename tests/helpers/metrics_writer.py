#!/usr/bin/python3
"""metrics_writer.py — write telemetry lines into a FIFO the way a runner
does: open it O_WRONLY|O_NONBLOCK, one write(2) per line, never wait; a
write that would block is a dropped line, counted.

  metrics_writer.py FIFO FIRST COUNT [KIND]

writes COUNT records numbered FIRST, FIRST+1, ... (field "n") of KIND
(brick, packet, queue or log; default packet) and prints
"written=N dropped=M".
"""
import errno
import json
import os
import sys


def record(kind, n):
    common = {"flow": "Flow", "brick": "Brick", "brick_type": "BrickType",
              "brick_family": "Family", "runner": "R-0a1b2c3d", "host": "node",
              "timestamp": "2024-05-06T07:08:09.123456"}
    if kind == "brick":
        r = {"content_type": "titan-brick-metrics", **common, "execution_time": 1.25}
    elif kind == "queue":
        r = {"content_type": "titan-queue-metrics", **common,
             "queue_name": "Input.Brick", "queue_length": n % 100}
    elif kind == "log":
        return {"content_type": "titan-log", "Timestamp": "2024-05-06T07:08:09.123",
                "Severity": "INFO", "Message": "record %d" % n, "Hostname": "node",
                "Servicename": "BrickRunner", "Source": "titanfe.bricks.x",
                "FlowUID": "F-1", "FlowName": "Flow", "BrickUID": "B-1", "BrickName": "Brick"}
    else:
        r = {"content_type": "titan-packet-metrics", **common, "packet": "P-%08x" % n,
             "execution_time": 0.5, "traveling_time": 2.5, "time_in_input": 0.25,
             "time_in_output": 0.125, "time_on_wire": 0.0625, "at_outlet": False}
    r["n"] = n
    return r


def main(argv):
    path, first, count = argv[1], int(argv[2]), int(argv[3])
    kind = argv[4] if len(argv) > 4 else "packet"
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    written = dropped = 0
    for n in range(first, first + count):
        line = (json.dumps(record(kind, n), separators=(",", ":")) + "\n").encode()
        try:
            os.write(fd, line)  # <= PIPE_BUF: all or nothing
            written += 1
        except OSError as e:
            if e.errno != errno.EAGAIN:
                raise
            dropped += 1
    os.close(fd)
    print("written=%d dropped=%d" % (written, dropped))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
