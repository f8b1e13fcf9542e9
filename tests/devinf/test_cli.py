"""``syncml devinf``: the device and its datastores as tables.

Run through a parser of our own with the subcommand registered (the same
``register`` the ``syncml`` command calls)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from syncml_codec import write_xml
from syncml_codec.cli import _devinf
from syncml_codec.cli._main import CommandError
from syncml_codec.devinf import ContentType, CTCap, DataStore, DevInf, Property

from ..conftest import corpus_path


def run(*argv: str) -> None:
    parser = argparse.ArgumentParser(prog="syncml")
    sub = parser.add_subparsers(dest="command")
    _devinf.register(sub)
    args = parser.parse_args(["devinf", *argv])
    args.func(args)


def test_client_message_in_wbxml(capsys: pytest.CaptureFixture[str]):
    run(str(corpus_path("syncevolution", "first-request", "wbxml-addressbook-vcard21-md5.wbxml")))
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "DevInf 1.2 in Put (CmdID 1)"
    assert "  DevID     se-client-wbxml-addressbook-vcard21-md5" in lines
    assert "  Supports  UTC, LargeObjs, NumberOfChanges" in lines
    assert "DataStore ./addressbook (addressbook)" in lines
    assert "  MaxGUIDSize 64; SyncTypes 1 2 3 4 5 6 7 390001" in lines
    assert "  text/x-vcard  2.1      preferred  preferred  71" in lines
    assert "  CTCap text/x-vcard 2.1: 71 properties" in lines
    tel = next(line for line in lines if line.strip().startswith("TEL "))
    assert "TYPE=HOME,WORK,VOICE,CELL,FAX" in tel
    version = next(line for line in lines if line.strip().startswith("VERSION "))
    assert version.split() == ["VERSION", "1", "2.1"]


def test_server_results_in_xml_brief(capsys: pytest.CaptureFixture[str]):
    path = corpus_path("syncevolution", "sessions", "xml-calendar-ical20-md5", "1-a-first-sync", "001-response.xml")
    run(str(path), "--brief")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "DevInf 1.2 in Results (CmdID 4)"
    assert [line for line in lines if line.startswith("DataStore")] == [
        "DataStore ./addressbook (addressbook)", "DataStore ./calendar (calendar)", "DataStore ./memo (memo)",
        "DataStore ./todo (todo)"]
    assert "  text/x-vcalendar  1.0      yes        yes        31" in lines
    assert "  text/plain    1.1      yes        yes        -" in lines
    assert not any("CTCap" in line for line in lines)


def test_standalone_devinf_11_shows_flat_ctcaps_under_the_datastore(capsys: pytest.CaptureFixture[str]):
    run(str(corpus_path("libwbxml", "gen", "wbxml-strtbl", "syncml", "syncml-011.wbxml")))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "DevInf 1.1"
    assert lines[lines.index("DataStore ./contacts (Phonebook)") + 1] == (
        "  MaxGUIDSize 32; SyncTypes 1 7; DSMem MaxMem 32650, MaxID 250")
    assert "  text/vcard    3.0      preferred  preferred  5" in lines
    assert "  text/x-vcard  2.1                 yes        5" in lines
    assert "  CTCap text/x-vcard 2.1: 5 properties" in lines  # version from the datastore's Tx
    assert "  Ext       srtmsg = Hello World" in lines


def test_several_devinfs_and_unused_ctcaps(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    phone = DevInf(dev_id="phone", ver_dtd="1.1", datastores=(
        DataStore("./notes", rx_pref=(ContentType("text/plain", "1.0"),), tx_pref=(ContentType("text/plain", "1.0"),)),
    ), ctcaps=(CTCap("text/html", properties=(Property("BODY", max_size=100),)),))
    inner = write_xml(phone.to_document()).decode().split("?>", 1)[1].split(">", 1)[1]  # without the prolog
    message = (
        "<SyncML><SyncHdr><VerDTD>1.1</VerDTD></SyncHdr><SyncBody>"
        f"<Put><CmdID>1</CmdID><Item><Data>{inner}</Data></Item></Put>"
        f"<Results><CmdID>2</CmdID><Item><Data>{inner}</Data></Item></Results></SyncBody></SyncML>")
    path = tmp_path / "two.xml"
    path.write_text(message)
    run(str(path))
    out = capsys.readouterr().out
    assert out.count("DevInf 1.1 in ") == 2
    assert "\n\nDevInf 1.1 in Results (CmdID 2)\n" in out
    assert "CTCap text/html (no datastore names this type): 1 properties" in out
    assert "  BODY      100" in out.splitlines()


def test_errors(tmp_path: Path):
    with pytest.raises(CommandError, match="no DevInf in this syncml document"):
        run(str(corpus_path("libwbxml", "syncml", "syncml-001.xml")))
    with pytest.raises(CommandError, match=r"Put \(CmdID 1\): DevInf: DevID missing"):
        run(str(corpus_path("libwbxml", "quirks", "syncml12-put-devinf-ns.xml")))
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<DevInf><VerDTD>1.2</VerDTD>")
    with pytest.raises(CommandError, match=r"bad\.xml: .*line 1"):
        run(str(bad))
    with pytest.raises(CommandError, match=r"missing\.xml"):
        run(str(tmp_path / "missing.xml"))


def test_issue_10_quirks_of_a_real_sony_ericsson_k800i(capsys: pytest.CaptureFixture[str]):
    run(str(corpus_path("devices", "smn+txsyncml", "txsyncml", "tests", "fixtures",
                        "sony-ericsson-k800i-package1.xml")), "--brief")
    lines = capsys.readouterr().out.splitlines()
    assert "Quirks  2 behaviours in force" in lines
    rows = [line.split() for line in lines if line.startswith(("  latin1-payload", "  alarms-absolute-utc"))]
    assert [row[:2] for row in rows] == [["latin1-payload", "sony-ericsson"], ["alarms-absolute-utc", "sony-ericsson"]]
    rule = next(line for line in lines if line.startswith("  rule sony-ericsson:"))
    assert "Man ~ /sony ?ericsson|ericsson/" in rule and "00_sony_ericsson.xml" in rule
    assert lines.index("Quirks  2 behaviours in force") < lines.index("DataStore Contacts (Contacts)")


def test_issue_10_quirks_of_a_p900_and_of_a_device_without_any(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]):
    p900 = tmp_path / "p900.xml"
    p900.write_bytes(write_xml(DevInf(dev_id="IMEI:1", man="Sony Ericsson", mod="P900").to_document("1.1")))
    run(str(p900))
    lines = capsys.readouterr().out.splitlines()
    assert "Quirks  6 behaviours in force" in lines
    rows = [line.split(maxsplit=2) for line in lines if line.startswith("  ") and not line.startswith("  rule ")]
    assert {row[0] for row in rows if len(row) > 1 and row[1] == "sony-ericsson-p800-p900"} == {
        "omit-item-statuses", "all-day-as-midnight-span", "tasks-in-calendar", "categories-x-prefix"}
    run(str(corpus_path("syncevolution", "first-request", "wbxml-addressbook-vcard21-md5.wbxml")), "--brief")
    assert "Quirks  none (no quirk rule matches this device)" in capsys.readouterr().out.splitlines()
