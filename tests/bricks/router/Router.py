"""Result shapes from input["mode"]: "tuple" -> (value, input["port"]),
"none-port" -> (value, None), "triple" -> a 3-tuple, "badport" -> (value, 5),
"drop" -> None, else the value."""
from titanfe.brick import BrickBase


class Brick(BrickBase):
    def process(self, input, port):
        mode = input["mode"].value
        value = input["value"]
        if mode == "tuple":
            return value, input["port"].value
        if mode == "none-port":
            return value, None
        if mode == "triple":
            return value, "output", "extra"
        if mode == "badport":
            return value, 5
        if mode == "drop":
            return None
        return value
