"""titan_plain_values = True: process() gets plain Python values."""
from datetime import datetime

from titanfe.brick import BrickBase


class Brick(BrickBase):
    titan_plain_values = True

    def process(self, input, port):
        return {
            "input_type": type(input).__name__,
            "types": {k: type(v).__name__ for k, v in input.items()} if isinstance(input, dict) else None,
            "echo": input,
            "when": datetime(2021, 6, 7, 8, 9, 10, 123456),
        }
