"""The Maildir back end: one account's mail in a Maildir with Maildir++
subfolders (``DIR/<account>/``, ``.Sent``, ``.Work.Projects``), as Dovecot,
Courier and most MTAs' local delivery keep it.

New messages are written by the standard library's :mod:`mailbox` (a unique
name in ``tmp/``, then linked into place: a reader never sees half a file);
flags and moves are renames of that file, so its unique name, the message's
uid here, never changes.  Flags are the Maildir info letters (``:2,``):
``S`` read, ``R`` replied, ``P`` forwarded (passed), ``F`` flagged, ``D``
draft, ``T`` deleted (trashed); letters this module does not know (e.g.
Dovecot's keyword letters) are kept.  The internal date is the file's
modification time.  Folder name parts are in IMAP's modified UTF-7, as
Dovecot writes them, so the same Maildir can be served by both.

Change detection reads the file names: a snapshot is every folder's unique
names with their flags; a message an MTA delivered into ``new/`` is added, a
renamed info is a flag change, a unique name that left one folder for
another is a move (its fingerprint is the unique name).

    >>> import tempfile
    >>> box = MaildirBackend(tempfile.mkdtemp() + "/ann")
    >>> uid = box.add("INBOX", b"Subject: hi\\n\\nhello\\n", flags={"read"})
    >>> [m.flags for m in box.messages("INBOX")], box.fetch("INBOX", uid, headers_only=True)
    ([frozenset({'read'})], b'Subject: hi\\n\\n')
"""

from __future__ import annotations

import mailbox
import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from ..errors import FormatError, MailError
from ..formats.email import RFC822Item
from ..store.backups import safe_component
from . import _utf7
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

__all__ = ["MaildirBackend", "MaildirRoot", "account_maildir"]

_LETTER = {"read": "S", "replied": "R", "forwarded": "P", "flagged": "F", "draft": "D", "deleted": "T"}
_FLAG = {letter: name for name, letter in _LETTER.items()}
_MAX_UID = 255


def account_maildir(root: str | os.PathLike[str], account: str) -> Path:
    """The Maildir of *account* under *root* (``--maildir-root``): one path
    component made safe as the backup area makes it.

        >>> account_maildir("/srv/mail", "../bob").as_posix()
        '/srv/mail/%2E.%2Fbob'
    """
    return Path(root) / safe_component(account)


class MaildirRoot:
    """Account name -> its :class:`MaildirBackend` under *root*
    (``syncml serve --maildir-root``): what the engine is given to serve the
    Mail datastores.  An account's Maildir is created on first use.

        >>> import tempfile
        >>> MaildirRoot(tempfile.mkdtemp())("ann").folders()[0].name
        'INBOX'
    """

    def __init__(self, root: str | os.PathLike[str], *, limits: Limits | None = None) -> None:
        self.root = Path(root)
        self.limits = limits

    def __call__(self, account: str) -> MaildirBackend:
        return MaildirBackend(account_maildir(self.root, account), limits=self.limits)

    def __repr__(self) -> str:
        return f"MaildirRoot({str(self.root)!r})"


def header_block(data: bytes) -> bytes:
    """The header block of a message, with the blank line that ends it."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        end = data.find(sep)
        if end >= 0:
            other = data.find(b"\n\n" if sep == b"\r\n\r\n" else b"\r\n\r\n")
            if other < 0 or end <= other:
                return data[:end + len(sep)]
    return data


class MaildirBackend:
    """A :class:`~syncml_codec.mail.MailBackend` on the Maildir at *path*
    (created when missing, unless ``create`` is false)."""

    delimiter = "."

    def __init__(self, path: str | os.PathLike[str], *, limits: Limits | None = None, create: bool = True) -> None:
        self.root = Path(path)
        self.limits = limits or Limits()
        self._index: dict[Path, dict[str, tuple[Path, str]]] = {}  # a folder's uid -> (file, subfolder), see _path
        if not (self.root / "cur").is_dir():
            if not create:
                raise MailError(f"{self.root} is not a Maildir")
            self.root.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            mailbox.Maildir(str(self.root), create=True)  # its folders 0700, as mailbox makes them

    def __repr__(self) -> str:
        return f"MaildirBackend({str(self.root)!r})"

    # -- folders ------------------------------------------------------------------
    def _name(self, name: str) -> str:
        return normalize_folder(name, self.limits, self.delimiter)

    def _native(self, name: str) -> str:
        return "" if name == INBOX else "." + ".".join(_utf7.encode(part) for part in name.split("/"))

    def _dir(self, name: str, *, must_exist: bool = True) -> Path:
        path = self.root / self._native(name) if name != INBOX else self.root
        if must_exist and not (path / "cur").is_dir():
            raise MailError(f"no folder {name!r}")
        return path

    def folders(self) -> list[MailFolder]:
        found = [MailFolder(INBOX, "")]
        with os.scandir(self.root) as entries:
            for entry in entries:
                if not entry.name.startswith(".") or entry.name in (".", "..") or not entry.is_dir():
                    continue
                try:
                    name = "/".join(_utf7.decode(part) for part in entry.name[1:].split("."))
                    name = self._name(name)
                except MailError:
                    continue  # not a folder name this back end can address: left alone
                if name != INBOX and (Path(entry.path) / "cur").is_dir():
                    if len(found) >= self.limits.max_folders:
                        raise MailError(f"{self.root}: more than {self.limits.max_folders} folders")
                    found.append(MailFolder(name, entry.name))
        found[1:] = sorted(found[1:], key=lambda f: f.name.split("/"))
        return found

    def _subtree(self, name: str) -> list[str]:
        return [f.name for f in self.folders() if f.name == name or f.name.startswith(name + "/")]

    def create_folder(self, name: str) -> None:
        name = self._name(name)
        if (self._dir(name, must_exist=False) / "cur").is_dir():
            raise MailError(f"folder {name!r} exists")
        parts = name.split("/")
        if len(self.folders()) + len(parts) > self.limits.max_folders:
            raise MailError(f"{self.root}: a new folder would make more than {self.limits.max_folders} folders")
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if sub == INBOX:
                continue
            if not (self._dir(sub, must_exist=False) / "cur").is_dir():
                mailbox.Maildir(str(self.root), create=False).add_folder(self._native(sub)[1:])

    def rename_folder(self, name: str, new_name: str) -> None:
        name, new_name = self._name(name), self._name(new_name)
        check_folder_move(name, new_name)
        self._dir(name)
        if (self._dir(new_name, must_exist=False)).exists():
            raise MailError(f"folder {new_name!r} exists")
        parent = new_name.rsplit("/", 1)[0] if "/" in new_name else None
        if parent is not None and parent != INBOX and not (self._dir(parent, must_exist=False) / "cur").is_dir():
            self.create_folder(parent)
        for old in self._subtree(name):
            new = new_name + old[len(name):]
            os.rename(self._dir(old), self._dir(new, must_exist=False))

    def move_folder(self, name: str, new_parent: str | None) -> str:
        name = self._name(name)
        leaf = name.rsplit("/", 1)[-1]
        new_name = leaf if new_parent is None else self._name(new_parent) + "/" + leaf
        check_folder_move(name, new_name)
        if new_parent is not None and new_parent.upper() != INBOX:
            self._dir(self._name(new_parent))
        self.rename_folder(name, new_name)
        return new_name

    def delete_folder(self, name: str) -> None:
        name = self._name(name)
        if name == INBOX:
            raise MailError("the inbox cannot be deleted")
        self._dir(name)
        for sub in sorted(self._subtree(name), key=len, reverse=True):
            shutil.rmtree(self._dir(sub))

    # -- messages -----------------------------------------------------------------
    def _files(self, folder_dir: Path) -> Iterator[tuple[str, str, os.DirEntry[str]]]:
        """(subdir, uid, entry) of every message file in new/ and cur/."""
        count = 0
        for sub in ("new", "cur"):
            try:
                with os.scandir(folder_dir / sub) as entries:
                    for entry in entries:
                        if entry.name.startswith("."):
                            continue
                        count += 1
                        if count > self.limits.max_messages:
                            raise MailError(f"{folder_dir}: more than {self.limits.max_messages} messages")
                        yield sub, entry.name.split(":", 1)[0], entry
            except FileNotFoundError:
                continue

    @staticmethod
    def _flags_of(filename: str) -> tuple[frozenset[str], str]:
        """Our flags and the info letters we do not know."""
        info = filename.split(":", 1)[1] if ":" in filename else ""
        letters = info[2:] if info.startswith("2,") else ""
        ours = frozenset(_FLAG[ch] for ch in letters if ch in _FLAG)
        return ours, "".join(ch for ch in letters if ch not in _FLAG)

    def messages(self, folder: str) -> list[MessageInfo]:
        name = self._name(folder)
        out = []
        for _sub, uid, entry in self._files(self._dir(name)):
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # renamed or removed while listing: seen next time
            if not stat.S_ISREG(st.st_mode):
                continue  # a symlink or anything but a plain file is not a message
            flags, _ = self._flags_of(entry.name)
            out.append(MessageInfo(name, uid, flags, st.st_size,
                                   datetime.fromtimestamp(st.st_mtime, timezone.utc), uid))
        return out

    def _check_uid(self, uid: str) -> None:
        if not uid or len(uid) > _MAX_UID or uid.startswith(".") or any(c in uid for c in "/\\:\0"):
            raise MailError(f"not a Maildir message id: {uid[:80]!r}")

    def _path(self, folder: str, uid: str) -> tuple[Path, str]:
        """The message's file and subfolder.  One listing of the folder serves
        the lookups that follow (a sync fetching every message is then linear,
        not quadratic); a file renamed since (flags, a move) is listed again."""
        self._check_uid(uid)
        folder_dir = self._dir(self._name(folder))
        found = self._index.get(folder_dir, {}).get(uid)
        if found is not None and os.path.lexists(found[0]):
            return found
        index = {}
        for sub, name, entry in self._files(folder_dir):
            index[name] = (Path(entry.path), sub)
        self._index = {folder_dir: index}  # (one folder's listing kept: bounded by Limits.max_messages)
        if uid in index:
            return index[uid]
        raise MailError(f"no message {uid!r} in folder {folder!r}")

    def fetch(self, folder: str, uid: str, *, headers_only: bool = False) -> bytes:
        path, _ = self._path(folder, uid)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))  # never a symlink's target
        except FileNotFoundError:
            raise MailError(f"message {uid!r} in folder {folder!r} went away") from None
        except OSError as exc:
            raise MailError(f"message {uid!r} in folder {folder!r} cannot be read: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if headers_only:  # read up to the blank line that ends the header block, not the message
                    buf, cap = bytearray(), min(size, self.limits.max_message_bytes)
                    while len(buf) < cap:
                        chunk = f.read(min(16384, cap - len(buf)))
                        if not chunk:
                            break
                        start = max(0, len(buf) - 3)  # (a separator may straddle two reads: linear overall)
                        buf += chunk
                        if buf.find(b"\n\n", start) >= 0 or buf.find(b"\r\n\r\n", start) >= 0:
                            break
                    return header_block(bytes(buf))
                if size > self.limits.max_message_bytes:
                    raise MailError(f"message {uid!r} is {size} bytes, over the limit "
                                    f"of {self.limits.max_message_bytes}")
                return f.read()
        except FileNotFoundError:
            raise MailError(f"message {uid!r} in folder {folder!r} went away") from None

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
        folder_dir = self._dir(name)
        box = mailbox.Maildir(str(folder_dir), factory=None, create=False)
        uid = box.add(data)  # tmp/ then new/: never seen half written
        new_path = folder_dir / "new" / uid
        final = folder_dir / "cur" / (uid + ":2," + "".join(sorted(_LETTER[f] for f in wanted)))
        os.rename(new_path, final)
        if date is not None:
            stamp = date.timestamp()
            os.utime(final, (stamp, stamp))
        return uid

    def set_flags(self, folder: str, uid: str, flags: Iterable[str]) -> None:
        wanted = check_flags(flags)
        path, _sub = self._path(folder, uid)
        _, unknown = self._flags_of(path.name)
        letters = "".join(sorted({_LETTER[f] for f in wanted} | set(unknown)))
        target = path.parent.parent / "cur" / f"{uid}:2,{letters}"
        if target != path:
            os.rename(path, target)

    def move(self, folder: str, uid: str, target: str) -> str:
        if self._name(folder) == self._name(target):
            raise MailError(f"message {uid!r} is already in folder {target!r}")
        target_dir = self._dir(self._name(target))
        path, sub = self._path(folder, uid)
        dest = target_dir / sub / path.name
        if dest.exists():
            raise MailError(f"folder {target!r} already holds message {uid!r}")
        os.rename(path, dest)
        return uid

    def delete(self, folder: str, uid: str) -> None:
        path, _ = self._path(folder, uid)
        try:
            path.unlink()
        except FileNotFoundError:
            raise MailError(f"message {uid!r} in folder {folder!r} went away") from None

    # -- change detection -----------------------------------------------------------
    def snapshot(self, previous: Snapshot | None = None) -> Snapshot:
        folders: dict[str, FolderState] = {}
        for folder in self.folders():
            entries = {}
            for _sub, uid, entry in self._files(self._dir(folder.name)):
                if entry.is_file(follow_symlinks=False):  # as messages() lists them
                    entries[uid] = (self._flags_of(entry.name)[0], uid)
            folders[folder.name] = FolderState(messages=entries)
        return Snapshot(folders)

    def changes(self, since: Snapshot) -> Changes:
        return diff(since, self.snapshot(since))

    def close(self) -> None:
        """Nothing to release (every operation opens and closes its files)."""
