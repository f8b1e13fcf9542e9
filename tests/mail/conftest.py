"""The mail back-end tests run on every back end, as the store tests run on
every store: the ``mail`` fixture is parametrized over Maildir (a temporary
folder) and IMAP (a real server).  ``other`` is a second back end on the
same storage: "another client" making changes behind the first one's back.

IMAP needs a server: ``SYNCML_TEST_IMAP=imap://USER:PASSWORD@HOST:PORT``
(``.ci/dovecot start DIR PORT`` starts a private Dovecot and prints it).
Unset, the IMAP half is skipped, unless ``SYNCML_CODEC_REQUIRE_IMAP=1``
(CI), where that is a failure.  The account is emptied before each test
(every folder but the inbox deleted, the inbox's messages expunged): tests
sharing one server account must not run in parallel.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncml_codec.mail import INBOX, ImapBackend, Limits, MailBackend, MaildirBackend

IMAP_URL = os.environ.get("SYNCML_TEST_IMAP", "")
REQUIRE_IMAP = os.environ.get("SYNCML_CODEC_REQUIRE_IMAP", "") not in ("", "0")


def imap_url() -> str:
    """The test server's URL; skips (or fails, when required) without one."""
    if not IMAP_URL:
        if REQUIRE_IMAP:
            pytest.fail("SYNCML_CODEC_REQUIRE_IMAP=1 but SYNCML_TEST_IMAP is not set")
        pytest.skip("no IMAP server (set SYNCML_TEST_IMAP=imap://USER:PASSWORD@HOST:PORT, see .ci/dovecot)")
    return IMAP_URL


def empty_imap(box: ImapBackend) -> None:
    for folder in reversed(box.folders()):
        if folder.name != INBOX:
            box.delete_folder(folder.name)
    for message in box.messages(INBOX):
        box.delete(INBOX, message.uid)


@pytest.fixture(params=["maildir", "imap"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def limits() -> Limits:
    """Small bounds, so the tests can cross them (override in a test module)."""
    return Limits(max_message_bytes=100_000, timeout=10.0)


@pytest.fixture
def mail(kind: str, tmp_path: Path, limits: Limits) -> Iterator[MailBackend]:
    if kind == "maildir":
        yield MaildirBackend(tmp_path / "ann", limits=limits)
        return
    box = ImapBackend.from_url(imap_url(), limits=limits)
    empty_imap(box)
    try:
        yield box
    finally:
        box.close()


@pytest.fixture
def other(kind: str, mail: MailBackend) -> Iterator[MailBackend]:
    """Another client of the same storage."""
    if isinstance(mail, MaildirBackend):
        yield MaildirBackend(mail.root)
        return
    box = ImapBackend.from_url(imap_url())
    try:
        yield box
    finally:
        box.close()
