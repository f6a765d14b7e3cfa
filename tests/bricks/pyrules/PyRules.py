"""Returns the Python value named by input["case"] (python_to_ujo rules);
reports the type of its input (plain values or Ujo objects)."""
import collections
from datetime import date, datetime

from titanfe.brick import BrickBase

Point = collections.namedtuple("Point", "x y")

CASES = {
    "bool": lambda: [True, False],
    "int": lambda: [0, -1, 2**63 - 1, -(2**63)],
    "bigint": lambda: 2**63,
    "float": lambda: [1.0, -2.5, 1e300],
    "str": lambda: "Grüße €😀",
    "none": lambda: None,
    "bytes": lambda: b"\x01\xff",
    "bytearray": lambda: bytearray(b"AB"),
    "tuple-in-list": lambda: [(1, 2), Point(3, 4)],
    "set": lambda: {7},
    "frozenset": lambda: frozenset({7}),
    "range": lambda: range(3),
    "deque": lambda: collections.deque([1, "a"]),
    "ordered": lambda: collections.OrderedDict([("b", 1), ("a", 2)]),
    "datetime": lambda: datetime(2020, 1, 2, 3, 4, 5, 678000),
    "date": lambda: date(2020, 1, 2),
    "object": lambda: object(),
    "nested": lambda: {"a": {"b": {"c": [1, {"d": None}]}}},
    "intkey": lambda: {1: "one", True: "bool"},
    "listkey": lambda: {(1, 2): "x"},
    "deep": lambda: __import__("functools").reduce(lambda acc, _: [acc], range(70), []),
}


class Brick(BrickBase):
    def process(self, input, port):
        case = input["case"] if isinstance(input, dict) else input["case"].value
        if case == "input-type":
            return type(input).__name__
        return CASES[case]()
