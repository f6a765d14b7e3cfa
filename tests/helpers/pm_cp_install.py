#!/usr/bin/python3
"""Install bricks from a Package Manager the way the titanfe control peer
does it at start-up (titanfe-protocol.md §5): the test that our PM serves
what an original control peer needs.

usage: pm_cp_install.py PM_BASE BRICK_FOLDER

  GET {PM_BASE}/bricks            must be 200 and application/json (aiohttp's
                                  response.json() refuses anything else)
  for each brick: id, name, lastmodified (a non-zero number: the CP calls
  datetime.utcfromtimestamp on it when the folder exists);
  BRICK_FOLDER/<id> exists and is not older than lastmodified -> skip;
  else GET {PM_BASE}/bricks/<id> (must be 200), open with zipfile and
  extract into BRICK_FOLDER/<id>, then look for the module like the CP:
  first entry matching ^<name>(\\.py)?$ ignoring case.

Prints "installed|skipped <id> <name> <module>" per brick; exits 1 with
a message on the first problem. Standard library only.
"""
import datetime
import io
import json
import os
import re
import shutil
import sys
import urllib.request
import zipfile


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


def main():
    base, folder = sys.argv[1], sys.argv[2]
    st, ctype, body = get(base + "/bricks")
    if st != 200:
        fail(f"Getting bricks failed: {st}")
    if ctype.split(";")[0].strip() != "application/json":
        fail(f"Attempt to decode JSON with unexpected mimetype: {ctype}")
    bricks = json.loads(body)
    for b in bricks or []:
        uid, name, lm = b["id"], b["name"], b["lastmodified"]
        if not re.fullmatch(r"[A-Za-z0-9_-]+", uid):
            fail(f"id not usable as a folder name: {uid!r}")
        dest = os.path.join(folder, uid)
        if os.path.exists(dest):
            mtime = datetime.datetime.utcfromtimestamp(os.stat(dest).st_mtime)
            if mtime >= datetime.datetime.utcfromtimestamp(lm or None):
                print("skipped", uid, name, "-")
                continue
            shutil.rmtree(dest)
        os.makedirs(dest)
        st, _, data = get(f"{base}/bricks/{uid}")
        if st != 200:
            fail(f"Downloading source files failed: {st}")
        zipfile.ZipFile(io.BytesIO(data)).extractall(dest)
        module = next((e for e in sorted(os.listdir(dest))
                       if re.match(rf"^{name}(?:\.py)?$", e, re.IGNORECASE)), None)
        if module is None:
            fail(f"Missing module `{name}/` or `{name}.py` in {dest}")
        print("installed", uid, name, module)


if __name__ == "__main__":
    main()
