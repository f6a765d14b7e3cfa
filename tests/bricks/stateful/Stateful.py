"""adapter.state from the input: {"op": "set", "value": ...}, {"op": "get"},
{"op": "reset"}; returns {"op": ..., "result": ...}."""
from titanfe.brick import BrickBase


class Brick(BrickBase):
    titan_plain_values = True

    def process(self, input, port):
        op = input["op"]
        if op == "set":
            result = self.adapter.state.set(input["value"])
        elif op == "get":
            result = self.adapter.state.get()
        else:
            result = self.adapter.state.reset()
        return {"op": op, "result": result}
