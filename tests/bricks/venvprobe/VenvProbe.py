"""Imports titan_venv_probe, a module that exists only in the venv/ the
test creates next to this file, and reports where Python runs."""
import sys

import titan_venv_probe

from titanfe.brick import BrickBase


class Brick(BrickBase):
    def process(self, input, port):
        return {
            "probe": titan_venv_probe.VALUE,
            "prefix": sys.prefix,
            "base_prefix": sys.base_prefix,
            "executable": sys.executable,
        }
