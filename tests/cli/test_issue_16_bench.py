"""Issue 16, item 6: ``syncml bench`` on the user's files, directories and
captures, or on the built-in set (a session of our own client and server):
decode, encode and Message.from_bytes per implementation, libwbxml2 in the
same run when it is installed.  No timing thresholds: the figures must be
there and positive, and what could not be timed must be counted."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from syncml_codec.cli import _bench, main
from syncml_codec.codec import libwbxml
from syncml_codec.codec import wbxml as selector
from syncml_codec.model import Message

from ..conftest import ROOT, corpus_path

SESSION = ("syncevolution", "sessions", "wbxml-addressbook-vcard30-basic", "1-a-first-sync")
XML_SESSION = ("syncevolution", "sessions", "xml-addressbook-vcard30-md5", "1-a-first-sync")
RESULT_FIELDS = {"operation", "impl", "messages", "bytes", "rounds", "seconds", "msgs_per_s", "mb_per_s",
                 "ratio_to_libwbxml"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["bench", *argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def bench_json(capsys: pytest.CaptureFixture[str], *argv: str, status: int = 0) -> dict[str, Any]:
    code, out, err = run(capsys, "--rounds", "1", "--json", *argv)
    assert code == status, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def have_libwbxml() -> bool:
    return libwbxml.load_libwbxml()[0] is not None


def rows(doc: dict[str, Any], impl: str | None = None) -> dict[str, dict[str, Any]]:
    return {r["operation"]: r for r in doc["results"] if impl is None or r["impl"] == impl}


def check_figures(doc: dict[str, Any]) -> None:
    assert doc["results"], doc
    for r in doc["results"]:
        assert set(r) == RESULT_FIELDS
        assert r["messages"] > 0 and r["bytes"] > 0
        # --rounds 1: one pass each; libwbxml takes turns with each of ours, its row sums those passes
        assert r["rounds"] == 1 if r["impl"] != "libwbxml" else 1 <= r["rounds"] <= 2
        assert r["seconds"] > 0 and r["msgs_per_s"] > 0 and r["mb_per_s"] > 0


def test_bench_on_given_files(capsys: pytest.CaptureFixture[str]) -> None:
    session = corpus_path(*SESSION)
    files = [session / "001-request.wbxml", session / "001-response.wbxml",
             corpus_path(*XML_SESSION) / "001-request.xml"]
    doc = bench_json(capsys, *map(str, files))
    check_figures(doc)
    assert doc["implementation"] == selector.IMPLEMENTATION and doc["source"] == "inputs"
    assert (doc["messages"], doc["wbxml_messages"], doc["xml_messages"]) == (3, 2, 1)
    assert doc["bytes"] == sum(p.stat().st_size for p in files)
    ours = rows(doc, selector.IMPLEMENTATION)
    assert set(ours) == {"decode", "encode", "from_bytes_wbxml", "from_bytes_xml"}
    assert all(r["messages"] == 3 for r in ours.values())
    assert doc["skipped"] == 0 and doc["input_errors"] == []


def test_bench_on_a_directory_skips_and_counts_what_is_not_syncml(capsys: pytest.CaptureFixture[str]) -> None:
    session = corpus_path(*SESSION)
    wbxml = sorted(session.glob("*.wbxml"))
    assert sorted(session.glob("*.wbxml.xml")) and sorted(session.glob("*.json"))
    doc = bench_json(capsys, str(session))
    check_figures(doc)
    # a recorded session: its messages; the .json sidecars and the *.wbxml.xml renderings (duplicates) are
    # not read at all (issue 16, frames)
    assert (doc["wbxml_messages"], doc["xml_messages"]) == (len(wbxml), 0)
    assert doc["skipped"] == 0


def test_text_report_and_skipped_notes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = corpus_path(*SESSION) / "002-request.wbxml"
    truncated = tmp_path / "truncated.wbxml"
    truncated.write_bytes(good.read_bytes()[:40])
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"not a message at all\n")
    code, out, err = run(capsys, "--rounds", "1", str(good), str(truncated), str(notes))
    assert code == 0, err
    assert "syncml bench: 1 messages (1 WBXML, 0 XML" in out
    for title in ("decode WBXML->XML", "encode XML->WBXML", "from_bytes WBXML", "from_bytes XML", "msgs/s"):
        assert title in out
    assert "syncml bench: 2 messages skipped:" in err
    assert f"{truncated}: not a WBXML or XML document we read:" in err and f"{notes}: not a WBXML" in err
    assert "Traceback" not in err


def test_an_unreadable_input_is_reported_after_the_figures(capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    good = corpus_path(*SESSION) / "002-request.wbxml"
    missing = tmp_path / "missing.pcap"
    code, out, err = run(capsys, "--rounds", "1", str(good), str(missing))
    assert code == 1
    assert "decode WBXML->XML" in out  # the readable input was timed
    assert f"syncml bench: {missing}: No such file or directory" in err
    assert err.strip().splitlines()[-1] == "syncml bench: 1 inputs could not be read (see above); the others were timed"


def test_nothing_to_time_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"hello\n")
    code, out, err = run(capsys, "--rounds", "1", str(notes))
    assert code == 1 and out == ""
    assert err.strip().splitlines()[-1] == "syncml bench: no SyncML message to time in 1 input files"


def test_a_san_is_skipped_with_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    san = corpus_path("devices", "sailfishos+buteo-syncml", "tests_meego", "data", "SAN01.bin")
    good = corpus_path(*SESSION) / "002-request.wbxml"
    doc = bench_json(capsys, str(san), str(good))
    assert doc["messages"] == 1 and doc["skipped"] == 1
    assert "SAN" in doc["skipped_messages"][0]["reason"]


def test_bench_on_the_built_in_set(capsys: pytest.CaptureFixture[str]) -> None:
    doc = bench_json(capsys)
    check_figures(doc)
    assert doc["source"] == "built-in" and doc["inputs"] == []
    assert doc["wbxml_messages"] > 0 and doc["xml_messages"] > 0 and doc["skipped"] == 0
    assert doc["not_read_by_model"] == 0
    assert rows(doc, selector.IMPLEMENTATION)["from_bytes_xml"]["messages"] == doc["messages"]


def test_the_built_in_set_is_a_real_session() -> None:
    """Our client and server, both encodings, packages 1 to 5 with data both ways."""
    messages = _bench.builtin_messages()
    again = _bench.builtin_messages()  # the same messages every time, but the server's nonces
    assert [(origin, len(body)) for origin, body in messages] == [(origin, len(body)) for origin, body in again]
    read = [Message.from_bytes(body) for _, body in messages]
    assert {origin.split()[1] for origin, _ in messages} == {"wbxml", "xml"}
    kinds = {type(cmd).__name__ for msg in read for cmd in msg.commands}
    assert {"Alert", "Sync", "Status", "Map", "Put"} <= kinds
    adds = sum(1 for msg in read for cmd in msg.commands if type(cmd).__name__ == "Sync"
               for sub in cmd.commands if type(sub).__name__ == "Add")
    assert adds >= 2  # the 60 items go in several Adds (one per message)
    assert all(msg.header.session_id for msg in read)


@pytest.mark.skipif(not have_libwbxml(), reason="libwbxml2 is not installed")
def test_libwbxml_in_the_same_run(capsys: pytest.CaptureFixture[str]) -> None:
    doc = bench_json(capsys, str(corpus_path(*SESSION)))
    assert doc["libwbxml"]["available"] and doc["libwbxml"]["name"]
    lib = rows(doc, "libwbxml")
    assert set(lib) == {"decode", "encode"}  # libwbxml has no message model
    for operation in ("decode", "encode"):
        ours = rows(doc, selector.IMPLEMENTATION)[operation]
        assert ours["ratio_to_libwbxml"] > 0 and lib[operation]["ratio_to_libwbxml"] is None
        assert lib[operation]["messages"] == ours["messages"] - doc["libwbxml"][f"refused_{operation}"]
    code, out, _ = run(capsys, "--rounds", "1", str(corpus_path(*SESSION)))
    assert code == 0 and "libwbxml" in out and "x\n" in out  # the ratio column


def test_libwbxml_wrapper_converts_both_ways() -> None:
    lib, why = libwbxml.load_libwbxml()
    if lib is None:
        pytest.skip(why)
    wbxml = (corpus_path(*SESSION) / "001-request.wbxml").read_bytes()
    xml = lib.wbxml_to_xml(wbxml)
    assert b"<SyncML" in xml and b"<SyncHdr>" in xml
    assert selector.decode(lib.xml_to_wbxml(xml)).root.tag == "SyncML"
    with pytest.raises(libwbxml.LibWBXMLError):
        lib.wbxml_to_xml(b"\x03\x00")


@pytest.mark.parametrize("setting", ["none", "/nonexistent/libwbxml2.so.1"])
def test_without_libwbxml_the_bench_runs_and_says_so(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    monkeypatch.setenv("SYNCML_CODEC_LIBWBXML", setting)
    session = corpus_path(*SESSION)
    doc = bench_json(capsys, str(session / "001-request.wbxml"))
    check_figures(doc)
    assert not doc["libwbxml"]["available"] and doc["libwbxml"]["name"] is None
    assert ("not used" if setting == "none" else "cannot be loaded") in doc["libwbxml"]["note"]
    assert {r["impl"] for r in doc["results"]} == {selector.IMPLEMENTATION}
    assert all(r["ratio_to_libwbxml"] is None for r in doc["results"])
    code, out, err = run(capsys, "--rounds", "1", str(session / "001-request.wbxml"))
    assert code == 0, err
    assert "libwbxml: libwbxml2" in out and "ours/libwbxml" in out


def test_no_libwbxml_option(capsys: pytest.CaptureFixture[str]) -> None:
    doc = bench_json(capsys, "--no-libwbxml", str(corpus_path(*SESSION) / "001-request.wbxml"))
    assert not doc["libwbxml"]["available"] and "--no-libwbxml" in doc["libwbxml"]["note"]


def test_both_implementations(capsys: pytest.CaptureFixture[str]) -> None:
    available = selector.available_implementations()
    doc = bench_json(capsys, "--impl", "both", str(corpus_path(*SESSION) / "002-response.wbxml"))
    check_figures(doc)
    assert {r["impl"] for r in doc["results"]} - {"libwbxml"} == set(available)
    for impl in available:
        assert set(rows(doc, impl)) == {"decode", "encode", "from_bytes_wbxml", "from_bytes_xml"}
    doc = bench_json(capsys, "--impl", "python", str(corpus_path(*SESSION) / "002-response.wbxml"))
    assert {r["impl"] for r in doc["results"]} - {"libwbxml"} == {"python"}


def test_cython_asked_for_but_absent(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selector, "available_implementations", lambda: {"python": selector._wbxml_py})
    code, out, err = run(capsys, "--impl", "cython", "--rounds", "1")
    assert code == 1 and out == ""
    assert err == ("syncml bench: --impl cython: the Cython extension is not available here "
                   "(a pure-Python install); use --impl python\n")


def test_bad_option_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--seconds", "0")
    assert code == 1 and "--seconds must be above 0" in err
    code, _, err = run(capsys, "--rounds", "0")
    assert code == 1 and "--rounds at least 1" in err


def test_message_count_is_bounded(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_bench, "MAX_MESSAGES", 2)
    doc = bench_json(capsys, str(corpus_path(*SESSION)))
    assert doc["messages"] == 2
    assert sum("over the limit" in s["reason"] for s in doc["skipped_messages"]) > 0


def test_benchmarks_use_the_package_wrapper() -> None:
    path = ROOT / "benchmarks" / "_contenders.py"
    spec = importlib.util.spec_from_file_location("_contenders_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.LibWBXML is libwbxml.LibWBXML  # one ctypes wrapper, in the package
    assert "import ctypes" not in path.read_text()


def test_installed_command(tmp_path: Path) -> None:
    exe = shutil.which("syncml", path=str(Path(sys.executable).parent)) or shutil.which("syncml")
    if exe is None:
        pytest.skip("not installed with pip (no console script)")
    good = corpus_path(*SESSION) / "002-request.wbxml"
    proc = subprocess.run([exe, "bench", "--rounds", "1", "--json", str(good)], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["messages"] == 1 and b"Traceback" not in proc.stderr


def test_seconds_mode_runs_each_contender_at_least_that_long(capsys: pytest.CaptureFixture[str]) -> None:
    good = corpus_path(*SESSION) / "002-request.wbxml"
    code, out, err = run(capsys, "--seconds", "0.05", "--json", str(good))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["seconds_per_operation"] == 0.05 and doc["rounds"] is None
    for r in doc["results"]:
        assert r["seconds"] >= 0.05 and r["rounds"] >= 1 and r["msgs_per_s"] > 0


def test_bench_on_a_pcap(capsys: pytest.CaptureFixture[str]) -> None:
    """A capture goes through the same readers as ``syncml inspect``: every SyncML body in it is timed."""
    from syncml_codec.capture import read_capture

    from ..conftest import DATA

    pcap = DATA / "captures" / "se-wbxml-two-sessions.pcap"
    if not pcap.exists():
        pytest.skip(f"{pcap} is not there")
    capture = read_capture(pcap.read_bytes(), str(pcap))
    syncml = [m for m in capture.messages if m.kind == "syncml"]
    assert capture.kind == "pcap" and len(syncml) > 4
    doc = bench_json(capsys, str(pcap))
    check_figures(doc)
    assert doc["messages"] == len(syncml) and doc["wbxml_messages"] == len(syncml)
    assert doc["bytes"] == sum(len(m.data) for m in syncml)
