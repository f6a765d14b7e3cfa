#!/usr/bin/python3
"""A Repository Service double for the brick state tests.

    repo_double.py PORTFILE LOGFILE

Listens on 127.0.0.1 (an ephemeral port, written to PORTFILE once it is
ready) and answers every method on any path. Each request is appended to
LOGFILE as one JSON line {"method", "path", "content_type", "raw", "body"}
(raw: the body as text; body: parsed JSON, the raw text when it is not
JSON, or null when empty). It keeps
one value per (collection, document): PATCH stores body["value"] and
answers it, GET answers the stored value (an empty 200 when there is
none), DELETE forgets it and answers an empty 200. Standard library only.
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTFILE, LOGFILE = sys.argv[1], sys.argv[2]
STORE = {}


class Handler(BaseHTTPRequestHandler):
    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with open(LOGFILE, "a", encoding="utf-8") as log:
            record = {
                "method": self.command,
                "path": self.path,
                "content_type": self.headers.get("Content-Type"),
                "raw": raw.decode("utf-8", "replace"),
                "body": body,
            }
            log.write(json.dumps(record) + "\n")
        key = (body.get("collection"), body.get("document")) if isinstance(body, dict) else None
        answer = b""
        if self.command == "PATCH" and key:
            STORE[key] = body.get("value")
            answer = json.dumps(STORE[key]).encode()
        elif self.command == "GET" and key in STORE:
            answer = json.dumps(STORE[key]).encode()
        elif self.command == "DELETE" and key:
            STORE.pop(key, None)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_PATCH = do_DELETE = do_PUT = do_POST = _handle

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(PORTFILE + ".tmp", "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    os.rename(PORTFILE + ".tmp", PORTFILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
