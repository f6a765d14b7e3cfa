"""A package-folder brick: the brick folder holds Greeter/ (exporting Brick)."""
from .impl import Brick

__all__ = ["Brick"]
