#!/usr/bin/python3
"""A control-peer double that records install notifications.

  POST /api/v1/bricks/install  {"bricks": [{"id", "name"}, ...]}
       -> 200 with body null, like the titanfe control peer
          (422 when "bricks" is missing or not a list of {id, name}).

Each request is appended to --record as one JSON line
{"path", "content_type", "body": <parsed JSON or raw text>}. The bound
port is written to --port-file once the server listens. Standard library
only.
"""
import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def valid(body):
    return (isinstance(body, dict) and isinstance(body.get("bricks"), list)
            and all(isinstance(b, dict) and isinstance(b.get("id"), str)
                    and isinstance(b.get("name"), str) for b in body["bricks"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=True)
    a = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n).decode("utf-8", "replace")
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
            with open(a.record, "a") as f:
                f.write(json.dumps({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                    "body": body}) + "\n")
            ok = self.path == "/api/v1/bricks/install" and valid(body)
            out = b"null" if ok else b'{"detail": "unprocessable"}'
            self.send_response(200 if ok else 422)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
