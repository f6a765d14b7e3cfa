"""Passes every input on unchanged (the default port)."""
from titanfe.brick import BrickBase


class Brick(BrickBase):
    def process(self, input, port):
        return input
