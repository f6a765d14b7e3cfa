"""Inlet for the runner chain tests: emits `count` packets
{"n": i, "text": "packet i"} (count 0 = until stopped), then returns."""
import time

from titanfe.brick import InletBrickBase


class Brick(InletBrickBase):
    def setup(self):
        self.running = True

    def process(self, input, port):
        count = int(self.parameters.get("count", 10))
        delay = float(self.parameters.get("delay", 0))
        i = 0
        while self.running and (count == 0 or i < count):
            self.adapter.emit_new_packet({"n": i, "text": "packet %d" % i})
            i += 1
            if delay:
                time.sleep(delay)
        self.adapter.log.info("generated %d packets", i)

    def stop_processing(self):
        self.running = False
