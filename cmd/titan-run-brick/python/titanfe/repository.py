"""Brick state in the titan Repository Service (titanfe.repository).

``adapter.state`` keeps one JSON document per brick instance: collection =
flow uid, document = brick instance uid. Every call sends the JSON body
``{"collection", "document", "value", "find", "database"}`` to
``{RepositoryService}/``: set -> PATCH, get -> GET, reset -> DELETE, as the
original titanfe. A failed call is logged and gives ``{}``; only a value
that cannot be serialised to JSON raises.
"""
import json

import _titan

DATABASE = "titan"
TIMEOUT = 10.0  # seconds; the original waits forever


class State:
    """set(value), get(), reset() of this brick instance's state."""

    def __init__(self, flow_uid, brick_uid, address, log):
        self.flow_uid = flow_uid
        self.brick_uid = brick_uid
        self.address = address or "http://localhost:8085/object"
        self.log = log

    def _body(self, value):
        if isinstance(value, _titan.UjoBase):
            value = _titan.ujo_to_python(value)
        return json.dumps(
            {
                "collection": self.flow_uid,
                "document": self.brick_uid,
                "value": value,
                "find": None,
                "database": DATABASE,
            }
        ).encode("utf-8")

    def _send(self, method, value=None):
        # imported on first use: urllib.request pulls in ssl, email, http
        # (several MiB) that most bricks never need
        import urllib.error  # pylint: disable=import-outside-toplevel
        import urllib.request  # pylint: disable=import-outside-toplevel

        body = self._body(value)  # serialisation errors propagate
        url = f"{self.address}/"
        request = urllib.request.Request(
            url, data=body, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                status, content = response.status, response.read()
        except urllib.error.HTTPError as error:
            self.log.error("state %s %s failed: HTTP %s", method, url, error.code)
            return {}
        except (OSError, ValueError) as error:
            self.log.error("state %s %s failed: %s", method, url, error)
            return {}
        if status != 200 or not content.strip():
            if status != 200:
                self.log.error("state %s %s failed: HTTP %s", method, url, status)
            return {}
        try:
            return json.loads(content)
        except ValueError as error:
            self.log.error("state %s %s: the answer is not JSON: %s", method, url, error)
            return {}

    def set(self, value):
        """Store value (JSON-serialisable Python, or a Ujo object)."""
        return self._send("PATCH", value)

    def get(self):
        """The stored state as the Repository Service returns it ({} if none)."""
        return self._send("GET")

    def reset(self):
        """Delete the stored state."""
        return self._send("DELETE")
