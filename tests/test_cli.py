"""The ``syncml`` command, run as a user would: a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from syncml_codec import parse_xml, wbxml_to_xml

from .conftest import corpus_path


def syncml(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "syncml_codec", *args], input=stdin,
                          capture_output=True, timeout=60)


def test_version_names_the_implementation_of_each_layer():
    proc = syncml("--version")
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert re.fullmatch(r"syncml-codec 0\.1\.0 \(codec: (cython|python), model: (cython|python), "
                        r"formats: (cython|python)\)\n", out), out
    expected = "python" if os.environ.get("SYNCML_CODEC_NO_EXTENSIONS") else \
        "cython" if os.environ.get("SYNCML_CODEC_REQUIRE_EXTENSION") else None
    if expected:
        assert out.count(expected) == 3, out


def test_decode_wbxml_file():
    path = corpus_path("syncevolution", "first-request", "wbxml-addressbook-vcard30-md5.wbxml")
    proc = syncml("decode", str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert b"\n  <SyncHdr>\n" in proc.stdout  # pretty by default
    assert b'<DevInf xmlns="syncml:devinf">' in proc.stdout
    assert parse_xml(proc.stdout) == parse_xml(wbxml_to_xml(path.read_bytes()))


def test_decode_xml_from_stdin_compact():
    path = corpus_path("libwbxml", "syncml", "syncml-003.xml")
    proc = syncml("decode", "-", "--compact", stdin=path.read_bytes())
    assert proc.returncode == 0, proc.stderr
    assert b"\n" not in proc.stdout.strip()
    assert parse_xml(proc.stdout) == parse_xml(path.read_bytes())


def test_encode_then_decode(tmp_path: Path):
    path = corpus_path("libwbxml", "syncml", "syncml-004.xml")
    out = tmp_path / "m.wbxml"
    proc = syncml("encode", str(path), "-o", str(out), "--string-table", "--wbxml-version", "1.2")
    assert proc.returncode == 0, proc.stderr
    data = out.read_bytes()
    assert data[:2] == b"\x02\x9f"
    back = syncml("decode", str(out), "-o", str(tmp_path / "m.xml"))
    assert back.returncode == 0
    assert parse_xml((tmp_path / "m.xml").read_bytes()) == parse_xml(path.read_bytes())


def test_encode_to_stdout_pipe():
    proc = syncml("encode", stdin=b"<SyncML><SyncBody><Final/></SyncBody></SyncML>")
    assert proc.returncode == 0
    assert proc.stdout == b"\x03\xa4\x01\x6a\x00\x6d\x6b\x12\x01\x01"


@pytest.mark.parametrize("data, where", [
    (b"\x03\xa4\x01\x6a\x00\x6d\x03abc", "byte offset 6"),
    (b"\x03\xa4\x01\x6a\x00\x6d\x7f\x01\x01", None),  # lenient: fine
    (b"<SyncML>\n<SyncHdr>\n</SyncML>", "line 3"),
])
def test_bad_input_is_one_line_and_status_1(tmp_path: Path, data: bytes, where: str | None):
    path = tmp_path / "bad"
    path.write_bytes(data)
    proc = syncml("decode", str(path))
    if where is None:
        assert proc.returncode == 0
        return
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and where in err and err.startswith("syncml decode: ")


def test_strict_decode_rejects_unknown_tokens(tmp_path: Path):
    path = tmp_path / "odd.wbxml"
    path.write_bytes(b"\x03\xa4\x01\x6a\x00\x6d\x7f\x01\x01")
    proc = syncml("decode", "--strict", str(path))
    assert proc.returncode == 1 and b"byte offset 6" in proc.stderr


def test_missing_file_and_encode_errors(tmp_path: Path):
    proc = syncml("decode", str(tmp_path / "nope.wbxml"))
    assert proc.returncode == 1 and b"No such file" in proc.stderr
    proc = syncml("encode", "-", stdin=b"\x03\xa4\x01\x6a\x00\x2d")
    assert proc.returncode == 1 and b"already WBXML" in proc.stderr
    proc = syncml("encode", "-", stdin=b"<SyncML><Bogus/></SyncML>")
    assert proc.returncode == 1 and b"string_table" in proc.stderr


@pytest.mark.parametrize("command", [["decode"], ["inspect"], ["devinf"], ["convert", "--to", "text/vcard"]])
def test_every_subcommand_reports_an_unreadable_file_alike(tmp_path: Path, command: list[str]):
    """The subcommands share one reader and one failure (cli/_common.py)."""
    missing = str(tmp_path / "nope.bin")
    proc = syncml(*command, missing)
    assert proc.returncode == 1
    assert proc.stderr.decode() == f"syncml {command[0]}: {missing}: No such file or directory\n"


def test_convert_writes_items_into_a_directory(tmp_path: Path):
    cards = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:B\r\nEND:VCARD\r\n"
    out = tmp_path / "sif"
    proc = syncml("convert", "-", "--to", "text/x-s4j-sifc", "-o", str(out) + "/", stdin=cards)
    assert proc.returncode == 0, proc.stderr
    written = sorted(out.iterdir())
    assert [p.name for p in written] == ["item-00001.xml", "item-00002.xml"]
    assert [b"<FileAs>A</FileAs>" in p.read_bytes() for p in written] == [True, False]
    assert b"<FileAs>B</FileAs>" in written[1].read_bytes()


def test_console_script_is_installed():
    import shutil
    exe = shutil.which("syncml")
    if exe is None:
        pytest.skip("not installed with pip (no console script on PATH)")
    proc = subprocess.run([exe, "--version"], capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith(b"syncml-codec")
