"""An inlet that ignores stop_processing()."""
import time

from titanfe.brick import InletBrickBase


class Brick(InletBrickBase):
    def process(self, input, port):
        while True:
            self.adapter.emit_new_packet({"tick": True})
            time.sleep(0.05)

    def stop_processing(self):
        pass
