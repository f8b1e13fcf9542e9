"""The IMAP back end: one account's folders on an IMAP server, through the
standard library's :mod:`imaplib`.

Why imaplib: it ships with Python (no dependency for operators who only use
Maildir), it is typed (typeshed), takes a timeout, and the subset needed
here is small (LIST, CREATE/RENAME/DELETE, SELECT/EXAMINE, UID FETCH/STORE/
MOVE/COPY/EXPUNGE/SEARCH, APPEND, ENABLE CONDSTORE); what it leaves raw is
read by the small bounded reader in ``_imapparse``.  IMAPClient would parse
more for us but is one more dependency without type information.

Bounds: every socket operation times out (``Limits.timeout``: a server that
is down or stalls is a :class:`~syncml_codec.errors.MailUnavailableError`,
never a hang); a literal larger than ``Limits.max_message_bytes`` (+64 KiB)
is refused before it is read; imaplib caps a line at 1 MB; folder and
message counts are bounded.

Flags: ``\\Seen`` read, ``\\Answered`` replied, ``$Forwarded`` forwarded,
``\\Flagged`` flagged, ``\\Draft`` draft, ``\\Deleted`` deleted; other
keywords on the server are left alone.  A message sent with bare LF line
ends is stored with CRLF (IMAP's wire form).

Change detection: per folder UIDVALIDITY (a new one makes every old uid
invalid), UIDNEXT, EXISTS, and HIGHESTMODSEQ when the server offers
CONDSTORE (RFC 7162).  An unchanged folder costs one EXAMINE; a changed one
a ``UID SEARCH ALL`` plus ``UID FETCH ... (FLAGS) (CHANGEDSINCE m)`` with
CONDSTORE, else a full FLAGS fetch; only new messages are fetched for their
fingerprint (Message-ID, size, INTERNALDATE), which pairs moves made by
another client (their uid changes, the fingerprint does not).
"""

from __future__ import annotations

import contextlib
import functools
import imaplib
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from ..errors import FormatError, MailError, MailUnavailableError
from ..formats.email import RFC822Item
from . import _utf7
from ._imapparse import fetch_items, list_lines
from .base import (
    INBOX,
    Changes,
    FolderState,
    Limits,
    MailFolder,
    MessageInfo,
    Snapshot,
    check_flags,
    check_folder_move,
    diff,
    normalize_folder,
)

__all__ = ["ImapBackend"]

_FLAG = {"read": "\\Seen", "replied": "\\Answered", "forwarded": "$Forwarded", "flagged": "\\Flagged",
         "draft": "\\Draft", "deleted": "\\Deleted"}
_NAME = {imap.lower(): name for name, imap in _FLAG.items()}
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_INTERNALDATE = re.compile(r"\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$")
_UIDS = re.compile(rb"\[(?:APPENDUID|COPYUID) \d+ (?:[\d:,]+ )?(\d+)\]")
_T = TypeVar("_T")


class _IMAP4(imaplib.IMAP4):
    """imaplib with a bound on a literal's size, checked before it is read."""

    max_literal = 64 * 1024 * 1024

    def read(self, size: int) -> bytes:
        _check_literal(self, size)
        return super().read(size)


class _IMAP4_SSL(imaplib.IMAP4_SSL):
    max_literal = 64 * 1024 * 1024

    def read(self, size: int) -> bytes:
        _check_literal(self, size)
        return super().read(size)


def _check_literal(conn: imaplib.IMAP4, size: int) -> None:
    """Refuse a literal over the bound; the connection is closed (the literal is left unread in it)."""
    limit: int = getattr(conn, "max_literal", 0)
    if size > limit:
        with contextlib.suppress(OSError):
            conn.shutdown()
        raise MailError(f"the IMAP server sent a literal of {size} bytes, over the limit of {limit} "
                        "(connection closed)")


def _quote(text: str) -> str:
    if any(ch in text for ch in "\r\n\0"):
        raise MailError("a mailbox name with a line break or NUL")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _internaldate(value: Any) -> datetime:
    m = _INTERNALDATE.match(value.decode("ascii", "replace") if isinstance(value, bytes) else "")
    if m is None or m.group(2).title() not in _MONTHS:
        return datetime.fromtimestamp(0, timezone.utc)
    day, mon, year, hh, mm, ss, sign, oh, om = m.groups()
    offset = timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    try:
        return datetime(int(year), _MONTHS[mon.title()], int(day), int(hh), int(mm), int(ss),
                        tzinfo=timezone(offset))
    except ValueError:
        return datetime.fromtimestamp(0, timezone.utc)


def _flags(value: Any) -> frozenset[str]:
    if not isinstance(value, list):
        return frozenset()
    return frozenset(_NAME[f.decode("ascii", "replace").lower()] for f in value
                     if isinstance(f, bytes) and f.decode("ascii", "replace").lower() in _NAME)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise MailError(f"IMAP server sent {value!r} where a number belongs") from None


class ImapBackend:
    """A :class:`~syncml_codec.mail.MailBackend` on one IMAP account.

    ``use_condstore`` / ``use_move`` (default: when the server offers them)
    can switch those extensions off, e.g. to test the fallbacks.  Connects
    and logs in when created (:class:`~syncml_codec.errors.MailUnavailableError`
    when that fails); :meth:`close` logs out.
    """

    def __init__(self, host: str, port: int, user: str, password: str, *, ssl: bool = False,
                 limits: Limits | None = None, use_condstore: bool | None = None,
                 use_move: bool | None = None) -> None:
        self.limits = limits or Limits()
        self.host, self.port, self.user = host, port, user
        cls = _IMAP4_SSL if ssl else _IMAP4
        try:
            conn = cls(host, port, timeout=self.limits.timeout)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailUnavailableError(f"IMAP server {host}:{port} unreachable: {exc}") from None
        conn.max_literal = self.limits.max_message_bytes + 65536
        self._conn: imaplib.IMAP4 = conn
        try:
            self._start(user, password, use_condstore, use_move)
        except BaseException:
            self._shutdown()
            raise

    def _start(self, user: str, password: str, use_condstore: bool | None, use_move: bool | None) -> None:
        conn = self._conn
        try:
            self._call(lambda: conn.login(user, password))
        except MailUnavailableError:
            raise
        except MailError as exc:
            raise MailUnavailableError(f"IMAP login of {user!r} refused: {exc}") from None
        caps = self._ok(self._call(lambda: conn.capability()), "CAPABILITY")
        self.capabilities = frozenset(caps[-1].decode("ascii", "replace").upper().split()) if caps else frozenset()
        self.condstore = ("CONDSTORE" in self.capabilities) if use_condstore is None else use_condstore
        self.has_move = ("MOVE" in self.capabilities) if use_move is None else use_move
        self.uidplus = "UIDPLUS" in self.capabilities
        if self.condstore and "ENABLE" in self.capabilities:
            self._ok(self._call(lambda: conn.enable("CONDSTORE")), "ENABLE")
        self.delimiter = self._find_delimiter()

    @classmethod
    def from_url(cls, url: str, *, limits: Limits | None = None, **options: Any) -> ImapBackend:
        """From ``imap://user:password@host:port`` (``imaps://`` for TLS; user and password percent-encoded)."""
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname:
            raise MailError(f"not an imap:// or imaps:// URL: {parts.scheme}://{parts.hostname or ''}")
        try:
            port = parts.port or (993 if parts.scheme == "imaps" else 143)
        except ValueError:
            raise MailError("the IMAP URL's port is not a number from 0 to 65535") from None
        return cls(parts.hostname, port, unquote(parts.username or ""), unquote(parts.password or ""),
                   ssl=parts.scheme == "imaps", limits=limits, **options)

    def __repr__(self) -> str:
        return f"ImapBackend({self.user!r}@{self.host}:{self.port})"

    # -- plumbing -----------------------------------------------------------------
    def _shutdown(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.shutdown()

    def _call(self, fn: Callable[[], _T]) -> _T:
        try:
            return fn()
        except imaplib.IMAP4.abort as exc:
            raise MailUnavailableError(f"IMAP connection to {self.host}:{self.port} lost: {exc}") from None
        except OSError as exc:  # refused, reset, timed out
            raise MailUnavailableError(f"IMAP server {self.host}:{self.port}: {exc or type(exc).__name__}") from None
        except imaplib.IMAP4.error as exc:
            raise MailError(f"IMAP: {exc}") from None

    @staticmethod
    def _ok(result: tuple[str, list[Any]], what: str) -> list[Any]:
        typ, data = result
        if typ != "OK":
            text = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
            raise MailError(f"IMAP {what} refused: {text[:200]}")
        return data

    def _uid(self, command: str, *args: str) -> list[Any]:
        return self._ok(self._call(lambda: self._conn.uid(command, *args)), f"UID {command}")

    def _find_delimiter(self) -> str:
        data = self._ok(self._call(lambda: self._conn.list('""', '""')), "LIST")
        for _attrs, delim, _name in list_lines(data):
            return "" if delim is None else delim.decode("ascii", "replace")
        return "/"

    # -- folders ------------------------------------------------------------------
    def _name(self, name: str) -> str:
        return normalize_folder(name, self.limits, self.delimiter)

    def _native(self, name: str) -> str:
        if name == INBOX:
            return "INBOX"
        parts = name.split("/")
        if len(parts) > 1 and not self.delimiter:
            raise MailError("this IMAP server has no folder hierarchy")
        return self.delimiter.join(_utf7.encode(part) for part in parts)

    def _list(self, pattern: str) -> list[MailFolder]:
        data = self._ok(self._call(lambda: self._conn.list('""', _quote(pattern))), "LIST")
        found = []
        lines = list_lines(data)
        if len(lines) > self.limits.max_folders:
            raise MailError(f"more than {self.limits.max_folders} IMAP folders")
        for attrs, _delim, raw in lines:
            flags = {a.lower() for a in attrs}
            if b"\\noselect" in flags or b"\\nonexistent" in flags:
                continue
            native = raw.decode("ascii", "replace")
            try:
                if native.upper() == INBOX:
                    name = INBOX
                else:
                    parts = native.split(self.delimiter) if self.delimiter else [native]
                    name = self._name("/".join(_utf7.decode(p) for p in parts))
            except MailError:
                continue  # a name this back end cannot address ("/" inside a part): left alone
            found.append(MailFolder(name, native))
        return found

    def folders(self) -> list[MailFolder]:
        found = self._list("*")
        inbox = [f for f in found if f.name == INBOX] or [MailFolder(INBOX, "INBOX")]
        rest = sorted((f for f in found if f.name != INBOX), key=lambda f: f.name.split("/"))
        return inbox + rest

    def _exists(self, name: str) -> bool:
        return name == INBOX or any(f.name == name for f in self._list(self._native(name)))

    def create_folder(self, name: str) -> None:
        name = self._name(name)
        if self._exists(name):
            raise MailError(f"folder {name!r} exists")
        parts = name.split("/")
        if len(self.folders()) + len(parts) > self.limits.max_folders:
            raise MailError(f"a new folder would make more than {self.limits.max_folders} folders")
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if not self._exists(sub):
                native = _quote(self._native(sub))
                self._ok(self._call(functools.partial(self._conn.create, native)), "CREATE")

    def rename_folder(self, name: str, new_name: str) -> None:
        name, new_name = self._name(name), self._name(new_name)
        check_folder_move(name, new_name)
        if not self._exists(name):
            raise MailError(f"no folder {name!r}")
        if self._exists(new_name):
            raise MailError(f"folder {new_name!r} exists")
        parent = new_name.rsplit("/", 1)[0] if "/" in new_name else None
        if parent is not None and not self._exists(parent):
            self.create_folder(parent)
        self._leave()
        self._ok(self._call(lambda: self._conn.rename(_quote(self._native(name)), _quote(self._native(new_name)))),
                 "RENAME")

    def move_folder(self, name: str, new_parent: str | None) -> str:
        name = self._name(name)
        leaf = name.rsplit("/", 1)[-1]
        new_name = leaf if new_parent is None else self._name(new_parent) + "/" + leaf
        check_folder_move(name, new_name)
        if new_parent is not None and not self._exists(self._name(new_parent)):
            raise MailError(f"no folder {new_parent!r}")
        self.rename_folder(name, new_name)
        return new_name

    def delete_folder(self, name: str) -> None:
        name = self._name(name)
        if name == INBOX:
            raise MailError("the inbox cannot be deleted")
        if not self._exists(name):
            raise MailError(f"no folder {name!r}")
        subtree = [f.name for f in self._list("*") if f.name == name or f.name.startswith(name + "/")]
        self._leave()
        for sub in sorted(subtree, key=len, reverse=True):
            native = _quote(self._native(sub))
            self._ok(self._call(functools.partial(self._conn.delete, native)), "DELETE")

    def _leave(self) -> None:
        """Select nothing that may be renamed or deleted (EXAMINE INBOX: no expunge, unlike CLOSE)."""
        if self._conn.state == "SELECTED":
            self._call(lambda: self._conn.select("INBOX", readonly=True))

    # -- messages -----------------------------------------------------------------
    def _select(self, folder: str, *, write: bool = False) -> dict[str, int]:
        """Select *folder*; its UIDVALIDITY, UIDNEXT, EXISTS, HIGHESTMODSEQ (0 when absent)."""
        name = self._name(folder)
        native = self._native(name)
        self._conn.untagged_responses.clear()
        typ, _ = self._call(lambda: self._conn.select(_quote(native), readonly=not write))
        if typ != "OK":
            raise MailError(f"no folder {name!r}")
        out = {}
        for key in ("UIDVALIDITY", "UIDNEXT", "EXISTS", "HIGHESTMODSEQ"):
            values = self._conn.untagged_responses.get(key) or [b"0"]
            value = values[-1] if isinstance(values[-1], bytes) else b"0"
            out[key] = _int(value.split()[0] if value.split() else b"0")
        self._conn.untagged_responses.clear()
        if out["EXISTS"] > self.limits.max_messages:
            raise MailError(f"folder {name!r} has more than {self.limits.max_messages} messages")
        return out

    @staticmethod
    def _check_uid(uid: str) -> str:
        if not uid.isdigit() or len(uid) > 10 or int(uid) == 0:
            raise MailError(f"not an IMAP uid: {uid[:40]!r}")
        return str(int(uid))

    def _fetch(self, uids: str, items: str, modifiers: str = "") -> list[dict[str, Any]]:
        args = [uids, items] + ([modifiers] if modifiers else [])
        return [e for e in fetch_items(self._uid("FETCH", *args)) if "UID" in e]

    def _info(self, folder: str, entry: dict[str, Any]) -> MessageInfo:
        size = _int(entry.get("RFC822.SIZE", b"0"))
        date = _internaldate(entry.get("INTERNALDATE"))
        header = b""
        for key, value in entry.items():
            if key.startswith("BODY[HEADER.FIELDS") and isinstance(value, bytes):
                header = value
        mid = b""
        for line in header.replace(b"\r\n", b"\n").split(b"\n"):
            if line.lower().startswith(b"message-id:"):
                mid = line.split(b":", 1)[1].strip()
        fingerprint = f"{mid.decode('ascii', 'replace')}|{size}|{date.isoformat()}"
        return MessageInfo(folder, str(_int(entry["UID"])), _flags(entry.get("FLAGS")), size, date, fingerprint)

    _LIST_ITEMS = "(UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"

    def messages(self, folder: str) -> list[MessageInfo]:
        name = self._name(folder)
        if self._select(name)["EXISTS"] == 0:
            return []
        return [self._info(name, e) for e in self._fetch("1:*", self._LIST_ITEMS)]

    def fetch(self, folder: str, uid: str, *, headers_only: bool = False) -> bytes:
        uid = self._check_uid(uid)
        self._select(folder)
        found = self._fetch(uid, "(UID RFC822.SIZE)")
        if not found:
            raise MailError(f"no message {uid} in folder {folder!r}")
        size = _int(found[0].get("RFC822.SIZE"))
        if not headers_only and size > self.limits.max_message_bytes:
            raise MailError(f"message {uid} is {size} bytes, over the limit of {self.limits.max_message_bytes}")
        part = "BODY.PEEK[HEADER]" if headers_only else "BODY.PEEK[]"
        for entry in self._fetch(uid, f"(UID {part})"):
            for key, value in entry.items():
                if key.startswith("BODY[") and isinstance(value, bytes):
                    return bytes(value)
        raise MailError(f"message {uid} in folder {folder!r} went away")

    def add(self, folder: str, data: bytes, flags: Iterable[str] = (), date: datetime | None = None) -> str:
        name = self._name(folder)
        wanted = check_flags(flags)
        data = bytes(data)
        if len(data) > self.limits.max_message_bytes:
            raise MailError(f"message of {len(data)} bytes, over the limit of {self.limits.max_message_bytes}")
        try:
            RFC822Item.parse(data)
        except FormatError as exc:
            raise MailError(f"not a mail message: {exc}") from None
        native = self._native(name)
        flag_list = "(" + " ".join(sorted(_FLAG[f] for f in wanted)) + ")"
        when = imaplib.Time2Internaldate(date or datetime.now(timezone.utc))
        before = 0
        if not self.uidplus:
            before = self._select(name)["UIDNEXT"]
        self._conn.untagged_responses.clear()
        typ, resp = self._call(lambda: self._conn.append(_quote(native), flag_list, when, data))
        self._ok((typ, resp), "APPEND")
        for line in resp:
            m = _UIDS.search(line) if isinstance(line, bytes) else None
            if m:
                return m.group(1).decode("ascii")
        return self._newest(name, before)

    def _newest(self, folder: str, since_uid: int) -> str:
        """Without UIDPLUS: the highest uid at or above *since_uid* (races a concurrent delivery)."""
        self._select(folder)
        data = self._uid("SEARCH", f"UID {max(since_uid, 1)}:*")
        uids = [int(u) for u in b" ".join(d for d in data if isinstance(d, bytes)).split() if u.isdigit()]
        if not uids:
            raise MailError(f"the new message's uid in {folder!r} could not be found")
        return str(max(uids))

    def _require(self, uid: str) -> dict[str, Any]:
        found = self._fetch(uid, "(UID FLAGS)")
        if not found:
            raise MailError(f"no message {uid}")
        return found[0]

    def set_flags(self, folder: str, uid: str, flags: Iterable[str]) -> None:
        uid = self._check_uid(uid)
        wanted = check_flags(flags)
        self._select(folder, write=True)
        current = _flags(self._require(uid).get("FLAGS"))
        add = sorted(_FLAG[f] for f in wanted - current)
        remove = sorted(_FLAG[f] for f in current - wanted)
        if add:
            self._uid("STORE", uid, "+FLAGS.SILENT", "(" + " ".join(add) + ")")
        if remove:
            self._uid("STORE", uid, "-FLAGS.SILENT", "(" + " ".join(remove) + ")")

    def move(self, folder: str, uid: str, target: str) -> str:
        uid = self._check_uid(uid)
        target_name = self._name(target)
        if self._name(folder) == target_name:
            raise MailError(f"message {uid} is already in folder {target!r}")
        if not self._exists(target_name):
            raise MailError(f"no folder {target!r}")
        native = _quote(self._native(target_name))
        before = 0
        if not self.uidplus:
            before = self._select(target_name)["UIDNEXT"]
        self._select(folder, write=True)
        self._require(uid)
        self._conn.untagged_responses.clear()
        if self.has_move:
            typ, resp = self._call(lambda: self._conn._simple_command("UID", "MOVE", uid, native))
            self._ok((typ, resp), "UID MOVE")
        else:
            typ, resp = self._call(lambda: self._conn._simple_command("UID", "COPY", uid, native))
            self._ok((typ, resp), "UID COPY")
            self._uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
            if self.uidplus:
                self._uid("EXPUNGE", uid)
        lines = list(resp) + list(self._conn.untagged_responses.get("OK", []))
        lines += [b"[COPYUID " + c + b"]" for c in self._conn.untagged_responses.get("COPYUID", [])
                  if isinstance(c, bytes)]
        self._conn.untagged_responses.clear()
        for line in lines:
            m = _UIDS.search(line) if isinstance(line, bytes) else None
            if m:
                return m.group(1).decode("ascii")
        return self._newest(target_name, before)

    def delete(self, folder: str, uid: str) -> None:
        """Mark the message ``\\Deleted`` and expunge it (``UID EXPUNGE``; a
        server without UIDPLUS keeps it marked, since a plain EXPUNGE would
        remove every message marked deleted)."""
        uid = self._check_uid(uid)
        self._select(folder, write=True)
        self._require(uid)
        self._uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
        if self.uidplus:
            self._uid("EXPUNGE", uid)

    # -- change detection -----------------------------------------------------------
    def _folder_state(self, name: str, prior: FolderState | None) -> FolderState:
        sel = self._select(name)
        validity, uidnext, exists, modseq = (str(sel["UIDVALIDITY"]), sel["UIDNEXT"], sel["EXISTS"],
                                             sel["HIGHESTMODSEQ"] if self.condstore else 0)
        same = prior is not None and prior.validity == validity
        if (same and prior is not None and self.condstore and modseq and prior.modseq == modseq
                and prior.uidnext == uidnext and len(prior.messages) == exists):
            return prior  # nothing changed: one EXAMINE
        if exists == 0:
            return FolderState(validity, modseq, uidnext, {})
        if not same or prior is None:
            infos = [self._info(name, e) for e in self._fetch("1:*", self._LIST_ITEMS)]
            return FolderState(validity, modseq, uidnext, {i.uid: (i.flags, i.fingerprint) for i in infos})
        messages: dict[str, tuple[frozenset[str], str]] = {}
        if self.condstore and prior.modseq:
            data = self._uid("SEARCH", "ALL")
            present = {u.decode() for u in b" ".join(d for d in data if isinstance(d, bytes)).split() if u.isdigit()}
            for uid in present & prior.messages.keys():
                messages[uid] = prior.messages[uid]
            for e in self._fetch("1:*", "(UID FLAGS)", f"(CHANGEDSINCE {prior.modseq})"):
                uid = str(_int(e["UID"]))
                if uid in messages:
                    messages[uid] = (_flags(e.get("FLAGS")), messages[uid][1])
        else:
            present = set()
            for e in self._fetch("1:*", "(UID FLAGS)"):
                uid = str(_int(e["UID"]))
                present.add(uid)
                if uid in prior.messages:
                    messages[uid] = (_flags(e.get("FLAGS")), prior.messages[uid][1])
        new = present - prior.messages.keys()
        if new:
            lowest = min(int(u) for u in new)
            for e in self._fetch(f"{lowest}:*", self._LIST_ITEMS):
                info = self._info(name, e)
                if info.uid in new:
                    messages[info.uid] = (info.flags, info.fingerprint)
        return FolderState(validity, modseq, uidnext, messages)

    def snapshot(self, previous: Snapshot | None = None) -> Snapshot:
        folders = {}
        for folder in self.folders():
            prior = previous.folders.get(folder.name) if previous is not None else None
            folders[folder.name] = self._folder_state(folder.name, prior)
        return Snapshot(folders)

    def changes(self, since: Snapshot) -> Changes:
        return diff(since, self.snapshot(since))

    def noop(self) -> None:
        """Check the connection (IMAP NOOP): :class:`~syncml_codec.errors.MailUnavailableError`
        when it is gone (a pool asks this of a connection that sat idle)."""
        self._ok(self._call(self._conn.noop), "NOOP")

    def close(self) -> None:
        """Log out (quietly when the connection is already gone)."""
        try:
            self._conn.logout()
        except (OSError, imaplib.IMAP4.error):
            self._shutdown()
