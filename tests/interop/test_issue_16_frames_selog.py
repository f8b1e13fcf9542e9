"""Issue 16 item 1 with a real client: a SyncEvolution log directory (its
HTML log and the message dumps beside it, ``loglevel=5``) of a sync against
our server is read back as one capture: every message our server received
and sent, in order, timed and directed by the HTML log."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncml_codec.capture import detect_input, read_capture
from syncml_codec.cli._captures import load_captures
from syncml_codec.model import Message

from .conftest import SE, Server
from .items import KINDS, picked


@pytest.mark.parametrize("wbxml", [True, False], ids=["wbxml", "xml"])
def test_syncevolution_log_directory_read_back(se: SE, syncml_server: Server, wbxml: bool) -> None:
    se.configure("a", wbxml=wbxml, stores=["addressbook"], sets=["loglevel=5"])
    se.add("a", "addressbook", picked(KINDS["vcard30"], 1))
    result = se.sync("a")
    folder = Path(result["log_dir"])
    html = folder / "syncevolution-log.html"
    assert html.is_file()
    assert detect_input(html.read_bytes()) == "log"
    for cap in (load_captures([str(folder)])[0], read_capture(html.read_bytes(), str(html))):
        assert not cap.notes, [str(n) for n in cap.notes]
        msgs = [Message.from_bytes(m.data) for m in cap.messages]
        assert len(msgs) >= 4
        # the client's messages target our server's URL, the server's the client's device id
        for m, msg in zip(cap.messages, msgs, strict=True):
            assert (m.direction == "client") == (msg.header.target.loc_uri or "").startswith("http")
            assert m.time is not None and "_msg" in m.origin
        assert cap.messages[0].direction == "client"
        times = [m.time for m in cap.messages]
        assert times == sorted(times)  # type: ignore[type-var]
        suffix = ".wbxml" if wbxml else ".xml"
        assert all(m.origin.endswith(suffix) for m in cap.messages)
