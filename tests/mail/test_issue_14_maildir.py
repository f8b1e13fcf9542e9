"""Issue 14 item 2, the Maildir back end's own side: the files an MTA or
Dovecot leave, the Maildir++ layout, the account directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syncml_codec.errors import MailError
from syncml_codec.mail import INBOX, MaildirBackend, MessageRef, account_maildir

MSG = b"From: a@example.org\nSubject: delivered\n\nby the MTA\n"


def deliver(root: Path, name: str, data: bytes = MSG, folder: str = "") -> None:
    """What an MTA's local delivery does: tmp/ then a rename into new/."""
    base = root / folder if folder else root
    (base / "tmp" / name).write_bytes(data)
    os.rename(base / "tmp" / name, base / "new" / name)


def test_an_mta_delivery_appears_unflagged_and_as_added(tmp_path: Path) -> None:
    box = MaildirBackend(tmp_path / "ann")
    snap = box.snapshot()
    deliver(box.root, "1700000000.M1P1.mx")
    [info] = box.messages(INBOX)
    assert (info.uid, info.flags, info.size) == ("1700000000.M1P1.mx", frozenset(), len(MSG))
    assert box.changes(snap).added == (MessageRef(INBOX, "1700000000.M1P1.mx"),)
    # a client marks it read: it moves to cur/ with its info, the same unique name
    box.set_flags(INBOX, info.uid, {"read", "replied"})
    assert sorted(os.listdir(box.root / "cur")) == ["1700000000.M1P1.mx:2,RS"]
    assert os.listdir(box.root / "new") == []


def test_flags_set_by_another_program_are_read_and_unknown_letters_kept(tmp_path: Path) -> None:
    box = MaildirBackend(tmp_path / "ann")
    deliver(box.root, "1700000001.M2P2.mx")
    os.rename(box.root / "new" / "1700000001.M2P2.mx", box.root / "cur" / "1700000001.M2P2.mx:2,FPSa")
    [info] = box.messages(INBOX)
    assert info.flags == {"flagged", "forwarded", "read"}
    box.set_flags(INBOX, info.uid, {"draft"})
    assert os.listdir(box.root / "cur") == ["1700000001.M2P2.mx:2,Da"]  # Dovecot's keyword 'a' stays


def test_maildirplusplus_layout(tmp_path: Path) -> None:
    box = MaildirBackend(tmp_path / "ann")
    box.create_folder("Work/Entwürfe")
    assert sorted(p.name for p in box.root.iterdir()) == [".Work", ".Work.Entw&APw-rfe", "cur", "new", "tmp"]
    assert (box.root / ".Work.Entw&APw-rfe" / "maildirfolder").is_file()
    # a folder another program made, and things that are not folders, are left alone
    (box.root / ".Lists.python").mkdir()
    for sub in ("cur", "new", "tmp"):
        (box.root / ".Lists.python" / sub).mkdir()
    (box.root / ".notafolder").mkdir()
    (box.root / "dovecot-uidlist").write_text("3 V1 N1\n")
    assert [f.name for f in box.folders()] == [INBOX, "Lists/python", "Work", "Work/Entwürfe"]


def test_a_missing_maildir_is_an_error_without_create(tmp_path: Path) -> None:
    with pytest.raises(MailError, match="not a Maildir"):
        MaildirBackend(tmp_path / "nobody", create=False)


def test_too_many_folders_or_messages(tmp_path: Path) -> None:
    from syncml_codec.mail import Limits

    box = MaildirBackend(tmp_path / "ann", limits=Limits(max_folders=3, max_messages=2))
    box.create_folder("A")
    box.create_folder("B")
    with pytest.raises(MailError, match="folders"):
        box.create_folder("C")  # lists the folders first
    for n in range(3):
        deliver(box.root, f"17000000{n}.x", folder=".A")
    with pytest.raises(MailError, match="messages"):
        box.messages("A")


def test_account_directory_is_one_safe_component(tmp_path: Path) -> None:
    assert account_maildir(tmp_path, "ann@example.org") == tmp_path / "ann@example.org"
    for hostile in ("../../etc", "a/b", ".hidden", "x\x00y"):
        path = account_maildir(tmp_path, hostile)
        assert path.parent == tmp_path and "/" not in path.name and not path.name.startswith(".")


def test_a_symlink_is_not_a_message(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"Subject: secret\n\nnot yours\n")
    box = MaildirBackend(tmp_path / "ann")
    snap = box.snapshot()
    os.symlink(secret, box.root / "cur" / "1700000002.M3P3.mx:2,S")
    assert box.messages(INBOX) == []
    assert not box.changes(snap)
    with pytest.raises(MailError, match="cannot be read"):
        box.fetch(INBOX, "1700000002.M3P3.mx")
