"""Decrypts the hex string in input["hex"] with adapter.decrypt_parameter;
returns {"plain": ...} or {"error": "<class>: <message>"}."""
from titanfe.brick import BrickBase


class Brick(BrickBase):
    def process(self, input, port):
        try:
            return {"plain": self.adapter.decrypt_parameter(input["hex"].value)}
        except Exception as error:  # pylint: disable=broad-except
            return {"error": f"{type(error).__name__}: {error}", "is_value_error": isinstance(error, ValueError)}
