"""Layer 4.5: real mail storage behind one protocol (:class:`MailBackend`),
for the Mail datastore (issue 14): a :class:`MaildirBackend` (Maildir with
Maildir++ subfolders, stdlib :mod:`mailbox`) and an :class:`ImapBackend`
(stdlib :mod:`imaplib`), with change detection of what happened behind the
server's back (:meth:`MailBackend.changes`, :func:`diff`).  It sits above
the store (it reuses its safe path component for account directories) and
below the engine, which will use it."""

from __future__ import annotations

from .base import (
    FLAGS,
    INBOX,
    Changes,
    FolderState,
    Limits,
    MailBackend,
    MailFolder,
    MessageInfo,
    MessageRef,
    Snapshot,
    check_flags,
    check_folder_move,
    diff,
    normalize_folder,
)
from .imap import ImapBackend
from .maildir import MaildirBackend, MaildirRoot, account_maildir
from .pool import ImapPool, PooledImap, server_mail

__all__ = [
    "FLAGS",
    "INBOX",
    "Changes",
    "FolderState",
    "ImapBackend",
    "ImapPool",
    "Limits",
    "MailBackend",
    "MailFolder",
    "MaildirBackend",
    "MaildirRoot",
    "MessageInfo",
    "MessageRef",
    "PooledImap",
    "Snapshot",
    "account_maildir",
    "check_flags",
    "check_folder_move",
    "diff",
    "normalize_folder",
    "server_mail",
]
