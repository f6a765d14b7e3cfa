"""Benchmark passthrough (ujotypes path: the payload object is returned as is)."""
from titanfe.brick import BrickBase


class Brick(BrickBase):
    def process(self, input, port):
        return input
