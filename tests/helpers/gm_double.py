#!/usr/bin/python3
"""A scripted Grid Manager double for the runner tests.

It speaks the routes a brick runner uses (titanfe-protocol.md §7.3, §7.4):

  POST {gm}/brickrunners/            {"runnerID", "address", "brickId"}
       -> 200, JSON list of input sources for that brick
  POST {gm}/brickrunners/deregister  {"runnerId", "brickId"}  -> 200
  POST {gm}/brickrunners/scaling     {"brickId", "consumerId"} -> 200

Which runner feeds which is read from a flow file:
  {"connections": [{"from": "B-1", "port": "Output", "to": "B-2", "target_port": "Input"}]}
When a producer registers after its consumer, the double pushes the new
source to the consumer's output server the way the Grid Manager does:
one frame (4-byte big-endian length) whose body is the JSON source object.

Every request is appended to RECORD_DIR/requests.jsonl as
{"path": ..., "body": <parsed JSON or text>, "content_type": ...}.
The bound port is written to --port-file once the server listens.
"""
import argparse
import json
import os
import socket
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
RUNNERS = {}  # runnerID -> {"brickId", "address"}


def record(args, path, body, ctype):
    with LOCK, open(os.path.join(args.record, "requests.jsonl"), "a") as f:
        f.write(json.dumps({"path": path, "body": body, "content_type": ctype}) + "\n")


def sources_for(flow, brick):
    out = []
    for c in flow.get("connections", []):
        if c["to"] != brick:
            continue
        for r in RUNNERS.values():
            if r["brickId"] == c["from"]:
                out.append({"port": c["port"], "target_port": c["target_port"], "address": r["address"]})
    return out


def push_sources(flow, brick, address, args):
    """Tell every registered consumer of `brick` about the new producer."""
    for c in flow.get("connections", []):
        if c["from"] != brick:
            continue
        src = {"port": c["port"], "target_port": c["target_port"], "address": address}
        for r in list(RUNNERS.values()):
            if r["brickId"] != c["to"]:
                continue
            host, port = r["address"].rsplit(":", 1)
            body = json.dumps(src).encode()
            try:
                with socket.create_connection((host, int(port)), timeout=5) as s:
                    s.sendall(struct.pack(">I", len(body)) + body)
                record(args, "push", {"to": r["address"], "source": src}, "")
            except OSError as e:
                record(args, "push-failed", {"to": r["address"], "error": str(e)}, "")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *a):
        pass

    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        args, flow = self.server.args, self.server.flow
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        record(args, self.path, body, self.headers.get("Content-Type"))
        base = args.base.rstrip("/")
        if self.path == base + "/brickrunners/":
            if args.fail_register:
                return self.reply(500, {"detail": "registration refused by the test"})
            with LOCK:
                RUNNERS[body["runnerID"]] = {"brickId": body["brickId"], "address": body["address"]}
                srcs = sources_for(flow, body["brickId"])
            self.reply(200, srcs)
            threading.Thread(target=push_sources, args=(flow, body["brickId"], body["address"], args)).start()
        elif self.path == base + "/brickrunners/deregister":
            with LOCK:
                RUNNERS.pop(body.get("runnerId"), None)
            self.reply(200, {})
        elif self.path == base + "/brickrunners/scaling":
            self.reply(200, {})
        else:
            self.reply(404, {"detail": "no such route"})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--record", required=True)
    p.add_argument("--flow", default=None)
    p.add_argument("--base", default="/gridmanager")
    p.add_argument("--fail-register", action="store_true")
    args = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.args = args
    srv.flow = json.load(open(args.flow)) if args.flow else {}
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
