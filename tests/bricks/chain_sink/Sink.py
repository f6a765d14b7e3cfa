"""Outlet for the runner chain tests: appends every input, as JSON with
the brick instance name and port, to the file named by parameter "path"."""
import json

from titanfe.brick import BrickBase
from titanfe.ujo_helper import ujo_to_python


class Brick(BrickBase):
    def setup(self):
        self.out = open(self.parameters["path"], "a")

    def process(self, input, port):
        rec = {"brick": self.adapter.meta.brick.name, "port": port, "payload": ujo_to_python(input)}
        self.out.write(json.dumps(rec, sort_keys=True) + "\n")
        self.out.flush()

    def teardown(self):
        self.out.close()
