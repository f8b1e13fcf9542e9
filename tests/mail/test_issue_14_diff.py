"""Issue 14 item 2: change detection as a pure function of two snapshots,
table-tested, and the names and flags every back end checks alike."""

from __future__ import annotations

import pytest

from syncml_codec.errors import MailError
from syncml_codec.mail import FolderState, MessageRef, Snapshot, check_folder_move, diff, normalize_folder
from syncml_codec.mail._utf7 import decode, encode

R = frozenset({"read"})
N: frozenset[str] = frozenset()


def snap(**folders: dict[str, tuple[frozenset[str], str]]) -> Snapshot:
    return Snapshot({name: FolderState(messages=msgs) for name, msgs in folders.items()})


def ref(text: str) -> MessageRef:
    folder, uid = text.split(":")
    return MessageRef(folder, uid)


@pytest.mark.parametrize(("old", "new", "added", "changed", "removed", "moved"), [
    (snap(), snap(), [], [], [], []),
    (snap(I={}), snap(I={"1": (N, "a")}), ["I:1"], [], [], []),
    (snap(I={"1": (N, "a")}), snap(I={}), [], [], ["I:1"], []),
    (snap(I={"1": (N, "a")}), snap(I={"1": (R, "a")}), [], ["I:1"], [], []),
    # moved, flags the same / changed on the way
    (snap(I={"1": (N, "a")}, A={}), snap(I={}, A={"9": (N, "a")}), [], [], [], [("I:1", "A:9")]),
    (snap(I={"1": (N, "a")}, A={}), snap(I={}, A={"9": (R, "a")}), [], ["A:9"], [], [("I:1", "A:9")]),
    # two copies of one fingerprint: paired one to one, the third is new
    (snap(I={"1": (N, "a"), "2": (N, "a")}), snap(A={"7": (N, "a"), "8": (N, "a"), "9": (N, "a")}),
     ["A:9"], [], [], [("I:1", "A:7"), ("I:2", "A:8")]),
    # an empty fingerprint never pairs
    (snap(I={"1": (N, "")}), snap(A={"2": (N, "")}), ["A:2"], [], ["I:1"], []),
    # a folder removed with its message; the message reappears elsewhere
    (snap(I={}, Old={"5": (R, "z")}), snap(I={"6": (R, "z")}), [], [], [], [("Old:5", "I:6")]),
])
def test_diff_table(old: Snapshot, new: Snapshot, added: list[str], changed: list[str], removed: list[str],
                    moved: list[tuple[str, str]]) -> None:
    got = diff(old, new)
    assert got.added == tuple(map(ref, added))
    assert got.changed == tuple(map(ref, changed))
    assert got.removed == tuple(map(ref, removed))
    assert got.moved == tuple((ref(a), ref(b)) for a, b in moved)
    assert got.snapshot is new
    assert bool(got) == bool(added or changed or removed or moved or got.folders_added or got.folders_removed)


def test_a_new_validity_invalidates_every_uid() -> None:
    old = Snapshot({"I": FolderState("100", messages={"1": (N, "a"), "2": (N, "b")})})
    new = Snapshot({"I": FolderState("200", messages={"1": (N, "c"), "2": (N, "a")})})
    got = diff(old, new)
    assert got.moved == ((ref("I:1"), ref("I:2")),)
    assert got.added == (ref("I:1"),)
    assert got.removed == (ref("I:2"),)


def test_folders_added_and_removed() -> None:
    got = diff(snap(INBOX={}, Old={}), snap(INBOX={}, New={}))
    assert (got.folders_added, got.folders_removed) == (("New",), ("Old",))


@pytest.mark.parametrize(("name", "expected"), [
    ("inbox", "INBOX"), ("Inbox/Sub", "INBOX/Sub"), ("Sent", "Sent"), ("a b/c-d", "a b/c-d"), ("Ü", "Ü"),
])
def test_normalize_folder(name: str, expected: str) -> None:
    assert normalize_folder(name) == expected


@pytest.mark.parametrize(("name", "new_name"), [("A", "A"), ("A", "A/B"), ("A/B", "A/B/C/D"), ("INBOX", "X"),
                                                 ("X", "INBOX")])
def test_check_folder_move_refuses(name: str, new_name: str) -> None:
    with pytest.raises(MailError):
        check_folder_move(name, new_name)


def test_check_folder_move_allows_a_sibling_with_a_common_prefix() -> None:
    check_folder_move("A", "AB")
    check_folder_move("A/B", "A")


@pytest.mark.parametrize(("text", "wire"), [
    ("INBOX", "INBOX"), ("a&b", "a&-b"), ("Entwürfe", "Entw&APw-rfe"), ("日本語", "&ZeVnLIqe-"),
    ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  # RFC 3501's example
    ("😀", "&2D3eAA-"),
])
def test_modified_utf7(text: str, wire: str) -> None:
    assert encode(text) == wire
    assert decode(wire) == text


@pytest.mark.parametrize("bad", ["&", "&Jjo", "&!!-", "&AGE"])
def test_bad_modified_utf7(bad: str) -> None:
    with pytest.raises(MailError):
        decode(bad)
