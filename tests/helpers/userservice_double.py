#!/usr/bin/python3
"""A User Service double for the admin check of titan-pm-httpd
(titan-services.md §3.3).

  GET {base}/userservice/user   with the caller's Authorization header
      -> 200 {"Username", "Email", "IsAdmin"} for a known token,
         401 {"detail": ...} for any other token or none,
         500 for every request when started with --fail.

Tokens come from --users TOKEN=admin|user (repeatable); a "Bearer "
prefix on the header is accepted. Every request's path and Authorization
header is appended to --record as one JSON line. The bound port is written
to --port-file once the server listens. Standard library only.
"""
import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--users", action="append", default=[])
    ap.add_argument("--fail", action="store_true")
    a = ap.parse_args()
    users = dict(u.split("=", 1) for u in a.users)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            auth = self.headers.get("Authorization")
            with open(a.record, "a") as f:
                f.write(json.dumps({"path": self.path, "authorization": auth}) + "\n")
            if a.fail:
                return self.reply(500, {"detail": "broken on purpose"})
            if self.path != "/userservice/user":
                return self.reply(404, {"detail": "no route"})
            tok = (auth or "").removeprefix("Bearer ").strip()
            if tok not in users:
                return self.reply(401, {"detail": "invalid token"})
            self.reply(200, {"Username": "u-" + tok, "Email": tok + "@example.org",
                             "IsAdmin": users[tok] == "admin"})

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
