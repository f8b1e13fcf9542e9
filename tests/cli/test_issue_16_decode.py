"""Issue 16: ``syncml decode`` over captures (several inputs, going past a
bad one), ``--tokens`` (the WBXML token trace), ``--indent``,
``--keep-whitespace`` and ``--language`` (as libwbxml's ``wbxml2xml``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from syncml_codec.cli import main
from syncml_codec.codec import wbxml as W
from syncml_codec.codec.xml import parse_xml, write_xml

from ..conftest import corpus_files, corpus_path

# offset (hex, decimal), page, the token's bytes (a 23-character column), its meaning
_LINE = re.compile(r"^0x([0-9a-f]{4,}) +(\d+)  ([ \d]{4})  ((?:[0-9a-f]{2} )*[0-9a-f]{2}(?: \.\.)? *)  (.*)$")


@pytest.fixture
def impl(wbxml, monkeypatch):
    """Run the CLI with the WBXML implementation under test."""
    monkeypatch.setattr(W, "wbxml_to_xml", wbxml.wbxml_to_xml)
    monkeypatch.setattr(W, "decode", wbxml.decode)
    return wbxml


def run(capsys, *args: str) -> tuple[int, str, str]:
    rc = main(["decode", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def _sample(*parts: str) -> Path:
    return corpus_path("libwbxml", "gen", *parts)


# -- one input: what it always was ------------------------------------------------


def test_one_file_is_unchanged(capsys, impl):
    path = _sample("wbxml", "syncml", "syncml-003.wbxml")
    rc, out, err = run(capsys, str(path))
    assert (rc, err) == (0, "")
    assert out.encode() == impl.wbxml_to_xml(path.read_bytes(), pretty=True)
    rc, out, _ = run(capsys, "--compact", str(path))
    assert out.encode() == impl.wbxml_to_xml(path.read_bytes())
    assert "<!--" not in out


@pytest.mark.parametrize("path", corpus_files("libwbxml/gen", "wbxml/*/*.wbxml"), ids=lambda p: p.name)
def test_keep_whitespace_on_the_corpus(capsys, impl, path: Path):
    """-k (the tree writer) gives what the decoders give, but for the layout
    inside an element with text and elements; the content is the same."""
    kept, plain = run(capsys, "-k", str(path))[1], run(capsys, str(path))[1]
    doc = impl.decode(path.read_bytes())
    assert parse_xml(kept.encode()) == parse_xml(plain.encode()) == doc
    if path.name == "syncml_with_ddf-001.wbxml":  # <Data>: a DDF document, then white space as OPAQUE
        assert "</MgmtTree><wbxml:opaque " in kept and "</MgmtTree>\n" in plain
    else:
        assert kept == plain
    assert run(capsys, "-k", "--compact", str(path))[1] == run(capsys, "--compact", str(path))[1]


def test_one_san_is_described(capsys):
    path = corpus_path("devices", "sailfishos+buteo-syncml", "tests_meego", "data", "SAN01.bin")
    rc, out, err = run(capsys, str(path))
    assert rc == 0 and err == ""
    assert out.startswith(f"{path}: Data Sync Notification (server-alerted sync, 56 bytes)\n")


# -- --tokens ---------------------------------------------------------------------------


def _rows(out: str) -> list[re.Match[str]]:
    rows = [_LINE.match(line) for line in out.splitlines()[2:]]
    assert all(rows), [line for line, m in zip(out.splitlines()[2:], rows, strict=True) if not m]
    return rows  # type: ignore[return-value]


@pytest.mark.parametrize("path", [
    *corpus_files("libwbxml/gen", "wbxml-strtbl/*/*.wbxml")[:4],
    *corpus_files("syncevolution/first-request", "*.wbxml")[:2],
    *corpus_files("devices", "**/*.wbxml"),
], ids=lambda p: p.name)
def test_tokens_offsets_match_the_bytes(capsys, path: Path):
    data = path.read_bytes()
    rc, out, err = run(capsys, "--tokens", str(path))
    assert (rc, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"{path}: WBXML, {len(data)} bytes"
    assert lines[1].split() == ["offset", "dec", "page", "bytes", "token"]
    rows = _rows(out)
    for m in rows:
        offset = int(m.group(1), 16)
        assert offset == int(m.group(2))
        shown = m.group(4).strip().removesuffix(" ..")
        raw = bytes.fromhex(shown)
        assert data[offset:offset + len(raw)] == raw, m.group(0)
    assert rows[0].group(5) == f"WBXML version 1.{data[0]}"
    assert any(m.group(5).strip().startswith(("END </SyncML>", "END </MgmtTree>")) for m in rows[-2:])


def test_tokens_the_ericsson_message(capsys):
    path = corpus_path("devices", "devaspot+syncml", "apps", "simple_sync", "test", "example.wbxml")
    rc, out, _ = run(capsys, "--tokens", str(path))
    assert rc == 0
    assert 'public ID in the string table at [0]: "-//SYNCML//DTD SyncML 1.0//EN"' in out
    assert "(unterminated: the table length ends it)" in out
    assert 'OPAQUE, 3 bytes: "1.0"' in out  # Ericsson sends strings as OPAQUE
    assert "padding after the root, 1 byte" in out


def test_tokens_nested_devinf_is_indented(capsys):
    path = _sample("wbxml-strtbl", "syncml", "syncml-003.wbxml")
    rc, out, _ = run(capsys, "--tokens", str(path))
    assert rc == 0
    opaque = next(line for line in out.splitlines() if "nested WBXML document" in line)
    devinf = next(line for line in out.splitlines() if "<DevInf>" in line)
    text = _LINE.match(opaque).group(5)  # type: ignore[union-attr]
    inner = _LINE.match(devinf).group(5)  # type: ignore[union-attr]
    assert inner.index("<") > len(text) - len(text.lstrip()) and "| " in inner
    assert 'STR_T [34] "./devinf11"' in out
    assert "SWITCH_PAGE to code page 1 (MetInf, syncml:metinf)" in out


@pytest.mark.parametrize("cut", [3, 5, 60, 300])
def test_tokens_truncated(capsys, tmp_path: Path, cut: int):
    data = _sample("wbxml-strtbl", "syncml", "syncml-003.wbxml").read_bytes()[:cut]
    path = tmp_path / "cut.wbxml"
    path.write_bytes(data)
    rc, out, err = run(capsys, "--tokens", str(path))
    assert rc == 1
    last = out.splitlines()[-1]
    m = re.match(r"^0x([0-9a-f]+) +(\d+)  ERROR: (.+)$", last)
    assert m, last
    assert int(m.group(2)) <= cut
    assert err.count("\n") == 1 and err.startswith(f"syncml decode: {path}: ")
    assert f"(at byte offset {m.group(2)})" in err and "Traceback" not in err


def test_tokens_mutated(capsys, tmp_path: Path):
    good = _sample("wbxml", "syncml", "syncml-002.wbxml").read_bytes()
    assert good[-2:] == b"\x01\x01"
    path = tmp_path / "bad.wbxml"
    path.write_bytes(good[:-2] + b"\xc3\x7f\x41")  # an OPAQUE whose length runs past the end
    rc, out, err = run(capsys, "--tokens", str(path))
    assert rc == 1 and "ERROR: opaque length 127 exceeds" in out
    assert err.count("\n") == 1


def test_tokens_on_xml_says_so(capsys):
    path = corpus_path("libwbxml", "syncml", "syncml-001.xml")
    rc, out, err = run(capsys, "--tokens", str(path))
    assert (rc, err) == (0, "")
    assert out.startswith(f"{path}: an XML document, ") and "no WBXML tokens" in out


# -- --indent, --keep-whitespace, --language -------------------------------------------


@pytest.mark.parametrize("indent", ["0", "1", "4"])
def test_indent(capsys, impl, indent: str):
    path = _sample("wbxml", "syncml", "syncml-002.wbxml")
    rc, out, _ = run(capsys, "--indent", indent, str(path))
    assert rc == 0
    assert out.encode() == impl.wbxml_to_xml(path.read_bytes(), pretty=True, indent=int(indent))
    lines = out.splitlines()
    assert lines[3] == " " * int(indent) + "<SyncHdr>" and lines[4] == " " * 2 * int(indent) + "<VerDTD>1.1</VerDTD>"
    # XML input: the same layout
    rc, again, _ = run(capsys, "-i", indent, str(corpus_path("libwbxml", "syncml", "syncml-002.xml")))
    assert again.splitlines()[2:] == lines[2:]


@pytest.mark.parametrize("bad", ["-1", "17", "x"])
def test_indent_checked_before_any_work(capsys, bad: str):
    with pytest.raises(SystemExit) as info:
        main(["decode", "--indent", bad, "/nonexistent"])
    assert info.value.code == 2
    assert "0 to 16" in capsys.readouterr().err or bad == "-1"


def test_compact_and_indent_exclude_each_other(capsys):
    with pytest.raises(SystemExit):
        main(["decode", "--compact", "-i", "2", "-"])
    assert "not allowed with" in capsys.readouterr().err


_TEXT = (b'<SyncML xmlns="SYNCML:SYNCML1.1"><SyncHdr><VerDTD>1.1</VerDTD><VerProto>SyncML/1.1</VerProto>'
         b"<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>  http://x/a b  </LocURI></Target>"
         b"<Source><LocURI>\n line1\n  line2 </LocURI></Source></SyncHdr>"
         b"<SyncBody>\n   <Final/></SyncBody></SyncML>")


def test_keep_whitespace(capsys, impl, tmp_path: Path):
    xml = tmp_path / "ws.xml"
    xml.write_bytes(_TEXT)
    binary = tmp_path / "ws.wbxml"
    binary.write_bytes(impl.encode(parse_xml(_TEXT, keep_whitespace=True)))
    for path in (xml, binary):
        rc, plain, _ = run(capsys, str(path))
        rc, kept, _ = run(capsys, "-k", str(path))
        assert rc == 0
        for out in (plain, kept):  # text is never stripped
            assert "<LocURI>  http://x/a b  </LocURI>" in out
            assert "<LocURI>\n line1\n  line2 </LocURI>" in out
        # -k: the white space between elements is the document's, nothing added
        assert "<SyncBody>\n   <Final/></SyncBody>" in kept
        assert "<SyncBody>\n   <Final/></SyncBody>" not in plain
    # both inputs give the same with -k
    assert run(capsys, "-k", str(xml))[1] == run(capsys, "-k", str(binary))[1]


def _unknown_public_id() -> bytes:
    data = _sample("wbxml", "syncml", "syncml-001.wbxml").read_bytes()
    assert data[1:3] == b"\x9f\x53"
    return data[:1] + b"\x01" + data[3:]  # public ID 0x01: "unknown"


def test_language_forced(capsys, impl, tmp_path: Path):
    path = tmp_path / "unknown.wbxml"
    path.write_bytes(_unknown_public_id())
    rc, guessed, _ = run(capsys, str(path))
    assert rc == 0 and "SyncML 1.2//EN" in guessed  # guessed from the root
    for name in ("SYNCML11", "syncml1.1"):
        rc, out, _ = run(capsys, "--language", name, str(path))
        assert rc == 0
        assert '"-//SYNCML//DTD SyncML 1.1//EN"' in out and 'xmlns="SYNCML:SYNCML1.1"' in out
    rc, out, _ = run(capsys, "-l", "SYNCML11", "--tokens", str(path))
    assert "public ID 0x01: unknown (language forced: SyncML 1.1)" in out


def test_unknown_language_rejected_before_any_work(capsys):
    with pytest.raises(SystemExit) as info:
        main(["decode", "--language", "WML13", "/nonexistent"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown language 'WML13'" in err and "SYNCML10, SYNCML11, SYNCML12, DEVINF10" in err
    assert "No such file" not in err


# -- several inputs ---------------------------------------------------------------------------


def test_several_files_go_past_a_bad_one(capsys, impl, tmp_path: Path):
    good1 = _sample("wbxml", "syncml", "syncml-001.wbxml")
    good2 = corpus_path("libwbxml", "syncml", "syncml-002.xml")
    bad = tmp_path / "bad.wbxml"
    bad.write_bytes(good1.read_bytes()[:50])
    missing = tmp_path / "missing.wbxml"
    rc, out, err = run(capsys, str(good1), str(bad), str(missing), str(good2))
    assert rc == 1
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0] == f"syncml decode: {missing}: No such file or directory"
    assert lines[1].startswith(f"syncml decode: {bad}: ") and "byte offset" in lines[1]
    comments = [line for line in out.splitlines() if line.startswith("<!--")]
    assert comments == [
        f"<!-- message 1 of 3: {good1}; from the server -->",
        f"<!-- message 2 of 3: {bad}; sender unknown -->",
        f"<!-- message 3 of 3: {good2}; from the client -->",
    ]
    # each document is what decoding it alone gives, its comment after its XML declaration
    without = re.sub(r"<!-- message \d of 3: [^\n]* -->\n", "", out)
    first = impl.wbxml_to_xml(good1.read_bytes(), pretty=True)
    assert without.encode() == first + write_xml(parse_xml(good2.read_bytes()), pretty=True)
    assert out.startswith(first.split(b"\n", 1)[0].decode() + "\n<!-- message 1 of 3")


def test_several_with_tokens_and_a_directory(capsys, tmp_path: Path):
    for name in ("a.wbxml", "b.wbxml"):
        (tmp_path / name).write_bytes(_sample("wbxml", "syncml", "syncml-002.wbxml").read_bytes())
    (tmp_path / "c.xml").write_bytes(_TEXT)
    rc, out, err = run(capsys, "--tokens", str(tmp_path))
    assert (rc, err) == (0, "")
    assert out.count("<!-- message ") == 3
    assert out.count(": WBXML, ") == 2 and "c.xml: an XML document" in out


def test_comment_never_holds_a_double_dash(capsys, tmp_path: Path):
    odd = tmp_path / "a--b.wbxml"
    odd.write_bytes(_sample("wbxml", "syncml", "syncml-002.wbxml").read_bytes())
    rc, out, _ = run(capsys, "--compact", str(odd), str(odd))
    assert rc == 0
    for line in out.splitlines():
        if line.startswith("<!--"):
            assert "--" not in line[4:-3] and "a- -b.wbxml" in line
    assert "</SyncML>\n<?xml" in out  # a compact document ends its line before the next one
    assert out.count("?>\n<!-- message ") == 2


def test_installed_command_traces_tokens(tmp_path: Path):
    path = tmp_path / "cut.wbxml"
    path.write_bytes(_sample("wbxml", "syncml", "syncml-002.wbxml").read_bytes()[:30])
    script = Path(sys.executable).parent / "syncml"  # the installed command (else the module)
    command = [str(script)] if script.exists() else [sys.executable, "-m", "syncml_codec"]
    proc = subprocess.run([*command, "decode", "--tokens", str(path)], capture_output=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout.decode().splitlines()[-1].endswith("ERROR: inline string has no terminator")
    assert proc.stderr.decode().count("\n") == 1 and b"Traceback" not in proc.stderr


# -- against libwbxml's wbxml2xml where the options correspond -----------------------------------

_WBXML2XML = shutil.which("wbxml2xml")
needs_libwbxml = pytest.mark.skipif(_WBXML2XML is None, reason="wbxml2xml (libwbxml2-utils) not installed")


def _wbxml2xml(path: Path, *opts: str) -> str:
    proc = subprocess.run([_WBXML2XML or "wbxml2xml", *opts, "-o", "-", str(path)], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    # its stdout ends with its own status line; its XML declaration has no encoding
    return proc.stdout.decode().removesuffix("wbxml2xml succeeded\n")


def _body(xml: str) -> list[str]:
    """The lines after the XML declaration; libwbxml writes ' as &apos;."""
    return xml.replace("&apos;", "'").splitlines()[1:]


# libwbxml misplaces the layout of a nested DevInf (``<Data>      <DevInf``), so
# the differential runs over the messages without one
_NO_NESTED = [p for p in corpus_files("libwbxml/gen", "wbxml/syncml/*.wbxml")
              if p.name not in ("syncml-003.wbxml", "syncml-004.wbxml")]


@needs_libwbxml
@pytest.mark.parametrize("indent", ["0", "1", "4"])
@pytest.mark.parametrize("path", _NO_NESTED, ids=lambda p: p.name)
def test_indent_as_wbxml2xml(capsys, impl, path: Path, indent: str):
    rc, ours, _ = run(capsys, "-i", indent, str(path))
    assert rc == 0
    assert _body(ours) == _body(_wbxml2xml(path, "-i", indent))


@needs_libwbxml
def test_language_as_wbxml2xml(capsys, impl, tmp_path: Path):
    path = tmp_path / "unknown.wbxml"
    path.write_bytes(_unknown_public_id())
    assert subprocess.run([_WBXML2XML or "", "-o", "-", str(path)], capture_output=True).returncode != 0
    for lang in ("SYNCML11", "SYNCML12"):
        rc, ours, _ = run(capsys, "-i", "4", "-l", lang, str(path))
        assert rc == 0
        assert _body(ours) == _body(_wbxml2xml(path, "-i", "4", "-l", lang))


@needs_libwbxml
def test_keep_whitespace_as_wbxml2xml(capsys, impl, tmp_path: Path):
    path = tmp_path / "ws.wbxml"
    path.write_bytes(impl.xml_to_wbxml(_TEXT))
    rc, ours, _ = run(capsys, "-k", "-i", "0", str(path))
    assert rc == 0
    assert _body(ours) == _body(_wbxml2xml(path, "-k", "-i", "0"))
    # without -k libwbxml strips the text; we never do
    assert "<LocURI>http://x/a b</LocURI>" in _wbxml2xml(path, "-i", "0")
    assert "<LocURI>  http://x/a b  </LocURI>" in run(capsys, "-i", "0", str(path))[1]
