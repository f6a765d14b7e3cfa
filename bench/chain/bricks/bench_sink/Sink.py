"""Benchmark outlet: records the latency of every packet (receive time
minus the time the generator stamped into it) and writes a summary to
parameter "path" once `count` packets arrived."""
import json
import time

from titanfe.brick import BrickBase


class Brick(BrickBase):
    titan_plain_values = True

    def setup(self):
        self.lat, self.first, self.count = [], None, int(self.parameters["count"])

    def process(self, input, port):
        now = time.time_ns()
        if self.first is None:
            self.first = now
        self.lat.append(now - input["sent"])
        if len(self.lat) == self.count:
            lat = sorted(self.lat)
            with open(self.parameters["path"], "w") as f:
                json.dump({"n": len(lat), "seconds": (now - self.first) / 1e9,
                           "p50_ms": lat[len(lat) // 2] / 1e6, "p99_ms": lat[int(len(lat) * 0.99)] / 1e6}, f)
