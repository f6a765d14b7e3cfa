"""The adapter a brick gets as ``Brick(adapter, parameters)``.

* ``adapter.meta.brick.uid`` / ``.name``, ``adapter.meta.flow.uid`` / ``.name``
* ``adapter.log``: a logging.Logger ("titanfe.bricks.<instance name>");
  records go to the runner's log (stderr and telemetry)
* ``adapter.emit_new_packet(value, port=None)``: send value as a new packet
  (its own uid) on port, the default output port if None. Raises ValueError
  for a port the brick does not have and _titan.ShuttingDown (a
  RuntimeError) when the runner is stopping. An outlet emits nothing.
* ``adapter.decrypt_parameter(hex_string) -> str``: a secret parameter
  (AES-256-GCM, key from the configured SecretKey and the flow uid). Raises
  _titan.DecryptionError (a ValueError) without a key, for bad hex, a too
  short value or a tag that does not match.
* ``adapter.state``: set(value) / get() / reset() (titanfe.repository)
"""
from collections import namedtuple

import _titan

MetaData = namedtuple("MetaData", ("uid", "name"))
AdapterMeta = namedtuple("AdapterMeta", ("brick", "flow"))

DecryptionError = _titan.DecryptionError
ShuttingDown = _titan.ShuttingDown


class BrickAdapter:
    """The brick's interface to the runner."""

    def __init__(self, meta, log, state):
        self.meta = meta
        self.log = log
        self.state = state
        self.emit_new_packet = _titan.emit_new_packet
        self.terminated = False  # deprecated (titanfe)

    @staticmethod
    def decrypt_parameter(parameter):
        """Decrypt a secret parameter (hex of nonce || ciphertext || tag)."""
        return _titan.decrypt_parameter(parameter)

    def stop_processing(self):
        """Deprecated (titanfe); does nothing."""
