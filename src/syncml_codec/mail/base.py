"""The mail back-end protocol (:class:`MailBackend`), its value types, and
change detection as a pure function over two snapshots (:func:`diff`).

Folder names
    One spelling for every back end: the folder's path with ``/`` between
    its parts (``Work/Projects``); ``INBOX`` (any case) is the inbox.  A back
    end maps it to its own: Maildir++ ``.Work.Projects`` (delimiter ``.``),
    IMAP with the server's hierarchy delimiter; non-ASCII parts in IMAP's
    modified UTF-7 on both (as Dovecot keeps them).  A part may not contain
    the back end's delimiter (:attr:`MailBackend.delimiter`), nor control
    characters; it is not ``.`` or ``..``; lengths are bounded (:class:`Limits`).

Message ids
    A message is ``(folder, uid)``.  Maildir: ``uid`` is the unique part of
    the file name (before ``:2,``), which survives flag changes and moves.
    IMAP: the server's UID, valid while the folder's UIDVALIDITY holds.

Change detection ("behind the server's back")
    :meth:`MailBackend.snapshot` records every folder (its validity: IMAP's
    UIDVALIDITY, with HIGHESTMODSEQ and UIDNEXT when the server offers them)
    and every message (flags and a *fingerprint*: the Maildir unique name,
    or for IMAP ``Message-ID`` + size + internal date).  :func:`diff` of two
    snapshots gives added / changed (flags) / removed, and pairs a removal
    with an addition of the same fingerprint as a move (a message another
    client moved keeps its identity).  A changed validity makes every old id
    of that folder removed and every new one added, paired back by
    fingerprint.  A snapshot is JSON (:meth:`Snapshot.to_json`) so the
    engine can keep it with the datastore's anchors.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from ..errors import MailError

__all__ = [
    "FLAGS",
    "INBOX",
    "Changes",
    "FolderState",
    "Limits",
    "MailBackend",
    "MailFolder",
    "MessageInfo",
    "MessageRef",
    "Snapshot",
    "check_flags",
    "check_folder_move",
    "diff",
    "normalize_folder",
]

#: the message flags every back end keeps (OMA DS email's flags plus draft)
FLAGS = frozenset({"read", "replied", "forwarded", "flagged", "draft", "deleted"})
#: the inbox's folder name
INBOX = "INBOX"
_SNAPSHOT_VERSION = 1


@dataclass(frozen=True)
class Limits:
    """Bounds on what a mail store or server controls.

    ``max_message_bytes``: a bigger message is listed but not fetched or
    added (:class:`~syncml_codec.errors.MailError`); ``max_folders``: more
    folders than this is an error rather than a long walk;
    ``max_messages``: per folder; ``max_name_chars``: a folder name's length
    (all parts, in characters), ``max_depth``: its number of parts;
    ``timeout``: seconds for each network operation (IMAP).
    """

    max_message_bytes: int = 64 * 1024 * 1024
    max_folders: int = 10_000
    max_messages: int = 1_000_000
    max_name_chars: int = 500
    max_depth: int = 32
    timeout: float = 30.0


@dataclass(frozen=True)
class MailFolder:
    """A folder: ``name`` in the common spelling (``Work/Projects``) and
    ``native`` as the back end stores it (``.Work.Projects``, or the IMAP
    mailbox name)."""

    name: str
    native: str


@dataclass(frozen=True)
class MessageRef:
    """A message's id: its folder and its uid in that folder."""

    folder: str
    uid: str


@dataclass(frozen=True)
class MessageInfo:
    """One message as listed: id, flags (names from :data:`FLAGS`), size in
    bytes, internal date (Maildir: the file's modification time; IMAP:
    INTERNALDATE), and the fingerprint change detection pairs moves by."""

    folder: str
    uid: str
    flags: frozenset[str]
    size: int
    internal_date: datetime
    fingerprint: str

    @property
    def ref(self) -> MessageRef:
        """``(folder, uid)`` as a :class:`MessageRef`."""
        return MessageRef(self.folder, self.uid)


@dataclass(frozen=True)
class FolderState:
    """A folder in a snapshot: ``validity`` (IMAP UIDVALIDITY, ``""`` for
    Maildir), ``modseq`` (HIGHESTMODSEQ, 0 without CONDSTORE), ``uidnext``
    (0 when unknown), and per uid the flags and fingerprint."""

    validity: str = ""
    modseq: int = 0
    uidnext: int = 0
    messages: Mapping[str, tuple[frozenset[str], str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """Every folder's :class:`FolderState`, by folder name."""

    folders: Mapping[str, FolderState] = field(default_factory=dict)

    def to_json(self) -> bytes:
        """The snapshot as compact JSON (flags sorted)."""
        data = {"v": _SNAPSHOT_VERSION, "folders": {
            name: {"validity": st.validity, "modseq": st.modseq, "uidnext": st.uidnext,
                   "messages": {uid: [sorted(flags), fp] for uid, (flags, fp) in st.messages.items()}}
            for name, st in self.folders.items()}}
        return json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, limits: Limits | None = None) -> Snapshot:
        """Read :meth:`to_json`'s output; anything else is a :class:`MailError`."""
        limits = limits or Limits()
        try:
            raw = json.loads(data)
            if raw.get("v") != _SNAPSHOT_VERSION:
                raise MailError(f"snapshot version {raw.get('v')!r} unknown")
            folders: dict[str, FolderState] = {}
            if len(raw["folders"]) > limits.max_folders:
                raise MailError("snapshot has too many folders")
            for name, st in raw["folders"].items():
                msgs = st["messages"]
                if len(msgs) > limits.max_messages:
                    raise MailError(f"snapshot folder {name!r} has too many messages")
                folders[str(name)] = FolderState(
                    str(st["validity"]), int(st["modseq"]), int(st["uidnext"]),
                    {str(uid): (check_flags(flags), str(fp)) for uid, (flags, fp) in msgs.items()})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise MailError(f"not a mail snapshot: {exc}") from None
        return cls(folders)


@dataclass(frozen=True)
class Changes:
    """What :func:`diff` found between two snapshots, and the new snapshot.

    ``moved`` pairs the old id with the new one; a moved message whose flags
    also changed is in ``moved`` and in ``changed`` (under its new id).
    """

    added: tuple[MessageRef, ...] = ()
    changed: tuple[MessageRef, ...] = ()
    removed: tuple[MessageRef, ...] = ()
    moved: tuple[tuple[MessageRef, MessageRef], ...] = ()
    folders_added: tuple[str, ...] = ()
    folders_removed: tuple[str, ...] = ()
    snapshot: Snapshot = field(default_factory=Snapshot)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.moved
                    or self.folders_added or self.folders_removed)


def diff(old: Snapshot, new: Snapshot) -> Changes:
    """The changes from *old* to *new* (pure; linear in their sizes).

        >>> a = Snapshot({"INBOX": FolderState(messages={"1": (frozenset(), "m1")})})
        >>> b = Snapshot({"INBOX": FolderState(), "Old": FolderState(messages={"7": (frozenset({"read"}), "m1")})})
        >>> c = diff(a, b)
        >>> c.moved
        ((MessageRef(folder='INBOX', uid='1'), MessageRef(folder='Old', uid='7')),)
        >>> c.changed, c.folders_added
        ((MessageRef(folder='Old', uid='7'),), ('Old',))
    """
    added: list[MessageRef] = []
    changed: list[MessageRef] = []
    removed: list[MessageRef] = []
    for name, st in new.folders.items():
        before = old.folders.get(name)
        same = before is not None and before.validity == st.validity
        for uid, (flags, _fp) in st.messages.items():
            prior = before.messages.get(uid) if same and before is not None else None
            if prior is None:
                added.append(MessageRef(name, uid))
            elif prior[0] != flags:
                changed.append(MessageRef(name, uid))
    for name, st in old.folders.items():
        after = new.folders.get(name)
        same = after is not None and after.validity == st.validity
        for uid in st.messages:
            if not (same and after is not None and uid in after.messages):
                removed.append(MessageRef(name, uid))
    # pair removals with additions of the same fingerprint: moves
    by_fp: dict[str, list[MessageRef]] = {}
    for ref in removed:
        by_fp.setdefault(old.folders[ref.folder].messages[ref.uid][1], []).append(ref)
    moved: list[tuple[MessageRef, MessageRef]] = []
    still_added: list[MessageRef] = []
    for ref in added:
        flags, fp = new.folders[ref.folder].messages[ref.uid]
        candidates = by_fp.get(fp) if fp else None
        if candidates:
            source = candidates.pop(0)
            moved.append((source, ref))
            if old.folders[source.folder].messages[source.uid][0] != flags:
                changed.append(ref)
        else:
            still_added.append(ref)
    paired = {source for source, _ in moved}
    return Changes(
        added=tuple(still_added), changed=tuple(changed),
        removed=tuple(ref for ref in removed if ref not in paired), moved=tuple(moved),
        folders_added=tuple(name for name in new.folders if name not in old.folders),
        folders_removed=tuple(name for name in old.folders if name not in new.folders),
        snapshot=new,
    )


def check_flags(flags: Iterable[str]) -> frozenset[str]:
    """*flags* as a frozenset, every one of :data:`FLAGS` (else :class:`MailError`)."""
    out = frozenset(flags) if not isinstance(flags, str) else frozenset((flags,))
    unknown = out - FLAGS
    if unknown:
        raise MailError(f"unknown message flag(s): {', '.join(sorted(map(repr, unknown)))}")
    return out


def normalize_folder(name: str, limits: Limits | None = None, delimiter: str = "") -> str:
    """*name* in the common spelling, checked: ``inbox`` -> ``INBOX``, no
    empty, ``.`` or ``..`` part, no control character, no *delimiter* in a
    part, bounded length and depth.  :class:`MailError` otherwise.

        >>> normalize_folder("inbox"), normalize_folder("Work/Projects")
        ('INBOX', 'Work/Projects')
    """
    limits = limits or Limits()
    if not isinstance(name, str) or not name:
        raise MailError("an empty folder name")
    if len(name) > limits.max_name_chars:
        raise MailError(f"folder name longer than {limits.max_name_chars} characters")
    parts = name.split("/")
    if len(parts) > limits.max_depth:
        raise MailError(f"folder name deeper than {limits.max_depth} levels")
    for part in parts:
        if part in ("", ".", ".."):
            raise MailError(f"folder name {name!r} has an empty, '.' or '..' part")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in part):
            raise MailError(f"folder name {name!r} has a control character")
        if delimiter and delimiter in part:
            raise MailError(f"folder name part {part!r} contains the hierarchy delimiter {delimiter!r}")
    if parts[0].upper() == INBOX:
        parts[0] = INBOX
    return "/".join(parts)


def check_folder_move(name: str, new_name: str) -> None:
    """Refuse renaming the inbox, or moving a folder into itself or its own subtree (a loop)."""
    if name == INBOX:
        raise MailError("the inbox cannot be renamed or moved")
    if new_name == INBOX:
        raise MailError("a folder cannot become the inbox")
    if new_name == name or new_name.startswith(name + "/"):
        raise MailError(f"folder {name!r} cannot move into itself ({new_name!r}): a folder loop")


@runtime_checkable
class MailBackend(Protocol):
    """One account's mail storage: folders and messages, and change detection.

    Folder arguments are in the common spelling (see the module docs);
    message ids are ``(folder, uid)``.  Every method raises
    :class:`~syncml_codec.errors.MailError` on a refusal (no such folder or
    message, a bad name, a limit) and
    :class:`~syncml_codec.errors.MailUnavailableError` when the storage
    cannot be reached; nothing hangs (network operations time out).
    """

    #: the back end's hierarchy delimiter, which folder name parts may not contain
    delimiter: str
    limits: Limits

    def folders(self) -> list[MailFolder]:
        """Every folder, the inbox first, parents before children."""
        ...

    def create_folder(self, name: str) -> None:
        """Create *name* (its missing parents too); an existing one is an error."""
        ...

    def rename_folder(self, name: str, new_name: str) -> None:
        """Rename or move *name* (with its subfolders) to *new_name*."""
        ...

    def move_folder(self, name: str, new_parent: str | None) -> str:
        """Move *name* under *new_parent* (None: top level) keeping its last part; the new name."""
        ...

    def delete_folder(self, name: str) -> None:
        """Delete *name*, its messages and its subfolders (never the inbox)."""
        ...

    def messages(self, folder: str) -> list[MessageInfo]:
        """Every message of *folder*."""
        ...

    def fetch(self, folder: str, uid: str, *, headers_only: bool = False) -> bytes:
        """The message's bytes, or its header block only."""
        ...

    def add(self, folder: str, data: bytes, flags: Iterable[str] = (), date: datetime | None = None) -> str:
        """Store a message with flags and internal date; its uid."""
        ...

    def set_flags(self, folder: str, uid: str, flags: Iterable[str]) -> None:
        """Make the message's flags exactly *flags* (other keywords a server keeps stay)."""
        ...

    def move(self, folder: str, uid: str, target: str) -> str:
        """Move the message to *target*; its uid there."""
        ...

    def delete(self, folder: str, uid: str) -> None:
        """Remove the message for good."""
        ...

    def snapshot(self, previous: Snapshot | None = None) -> Snapshot:
        """The state change detection compares (*previous* lets a back end skip unchanged folders)."""
        ...

    def changes(self, since: Snapshot) -> Changes:
        """What changed since *since*, with the new snapshot."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...

