"""Issue 14 item 6: ``syncml mail import USER MBOX|MAILDIR`` seeds an account's Maildir."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest

from syncml_codec.cli import main
from syncml_codec.mail import INBOX, MaildirBackend, account_maildir

ONE = b"From: a@example.org\nSubject: one\nDate: Fri, 17 May 2024 08:30:00 +0000\nMessage-ID: <1@x>\n\nfirst\n"
TWO = b"From: b@example.org\nSubject: two\nMessage-ID: <2@x>\n\nsecond\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_import_an_mbox_with_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    box = mailbox.mbox(str(tmp_path / "in.mbox"))
    first = mailbox.mboxMessage(ONE)
    first.set_flags("RA")  # read, answered
    box.add(first)
    box.add(mailbox.mboxMessage(TWO))
    box.close()
    status, out, err = run(capsys, "mail", "import", "ann@example.org", str(tmp_path / "in.mbox"),
                           "--maildir-root", str(tmp_path / "mail"), "--json")
    assert (status, err) == (0, "")
    root = account_maildir(tmp_path / "mail", "ann@example.org")
    assert json.loads(out) == {"user": "ann@example.org", "maildir": str(root), "imported": 2, "skipped": 0,
                               "folders": [INBOX]}
    target = MaildirBackend(root, create=False)
    got = {target.fetch(INBOX, m.uid).split(b"\n\n")[1]: m for m in target.messages(INBOX)}
    assert got[b"first\n"].flags == {"read", "replied"}
    assert got[b"first\n"].internal_date.isoformat() == "2024-05-17T08:30:00+00:00"
    assert got[b"second\n"].flags == frozenset()


def test_import_a_maildir_with_subfolders_into_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = MaildirBackend(tmp_path / "old")
    source.create_folder("Lists/python")
    source.add(INBOX, ONE, {"read", "flagged"})
    source.add("Lists/python", TWO, {"draft"})
    status, out, _ = run(capsys, "mail", "import", "bob", str(tmp_path / "old"), "--maildir-root",
                         str(tmp_path / "mail"), "--folder", "Archive/2024")
    assert status == 0 and out == f"imported 2 message(s) into {tmp_path / 'mail' / 'bob'}\n"
    target = MaildirBackend(tmp_path / "mail" / "bob", create=False)
    assert [f.name for f in target.folders()] == [
        INBOX, "Archive", "Archive/2024", "Archive/2024/Lists", "Archive/2024/Lists/python"]
    assert [m.flags for m in target.messages("Archive/2024")] == [{"read", "flagged"}]
    [info] = target.messages("Archive/2024/Lists/python")
    assert info.flags == {"draft"} and target.fetch("Archive/2024/Lists/python", info.uid) == TWO


def test_a_malformed_message_is_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "in.mbox").write_bytes(b"From x Fri May 17 08:30:00 2024\n" + ONE
                                       + b"\nFrom y Fri May 17 08:30:00 2024\nnot a header line\n\nbody\n")
    status, out, err = run(capsys, "mail", "import", "ann", str(tmp_path / "in.mbox"),
                           "--maildir-root", str(tmp_path / "mail"))
    assert status == 0 and "(1 skipped)" in out
    assert "message 2: skipped: not a mail message" in err
    assert len(MaildirBackend(tmp_path / "mail" / "ann").messages(INBOX)) == 1


@pytest.mark.parametrize(("source", "why"), [("missing", "no such file or folder"), ("dir", "not a Maildir")])
def test_a_bad_source(tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, why: str) -> None:
    (tmp_path / "dir").mkdir()
    status, _, err = run(capsys, "mail", "import", "ann", str(tmp_path / source), "--maildir-root",
                         str(tmp_path / "mail"))
    assert status == 1 and why in err


def test_a_bad_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "in.mbox").write_bytes(b"")
    status, _, err = run(capsys, "mail", "import", "ann", str(tmp_path / "in.mbox"), "--maildir-root",
                         str(tmp_path / "mail"), "--folder", "../etc")
    assert status == 1 and "folder name" in err
