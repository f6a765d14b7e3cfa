"""Multiplies input["value"] by the parameter "factor" and labels it with
the parameter "label"; reports the input port and adapter.meta."""
from titanfe.brick import BrickBase, ConfigurationError


class Brick(BrickBase):
    def setup(self):
        if "factor" not in self.parameters:
            raise ConfigurationError("parameter 'factor' is missing")
        self.factor = self.parameters["factor"]
        self.label = self.parameters.get("label", "none")

    def process(self, input, port):
        meta = self.adapter.meta
        self.adapter.log.info("transforming on port %s", port)
        return {
            "value": input["value"].value * self.factor,
            "label": self.label,
            "port": port,
            "params": self.parameters,
            "meta": [meta.flow.uid, meta.flow.name, meta.brick.uid, meta.brick.name],
        }
