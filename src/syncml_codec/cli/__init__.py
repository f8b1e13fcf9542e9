"""Layer 5: the ``syncml`` command."""

from ._main import main

__all__ = ["main"]
