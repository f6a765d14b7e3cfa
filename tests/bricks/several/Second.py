from titanfe.brick import BrickBase


class Brick(BrickBase):
    def process(self, input, port):
        return "second"
