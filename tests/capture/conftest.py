"""Fixtures for the capture tests: ``live_capture`` records SyncEvolution
syncing with ``syncml serve`` on loopback with tcpdump, once per test
session and encoding (see :mod:`tests.capture.captures`).  Without tcpdump
or SyncEvolution the tests that use it are skipped, unless
``SYNCML_CODEC_REQUIRE_INTEROP=1`` (CI), where that is a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..interop.conftest import se_shim  # noqa: F401 (the fixture: se-client setup, once per session)
from .captures import LiveCapture, record_sessions, tcpdump_path


@pytest.fixture(scope="session", params=["xml", "wbxml"])
def live_capture(request: pytest.FixtureRequest, se_shim: Path,  # noqa: F811
                 tmp_path_factory: pytest.TempPathFactory) -> LiveCapture:
    tcpdump_path()  # skips (or fails) before anything starts when tcpdump is missing
    enc: str = request.param
    return record_sessions(tmp_path_factory.mktemp(f"capture-{enc}"), se_shim, enc)
