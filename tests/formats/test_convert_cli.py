"""``syncml convert`` on whole files of items."""

from __future__ import annotations

from pathlib import Path

from syncml_codec.formats import normalized, parse_items

from ..conftest import corpus_path
from ..test_cli import syncml


def test_vcard_file_both_ways(tmp_path: Path):
    source = corpus_path("formats", "syncevolution", "vcard21.vcf")
    as30, back = tmp_path / "30.vcf", tmp_path / "21.vcf"
    proc = syncml("convert", str(source), "--to", "text/vcard", "-o", str(as30))
    assert proc.returncode == 0, proc.stderr
    original = parse_items(source.read_bytes())
    converted = parse_items(as30.read_bytes())
    assert b"items converted to text/vcard" in proc.stderr
    assert len(converted) == len(original) and all(c.version == "3.0" for c in converted)
    proc = syncml("convert", str(as30), "--from", "text/vcard", "--to", "text/x-vcard", "-o", str(back))
    assert proc.returncode == 0, proc.stderr
    again = parse_items(back.read_bytes())
    assert [normalized(c) for c in again] == [normalized(c) for c in original]


def test_items_that_cannot_be_converted_are_reported(tmp_path: Path):
    source = corpus_path("formats", "syncevolution", "eds_event.ics")
    proc = syncml("convert", str(source), "--to", "text/vcard", "-o", str(tmp_path / "out.vcf"))
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "0 of" in err and "not implemented yet" in err and "item 1 (line 1)" in err


def test_bad_input(tmp_path: Path):
    bad = tmp_path / "bad.vcf"
    bad.write_bytes(b"BEGIN:VCARD\r\nVERSION:2.1\r\nN\r\nEND:VCARD\r\n")
    proc = syncml("convert", str(bad), "--to", "text/vcard")
    assert proc.returncode == 1 and b"line 3" in proc.stderr
    proc = syncml("convert", "-", "--to", "text/vcard", stdin=b"hello")
    assert proc.returncode == 1 and b"line 1" in proc.stderr


def test_progress_bar_on_request(tmp_path: Path):
    card = b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;J\r\nTEL;CELL:1\r\nEND:VCARD\r\n"
    source = tmp_path / "many.vcf"
    source.write_bytes(card * 250)
    proc = syncml("convert", str(source), "--to", "text/vcard", "--progress", "always", "-o", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    assert b"converting [" in proc.stderr and b"250/250" in proc.stderr
    assert len(parse_items((tmp_path / "o").read_bytes())) == 250
    proc = syncml("convert", str(source), "--to", "text/vcard", "-o", str(tmp_path / "o2"))
    assert b"converting [" not in proc.stderr  # not a terminal, auto


def test_one_non_versit_item(tmp_path: Path):
    source = corpus_path("formats", "cpython-email", "msg_10.txt")
    proc = syncml("convert", str(source), "--from", "message/rfc822", "--to", "application/vnd.omads-email+xml",
                  "-o", str(tmp_path / "mail.xml"))
    assert proc.returncode == 0, proc.stderr
    assert b"1 of 1 items converted" in proc.stderr
    assert (tmp_path / "mail.xml").read_bytes().lstrip().startswith(b"<")


def _values(card) -> list[tuple[str, object]]:
    out = []
    for _group, name, _params, value in normalized(card):
        if isinstance(value, tuple):
            value = tuple(part for part in value if part)
        out.append((name, value))
    return sorted(out, key=repr)


def test_many_xml_items_need_a_directory(tmp_path: Path):
    source = corpus_path("formats", "syncevolution", "vcard21.vcf")
    proc = syncml("convert", str(source), "--to", "text/x-s4j-sifc", "-o", str(tmp_path / "one.xml"))
    assert proc.returncode == 1 and b"use -o DIRECTORY" in proc.stderr
    out = tmp_path / "sif"
    out.mkdir()
    proc = syncml("convert", str(source), "--to", "text/x-s4j-sifc", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    files = sorted(out.iterdir())
    assert len(files) == len(parse_items(source.read_bytes())) and files[0].name == "item-00001.xml"
    # and back: each SIF file is one item, detected as SIF-C
    proc = syncml("convert", str(files[0]), "--to", "text/x-vcard", "-o", str(tmp_path / "back.vcf"))
    assert proc.returncode == 0, proc.stderr
    (first,) = parse_items((tmp_path / "back.vcf").read_bytes())
    # SIF fixes the order and spelling (N padded to five parts, e-mail typed
    # INTERNET), not the values: compare the values of each property
    assert _values(first) == _values(parse_items(source.read_bytes())[0])


def test_losses_are_summarised(tmp_path: Path):
    source = corpus_path("formats", "syncevolution", "eds_event.ics")
    proc = syncml("convert", str(source), "--to", "text/x-vcalendar", "-o", str(tmp_path / "out.vcs"))
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode()
    assert "items lost something the target format cannot hold" in err
    assert "RECURRENCE-ID" in err
