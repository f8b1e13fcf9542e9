"""Issue 16, item 5: ``syncml convert`` with short type names, unknown types
refused before any input is read, several inputs, partial results (good
items written, bad ones named, exit 1) and ``--lenient``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from syncml_codec.cli import _convert, main
from syncml_codec.formats import detect_content_type, normalized, parse, parse_items, registered_types

from ..conftest import corpus_path

CARD = "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe{n};Jo\r\nFN:Jo Doe{n}\r\nTEL;CELL:{n}\r\nEND:VCARD\r\n"
BROKEN = "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Bad;Item\r\nthis line has no colon\r\nEND:VCARD\r\n"
FOLDER = (b"<Folder>\n<name>Projects</name>\n<created>20260101T100000Z</created>\n"
          b"<role>inbox</role>\n</Folder>")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def cards(*numbers: int | None) -> bytes:
    return "".join(BROKEN if n is None else CARD.format(n=n) for n in numbers).encode()


def titles(data: bytes) -> list[object]:
    """FN / SUMMARY values of each item of a Versit file, in order."""
    return [[v for _g, name, _p, v in normalized(c) if name in ("FN", "SUMMARY")] for c in parse_items(data)]


def test_every_short_name_names_a_registered_type_and_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    known = set(registered_types())
    assert {mime for mime, _ in _convert.SHORT_TYPES.values()} == known  # every format has a short name
    code, out, _ = run(capsys, "convert", "--list-types")
    assert code == 0
    listed = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:] if line and line[0].islower()}
    assert listed == {name: mime for name, (mime, _) in _convert.SHORT_TYPES.items()}
    assert "vcf21" in out and "text/x-vcard" in out and "sifc, vcf21" in out  # vcf converts to sifc and vcf21
    code, out, _ = run(capsys, "convert", "--help")
    assert code == 0 and all(name in out for name in _convert.SHORT_TYPES)
    # full MIME names (any case, with parameters) keep working
    assert _convert.resolve_type("Text/X-VCard; charset=UTF-8") == "text/x-vcard"
    assert _convert.resolve_type("VCF21") == "text/x-vcard"


# short name -> (a sample in the corpus's formats/syncevolution, the short name it goes back to)
ROUND_TRIPS = {
    "vcf": ("vcard21.vcf", "vcf21"),
    "vcf30": ("vcard21.vcf", "vcf21"),
    "vcf21": ("eds_contact.vcf", "vcf"),
    "ics": ("vcal10.ics", "vcs"),
    "vcs": ("google_event.ics", "ics"),
    "vnt": ("eds_memo.ics", "ics"),
    "txt": ("eds_memo.ics", "ics"),
    "note": ("eds_memo.ics", "ics"),
    "sifc": ("eds_contact.vcf", "vcf"),
    "sife": ("google_event.ics", "ics"),
    "sift": ("eds_task.ics", "ics"),
    "sifn": ("eds_memo.ics", "ics"),
}


@pytest.mark.parametrize("short", sorted(ROUND_TRIPS))
def test_short_name_round_trips_a_corpus_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 short: str) -> None:
    """sample -> SHORT -> back: every item arrives in the type the short name
    names, and the way back gives the same items (names / summaries)."""
    parts, back = ROUND_TRIPS[short]
    sample = corpus_path("formats", "syncevolution", parts)
    mime = _convert.SHORT_TYPES[short][0]
    one_doc = mime not in _convert._VERSIT_OUTPUT
    middle = tmp_path / "mid"
    target = str(middle) + "/" if one_doc else str(middle)
    code, _, err = run(capsys, "convert", str(sample), "--to", short, "-o", target)
    assert code == 0, err
    n = len(parse_items(sample.read_bytes()))
    assert f"{n} of {n} items converted to {mime}" in err
    written = sorted(middle.iterdir()) if one_doc else [middle]
    if one_doc:
        assert len(written) == n
        assert all(detect_content_type(p.read_bytes()) == mime for p in written if mime != "text/plain")
    else:
        assert len(parse_items(middle.read_bytes())) == n
        assert {parse(c.serialize(), mime).content_type for c in parse_items(middle.read_bytes())} == {mime}
    again = tmp_path / "again"
    code, _, err = run(capsys, "convert", *map(str, written), "--from", short, "--to", back, "-o", str(again))
    assert code == 0, err
    if mime != "text/plain":
        assert titles(again.read_bytes()) == titles(sample.read_bytes())
    else:  # a plain-text note has no summary of its own: its text survives the way back and forth
        third = tmp_path / "third"
        code, _, err = run(capsys, "convert", str(again), "--to", short, "-o", str(third) + "/")
        assert code == 0, err
        assert [p.read_bytes() for p in sorted(third.iterdir())] == [p.read_bytes() for p in written]
        assert written[1].read_bytes() == b"Summary\nBody <<Revision>>"


@pytest.mark.parametrize("chain", [("email", "eml"), ("eml", "email")])
def test_mail_short_names_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     chain: tuple[str, str]) -> None:
    sample = corpus_path("formats", "funambol-server", "rfc822", "invitation_outlook.txt")
    first, second = chain
    start = sample
    if first == "eml":  # start from the OMA DS object, so that eml is the target of the first step
        start = tmp_path / "start.xml"
        assert run(capsys, "convert", str(sample), "--to", "email", "-o", str(start))[0] == 0
    mid, end = tmp_path / "mid", tmp_path / "end"
    code, _, err = run(capsys, "convert", str(start), "--to", first, "-o", str(mid))
    assert code == 0, err
    assert detect_content_type(mid.read_bytes()) == _convert.SHORT_TYPES[first][0]
    code, _, err = run(capsys, "convert", str(mid), "--from", first, "--to", second, "-o", str(end))
    assert code == 0, err
    assert detect_content_type(end.read_bytes()) == _convert.SHORT_TYPES[second][0]
    assert b"Subject: " in end.read_bytes()  # the mail is whole (an OMA DS email object holds it in emailitem)


@pytest.mark.parametrize("short", ["file", "folder"])
def test_oma_ds_objects_convert_to_themselves(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              short: str) -> None:
    if short == "file":
        source = corpus_path("formats", "funambol-server", "omads-file", "simpletext.xml")
    else:
        source = tmp_path / "folder.xml"
        source.write_bytes(FOLDER)
    out = tmp_path / "out.xml"
    code, _, err = run(capsys, "convert", str(source), "--from", short, "--to", short, "-o", str(out))
    assert code == 0, err
    assert parse(out.read_bytes()).content_type == _convert.SHORT_TYPES[short][0]
    assert parse(out.read_bytes()).serialize() == parse(source.read_bytes()).serialize()


@pytest.mark.parametrize("option", ["--to", "--from"])
def test_unknown_type_is_refused_before_any_input_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch, option: str) -> None:
    def no_reading(path: str) -> bytes:
        raise AssertionError(f"{path} was opened")

    monkeypatch.setattr(_convert, "read_input", no_reading)
    missing = tmp_path / "does-not-exist.vcf"
    argv = ["convert", str(missing), "--to", "vcf"]
    argv += ["--from", "vcard5"] if option == "--from" else []
    argv[argv.index("vcf")] = "vcard5" if option == "--to" else "vcf"
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    last = err.strip().splitlines()[-1]
    assert f"argument {option}: unknown type 'vcard5'" in last
    assert "vcf, vcf30, vcf21, ics, vcs" in last and "sifc" in last  # the valid names, on that one line
    assert "does-not-exist" not in err and not missing.exists()


def test_a_pair_without_conversion_is_refused_before_reading(capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_convert, "read_input", lambda path: pytest.fail(f"{path} was opened"))
    code, _, err = run(capsys, "convert", "/nonexistent/x.xml", "--from", "sifc", "--to", "ics")
    assert code == 2
    assert "no conversion from text/x-s4j-sifc to text/calendar (sifc converts to: vcf, vcf21 or itself)" in err


def test_several_inputs_into_one_file_and_stdin(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    first = corpus_path("formats", "syncevolution", "vcard21.vcf")
    second = corpus_path("formats", "syncevolution", "eds_contact.vcf")
    import io
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(cards(1, 2))))
    out = tmp_path / "all.vcf"
    code, _, err = run(capsys, "convert", str(first), "-", str(second), "--to", "vcf21", "-o", str(out))
    assert code == 0, err
    n1, n2 = len(parse_items(first.read_bytes())), len(parse_items(second.read_bytes()))
    written = parse_items(out.read_bytes())
    assert len(written) == n1 + 2 + n2
    assert titles(out.read_bytes())[n1:n1 + 2] == [["Jo Doe1"], ["Jo Doe2"]]  # in the order given
    assert f"{n1 + 2 + n2} of {n1 + 2 + n2} items converted to text/x-vcard from 3 files; 0 failed" in err


def test_out_dir_gives_one_output_per_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, two, three = tmp_path / "a" / "people.vcf", tmp_path / "b" / "people.vcf", tmp_path / "b" / "more.vcf"
    one.write_bytes(cards(1, 2))
    two.write_bytes(cards(3))
    three.write_bytes(cards(4, 5, 6))
    out = tmp_path / "out"
    code, _, err = run(capsys, "convert", str(one), str(two), str(three), "--to", "vcf", "--out-dir", str(out))
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["more.vcf", "people-2.vcf", "people.vcf"]
    assert titles((out / "people.vcf").read_bytes()) == [["Jo Doe1"], ["Jo Doe2"]]
    assert titles((out / "people-2.vcf").read_bytes()) == [["Jo Doe3"]]
    # a one-document type: one file per item, named after the input
    sif = tmp_path / "sif"
    code, _, err = run(capsys, "convert", str(one), str(two), "--to", "sifc", "--out-dir", str(sif))
    assert code == 0, err
    assert sorted(p.name for p in sif.iterdir()) == ["people-00001.xml", "people-00002.xml", "people-2.xml"]
    # converting in place never overwrites an input
    code, _, err = run(capsys, "convert", str(three), "--to", "vcf21", "--out-dir", str(tmp_path / "b"))
    assert code == 0, err
    assert three.read_bytes() == cards(4, 5, 6) and (tmp_path / "b" / "more-2.vcf").exists()


def test_several_inputs_of_one_document_items_need_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_convert, "read_input", lambda path: pytest.fail(f"{path} was opened"))
    code, _, err = run(capsys, "convert", "x.vcf", "y.vcf", "--to", "sifc")
    assert code == 2 and "use -o DIRECTORY or --out-dir DIRECTORY" in err
    code, _, err = run(capsys, "convert", "x.vcf", "--to", "sifc", "-o", "f", "--out-dir", "d")
    assert code == 2 and "-o and --out-dir exclude each other" in err


def test_one_bad_item_among_good_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "mixed.vcf"
    source.write_bytes(cards(1, 2, None, 3))
    out = tmp_path / "out.vcf"
    code, _, err = run(capsys, "convert", str(source), "--to", "vcf", "-o", str(out))
    assert code == 1
    assert titles(out.read_bytes()) == [["Jo Doe1"], ["Jo Doe2"], ["Jo Doe3"]]  # the good ones, in order
    # the bad one: file, item number, the line in the file and the reason
    assert f"syncml convert: {source}: item 3 (line 16): content line has no ':'" in err
    assert "3 of 4 items converted to text/vcard; 1 failed" in err
    assert err.strip().splitlines()[-1] == "syncml convert: 1 items could not be converted"


def test_lenient_reads_the_broken_item(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "mixed.vcf"
    source.write_bytes(cards(1, None, 2) + b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:No End\r\n")
    out = tmp_path / "out.vcf"
    code, _, err = run(capsys, "convert", str(source), "--to", "vcf", "-o", str(out))
    assert code == 1 and "2 of 4 items converted" in err
    assert "item 4 (line 18): BEGIN:VCARD has no END" in err
    code, _, err = run(capsys, "convert", str(source), "--to", "vcf", "-o", str(out), "--lenient")
    assert code == 0, err
    assert "4 of 4 items converted to text/vcard; 0 failed" in err
    written = parse_items(out.read_bytes(), lenient=True)  # the raw line is kept, as the lenient reading has it
    assert len(written) == 4 and b"this line has no colon" in written[1].serialize()
    assert titles(written[3].serialize()) == [["No End"]]  # closed: an END line of its own
    assert out.read_bytes().endswith(b"FN:No End\r\nEND:VCARD\r\n")


def test_lenient_still_reports_what_it_cannot_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """XML formats have no lenient reading: a broken SIF is named with --lenient too."""
    good = corpus_path("formats", "funambol-server", "sif", "sifc-parser", "sifc-2.xml")
    bad = tmp_path / "broken.xml"
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    out = tmp_path / "out.vcf"
    code, _, err = run(capsys, "convert", str(good), str(bad), "--from", "sifc", "--to", "vcf", "-o", str(out),
                       "--lenient")
    assert code == 1
    assert f"{bad}: item 1 (line " in err and "1 of 2 items converted" in err
    assert len(parse_items(out.read_bytes())) == 1


def test_text_outside_items(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "stray.vcf"
    source.write_bytes(b"exported by some phone\r\n" + cards(1) + b"garbage\r\n" + cards(2))
    out = tmp_path / "out.vcf"
    code, _, err = run(capsys, "convert", str(source), "--to", "vcf", "-o", str(out))
    assert code == 1 and len(parse_items(out.read_bytes())) == 2
    assert f"{source}: line 1: text outside any item left out ('exported by some phone')" in err
    assert f"{source}: line 8: text outside any item left out ('garbage')" in err
    code, _, err = run(capsys, "convert", str(source), "--to", "vcf", "-o", str(out), "--lenient")
    assert code == 0 and "(--lenient: a note only)" in err and "text outside items at 2 places" in err


def test_an_unreadable_input_among_good_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.vcf"
    good.write_bytes(cards(1, 2))
    empty = tmp_path / "empty.vcf"
    empty.write_bytes(b"\r\n")
    missing = tmp_path / "missing.vcf"
    out = tmp_path / "out.vcf"
    code, _, err = run(capsys, "convert", str(missing), str(good), str(empty), "--to", "vcf", "-o", str(out))
    assert code == 1
    assert len(parse_items(out.read_bytes())) == 2
    assert f"syncml convert: {missing}: No such file or directory" in err
    assert f"syncml convert: {empty}: no items" in err
    assert "2 of 2 items converted to text/vcard from 3 files; 0 failed, 2 inputs not read" in err


def test_every_failure_is_counted_and_verbose_lists_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "many.vcf"
    source.write_bytes(cards(*([None] * 120), 7))
    out = tmp_path / "out.vcf"
    code, _, err = run(capsys, "convert", str(source), "--to", "vcf", "-o", str(out))
    assert code == 1 and err.count(": item ") == 100 and "... 20 more not listed (-v lists them all)" in err
    assert "1 of 121 items converted to text/vcard; 120 failed" in err
    code, _, err = run(capsys, "convert", str(source), "--to", "vcf", "-o", str(out), "-v")
    assert code == 1 and err.count(": item ") == 120 and "more not listed" not in err


def test_installed_command_refuses_an_unknown_type(tmp_path: Path) -> None:
    exe = shutil.which("syncml", path=str(Path(sys.executable).parent)) or shutil.which("syncml")
    if exe is None:
        pytest.skip("not installed with pip (no console script)")
    proc = subprocess.run([exe, "convert", str(tmp_path / "nope.vcf"), "--to", "vcard"], capture_output=True,
                          timeout=120)
    assert proc.returncode == 2
    assert b"unknown type 'vcard'; valid: vcf" in proc.stderr and b"Traceback" not in proc.stderr
    good = tmp_path / "good.vcf"
    good.write_bytes(cards(1, None))
    proc = subprocess.run([exe, "convert", str(good), "--to", "vcf"], capture_output=True, timeout=120)
    assert proc.returncode == 1 and b"Jo Doe1" in proc.stdout
    assert f"{good}: item 2 (line 10)".encode() in proc.stderr and b"Traceback" not in proc.stderr
