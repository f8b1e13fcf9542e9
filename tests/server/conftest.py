"""What every server test shares."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _package_logger_restored() -> Iterator[None]:
    """``create_app`` sets the ``syncml_codec`` logger's level (and may give
    it a handler): each test leaves it as it found it."""
    package = logging.getLogger("syncml_codec")
    level, handlers, propagate = package.level, list(package.handlers), package.propagate
    yield
    package.setLevel(level)
    package.handlers[:] = handlers
    package.propagate = propagate
