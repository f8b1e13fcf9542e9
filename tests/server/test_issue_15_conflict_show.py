"""Issue 15: ``syncml conflict list|show`` with both versions of a conflict
(the device's and the server's of a ``merge``), from real syncs of our client."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncml_codec.engine import SyncServer

from ..engine.conftest import Clock, counter_random
from ..engine.helpers import ab
from .test_issue_12_operate import World, sync

CONTACT = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\nTEL:+1-555-0100\r\n"
           b"EMAIL:jane@example.org\r\nEND:VCARD\r\n")


def test_issue_15_a_merged_conflict_shows_both_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = World(tmp_path / "s.db")
    world.server = SyncServer(world.store, clock=Clock(), random_source=counter_random(), conflict_policy="merge")
    world.a.datastores["./addressbook"].add(CONTACT)
    assert sync(world.server, world.a).ok and sync(world.server, world.b).ok
    (on_a, data_a), = ab(world.a).items()
    world.a.datastores["./addressbook"].update(on_a, data_a.replace(b"0100", b"0111"))
    assert sync(world.server, world.a).ok
    (on_b, data_b), = ab(world.b).items()
    world.b.datastores["./addressbook"].update(on_b, data_b.replace(b".org", b".com"))
    assert sync(world.server, world.b).ok
    (conflict,) = world.json("conflict", "list", capsys=capsys)["conflicts"]
    assert conflict["reason"].startswith("both changed; merged field by field")
    assert conflict["size"] > 0 and conflict["other_size"] > 0 and conflict["other_content_type"] == "text/vcard"
    shown = world.json("conflict", "show", str(conflict["id"]), capsys=capsys)
    assert "jane@example.com" in shown["data"] and "+1-555-0111" in shown["other_data"]
    code, out, _ = world.run("conflict", "show", str(conflict["id"]), capsys=capsys)
    assert code == 0 and "  the device's version (text/vcard" in out and "  the server's version (text/vcard" in out
    assert "    EMAIL:jane@example.com\n" in out and "    TEL:+1-555-0111\n" in out
