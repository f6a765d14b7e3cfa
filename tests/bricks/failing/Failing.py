"""Raises ValueError("boom <n>") when input["fail"] is true, else returns
the input."""
from titanfe.brick import BrickBase


def explode(n):
    raise ValueError(f"boom {n}")


class Brick(BrickBase):
    def process(self, input, port):
        if input["fail"].value:
            explode(input["n"].value)
        return input
