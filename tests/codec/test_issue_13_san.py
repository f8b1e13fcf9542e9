"""Issue 13: OMA DS Data Sync Notification (server-alerted sync, "package
#0"): the two real notifications of Nokia's PC Suite (from buteo-syncml's
tests), encode -> decode round trips, the digest with the right and a wrong
password, and hostile input."""

from __future__ import annotations

import doctest

import pytest

from syncml_codec.codec import Notification, SyncAlert, looks_like_notification, san
from syncml_codec.codec.san import Initiator, UIMode, notification_digest
from syncml_codec.errors import DecodeError, NotificationError

from ..conftest import corpus_files, corpus_path, ids

SAN_DIR = ("devices", "sailfishos+buteo-syncml", "tests_meego", "data")


def _real(name: str) -> bytes:
    return corpus_path(*SAN_DIR, name).read_bytes()


@pytest.mark.parametrize(("name", "uri"), [("SAN01.bin", "Contacts"), ("SAN02.bin", "Calendar")])
def test_real_notifications_decode(name: str, uri: str) -> None:
    data = _real(name)
    n = Notification.from_bytes(data)
    assert (n.version, n.ui_mode, n.initiator, n.session_id) == ("1.2", UIMode.BACKGROUND, Initiator.SERVER, 0)
    assert n.server_id == "PC Suite Data Sync"
    assert n.alerts == (SyncAlert(206, uri, None, 0),)
    assert n.vendor == b"" and n.digest == data[:16] and n.trigger == data[16:]
    # PC Suite signs with an empty password and nonce
    assert n.verify("", "")
    assert not n.verify("secret", "") and not n.verify("", "1")
    # encoding what was read gives the same bytes back
    assert n.to_bytes(password="", nonce="") == data
    assert looks_like_notification(data)


def test_round_trip_every_field() -> None:
    n = Notification(server_id="http://sync.example.com/sync", version="1.1", ui_mode=UIMode.USER_INTERACTION,
                     initiator=Initiator.USER, session_id=0xBEEF, vendor=b"\x00vendor\xff",
                     alerts=(SyncAlert(206, "Contacts", "text/x-vcard"), SyncAlert(207, "Events", "text/x-vcalendar"),
                             SyncAlert(208, "Notes", "text/plain"), SyncAlert(209, "./tasks"),
                             SyncAlert(210, "Journal", None, 0x0305)))
    wire = n.to_bytes(password="pässword", nonce=b"\x01\x02")
    back = Notification.from_bytes(wire)
    assert back == Notification(
        server_id=n.server_id, version="1.1", ui_mode=UIMode.USER_INTERACTION, initiator=Initiator.USER,
        session_id=0xBEEF, vendor=b"\x00vendor\xff",
        alerts=(SyncAlert(206, "Contacts", "text/x-vcard", 7), SyncAlert(207, "Events", "text/x-vcalendar", 6),
                SyncAlert(208, "Notes", "text/plain", 3), SyncAlert(209, "./tasks", None, 0),
                SyncAlert(210, "Journal", None, 0x0305)))
    assert back.verify("pässword", b"\x01\x02")
    assert not back.verify("password", b"\x01\x02") and not back.verify("pässword", b"")
    assert back.to_bytes("pässword", b"\x01\x02") == wire


def test_every_datastore_and_the_header_bits() -> None:
    wire = Notification(server_id="s").to_bytes()
    # 16 digest bytes, version 12 / background / server, 27 zero bits, session 0, "s", no syncs
    assert wire[16:] == bytes([0x03, 0x18, 0, 0, 0, 0, 0, 1]) + b"s" + b"\x00"
    assert Notification.from_bytes(wire).alerts == ()
    assert wire[:16] == notification_digest("s", "", "", wire[16:])


def test_digest_covers_every_byte() -> None:
    wire = bytearray(Notification(server_id="srv", alerts=(SyncAlert(206, "Contacts"),)).to_bytes("pw", "n"))
    for i in range(16, len(wire)):
        changed = bytearray(wire)
        changed[i] ^= 0x01
        try:
            n = Notification.from_bytes(changed)
        except NotificationError:
            continue
        assert not n.verify("pw", "n"), i


def test_a_notification_made_here_has_no_digest_to_verify() -> None:
    assert not Notification(server_id="s").verify("")


@pytest.mark.parametrize("bad", [
    Notification(server_id="s", version="1.0"),
    Notification(server_id="s", session_id=70000),
    Notification(server_id="x" * 256),
    Notification(server_id="s", alerts=(SyncAlert(205, "Contacts"),)),
    Notification(server_id="s", alerts=(SyncAlert(206, "u" * 300),)),
    Notification(server_id="s", alerts=(SyncAlert(206, "Contacts", None, 1 << 24),)),
    Notification(server_id="s", alerts=tuple(SyncAlert(206, f"d{i}") for i in range(16))),
])
def test_what_cannot_be_encoded(bad: Notification) -> None:
    with pytest.raises(ValueError):
        bad.to_bytes()


def test_truncated_and_broken_input() -> None:
    wire = Notification(server_id="server", alerts=(SyncAlert(206, "Contacts"),)).to_bytes()
    for cut in range(len(wire)):
        with pytest.raises(NotificationError) as info:
            Notification.from_bytes(wire[:cut])
        assert isinstance(info.value, DecodeError) and isinstance(info.value, ValueError)
        assert info.value.offset <= cut
        assert not looks_like_notification(wire[:cut])
    bad_version = bytearray(wire)
    bad_version[16] = 0x04  # version 16
    with pytest.raises(NotificationError, match="version"):
        Notification.from_bytes(bad_version)
    bad_type = bytearray(wire)
    bad_type[16 + 8 + 6 + 1] = 0x50  # sync type 5
    with pytest.raises(NotificationError, match="sync type 5") as info:
        Notification.from_bytes(bad_type)
    assert info.value.offset == 16 + 8 + 6 + 1
    not_text = Notification(server_id="ab").to_bytes()
    with pytest.raises(NotificationError, match="UTF-8"):
        Notification.from_bytes(not_text[:24] + b"\xff\xfe" + not_text[26:])


def test_hostile_lengths_are_bounded() -> None:
    # a server identifier length past the end, fifteen syncs announced and none there
    head = b"\x00" * 16 + bytes([0x03, 0x18, 0, 0, 0, 0, 0, 0xFF]) + b"x" * 10
    with pytest.raises(NotificationError, match="truncated"):
        Notification.from_bytes(head)
    many = b"\x00" * 16 + bytes([0x03, 0x18, 0, 0, 0, 0, 0, 0]) + b"\xf0"
    with pytest.raises(NotificationError, match="truncated"):
        Notification.from_bytes(many)


def test_syncml_messages_are_not_notifications() -> None:
    files = corpus_files("libwbxml", "**/*.wbxml") + corpus_files("libwbxml", "**/*.xml")
    if not files:
        pytest.skip("corpus not found")
    found = [p for p in files if looks_like_notification(p.read_bytes())]
    assert not found, ids(found)
    assert not looks_like_notification(b"<SyncML/>" + b" " * 40)


def test_doctests() -> None:
    assert doctest.testmod(san).failed == 0
