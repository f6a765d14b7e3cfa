"""An inlet: emits {"n": 0}, {"n": 1}, ... every parameter "delay" seconds
until stop_processing() (or "limit" packets, if given); logs when it stops
and when torn down."""
import threading

from titanfe.brick import InletBrickBase


class Brick(InletBrickBase):
    def setup(self):
        self.stopped = threading.Event()

    def process(self, input, port):
        assert input is None and port == "TRIGGER", (input, port)
        delay = float(self.parameters.get("delay", 0.001))
        limit = int(self.parameters.get("limit", 0))
        n = 0
        while not self.stopped.is_set() and (limit == 0 or n < limit):
            self.adapter.emit_new_packet({"n": n})
            n += 1
            self.stopped.wait(delay)
        self.adapter.log.info("ticker stopped after %d packets", n)

    def stop_processing(self):
        self.adapter.log.info("stop_processing called")
        self.stopped.set()

    def teardown(self):
        self.adapter.log.info("ticker teardown")
