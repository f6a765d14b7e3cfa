#!/usr/bin/python3
"""Build brick package archives for the titan-pm-httpd tests: good ones in
the layout of the seed document, and hostile or broken ones.

usage: pm_make_package.py OUT KIND [--format zip|tar|tgz] [--name NAME]
                          [--bricks A,B] [--urn URN] [--no-package-yaml]
                          [--tag TEXT]

KIND:
  good            <name>/package.yaml + one folder per brick (description.yaml,
                  code, svg icon for the first brick, ports.ujs, requirements.txt,
                  ignored README.md and .git/)
  zipslip         a good package plus an entry "<name>/../../pm-evil.txt"
  abspath         a good package plus an entry "/tmp/pm-evil-abs.txt"
  symlink         a good package plus a symlink entry <name>/A/link -> /etc
  hardlink        (tar) a good package plus a hard link entry to /etc/passwd
  bomb-size       one file of 257 MiB of zeros (deflated: a few hundred KiB)
  bomb-entries    10001 tiny files
  truncated       a good package cut in half
  nodesc          brick folder without description.yaml
  badyaml         description.yaml with a syntax error on line 3
  nocode          brick without its code
  twodirs         two top-level folders
  yamlbomb        description.yaml whose aliases expand to 10^9 values
Only the standard library is used (Debian's /usr/bin/python3).
"""
import argparse
import io
import sys
import tarfile
import zipfile


def description(brick, package):
    return (f"Name: {brick}\n"
            f"Family: {'Inlet' if brick.endswith('0') or brick == 'Gen' else 'General'}\n"
            "Parameters:\n"
            "  - Name: Limit\n"
            "    Value: 42.5\n"
            "    Type: float64\n"
            "  - Name: Label\n"
            "    Value: hello\n"
            f"Description: \"the {brick} brick\"\n"
            f"Package: {package}\n"
            "AutoscaleQueueLevel: 7\n"
            "AutoscaleMaxInstances: 3\n"
            "ExitAfterIdleSeconds: 11\n"
            "Ports:\n"
            "  SchemaFile: ports.ujs\n"
            "  Input:\n"
            "    In: Number\n"
            "  Output:\n"
            "    Out: Number\n").encode()


def good_files(name, bricks, urn, with_yaml, tag):
    """[(path, bytes)] of a package in the seed's layout."""
    files = []
    if with_yaml:
        y = f"Name: {name}\nAuthor: ACME\nDescription: \"{name} bricks\"\n"
        if urn:
            y += f"Package: \"{urn}\"\n"
        files.append((f"{name}/package.yaml", y.encode()))
    files.append((f"{name}/README.md", b"ignored\n"))
    for i, b in enumerate(bricks):
        d = f"{name}/{b}"
        low = b.lower()
        files.append((f"{d}/description.yaml", description(b, name)))
        files.append((f"{d}/ports.ujs", b"Number = integer;\n"))
        files.append((f"{d}/requirements.txt", b""))
        files.append((f"{d}/README.md", b"not for control peers\n"))
        files.append((f"{d}/.git/config", b"[core]\n"))
        code = f"# {tag}\nfrom titanfe.brick import BrickBase\nclass Brick(BrickBase):\n    pass\n".encode()
        if i == 0:  # a module folder, with the icon next to it
            files.append((f"{d}/{low}/__init__.py", code))
            files.append((f"{d}/{low}.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"))
        else:
            files.append((f"{d}/{low}.py", code))
    return files


def write(out, fmt, files, extra=None):
    """files: [(path, bytes)]; extra(archive) adds hostile entries."""
    buf = io.BytesIO()
    if fmt == "zip":
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for p, data in files:
                z.writestr(p, data)
            if extra:
                extra(z)
    else:
        with tarfile.open(fileobj=buf, mode="w:gz" if fmt == "tgz" else "w") as t:
            for p, data in files:
                ti = tarfile.TarInfo(p)
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            if extra:
                extra(t)
    data = buf.getvalue()
    with open(out, "wb") as f:
        f.write(data)
    return data


def add_entry(a, path, data=b"evil\n"):
    if isinstance(a, zipfile.ZipFile):
        a.writestr(zipfile.ZipInfo(path), data)
    else:
        ti = tarfile.TarInfo(path)
        ti.size = len(data)
        a.addfile(ti, io.BytesIO(data))


def add_symlink(a, path, target):
    if isinstance(a, zipfile.ZipFile):
        zi = zipfile.ZipInfo(path)
        zi.create_system = 3
        zi.external_attr = (0o120777 << 16)
        a.writestr(zi, target)
    else:
        ti = tarfile.TarInfo(path)
        ti.type = tarfile.SYMTYPE
        ti.linkname = target
        a.addfile(ti)


def add_hardlink(a, path, target):
    ti = tarfile.TarInfo(path)
    ti.type = tarfile.LNKTYPE
    ti.linkname = target
    a.addfile(ti)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("kind")
    ap.add_argument("--format", default="tgz", choices=["zip", "tar", "tgz"])
    ap.add_argument("--name", default="demo")
    ap.add_argument("--bricks", default="Gen,Sink")
    ap.add_argument("--urn", default=None)
    ap.add_argument("--no-package-yaml", action="store_true")
    ap.add_argument("--tag", default="v1")
    a = ap.parse_args()
    bricks = [b for b in a.bricks.split(",") if b]
    files = good_files(a.name, bricks, a.urn, not a.no_package_yaml, a.tag)
    k, fmt = a.kind, a.format
    if k == "good":
        write(a.out, fmt, files)
    elif k == "zipslip":
        write(a.out, fmt, files, lambda z: add_entry(z, f"{a.name}/../../pm-evil.txt"))
    elif k == "abspath":
        write(a.out, fmt, files, lambda z: add_entry(z, "/tmp/pm-evil-abs.txt"))
    elif k == "symlink":
        write(a.out, fmt, files, lambda z: add_symlink(z, f"{a.name}/{bricks[0]}/link", "/etc"))
    elif k == "hardlink":
        write(a.out, "tar", files, lambda t: add_hardlink(t, f"{a.name}/{bricks[0]}/pw", "/etc/passwd"))
    elif k == "bomb-size":
        big = b"\0" * (257 * 1024 * 1024)
        write(a.out, "zip", files + [(f"{a.name}/{bricks[0]}/zeros.bin", big)])
    elif k == "bomb-entries":
        write(a.out, "zip", files + [(f"{a.name}/{bricks[0]}/f{i}", b"") for i in range(10001)])
    elif k == "truncated":
        data = write(a.out, fmt, files)
        with open(a.out, "wb") as f:
            f.write(data[: len(data) // 2])
    elif k == "nodesc":
        write(a.out, fmt, [f for f in files if not f[0].endswith(f"{bricks[-1]}/description.yaml")])
    elif k == "badyaml":
        bad = f"Name: {bricks[-1]}\nFamily: [unclosed\nParameters: x\n".encode()
        write(a.out, fmt, [(p, bad if p.endswith(f"{bricks[-1]}/description.yaml") else d) for p, d in files])
    elif k == "nocode":
        low = bricks[-1].lower()
        write(a.out, fmt, [f for f in files if not f[0].endswith(f"/{low}.py")])
    elif k == "yamlbomb":
        y = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for i in range(1, 9):
            y += f"{'abcdefghij'[i]}: &{'abcdefghij'[i]} [" + ", ".join([f"*{'abcdefghij'[i - 1]}"] * 10) + "]\n"
        bomb = y.encode()
        write(a.out, fmt, [(p, bomb if p.endswith(f"{bricks[-1]}/description.yaml") else d) for p, d in files])
    elif k == "twodirs":
        write(a.out, fmt, files + [("other/x.txt", b"x")])
    else:
        sys.exit(f"unknown kind {k}")


if __name__ == "__main__":
    main()
