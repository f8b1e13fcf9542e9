"""Issue 14 item 2: one behaviour suite for every mail back end (the ``mail``
fixture: Maildir and IMAP), changes made behind the back end's back by
``other`` (a second client of the same storage)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from syncml_codec.errors import MailError
from syncml_codec.mail import FLAGS, INBOX, MailBackend, MessageRef, Snapshot

MSG = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Hi\r\nMessage-ID: <m1@example.org>\r\n\r\nHello\r\n"
WHEN = datetime(2024, 5, 17, 8, 30, 0, tzinfo=timezone.utc)


def message(n: int, body: bytes = b"Hello\r\n") -> bytes:
    return (f"From: a@example.org\r\nSubject: Test {n}\r\nMessage-ID: <m{n}@example.org>\r\n\r\n".encode()
            + body)


def names(mail: MailBackend) -> list[str]:
    return [f.name for f in mail.folders()]


# -- folders ----------------------------------------------------------------------
def test_inbox_first_then_parents_before_children(mail: MailBackend) -> None:
    assert names(mail) == [INBOX]
    mail.create_folder("Work/Projects/2024")
    mail.create_folder("Archive")
    mail.create_folder("inbox/Sub")  # the inbox in any case
    assert names(mail) == [INBOX, "Archive", "INBOX/Sub", "Work", "Work/Projects", "Work/Projects/2024"]


def test_create_existing_folder_is_an_error(mail: MailBackend) -> None:
    mail.create_folder("Sent")
    with pytest.raises(MailError, match="exists"):
        mail.create_folder("Sent")


def test_non_ascii_folder_name_round_trips(mail: MailBackend) -> None:
    mail.create_folder("Entwürfe & Co/日本")
    assert names(mail) == [INBOX, "Entwürfe & Co", "Entwürfe & Co/日本"]
    uid = mail.add("Entwürfe & Co/日本", MSG)
    assert mail.fetch("Entwürfe & Co/日本", uid) == MSG


@pytest.mark.parametrize("bad", ["", "a//b", "../x", "a/./b", "x\x00y", "x\ny", "a" * 501, "/".join("d" * 40)])
def test_bad_folder_names_are_refused(mail: MailBackend, bad: str) -> None:
    with pytest.raises(MailError):
        mail.create_folder(bad)
    assert names(mail) == [INBOX]


def test_a_part_with_the_delimiter_is_refused(mail: MailBackend) -> None:
    assert mail.delimiter
    with pytest.raises(MailError, match="delimiter"):
        mail.create_folder(f"a{mail.delimiter}b")


def test_rename_folder_keeps_subfolders_and_messages(mail: MailBackend) -> None:
    mail.create_folder("Work/Projects")
    uid = mail.add("Work/Projects", MSG, {"read", "flagged"}, WHEN)
    mail.rename_folder("Work", "Jobs/Old")
    assert names(mail) == [INBOX, "Jobs", "Jobs/Old", "Jobs/Old/Projects"]
    [info] = mail.messages("Jobs/Old/Projects")
    assert info.flags == {"read", "flagged"}
    assert mail.fetch("Jobs/Old/Projects", info.uid) == MSG
    with pytest.raises(MailError):
        mail.fetch("Work/Projects", uid)


def test_move_folder_and_the_loop_it_refuses(mail: MailBackend) -> None:
    mail.create_folder("A/B")
    mail.create_folder("C")
    with pytest.raises(MailError, match="loop"):
        mail.move_folder("A", "A/B")  # into its own child
    with pytest.raises(MailError, match="loop"):
        mail.rename_folder("A", "A")
    assert mail.move_folder("A", "C") == "C/A"
    assert names(mail) == [INBOX, "C", "C/A", "C/A/B"]
    assert mail.move_folder("C/A/B", None) == "B"
    assert names(mail) == [INBOX, "B", "C", "C/A"]
    with pytest.raises(MailError):
        mail.move_folder("B", "Nowhere")


def test_the_inbox_cannot_be_renamed_or_deleted(mail: MailBackend) -> None:
    mail.create_folder("X")
    with pytest.raises(MailError, match="inbox"):
        mail.rename_folder(INBOX, "Old")
    with pytest.raises(MailError, match="inbox"):
        mail.rename_folder("X", "inbox")
    with pytest.raises(MailError, match="inbox"):
        mail.delete_folder("Inbox")


def test_delete_folder_with_subfolders_and_messages(mail: MailBackend) -> None:
    mail.create_folder("Old/Deeper")
    mail.add("Old/Deeper", MSG)
    mail.add("Old", MSG)
    mail.create_folder("Keep")
    mail.delete_folder("Old")
    assert names(mail) == [INBOX, "Keep"]
    with pytest.raises(MailError, match="no folder"):
        mail.delete_folder("Old")
    with pytest.raises(MailError):
        mail.messages("Old")


# -- messages -----------------------------------------------------------------------
def test_add_list_fetch(mail: MailBackend) -> None:
    uid = mail.add(INBOX, MSG, {"read", "replied"}, WHEN)
    [info] = mail.messages("inbox")
    assert (info.folder, info.uid, info.flags, info.size) == (INBOX, uid, {"read", "replied"}, len(MSG))
    assert info.internal_date == WHEN
    assert info.ref == MessageRef(INBOX, uid)
    assert mail.fetch(INBOX, uid) == MSG
    assert mail.fetch(INBOX, uid, headers_only=True) == MSG[:MSG.index(b"\r\n\r\n") + 4]


def test_every_flag_round_trips(mail: MailBackend) -> None:
    uid = mail.add(INBOX, MSG)
    assert mail.messages(INBOX)[0].flags == frozenset()
    for flag in sorted(FLAGS):
        mail.set_flags(INBOX, uid, {flag})
        assert mail.messages(INBOX)[0].flags == {flag}
    mail.set_flags(INBOX, uid, FLAGS)
    assert mail.messages(INBOX)[0].flags == FLAGS
    mail.set_flags(INBOX, uid, ())
    assert mail.messages(INBOX)[0].flags == frozenset()
    with pytest.raises(MailError, match="unknown message flag"):
        mail.set_flags(INBOX, uid, {"seen"})
    with pytest.raises(MailError, match="unknown message flag"):
        mail.add(INBOX, MSG, {"urgent"})


def test_move_message_keeps_bytes_and_flags(mail: MailBackend) -> None:
    mail.create_folder("Archive")
    uid = mail.add(INBOX, MSG, {"read"}, WHEN)
    new_uid = mail.move(INBOX, uid, "Archive")
    assert mail.messages(INBOX) == []
    [info] = mail.messages("Archive")
    assert (info.uid, info.flags, info.internal_date) == (new_uid, {"read"}, WHEN)
    assert mail.fetch("Archive", new_uid) == MSG
    with pytest.raises(MailError):
        mail.fetch(INBOX, uid)
    with pytest.raises(MailError, match="no folder"):
        mail.move("Archive", new_uid, "Nowhere")
    with pytest.raises(MailError, match="already in folder"):
        mail.move("Archive", new_uid, "Archive")
    assert mail.fetch("Archive", new_uid) == MSG


def test_delete_message(mail: MailBackend) -> None:
    keep = mail.add(INBOX, message(1))
    gone = mail.add(INBOX, message(2))
    mail.delete(INBOX, gone)
    assert [m.uid for m in mail.messages(INBOX)] == [keep]
    with pytest.raises(MailError):
        mail.delete(INBOX, gone)
    with pytest.raises(MailError):
        mail.fetch(INBOX, gone)


@pytest.mark.parametrize("uid", ["", "../../etc/passwd", "a/b", "12:2,S", "x" * 300, "0"])
def test_bad_message_ids_are_errors(mail: MailBackend, uid: str) -> None:
    mail.add(INBOX, MSG)
    for call in (lambda: mail.fetch(INBOX, uid), lambda: mail.delete(INBOX, uid),
                 lambda: mail.set_flags(INBOX, uid, {"read"}), lambda: mail.move(INBOX, uid, INBOX)):
        with pytest.raises(MailError):
            call()
    assert len(mail.messages(INBOX)) == 1


@pytest.mark.parametrize("bad", [b"", b"   \r\n", b"this is not a header\r\n\r\nbody", b" continued: x\r\n\r\n"])
def test_a_malformed_message_is_refused(mail: MailBackend, bad: bytes) -> None:
    with pytest.raises(MailError, match="not a mail message"):
        mail.add(INBOX, bad)
    assert mail.messages(INBOX) == []


def test_message_size_limit(mail: MailBackend) -> None:
    big = message(1, b"x" * 99_000 + b"\r\n")
    uid = mail.add(INBOX, big)  # under the limit of 100,000
    with pytest.raises(MailError, match="over the limit"):
        mail.add(INBOX, message(2, b"x" * 100_001))
    assert mail.fetch(INBOX, uid) == big


def test_a_message_too_big_to_fetch_still_gives_its_headers(mail: MailBackend, other: MailBackend) -> None:
    huge = message(1, b"y" * 150_000 + b"\r\n")
    uid = other.add(INBOX, huge)  # another client, without our limit
    [info] = mail.messages(INBOX)
    assert info.size == len(huge)
    with pytest.raises(MailError, match="over the limit"):
        mail.fetch(INBOX, uid)
    assert mail.fetch(INBOX, uid, headers_only=True).startswith(b"From: a@example.org")


# -- change detection ------------------------------------------------------------------
def test_no_change_is_an_empty_changes(mail: MailBackend) -> None:
    mail.create_folder("Sent")
    mail.add(INBOX, MSG, {"read"})
    snap = mail.snapshot()
    changes = mail.changes(snap)
    assert not changes
    assert changes.snapshot == snap


def test_changes_behind_our_back(mail: MailBackend, other: MailBackend) -> None:
    mail.create_folder("Archive")
    a = mail.add(INBOX, message(1))
    b = mail.add(INBOX, message(2))
    c = mail.add(INBOX, message(3))
    d = mail.add("Archive", message(4))
    snap = mail.snapshot()
    # another client (or an MTA): delivers, flags, moves, deletes, makes a folder
    e = other.add(INBOX, message(5))
    other.set_flags(INBOX, a, {"read", "replied"})
    moved_to = other.move(INBOX, b, "Archive")
    other.delete("Archive", d)
    other.create_folder("Lists")
    changes = mail.changes(snap)
    assert changes.added == (MessageRef(INBOX, e),)
    assert changes.changed == (MessageRef(INBOX, a),)
    assert changes.removed == (MessageRef("Archive", d),)
    assert changes.moved == ((MessageRef(INBOX, b), MessageRef("Archive", moved_to)),)
    assert changes.folders_added == ("Lists",)
    assert changes.folders_removed == ()
    assert MessageRef(INBOX, c) not in changes.added + changes.changed + changes.removed
    # the new snapshot is the base of the next round
    assert not mail.changes(changes.snapshot)
    other.set_flags("Archive", moved_to, {"flagged"})
    other.delete_folder("Lists")
    again = mail.changes(changes.snapshot)
    assert again.changed == (MessageRef("Archive", moved_to),)
    assert again.folders_removed == ("Lists",)


def test_a_move_with_a_flag_change_is_both(mail: MailBackend, other: MailBackend) -> None:
    mail.create_folder("Done")
    uid = mail.add(INBOX, MSG)
    snap = mail.snapshot()
    new_uid = other.move(INBOX, uid, "Done")
    other.set_flags("Done", new_uid, {"read"})
    changes = mail.changes(snap)
    assert changes.moved == ((MessageRef(INBOX, uid), MessageRef("Done", new_uid)),)
    assert changes.changed == (MessageRef("Done", new_uid),)
    assert changes.added == changes.removed == ()


def test_snapshot_json_round_trip(mail: MailBackend) -> None:
    mail.create_folder("Entwürfe")
    mail.add("Entwürfe", MSG, {"draft"})
    mail.add(INBOX, message(2), {"read", "flagged"})
    snap = mail.snapshot()
    assert Snapshot.from_json(snap.to_json()) == snap
    assert not mail.changes(Snapshot.from_json(snap.to_json()))


@pytest.mark.parametrize("bad", [b"", b"[]", b'{"v": 2, "folders": {}}', b'{"v": 1}',
                                 b'{"v": 1, "folders": {"INBOX": {"validity": "", "modseq": 0, "uidnext": 0, '
                                 b'"messages": {"1": [["sneaky"], "x"]}}}}'])
def test_a_bad_snapshot_is_a_mail_error(bad: bytes) -> None:
    with pytest.raises(MailError):
        Snapshot.from_json(bad)
