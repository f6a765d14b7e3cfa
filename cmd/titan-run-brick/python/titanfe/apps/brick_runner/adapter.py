"""Where the original titanfe keeps the adapter (for bricks importing it)."""
from titanfe.adapter import AdapterMeta, BrickAdapter, MetaData  # noqa: F401
from titanfe.repository import State  # noqa: F401
