"""An inlet that never returns and never emits: only the runner's own
deadline can end it."""
import time

from titanfe.brick import InletBrickBase


class Brick(InletBrickBase):
    def process(self, input, port):
        while True:
            time.sleep(1)

    def stop_processing(self):
        pass
