"""The backup area (issue 13: IceWarp's ``backup`` / ``backup=PREFIX`` sync
URL parameter): the items a device sends in a backup session, written as
files, one per datastore and session, instead of going to the store.

Layout::

    ROOT/<account>/<Datastore>/<PREFIX><YYYYMMDD><NNNN>.<ext>
    ROOT/<account>/.partial/<session>-<Datastore>      (a session's items so far)

* ``<account>`` is the account name made safe as one path component
  (:func:`safe_component`: letters, digits and ``._-@+`` kept, anything else
  and a leading dot percent-encoded), ``<Datastore>`` the canonical name.
* The name: the prefix of ``backup=PREFIX`` (none for a bare ``backup``),
  the UTC date the session completed, a 4-digit counter that restarts
  every day (per prefix and datastore): ``nokia200812310001``.  The counter
  starts after the highest one found, and the name is taken with
  ``link(2)``, which fails if it exists: two sessions, workers or hosts
  sharing the directory never get the same name, and the file appears under
  its final name complete (it is written and synced under a temporary name
  first).  On a file system without hard links the name is reserved with
  ``O_CREAT | O_EXCL`` and the full file renamed over it.
* Formats, the items byte for byte as the device sent them (transfer
  encoding undone): ``.vcf`` when every item is one vCard (a multi-item
  vCard file), ``.ics`` when every item is one vCalendar 1.0 / iCalendar
  2.0 object (a stream of VCALENDAR objects, as RFC 5545 allows), both only
  when splitting the file gives back exactly the items; anything else (SIF,
  plain-text notes, an item without a final line break, a mix) is a POSIX
  ``.tar`` with one member per item (``0001.vcf``, ``0002.xml``, ...),
  its content type in the member's PAX header ``SYNCML.content_type``.
  Contacts are thus usually ``.vcf``, events, tasks and journals ``.ics``,
  notes ``.tar``.
* Files are created 0600 and directories 0700, whatever the umask.

A session's items are appended to its partial file as they come, each at
the offset its session's state recorded (the state is committed with the
message, in the store): a message the store rolled back leaves bytes past
that offset, which the next write or the end of the session cuts off.  A
session that breaks off leaves only its partial file, removed by a later
backup of the account (as it starts or completes) once a day old, or as
soon as the session is no longer running (:meth:`BackupArea.usage`, when the
account's next backup starts).  Partial files count in the account's share,
and a backup may only grow to what was left of it when it started.

The engine (:mod:`syncml_codec.engine`) writes through :class:`BackupArea`;
``syncml backup list|restore`` read through it.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import tarfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._spec import database_path
from .base import DATASTORES, canonical_datastore

__all__ = ["DEFAULT_MAX_ACCOUNT_SIZE", "DEFAULT_MAX_SIZE", "PARTIAL_TTL", "BackupArea", "BackupFile", "BackupItem",
           "content_type_of", "default_backup_dir", "pack", "safe_component", "unpack"]

#: bytes one datastore's backup may hold at most (items past it get Status 420)
DEFAULT_MAX_SIZE = 64 * 1024 * 1024
#: bytes of backup files one account may have (a new backup past it is refused with 420)
DEFAULT_MAX_ACCOUNT_SIZE = 1024 * 1024 * 1024
#: seconds after which a session's leftover partial file is removed
PARTIAL_TTL = 86400.0
_COUNTER_MAX = 9999
_SAFE = re.compile(r"[A-Za-z0-9._@+-]")
_MAX_COMPONENT = 120
_EXTENSIONS = (".vcf", ".ics", ".tar")
_RECORD = struct.Struct(">II")  # a partial file's record: type length, data length
_TYPE_KEY = "SYNCML.content_type"
_MEMBER_EXT = {"text/vcard": "vcf", "text/x-vcard": "vcf", "text/calendar": "ics", "text/x-vcalendar": "vcs",
               "text/plain": "txt"}


@dataclass(frozen=True, slots=True)
class BackupItem:
    """One item of a backup: its bytes as the device sent them, and its content type ("" if unknown)."""

    data: bytes
    content_type: str = ""


@dataclass(frozen=True, slots=True)
class BackupFile:
    """A backup file of one account: ``name`` without extension
    (``nokia200812310001``), its datastore, path, size in bytes and time
    (seconds since the epoch, the file's modification time)."""

    name: str
    datastore: str
    path: Path
    size: int
    created: float

    @property
    def extension(self) -> str:
        """``.vcf``, ``.ics`` or ``.tar``."""
        return self.path.suffix


def default_backup_dir(db: str) -> str | None:
    """The backup area beside an SQLite database (``/var/lib/syncml.db`` ->
    ``/var/lib/syncml-backups``); None for ``:memory:`` and PostgreSQL (give
    one: ``--backup-dir``, ``SYNCML_BACKUP_DIR``).

    >>> default_backup_dir("data/sync.db"), default_backup_dir("postgresql://u@h/db")
    ('data/sync-backups', None)
    """
    try:
        path = database_path(db)
    except ValueError:
        return None
    if path is None or path in ("", ":memory:") or path.startswith("file:"):
        return None
    p = Path(path)
    return str(p.with_name(f"{p.stem}-backups"))


def safe_component(name: str) -> str:
    """``name`` (an account) as one path component: letters, digits and
    ``._-@+`` kept, every other character and a leading dot as ``%XX`` of
    its UTF-8 bytes; a long name is cut and ended with a digest of it.

    >>> safe_component("bob@example.org"), safe_component("../x/y"), safe_component("ann é")
    ('bob@example.org', '%2E.%2Fx%2Fy', 'ann%20%C3%A9')
    """
    if not name:
        raise ValueError("an empty account name")
    out = []
    for i, ch in enumerate(name):
        if _SAFE.fullmatch(ch) and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
    text = "".join(out)
    if len(text) > _MAX_COMPONENT:
        import hashlib

        text = text[:_MAX_COMPONENT - 17] + "~" + hashlib.blake2b(name.encode("utf-8", "surrogatepass"),
                                                                  digest_size=8).hexdigest()
    return text


# -- formats ---------------------------------------------------------------------
def _split(data: bytes, kind: bytes) -> list[bytes] | None:
    """``data`` cut into its top-level ``BEGIN:<kind>`` ... ``END:<kind>``
    objects, each with its line breaks; None if anything lies outside them."""
    begin, end = b"BEGIN:" + kind, b"END:" + kind
    items: list[bytes] = []
    start = depth = 0
    pos = 0
    for line in data.splitlines(keepends=True):
        word = line.strip().upper()
        if word == begin:
            if depth == 0:
                start = pos
            depth += 1
        elif depth == 0:
            return None
        elif word == end:
            depth -= 1
            if depth == 0:
                items.append(data[start:pos + len(line)])
        pos += len(line)
    return items if depth == 0 else None


def _kind(extension: str) -> bytes:
    return b"VCARD" if extension == ".vcf" else b"VCALENDAR"


def content_type_of(data: bytes) -> str:
    """The type an item's bytes say they are (for a ``.vcf`` / ``.ics`` item: its VERSION)."""
    head = data.lstrip()[:64].upper()
    version = b"VERSION:2.1" in data.upper() or b"VERSION:1.0" in data.upper()
    if head.startswith(b"BEGIN:VCARD"):
        return "text/x-vcard" if version else "text/vcard"
    if head.startswith(b"BEGIN:VCALENDAR"):
        return "text/x-vcalendar" if version else "text/calendar"
    return ""


#: the extension of an empty backup, by datastore
_EMPTY = {"Contacts": ".vcf", "Events": ".ics", "Tasks": ".ics", "Journal": ".ics"}


def pack(items: Sequence[BackupItem], when: float = 0.0, datastore: str = "") -> tuple[str, bytes]:
    """``(extension, bytes)`` of a backup file holding ``items`` (see the
    module doc); without items, the datastore's usual file, empty.

    >>> card = b"BEGIN:VCARD\\r\\nVERSION:3.0\\r\\nFN:A\\r\\nEND:VCARD\\r\\n"
    >>> pack([BackupItem(card), BackupItem(card)])[0], pack([BackupItem(b"a note")])[0]
    ('.vcf', '.tar')
    """
    datas = [item.data for item in items]
    if not datas and datastore in _EMPTY:
        return _EMPTY[datastore], b""
    joined = b"".join(datas)
    for extension in (".vcf", ".ics"):
        if datas and _split(joined, _kind(extension)) == datas:
            return extension, joined
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for n, item in enumerate(items, 1):
            ctype = item.content_type or content_type_of(item.data)
            ext = _MEMBER_EXT.get(ctype, "xml" if ctype.startswith("text/x-s4j") else "bin")
            info = tarfile.TarInfo(f"{n:04d}.{ext}")
            info.size = len(item.data)
            info.mtime = int(when)
            info.mode = 0o600
            if ctype:
                info.pax_headers = {_TYPE_KEY: ctype}
            tar.addfile(info, io.BytesIO(item.data))
    return ".tar", out.getvalue()


def unpack(extension: str, data: bytes) -> list[BackupItem]:
    """The items of a backup file's bytes (:func:`pack`'s inverse); :class:`ValueError` if they do not read."""
    if extension in (".vcf", ".ics"):
        if not data:
            return []
        parts = _split(data, _kind(extension))
        if parts is None:
            raise ValueError(f"not a {extension} file of whole objects")
        return [BackupItem(p, content_type_of(p)) for p in parts]
    if extension != ".tar":
        raise ValueError(f"not a backup file ({extension!r})")
    items = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                fh = tar.extractfile(member)
                assert fh is not None
                items.append(BackupItem(fh.read(), member.pax_headers.get(_TYPE_KEY, "")))
    except tarfile.TarError as exc:
        raise ValueError(f"not a readable tar file: {exc}") from None
    return items


# -- the area -------------------------------------------------------------------------
def _mkdir(path: Path) -> None:
    """``path`` and its missing parents, each created 0700."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(d, 0o700)
            os.chmod(d, 0o700)  # (the umask may have taken bits off: set exactly)


class BackupArea:
    """The backup files under ``root`` (see the module doc).  ``max_size``:
    bytes one datastore's backup of one session may hold; ``max_account_size``:
    bytes of backup files an account may have before new backups are refused
    (the operator removes old ones: they are plain files)."""

    def __init__(self, root: str | Path, *, max_size: int = DEFAULT_MAX_SIZE,
                 max_account_size: int = DEFAULT_MAX_ACCOUNT_SIZE) -> None:
        self.root = Path(root)
        self.max_size = max_size
        self.max_account_size = max_account_size

    def __repr__(self) -> str:
        return f"BackupArea({str(self.root)!r})"

    def account_dir(self, user: str) -> Path:
        """The account's folder (its name made safe, :func:`safe_component`)."""
        return self.root / safe_component(user)

    def _partial(self, user: str, session_id: str, datastore: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,100}", session_id) or datastore not in DATASTORES:
            raise ValueError(f"bad session or datastore {session_id!r} {datastore!r}")
        return self.account_dir(user) / ".partial" / f"{session_id}-{datastore}"

    # -- writing (the engine) ------------------------------------------------------
    def full(self, user: str) -> bool:
        """Whether the account's backup files and partial files fill its share (``max_account_size``)."""
        return self.usage(user) >= self.max_account_size

    def usage(self, user: str, live: Callable[[str], bool] | None = None) -> int:
        """Bytes the account holds in the area: its backup files and the
        partial files of its sessions (a session that broke off, or was
        evicted by a newer one, leaves its partial file: counted, or a client
        starting backup after backup could fill the disk within a day).
        ``live``: whether a session (by id) is still running; the partial
        files of the others are removed (they will never complete)."""
        total = sum(b.size for b in self.backups(user))
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.account_dir(user) / ".partial"):
                with contextlib.suppress(OSError):
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    session_id = entry.name.rsplit("-", 1)[0]
                    if live is not None and not live(session_id):
                        os.unlink(entry.path)
                        continue
                    total += entry.stat(follow_symlinks=False).st_size
        return total

    def append(self, user: str, session_id: str, datastore: str, offset: int, item: BackupItem) -> int:
        """Write ``item`` to the session's partial file at ``offset`` (the
        length its state holds: anything after it is cut off); the new length."""
        path = self._partial(user, session_id, datastore)
        if offset == 0:
            _mkdir(path.parent)
            self._sweep(path.parent)
        ctype = item.content_type.encode("utf-8", "replace")
        record = _RECORD.pack(len(ctype), len(item.data)) + ctype + item.data
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
            view = memoryview(record)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        return offset + len(record)

    def _sweep(self, partial_dir: Path) -> None:
        """Remove the partial files of sessions that broke off (older than :data:`PARTIAL_TTL`)."""
        limit = time.time() - PARTIAL_TTL
        with contextlib.suppress(OSError):
            for entry in os.scandir(partial_dir):
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < limit:
                        os.unlink(entry.path)

    def partial_items(self, user: str, session_id: str, datastore: str, length: int) -> list[BackupItem]:
        """The items of a session's partial file, up to ``length`` bytes (none if there is none)."""
        path = self._partial(user, session_id, datastore)
        try:
            with open(path, "rb") as fh:
                data = fh.read(length)
        except FileNotFoundError:
            data = b""
        if len(data) != length:
            raise OSError(f"{path}: {len(data)} bytes, the session wrote {length}")
        items, pos = [], 0
        while pos < length:
            tlen, dlen = _RECORD.unpack_from(data, pos)
            pos += _RECORD.size
            ctype = data[pos:pos + tlen].decode("utf-8", "replace")
            pos += tlen
            items.append(BackupItem(data[pos:pos + dlen], ctype))
            pos += dlen
        return items

    def finish(self, user: str, session_id: str, datastore: str, length: int, prefix: str,
               when: float) -> tuple[BackupFile, int]:
        """The session's backup of ``datastore`` made a file (named for the
        UTC day of ``when``) and its partial file removed; the file and its
        number of items."""
        items = self.partial_items(user, session_id, datastore, length)
        extension, data = pack(items, when, datastore)
        folder = self.account_dir(user) / datastore
        _mkdir(folder)
        stem = prefix + time.strftime("%Y%m%d", time.gmtime(when))
        fd, tmp = _temporary(folder)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            path = _take_name(folder, stem, extension, tmp)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        partial = self._partial(user, session_id, datastore)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        self._sweep(partial.parent)
        st = path.stat()
        return BackupFile(path.stem, datastore, path, st.st_size, st.st_mtime), len(items)

    def discard(self, user: str, session_id: str, datastore: str) -> None:
        """Remove a session's partial file (a backup not made)."""
        with contextlib.suppress(FileNotFoundError, ValueError):
            os.unlink(self._partial(user, session_id, datastore))

    # -- reading (the operator) ---------------------------------------------------------
    def backups(self, user: str) -> list[BackupFile]:
        """The account's backup files, oldest first (by time, then name)."""
        found = []
        base = self.account_dir(user)
        for datastore in DATASTORES:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                for entry in os.scandir(base / datastore):
                    name, ext = os.path.splitext(entry.name)
                    if ext in _EXTENSIONS and not name.startswith(".") and entry.is_file(follow_symlinks=False):
                        st = entry.stat()
                        found.append(BackupFile(name, datastore, Path(entry.path), st.st_size, st.st_mtime))
        return sorted(found, key=lambda b: (b.created, b.name, b.datastore))

    def find(self, user: str, name: str, datastore: str | None = None) -> BackupFile:
        """The backup ``name`` (``nokia200812310001``, with or without its
        extension, or ``Contacts/nokia200812310001``) of the account;
        :class:`LookupError` if there is none or several datastores have one."""
        if "/" in name:
            where, name = name.split("/", 1)
            datastore = canonical_datastore(where) or where
        stem, ext = os.path.splitext(name)
        if ext not in _EXTENSIONS:
            stem = name
        found = [b for b in self.backups(user)
                 if b.name == stem and (datastore is None or b.datastore == datastore)
                 and (ext not in _EXTENSIONS or b.extension == ext)]
        if not found:
            raise LookupError(f"no backup {name!r}" + (f" of {datastore}" if datastore else ""))
        if len(found) > 1:
            raise LookupError(f"backup {name!r} exists for {', '.join(b.datastore for b in found)}: "
                              "name the datastore")
        return found[0]

    def items(self, backup: BackupFile) -> list[BackupItem]:
        """The items of a backup file; :class:`ValueError` if it does not read."""
        return unpack(backup.extension, backup.path.read_bytes())


def _temporary(folder: Path) -> tuple[int, str]:
    """A new private file in ``folder`` under a name no backup has."""
    while True:
        tmp = str(folder / f".tmp-{os.getpid()}-{os.urandom(6).hex()}")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600), tmp
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue


def _take_name(folder: Path, stem: str, extension: str, tmp: str) -> Path:
    """Give the written file ``tmp`` the first free name ``stem + NNNN +
    extension`` after the highest counter of ``stem`` in ``folder`` (any
    extension), atomically (see the module doc)."""
    pattern = re.compile(re.escape(stem) + r"(\d{4})\.[a-z]+")
    taken = [int(m.group(1)) for entry in os.listdir(folder) if (m := pattern.fullmatch(entry))]
    counter = max(taken, default=0) + 1
    while counter <= _COUNTER_MAX:
        path = folder / f"{stem}{counter:04d}{extension}"
        others = [folder / f"{stem}{counter:04d}{e}" for e in _EXTENSIONS if e != extension]
        if not any(p.exists() for p in others):
            try:
                os.link(tmp, path)
                return path
            except FileExistsError:
                pass
            except OSError:  # no hard links here: reserve the name, then rename the full file over it
                try:
                    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                except FileExistsError:
                    counter += 1
                    continue
                os.replace(tmp, path)
                return path
        counter += 1
    raise OSError(f"{folder}: no free backup name for {stem} (counter past {_COUNTER_MAX})")
