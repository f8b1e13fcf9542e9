"""The Mail datastores (issue 14, items 1 and 2): an account's mail folders,
kept by a mail back end (:mod:`syncml_codec.mail`: a Maildir), seen by the
engine as a store (:class:`MailView`, as :class:`.quirks.CalendarWithTasks`
is a view of two datastores as one).

Names.  ``Mail`` (alias ``inbox``) is the inbox; ``Mail/<Folder>`` is any
other folder by its name, case-insensitively (``mail/sent`` is the folder
``Sent``); a bare folder name (``Sent``) too, unless it is one of the other
datastores' names, where :func:`~syncml_codec.store.base.canonical_datastore`
decides (an alias such as ``Calendar`` yields to a folder of that name).  The
canonical name is ``Mail`` or ``Mail/`` + the folder's name as the back end
spells it: one datastore (anchors, map) per folder.

GUIDs and revisions.  The message itself stays in the back end; the store
keeps, per message, an item in the folder's datastore whose data is a
*reference* (:data:`REF_TYPE`: folder, uid, flags, internal date and the
back end's fingerprint).  The store gives it its GUID (stable for the
message's life) and its revision, which grows when the reference changes.
So the references of a folder *are* the snapshot the datastore's devices
were synced against, and the engine's revision and tombstone machinery works
unchanged.  When a datastore is opened (package 1) :meth:`MailView.refresh`
compares them with the back end's listing through :func:`syncml_codec.mail.diff`:
a message delivered behind the server's back (an MTA writing into ``new/``)
becomes an item, changed flags a new revision, a removed message a
tombstone (a Delete for the devices that hold it).  The engine's own writes
go to the back end and to the reference in the same call, so they are never
seen as foreign changes.  A separate snapshot table would be a second copy
of the same state that every engine write would also have to update.

Items towards the engine are OMA DS email objects
(``application/vnd.omads-email+xml``) with every flag said, the message in
``<emailitem>`` and the internal date as ``<received>``; the engine converts
them to ``message/rfc822`` for a client that wants that.  From a client both
come in: an email object's flags (read, replied, forwarded, flagged,
deleted; an element left out leaves the flag as it is; ``draft`` has no
element in the OMA DS object and is kept) and, when it carries one, its
message; an RFC 822 message changes the message and keeps the flags.  A
message whose content changes is written anew (Maildir files are not edited
in place) under the same GUID.  A malformed object, or one without a message
where one is needed, raises :class:`~syncml_codec.errors.FormatError` /
:class:`~syncml_codec.errors.MailError` before anything is written: the
engine answers the item with a Status and goes on.

Filters (issue 14 item 4, :mod:`._filtering`).  A filtered session reads
no message whole that it does not send whole: the filter is tested on
:meth:`MailView.filter_items`, email objects made of the reference (flags,
internal date, the message's size as ``x-funambol-size``) and the header
block alone; a mail whose field filter sends only its headers (IceWarp's
"headers only") is made the same way (:meth:`MailView.get_item_part`) and
says what it lacks (OMA DS 1.2 ``<truncated>``: the body's size and type).
A client's change of a truncated copy (an object with ``<truncated>``, or a
message that is only the stored message's header block) changes flags, never
the message; a truncated copy is not added as a new message (400).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, cast

from ..errors import FormatError, MailError
from ..filters import SIZE_EXT, Comparison, Expression, ItemFilter
from ..formats.email import EMAIL_CONTENT_TYPE, EmailObject, LeftOut, Truncated
from ..mail import INBOX, FolderState, MailBackend, Snapshot, diff
from ..mail.maildir import header_block
from ..store.base import Store, StoredItem, canonical_datastore
from ._mailref import REF_TYPE, flagged, incoming, listed_ref, make_ref, read_ref
from ._mailtree import MAIL_TREE, MailTree
from ._util import log_quoted

__all__ = ["MAIL", "MAIL_TREE", "REF_TYPE", "MailBackends", "MailView", "is_mail", "mail_datastore", "mail_folder",
           "mail_view"]

log = logging.getLogger("syncml_codec.engine")

#: the inbox's datastore; the others are ``Mail/<Folder>``
MAIL = "Mail"
#: account name -> its mail back end (``syncml serve --maildir-root``)
MailBackends = Callable[[str], MailBackend]



def is_mail(canonical: str) -> bool:
    """Whether a canonical datastore name is a mail folder's, or the mail tree's."""
    return canonical == MAIL or canonical.startswith(MAIL + "/")


def mail_folder(canonical: str) -> str:
    """The back end's folder of a mail datastore (``Mail`` -> ``INBOX``)."""
    return INBOX if canonical == MAIL else canonical[len(MAIL) + 1:]


def mail_datastore(name: str, folders: Iterable[str]) -> str | None:
    """The mail datastore a client's URI names, or None (see the module doc).
    ``folders``: the account's folders as the back end names them.

        >>> mail_datastore("./inbox", []), mail_datastore("mail/SENT?x=1", ["INBOX", "Sent"])
        ('Mail', 'Mail/Sent')
        >>> mail_datastore("Sent", ["Sent"]), mail_datastore("Calendar", ["Calendar"])
        ('Mail/Sent', 'Mail/Calendar')
        >>> mail_datastore("Contacts", ["Contacts"]), mail_datastore("Mail/Nope", ["Sent"])
        (None, None)
    """
    key = name.strip().split("?", 1)[0].split("#", 1)[0].strip()
    while key.startswith(("./", "/")):
        key = key[2:] if key.startswith("./") else key[1:]
    key = key.strip("/")
    first, _, rest = key.partition("/")
    by_lower = {f.lower(): f for f in folders if f != INBOX}
    if first.lower() in ("mail", "inbox"):
        if not rest:
            return MAIL
        folder = by_lower.get(rest.lower())
        return MAIL + "/" + folder if folder is not None else None
    folder = by_lower.get(key.lower())
    if folder is None or canonical_datastore(key, [folder]) is not None:
        return None  # not a folder, or a canonical datastore's own name
    return MAIL + "/" + folder


_CONTENT_TYPE = re.compile(rb"^content-type[ \t]*:[ \t]*([!#-'*+.0-9A-Z^-~-]+/[!#-'*+.0-9A-Z^-~-]+)",
                           re.IGNORECASE | re.MULTILINE)


def _content_type(head: bytes) -> str:
    """A header block's MIME type (RFC 2045's default without one), read
    without the ``email`` package (a headers-only sync makes one per message).

        >>> _content_type(b"Subject: x\\r\\nContent-Type: Multipart/Mixed;\\r\\n boundary=b\\r\\n\\r\\n")
        'multipart/mixed'
    """
    m = _CONTENT_TYPE.search(head)
    return m.group(1).decode("ascii").lower() if m else "text/plain"


#: what a record filter reads of a mail that its reference holds (flags, internal date, size, the LUID)
_REF_NAMES = frozenset({"READ", "REPLIED", "FORWARDED", "FLAGGED", "DELETED", "RECEIVED", "SIZE", "&LUID;"})


def _reads_headers(expr: Expression) -> bool:
    """Whether a record filter names a mail's header (anything its reference lacks)."""
    if isinstance(expr, Comparison):
        return expr.name.strip().upper() not in _REF_NAMES or expr.param is not None
    return any(_reads_headers(part) for part in expr.parts)


def _lf(message: bytes) -> bytes:
    return message.replace(b"\r\n", b"\n")


class MailView:
    """``store`` with the mail datastores' items kept by the account's mail back
    end (``backends(user)``); every other datastore and everything else
    (maps, anchors, conflicts) is the store's own."""

    def __init__(self, store: Store, backends: MailBackends) -> None:
        self._store = store
        self._backends = backends
        self._open: dict[str, MailBackend] = {}
        self._tree = MailTree(self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def backend(self, user: str) -> MailBackend:
        """The account's back end (one per view)."""
        if user not in self._open:
            self._open[user] = self._backends(user)
        return self._open[user]

    def folders(self, user: str) -> list[str]:
        """The account's folder names."""
        return [f.name for f in self.backend(user).folders()]

    @staticmethod
    def offers_tree(canonical: str) -> bool:
        """Whether ``canonical`` is kept as a tree of folders (the whole
        account's mail, :mod:`._mailtree`; hierarchical sync)."""
        return canonical == MAIL_TREE

    # -- the snapshot -----------------------------------------------------
    def refresh(self, user: str, datastore: str, clock: float = 0.0) -> dict[str, int]:
        """Bring the datastore's references in line with the back end (see
        the module doc); counts of what was found."""
        if datastore == MAIL_TREE:
            return self._tree.refresh(user, clock)
        folder = mail_folder(datastore)
        refs: dict[str, tuple[StoredItem, dict[str, Any]]] = {}
        found = {"added": 0, "changed": 0, "removed": 0}
        for item in self._store.items(user, datastore):
            ref = read_ref(item)
            if ref is None or ref["uid"] in refs:  # (two sessions adding the same new message: one stays)
                self._store.delete_item(user, datastore, item.guid, clock)
                continue
            refs[ref["uid"]] = (item, ref)
        listed = {m.uid: m for m in self.backend(user).messages(folder)}
        old = Snapshot({folder: FolderState(messages={
            uid: (frozenset(ref["flags"]), str(ref.get("fp", uid))) for uid, (_, ref) in refs.items()})})
        new = Snapshot({folder: FolderState(messages={uid: (m.flags, m.fingerprint) for uid, m in listed.items()})})
        changes = diff(old, new)
        for old_ref, new_ref in changes.moved:  # (a changed UIDVALIDITY: the same message, a new uid)
            item, _ = refs.pop(old_ref.uid)
            m = listed[new_ref.uid]
            self._store.replace_item(user, datastore, item.guid, listed_ref(folder, m), REF_TYPE, clock)
        for gone in changes.removed:
            self._store.delete_item(user, datastore, refs[gone.uid][0].guid, clock)
            found["removed"] += 1
        for changed in changes.changed:
            if changed.uid in refs:
                m = listed[changed.uid]
                self._store.replace_item(user, datastore, refs[changed.uid][0].guid, listed_ref(folder, m), REF_TYPE,
                                         clock)
                found["changed"] += 1
        for new_one in changes.added:
            m = listed[new_one.uid]
            self._store.add_item(user, datastore, listed_ref(folder, m), REF_TYPE, clock)
            found["added"] += 1
        return found

    # -- items ------------------------------------------------------------
    def _full(self, user: str, item: StoredItem) -> StoredItem | None:
        """The item as the engine sees it: an email object (None: the message went away)."""
        ref = read_ref(item)
        if ref is None:
            return item
        return self._message(user, item, ref["folder"], ref)

    def _message(self, user: str, item: StoredItem, folder: str, ref: dict[str, Any]) -> StoredItem | None:
        """``item`` (a reference to message ``ref`` in ``folder``) as an email object."""
        try:
            message = self.backend(user).fetch(folder, ref["uid"])
        except MailError as exc:
            log.warning("user %s: message %s in folder %s cannot be read (%s): left out until the next session",
                        log_quoted(user), log_quoted(ref["uid"]), log_quoted(folder), exc)
            return None
        obj = flagged(EmailObject.from_rfc822(message), ref["flags"])
        obj.received = datetime.fromtimestamp(float(ref["date"]), timezone.utc)
        return replace(item, data=obj.serialize(), content_type=EMAIL_CONTENT_TYPE)

    def item_heads(self, user: str, datastore: str, include_deleted: bool = False) -> list[StoredItem]:
        """The items with their references as data: for what reads only GUIDs,
        revisions and tombstones (no message is read); another datastore's
        without their data."""
        if datastore != MAIL_TREE and not is_mail(datastore):
            return self._store.item_heads(user, datastore, include_deleted)
        return self._store.items(user, datastore, include_deleted)

    def folder_named(self, user: str, datastore: str, parent: str, name: str) -> str | None:
        """The GUID of the folder ``name`` in ``parent`` of the tree (None:
        none, or not the tree), without reading a message."""
        return self._tree.folder_named(user, parent, name) if datastore == MAIL_TREE else None

    def iter_items(self, user: str, datastore: str, include_deleted: bool = False) -> Iterator[StoredItem]:
        """:meth:`items` one at a time: a mail datastore's messages read as they are wanted."""
        if datastore == MAIL_TREE:
            yield from self._tree.items(user, include_deleted)
            return
        for item in self._store.iter_items(user, datastore, include_deleted):
            if not is_mail(datastore):
                yield item
            elif (full := self._full(user, item)) is not None:
                yield full

    def item_head(self, user: str, datastore: str, guid: str) -> StoredItem | None:
        """The item with its reference as data (:meth:`item_heads` for one)."""
        return self._store.get_item(user, datastore, guid)

    def _folder_of(self, user: str, datastore: str, item: StoredItem, ref: dict[str, Any]) -> str | None:
        """The folder a referenced message is in (the tree's by the item's parent; None: no such folder)."""
        return self._tree.folder_of(user, item) if datastore == MAIL_TREE else str(ref["folder"])

    def _head(self, user: str, item: StoredItem, folder: str, ref: dict[str, Any],
              headers: bool = True) -> StoredItem | None:
        """The item as an email object with the message's header block alone,
        saying what it lacks (``<truncated>``) and the whole message's size
        (None: the message went away); without ``headers`` no header block
        either (what the reference says: flags, date, size)."""
        try:
            head = self.backend(user).fetch(folder, ref["uid"], headers_only=True) if headers else b""
            size = ref.get("size")
            if not isinstance(size, int):  # (a reference older than filters: measured once here)
                size = len(self.backend(user).fetch(folder, ref["uid"]))
        except MailError as exc:
            log.warning("user %s: message %s in folder %s cannot be read (%s): left out until the next session",
                        log_quoted(user), log_quoted(ref["uid"]), log_quoted(folder), exc)
            return None
        obj = flagged(EmailObject.from_rfc822(head) if headers else EmailObject(), ref["flags"])
        obj.received = datetime.fromtimestamp(float(ref["date"]), timezone.utc)
        if headers and size > len(head):
            obj.truncated = Truncated(body=LeftOut(size - len(head), _content_type(head)))
        obj.ext = [(SIZE_EXT, (str(size),))]
        return replace(item, data=obj.serialize(), content_type=EMAIL_CONTENT_TYPE)

    def _head_or_item(self, user: str, datastore: str, item: StoredItem, headers: bool) -> StoredItem | None:
        """:meth:`_head` of a message's reference; a folder of the tree as its
        folder object; anything else (tombstones, other items) as it is."""
        ref = read_ref(item)
        if ref is None:
            return self._tree.full(user, item) if datastore == MAIL_TREE and not item.deleted else item
        folder = self._folder_of(user, datastore, item, ref)
        return None if folder is None else self._head(user, item, folder, ref, headers)

    def filter_items(self, user: str, datastore: str, include_deleted: bool = False,
                     filters: Iterable[ItemFilter] = ()) -> list[StoredItem]:
        """The items as ``filters`` test them: a mail datastore's as email
        objects of flags, internal date, size and header block (no message is
        read whole; see the module doc), without the header block when no
        record filter names anything else (the references alone then)."""
        found = self._store.items(user, datastore, include_deleted)
        if not is_mail(datastore):
            return found
        headers = any(_reads_headers(f.record.expression) for f in filters if f.record is not None)
        return [head for item in found if (head := self._head_or_item(user, datastore, item, headers)) is not None]

    def get_item_part(self, user: str, datastore: str, guid: str, part: str) -> StoredItem | None:
        """:meth:`get_item`, or with ``part`` ``"headers"`` a mail made of its
        header block alone (as :meth:`filter_items` makes them)."""
        item = self._store.get_item(user, datastore, guid)
        if item is None or item.deleted or not is_mail(datastore) or part != "headers" or read_ref(item) is None:
            return self.get_item(user, datastore, guid)
        return self._head_or_item(user, datastore, item, True) or self.get_item(user, datastore, guid)

    def items(self, user: str, datastore: str, include_deleted: bool = False) -> list[StoredItem]:
        if datastore == MAIL_TREE:
            return self._tree.items(user, include_deleted)
        found = self._store.items(user, datastore, include_deleted)
        if not is_mail(datastore):
            return found
        return [full for item in found if (full := self._full(user, item)) is not None]

    def get_item(self, user: str, datastore: str, guid: str) -> StoredItem | None:
        if datastore == MAIL_TREE:
            return self._tree.get_item(user, guid)
        item = self._store.get_item(user, datastore, guid)
        if item is None or not is_mail(datastore):
            return item
        full = self._full(user, item)
        if full is None:  # gone since the session listed it: its flags only (a Delete follows next session)
            ref = read_ref(item) or {}
            obj = flagged(EmailObject(), ref.get("flags", ()))
            full = replace(item, data=obj.serialize(), content_type=EMAIL_CONTENT_TYPE)
        return full

    def add_item(self, user: str, datastore: str, data: bytes, content_type: str,
                 modified: float = 0.0, parent: str = "") -> StoredItem:
        if datastore == MAIL_TREE:
            return self._tree.add_item(user, data, content_type, modified, parent)
        if not is_mail(datastore):
            return self._store.add_item(user, datastore, data, content_type, modified, parent=parent)
        ref = self._add_message(user, mail_folder(datastore), data, modified)
        return self._store.add_item(user, datastore, make_ref(**ref), REF_TYPE, modified)

    def _add_message(self, user: str, folder: str, data: bytes, modified: float) -> dict[str, Any]:
        """Store an item a client added (an email object or a message) in ``folder``; its reference."""
        message, flags, received, truncated = incoming(data)
        if message is None:
            raise FormatError("an email object without <emailitem>: no message to store", 1, "emailitem")
        if truncated:  # (a copy reduced by a filter that matched none of ours: its message is not whole)
            raise FormatError("a truncated email object is not a message to store", 1, "truncated")
        wanted = {name for name, on in flags.items() if on}
        backend = self.backend(user)
        uid = backend.add(folder, message, wanted, received)
        date = received or datetime.fromtimestamp(modified, timezone.utc)
        fp = next((m.fingerprint for m in backend.messages(folder) if m.uid == uid), uid)
        return {"folder": folder, "uid": uid, "flags": wanted, "date": date, "fingerprint": fp, "size": len(message)}

    def replace_item(self, user: str, datastore: str, guid: str, data: bytes, content_type: str,
                     modified: float = 0.0, parent: str | None = None,
                     same_content: bool | None = None) -> StoredItem | None:
        if datastore == MAIL_TREE:  # (the tree tells a move from a change itself)
            return self._tree.replace_item(user, guid, data, content_type, modified, parent)
        if not is_mail(datastore):
            return self._store.replace_item(user, datastore, guid, data, content_type, modified, parent=parent,
                                            same_content=same_content)
        current = self._store.get_item(user, datastore, guid)
        ref = read_ref(current) if current is not None else None
        if ref is None:
            return None
        new = self._update_message(user, ref["folder"], ref, data)
        return self._store.replace_item(user, datastore, guid, make_ref(**new), REF_TYPE, modified)

    def _update_message(self, user: str, folder: str, ref: dict[str, Any], data: bytes) -> dict[str, Any]:
        """Apply an item a client replaced (flags and/or a new message) to the
        message ``ref`` in ``folder``; its new reference (for :func:`_ref`)."""
        message, flags, received, truncated = incoming(data)
        backend = self.backend(user)
        uid = ref["uid"]
        wanted = {f for f in ref["flags"] if f not in flags} | {name for name, on in flags.items() if on}
        date = received or datetime.fromtimestamp(float(ref["date"]), timezone.utc)
        fp = str(ref.get("fp", uid))
        size = ref.get("size") if isinstance(ref.get("size"), int) else None
        if message is not None and not truncated:
            stored = _lf(backend.fetch(folder, uid))
            if _lf(message) in (stored, _lf(header_block(stored))):  # (the same, or a headers-only copy of it)
                message = None
        if message is not None and not truncated:
            new_uid = backend.add(folder, message, wanted, date)  # a new file first: nothing lost if the next fails
            backend.delete(folder, uid)
            uid, size = new_uid, len(message)
            fp = next((m.fingerprint for m in backend.messages(folder) if m.uid == uid), uid)
        elif wanted != set(ref["flags"]):
            backend.set_flags(folder, uid, wanted)
        return {"folder": folder, "uid": uid, "flags": wanted, "date": date, "fingerprint": fp, "size": size}

    def delete_item(self, user: str, datastore: str, guid: str, modified: float = 0.0) -> StoredItem | None:
        if datastore == MAIL_TREE:
            return self._tree.delete_item(user, guid, modified)
        if is_mail(datastore):
            current = self._store.get_item(user, datastore, guid)
            ref = read_ref(current) if current is not None else None
            if ref is not None:
                try:
                    self.backend(user).delete(ref["folder"], ref["uid"])
                except MailError as exc:  # gone already (deleted behind our back): the tombstone stays right
                    log.info("user %s: message %s in folder %s not deleted: %s", log_quoted(user),
                             log_quoted(ref["uid"]), log_quoted(ref["folder"]), exc)
        return self._store.delete_item(user, datastore, guid, modified)


def mail_view(store: Store, backends: MailBackends) -> Store:
    """``store`` as the mail datastores see it (:class:`MailView`)."""
    return cast(Store, MailView(store, backends))
