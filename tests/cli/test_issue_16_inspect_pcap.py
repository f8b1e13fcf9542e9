"""Issue 16: ``syncml inspect`` on the committed capture of SyncEvolution
syncing with ``syncml serve`` (made by the pcap part, in
``tests/data/captures/``).  Skipped until the pcap reader and that capture are
in the tree; then the transcript must show the two sync sessions and the
refused first login."""

from __future__ import annotations

import json

import pytest

from syncml_codec.capture import read_capture
from syncml_codec.cli import main

from ..conftest import DATA
from .test_issue_16_inspect import validate

PCAP = DATA / "captures" / "se-wbxml-two-sessions.pcap"


def _pcap() -> str:
    if not PCAP.exists():
        pytest.skip(f"{PCAP} not in the tree yet (the pcap part adds it)")
    if read_capture(PCAP.read_bytes(), PCAP.name).kind != "pcap":
        pytest.skip("no pcap reader in this tree yet")
    return str(PCAP)


def test_pcap_transcript_json(capsys: pytest.CaptureFixture[str]) -> None:
    path = _pcap()
    assert main(["inspect", "--json", path]) == 0
    doc = json.loads(capsys.readouterr().out)
    validate(doc)
    refused, slow, two_way = doc["sessions"]
    # SyncEvolution's first message uses the empty nonce: 401 with a challenge, answered in a new SessionID
    assert refused["outcome"] == "failed" and refused["auth"]["outcome"] == "refused"
    assert "challenge is met in session 2" in refused["reason"]
    for s in (slow, two_way):
        assert s["outcome"] == "completed" and s["auth"]["outcome"] == "authenticated"
        assert [p["numbers"] for p in s["packages"]] == [[1], [2], [3], [4], [5], [6]]
        assert all(m["time"] is not None for p in s["packages"] for m in p["messages"])
        assert {m["http_status"] for p in s["packages"] for m in p["messages"] if m["direction"] == "server"} == {200}
    assert slow["datastores"][0]["asked"] == 201 and slow["datastores"][0]["from_client"] == {"Add": 4}
    (chunked,) = slow["chunked_items"]
    assert chunked["complete"] and chunked["chunks"] >= 2 and chunked["declared_size"] == chunked["received_size"]
    assert two_way["datastores"][0]["asked"] == 200 and two_way["datastores"][0]["from_client"] == {"Replace": 1}


def test_pcap_transcript_text(capsys: pytest.CaptureFixture[str]) -> None:
    path = _pcap()
    assert main(["inspect", path]) == 0
    out = capsys.readouterr().out
    assert out.count("Outcome: completed") == 2 and "Chunked items (MoreData):" in out
    assert "HTTP 200" in out and "request 1]" in out  # where in the capture each message was
