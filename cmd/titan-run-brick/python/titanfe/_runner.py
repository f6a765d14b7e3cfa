"""titan-run-brick's Python bootstrap (private): find, import and create
the brick; stop and unload it. Called from C (brick.c)."""
import importlib
import json
import logging
import os
import sys
import threading
import time

import _titan
import ujotypes  # noqa: F401  (registers UjoList / UjoMap with _titan)
from titanfe.adapter import AdapterMeta, BrickAdapter, MetaData
from titanfe.brick import ConfigurationError, InletBrickBase
from titanfe.repository import State

#: what load() was doing, for the error message when it fails
stage = "starting"
_log = logging.getLogger("titanfe.bricks")


class BrickNotFound(Exception):
    """No brick module at the given path."""


class _Handler(logging.Handler):
    """Every record to the runner's log, as one record."""

    def emit(self, record):
        try:
            msg = self.format(record).rstrip()
        except Exception:  # pylint: disable=broad-except
            self.handleError(record)
            return
        _titan.log(record.levelno, record.name, msg)


def _setup_logging(level, logger_name):
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = _Handler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    log = logging.getLogger(logger_name)

    def excepthook(args):
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        log.error("exception in thread %s", name, exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    threading.excepthook = excepthook
    return log


def _candidates(folder):
    """Possible brick modules in a folder: *.py files and packages."""
    out = []
    for entry in sorted(os.listdir(folder)):
        full = os.path.join(folder, entry)
        if entry.startswith((".", "_")) or entry in ("venv", "setup.py"):
            continue
        if entry.endswith(".py") and os.path.isfile(full):
            out.append(entry)
        elif os.path.isdir(full) and os.path.isfile(os.path.join(full, "__init__.py")):
            out.append(entry)
    return out


def find_module(path, name=None):
    """(folder, module name) of the brick at path.

    path is a brick folder holding <Name>.py or a package folder <Name>/
    (Name matched case-insensitively, as titanfe), a .py file, or a package
    folder itself. Without a name, the folder's own name is tried, then the
    only module in the folder."""
    path = os.path.abspath(path)
    if os.path.isfile(path):
        if not path.endswith(".py"):
            raise BrickNotFound(f"brick not found: {path} is not a .py file or a brick folder")
        return os.path.dirname(path), os.path.basename(path)[:-3]
    if not os.path.isdir(path):
        raise BrickNotFound(f"brick not found: {path}")
    entries = sorted(os.listdir(path))

    def match(wanted):
        wanted = wanted.lower()
        for entry in entries:
            if entry.lower() in (wanted, wanted + ".py"):
                full = os.path.join(path, entry)
                if os.path.isdir(full) or (entry.endswith(".py") and os.path.isfile(full)):
                    return entry
        return None

    if name:
        entry = match(name)
        if entry is None:
            raise BrickNotFound(f"brick not found: missing module `{name}/` or `{name}.py` in {path}")
    else:
        entry = match(os.path.basename(path))
        if entry is None:
            found = _candidates(path)
            if len(found) == 1:
                entry = found[0]
            elif os.path.isfile(os.path.join(path, "__init__.py")):
                return os.path.dirname(path), os.path.basename(path)
            elif not found:
                raise BrickNotFound(f"brick not found: no <Name>.py or <Name>/ package in {path}")
            else:
                raise BrickNotFound(
                    f"brick not found: several modules in {path} ({', '.join(found)}); name the brick module"
                )
    if entry.endswith(".py"):
        entry = entry[:-3]
    return path, entry


def _import(folder, name):
    if folder not in sys.path:
        sys.path.insert(1, folder)
    existing = sys.modules.get(name)
    if existing is not None:
        where = getattr(existing, "__file__", None) or ""
        if not os.path.abspath(where).startswith(folder + os.sep):
            raise ImportError(
                f"the brick module name {name!r} is already taken by {where or 'a built-in module'}; "
                "rename the brick module"
            )
        return existing
    return importlib.import_module(name)


def load(*, path, module, params_json, flow_uid, flow_name, brick_uid, brick_name, runner_uid, repo,
         logger, level, is_inlet, is_outlet, force_plain, default_port, out_ports):
    """Import the brick, create Brick(adapter, parameters), call setup().
    Returns (instance, plain_values, is_inlet_class)."""
    # pylint: disable=too-many-arguments,too-many-locals,unused-argument
    global stage, _log  # pylint: disable=global-statement
    stage = "starting"
    log = _log = _setup_logging(level, logger)
    sys.stdout = sys.stderr  # print() in a brick must not reach the runner's stdout

    stage = "finding the brick module"
    folder, name = find_module(path, module)
    stage = f"importing {name}"
    mod = _import(folder, name)
    cls = getattr(mod, "Brick", None)
    if cls is None:
        raise ImportError(f"Brick class is missing in module: {name} ({getattr(mod, '__file__', folder)})")

    stage = "reading the parameters"
    parameters = json.loads(params_json) if params_json else {}
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise ConfigurationError(f"the brick parameters must be a JSON object, not {type(parameters).__name__}")

    meta = AdapterMeta(brick=MetaData(brick_uid, brick_name), flow=MetaData(flow_uid, flow_name))
    adapter = BrickAdapter(meta, log, State(flow_uid, brick_uid, repo, log))
    stage = "creating Brick(adapter, parameters)"
    instance = cls(adapter, parameters)
    stage = "calling setup()"
    setup = getattr(instance, "setup", None)
    if callable(setup):
        setup()
    stage = "loaded"
    plain = bool(force_plain or getattr(cls, "titan_plain_values", False))
    return instance, plain, isinstance(instance, InletBrickBase)


def stop(instance):
    """stop_processing() of a running inlet (any thread)."""
    method = getattr(instance, "stop_processing", None)
    if callable(method):
        method()


def unload(instance, grace=2.0):
    """teardown(), then wait up to `grace` seconds for the brick's own
    non-daemon threads. Returns (non-daemon threads left, other threads left)."""
    teardown = getattr(instance, "teardown", None)
    if callable(teardown):
        try:
            teardown()
        except Exception:  # pylint: disable=broad-except
            _log.exception("teardown() failed")
    main = threading.main_thread()
    deadline = time.monotonic() + grace

    def others():
        return [
            t for t in threading.enumerate()
            if t is not main and not isinstance(t, threading._DummyThread)  # pylint: disable=protected-access
        ]

    for thread in others():
        if not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    left = [t for t in others() if t.is_alive()]
    return sum(1 for t in left if not t.daemon), len(left)
