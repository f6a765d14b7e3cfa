"""Emits input["n"] packets {"i": k} on input["port"] (default port if
absent), then returns {"done": n}."""
from titanfe.brick import BrickBase


class Brick(BrickBase):
    def process(self, input, port):
        n = input["n"].value
        target = input.get("port")
        for k in range(n):
            if target is None:
                self.adapter.emit_new_packet({"i": k})
            else:
                self.adapter.emit_new_packet({"i": k}, port=target.value)
        return {"done": n}
