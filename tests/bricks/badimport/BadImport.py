import titan_no_such_module  # noqa: F401

from titanfe.brick import BrickBase


class Brick(BrickBase):
    def process(self, input, port):
        return input
