"""Abstract base classes for bricks (titanfe.brick).

A brick module exposes a class ``Brick``; the runner creates it as
``Brick(adapter, parameters)``, calls ``setup()`` once, ``process(input,
port)`` for every packet and ``teardown()`` once when unloading.

``input`` is a UJO value (``ujotypes`` objects: UjoMap, UjoInt64, ...), or
``None`` for an inlet, whose ``process`` is called once with port
"TRIGGER" and loops until ``stop_processing()`` is called.

``process`` returns the new payload of the packet (on the default output
port), a tuple ``(payload, port_name)``, or ``None`` to drop the packet.
Plain Python values are converted (int -> UjoInt64, float -> UjoFloat64,
str -> UjoStringUTF8, dict -> UjoMap, list -> UjoList, ...).

titan extension: a Brick class with the class attribute
``titan_plain_values = True`` gets plain Python values (dict, list, str,
int, float, bool, None, datetime) as ``input`` instead of Ujo objects —
cheaper to build and to use; the return value is converted as above.
"""
from abc import ABCMeta, abstractmethod


class ConfigurationError(Exception):
    """A brick's parameters are missing or wrong."""


class BrickBase(metaclass=ABCMeta):
    """Base class of bricks."""

    #: titan extension: True = process() receives plain Python values
    titan_plain_values = False

    def __init__(self, adapter, parameters=None):
        self.adapter = adapter
        self.parameters = parameters

    def __enter__(self):
        self.setup()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.teardown()

    def setup(self):
        """Called once when the runner loads the brick."""

    def teardown(self):
        """Called once when the runner unloads the brick."""

    @abstractmethod
    def process(self, input, port):  # pylint: disable=redefined-builtin
        """Process one input; see the module documentation for results."""


class InletBrickBase(BrickBase, metaclass=ABCMeta):
    """Base class of inlets: ``process(None, "TRIGGER")`` runs until
    ``stop_processing()`` is called (from another thread)."""

    @abstractmethod
    def stop_processing(self):
        """Make a running process() return soon."""


__all__ = ["BrickBase", "InletBrickBase", "ConfigurationError"]
