"""Benchmark inlet: `count` packets with a ~100-byte payload map carrying
its send time; `rate` packets/s (0 = as fast as possible)."""
import time

from titanfe.brick import InletBrickBase


class Brick(InletBrickBase):
    titan_plain_values = True

    def setup(self):
        self.running = True

    def process(self, input, port):
        count, rate = int(self.parameters["count"]), float(self.parameters.get("rate", 0))
        t0 = time.monotonic()
        for i in range(count):
            if not self.running:
                break
            if rate:
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            self.adapter.emit_new_packet({"seq": i, "sent": time.time_ns(), "sensor": "temp-0042",
                                          "value": 21.5, "ok": True, "tags": ["hall", "north"]})

    def stop_processing(self):
        self.running = False
