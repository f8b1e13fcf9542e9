"""Issue 9: the engine's limits are an operator's to set on ``syncml
serve``, and a real server run enforces what the flags say (a lockout after
the given number of wrong passwords, the MaxObjSize it announces)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from syncml_codec.model import Message

from .test_cli_serve import syncml
from .test_issue_9_http import BASIC_XML, Serve
from .test_wsgi import XML

Start = Callable[..., Serve]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Start]:
    """Starts ``syncml serve`` with the given flags; stops them all after the test."""
    servers: list[Serve] = []

    def start(*flags: str) -> Serve:
        folder = tmp_path / str(len(servers))
        folder.mkdir()
        servers.append(Serve(folder, *flags))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


GOOD = base64.b64encode(b"test:secret")


def _with_password(password: bytes) -> bytes:
    return BASIC_XML.read_bytes().replace(GOOD, base64.b64encode(b"test:" + password))


def _header_status(body: bytes) -> str:
    msg = Message.from_bytes(body, XML)
    return next(c.data for c in msg.commands if c.TAG == "Status" and c.cmd_ref == "0")


def test_lockout_flags_take_effect(serve: Start) -> None:
    server = serve("--auth-failures", "2", "--lockout", "600", "--max-lockout", "600")
    for _ in range(2):
        status, body, _ = server.post(_with_password(b"wrong"), XML)
        assert status == 200 and _header_status(body) == "401"
    status, body, _ = server.post(_with_password(b"secret"), XML)  # the right one, but locked out now
    assert status == 200 and _header_status(body) == "401"
    _, log = server.stop()
    assert log.count("auth failure:") == 2
    assert "reason=locked-out" in log


def test_without_the_flags_the_right_password_still_gets_in_after_two_failures(serve: Start) -> None:
    server = serve()
    for _ in range(2):
        server.post(_with_password(b"wrong"), XML)
    status, body, _ = server.post(_with_password(b"secret"), XML)
    assert status == 200 and _header_status(body) == "212"


def test_max_object_size_is_announced(serve: Start) -> None:
    server = serve("--max-object-size", "12345")
    status, body, _ = server.post(BASIC_XML.read_bytes(), XML)
    assert status == 200
    meta = Message.from_bytes(body, XML).header.meta
    assert meta is not None and meta.max_obj_size_int == 12345


def test_a_bad_limit_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "never.db"
    result = syncml("serve", "--port", "0", "--db", str(db), "--sessions-per-account", "0")
    assert result.returncode == 2  # a usage error (issue 12)
    assert result.stderr == "syncml serve: --sessions-per-account must be positive, not 0\n"
    assert "Traceback" not in result.stderr
    assert not db.exists()  # refused before anything was opened
