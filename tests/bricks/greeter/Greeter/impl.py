from titanfe.brick import BrickBase

from .words import GREETING


class Brick(BrickBase):
    def process(self, input, port):
        return f"{GREETING}, {input.value}!"
