"""The Mail tree (issue 14, item 3): an account's whole folder tree as one
hierarchical datastore, for a client whose DevInf says
``SupportHierarchicalSync`` for the datastore it alerts as ``Mail``/``inbox``.

A client without hierarchical sync keeps the flat datastores of
:mod:`._mailds` (``Mail`` the inbox, ``Mail/<Folder>``); both kinds can be
used at once, by different devices of one account: each is compared with the
back end at the start of its sessions, so what one writes reaches the other
as a change made behind its back.

The tree's items (datastore :data:`MAIL_TREE` in the store) are references,
as in :mod:`._mailds`, each with its ``parent`` (the store's hierarchy, GUID
of the containing folder item; ``""`` is the root):

* a **folder item** per mail folder (:data:`FOLDER_REF_TYPE`: only the
  folder's *last* name part); its path is the chain of its parents' names,
  so renaming or moving a folder changes that one item, and everything under
  it moves with it without a change of its own.  Towards the engine it is an
  OMA DS folder object (``application/vnd.omads-folder+xml``) with ``name``
  and, for the well-known top-level folders, ``role`` (:func:`folder_role`).
  The inbox is a folder item at the root like the others (role ``inbox``).
* a **message item** per message (:data:`~._mailref.REF_TYPE` with no folder:
  the folder is its parent's), an email object towards the engine.

GUIDs are stable across moves: a message the device moves is the back end's
move and the same item with another parent; a message moved behind the
server's back (another IMAP client, a Maildir file renamed into another
folder) is found by :func:`syncml_codec.mail.diff` as a move (same
fingerprint) and becomes the same item under its new folder, which devices
receive as a parent change (a Move), not as a Delete and an Add.  A folder
renamed or moved behind the server's back is recognised when its messages
went with it (all of them are found in exactly one new folder), when its
parent or a subfolder was, or, for a folder without messages, when it is
the only new folder of its name or the only new one where the only vanished
one was; its subfolders follow.  Otherwise a vanished folder is deleted (its
items with it) and a new one added.

Refusals raise :class:`~syncml_codec.errors.MailError` before anything is
changed: a folder moved into itself or into its own subtree (a loop), a
parent that is not a folder of the tree, renaming or deleting the inbox, a
name the back end cannot hold.  The engine answers the item with a Status.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..errors import FormatError, MailError
from ..formats.email import EMAIL_CONTENT_TYPE, EmailObject
from ..formats.omads import FOLDER_CONTENT_TYPE, FolderObject
from ..mail import INBOX, FolderState, MailBackend, Snapshot, check_folder_move, diff
from ..store.base import Store, StoredItem
from ._mailref import REF_TYPE, flagged, incoming, listed_ref, make_ref, read_ref
from ._util import log_quoted

if TYPE_CHECKING:
    from ._mailds import MailView

__all__ = ["FOLDER_REF_TYPE", "MAIL_TREE", "MailTree", "folder_role"]

log = logging.getLogger("syncml_codec.engine")

#: the store's datastore of the whole tree (not a folder name: an empty part is no folder's)
MAIL_TREE = "Mail//"
#: the content type of the store's reference to a folder
FOLDER_REF_TYPE = "application/x-syncml-mail-folder"
#: a top-level folder's name (lower case) -> its OMA DS folder role
_ROLES = {"sent": "sent", "sent items": "sent", "sent messages": "sent", "sent mail": "sent",
          "drafts": "drafts", "draft": "drafts", "trash": "deleted", "deleted": "deleted",
          "deleted items": "deleted", "deleted messages": "deleted", "outbox": "outbox"}


def folder_role(path: str) -> str | None:
    """The OMA DS folder ``role`` of a folder: the inbox and the well-known
    top-level folders (the Trash's role is ``deleted``, as the folder object
    names it); None for the others.

        >>> folder_role("INBOX"), folder_role("Sent"), folder_role("Trash"), folder_role("Work/Sent")
        ('inbox', 'sent', 'deleted', None)
    """
    if path == INBOX:
        return "inbox"
    return None if "/" in path else _ROLES.get(path.lower())


def _folder_ref(leaf: str) -> bytes:
    return json.dumps({"leaf": leaf}, separators=(",", ":")).encode("utf-8")


def _leaf(name: str) -> str:
    """A folder object's name as one part of a path (:class:`MailError` for one that is not)."""
    if not name.strip() or "/" in name:
        raise MailError(f"{name!r} cannot be a mail folder's name")
    return name


def _join(parent: str, leaf: str) -> str:
    return leaf if not parent else parent + "/" + leaf


@dataclass
class _Tree:
    """The tree's references as the store holds them: folders with their
    paths, messages with their refs, by GUID."""

    leaf: dict[str, str] = field(default_factory=dict)  # folder GUID -> last name part
    path: dict[str, str] = field(default_factory=dict)  # folder GUID -> its whole path
    by_path: dict[str, str] = field(default_factory=dict)  # path -> folder GUID
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # message GUID -> its ref
    parent: dict[str, str] = field(default_factory=dict)  # any GUID -> its parent's
    broken: list[str] = field(default_factory=list)  # items that are no part of a tree (dropped)

    def folder_of(self, guid: str) -> str | None:
        """The path of the folder a message item is in."""
        return self.path.get(self.parent.get(guid, ""))


def _load(items: list[StoredItem], max_depth: int, *, messages: bool = True) -> _Tree:
    """The tree of ``items`` (``messages``: their references too, else only the folders)."""
    tree = _Tree()
    for item in items:
        if item.deleted or (not messages and item.content_type != FOLDER_REF_TYPE):
            continue
        tree.parent[item.guid] = item.parent
        if item.content_type == FOLDER_REF_TYPE:
            try:
                leaf = json.loads(item.data).get("leaf")
            except (ValueError, AttributeError):
                leaf = None
            if isinstance(leaf, str) and leaf:
                tree.leaf[item.guid] = leaf
                continue
        elif item.content_type == REF_TYPE and (ref := read_ref(item)) is not None:
            tree.messages[item.guid] = ref
            continue
        tree.broken.append(item.guid)
    for guid in tree.leaf:  # paths by the parent chain (a loop or a missing parent: no path)
        parts: list[str] = []
        at = guid
        while at and at in tree.leaf and len(parts) <= max_depth:
            parts.append(tree.leaf[at])
            at = tree.parent.get(at, "")
        if at:  # not at the root: a chain that does not end there
            continue
        path = "/".join(reversed(parts))
        if path in tree.by_path:  # (two sessions adding the same new folder: one stays)
            continue
        tree.path[guid], tree.by_path[path] = path, guid
    tree.broken += [g for g in tree.leaf if g not in tree.path]
    orphans = [g for g in tree.messages if tree.folder_of(g) is None]  # (in a folder that is no part of the tree)
    for guid in orphans:
        del tree.messages[guid]
    tree.broken += orphans
    return tree


def _pair_folders(gone: list[str], new: list[str], tree: _Tree, fps_of_new: dict[str, set[str]]) -> dict[str, str]:
    """Vanished folders paired with new ones (old path -> new path): a folder
    renamed or moved behind the server's back.  A folder pairs with the new
    one of the same name under its parent's new place, with the one new
    folder that holds all its messages, or with the new parent of its own
    paired subfolder; repeated until nothing more pairs; then an empty one
    by its name or its place (:func:`_pair_empty`), and again."""
    renamed: dict[str, str] = {}
    fps_of_old: dict[str, set[str]] = {old: set() for old in gone}
    for guid, ref in tree.messages.items():
        folder = tree.folder_of(guid)
        if folder in fps_of_old:
            fps_of_old[folder].add(str(ref.get("fp", ref["uid"])))
    while True:
        free = [p for p in new if p not in renamed.values()]
        before = len(renamed)
        for old in gone:
            if old in renamed:
                continue
            head, _, leaf = old.rpartition("/")
            target: str | None = None
            if head in renamed and _join(renamed[head], leaf) in free:
                target = _join(renamed[head], leaf)
            if target is None and fps_of_old[old]:
                holders = [p for p in free if fps_of_old[old] <= fps_of_new[p]]
                target = holders[0] if len(holders) == 1 else None
            if target is None:
                for child, to in renamed.items():
                    if child.rpartition("/")[0] == old and to.rpartition("/")[0] in free:
                        target = to.rpartition("/")[0]
                        break
            if target is not None:
                renamed[old] = target
                free.remove(target)
        if len(renamed) == before and not _pair_empty(gone, free, renamed, fps_of_old):
            return renamed


def _pair_empty(gone: list[str], free: list[str], renamed: dict[str, str], fps_of_old: dict[str, set[str]]) -> bool:
    """Pair one vanished folder without messages (nothing else tells where it
    went): with the only new folder of its name (moved), else with the only new
    folder in its parent when it is the only one gone there (renamed)."""
    for old in gone:
        if old in renamed or fps_of_old[old]:
            continue
        head, _, leaf = old.rpartition("/")
        moved = [p for p in free if p.rpartition("/")[2] == leaf]
        if len(moved) == 1:
            renamed[old] = moved[0]
            return True
        place = renamed.get(head, head)
        siblings = [p for p in free if p.rpartition("/")[0] == place  # (not one made to hold a moved folder)
                    and not any(t.startswith(p + "/") for t in renamed.values())]
        alone = [g for g in gone if g not in renamed and g.rpartition("/")[0] == head]
        if len(siblings) == 1 and alone == [old]:
            renamed[old] = siblings[0]
            return True
    return False


class MailTree:
    """The tree datastore of :class:`~._mailds.MailView` (see the module doc);
    the view hands it the calls for :data:`MAIL_TREE`."""

    def __init__(self, view: MailView) -> None:
        self._view = view
        # user -> the folders, read once per view (a view serves one message of a session) and
        # forgotten when a folder changes through it
        self._cached: dict[str, _Tree] = {}

    @property
    def _store(self) -> Store:
        return self._view._store

    def _backend(self, user: str) -> MailBackend:
        return self._view.backend(user)

    def _tree(self, user: str) -> _Tree:
        """Folders and messages (for :meth:`refresh`)."""
        self._cached.pop(user, None)
        return _load(self._store.items(user, MAIL_TREE), self._backend(user).limits.max_depth)

    def folder_of(self, user: str, item: StoredItem) -> str | None:
        """The path of the folder a message item is in (None: its parent is no folder)."""
        return self._folders(user).path.get(item.parent)

    def folder_named(self, user: str, parent: str, name: str) -> str | None:
        """The GUID of the folder ``name`` in the folder ``parent`` ("": at
        the top), None when there is none (or the name cannot be a folder's)."""
        tree = self._folders(user)
        if parent and parent not in tree.path:
            return None
        try:
            return tree.by_path.get(_join(tree.path[parent] if parent else "", _leaf(name)))
        except MailError:
            return None

    def _folders(self, user: str) -> _Tree:
        """The folders only, cached."""
        if user not in self._cached:
            self._cached[user] = _load(self._store.items(user, MAIL_TREE), self._backend(user).limits.max_depth,
                                       messages=False)
        return self._cached[user]

    # -- the snapshot -----------------------------------------------------
    def refresh(self, user: str, clock: float = 0.0) -> dict[str, int]:
        """Bring the tree's references in line with the back end's folders and
        messages (see the module doc); counts of what was found."""
        store, backend = self._store, self._backend(user)
        tree = self._tree(user)
        found = {"added": 0, "changed": 0, "removed": 0, "moved": 0, "folders added": 0, "folders removed": 0,
                 "folders moved": 0}
        for guid in tree.broken:
            store.delete_item(user, MAIL_TREE, guid, clock)
        listed = {f.name: {m.uid: m for m in backend.messages(f.name)} for f in backend.folders()}
        # folders renamed or moved behind our back: paired by their parent's pairing, else by their messages
        gone = sorted((p for p in tree.by_path if p not in listed), key=lambda p: p.count("/"))
        new = [p for p in listed if p not in tree.by_path]
        renamed = _pair_folders(gone, new, tree, {p: {m.fingerprint for m in listed[p].values()} for p in new})
        new = [p for p in new if p not in renamed.values()]
        at = {renamed.get(p, p): g for p, g in tree.by_path.items()}  # path now -> folder GUID

        def place(path: str) -> tuple[str, str]:
            """(parent GUID, last part) of a folder: under its nearest listed ancestor
            (an IMAP server may list ``A/B`` without ``A``: then the part is ``A/B``)."""
            head = path
            while "/" in head:
                head = head.rpartition("/")[0]
                if head in at and head != path:
                    return at[head], path[len(head) + 1:]
            return "", path

        for path in new:  # (parents before children: the back end lists them so)
            parent_guid, leaf = place(path)
            at[path] = store.add_item(user, MAIL_TREE, _folder_ref(leaf), FOLDER_REF_TYPE, clock,
                                      parent=parent_guid).guid
            found["folders added"] += 1
        for old, target in renamed.items():
            parent_guid, leaf = place(target)
            store.replace_item(user, MAIL_TREE, tree.by_path[old], _folder_ref(leaf), FOLDER_REF_TYPE, clock,
                               parent=parent_guid)
            found["folders moved"] += 1
        # messages: one diff over the whole tree (a removal and an addition of one fingerprint: a move)
        by_ref: dict[tuple[str, str], str] = {}
        old_state: dict[str, dict[str, tuple[frozenset[str], str]]] = {}
        for guid, ref in tree.messages.items():
            folder = tree.folder_of(guid)
            assert folder is not None
            folder = renamed.get(folder, folder)
            if (folder, ref["uid"]) in by_ref:  # (two sessions adding the same new message: one stays)
                store.delete_item(user, MAIL_TREE, guid, clock)
                continue
            by_ref[folder, ref["uid"]] = guid
            old_state.setdefault(folder, {})[ref["uid"]] = (frozenset(ref["flags"]), str(ref.get("fp", ref["uid"])))
        changes = diff(Snapshot({f: FolderState(messages=m) for f, m in old_state.items()}),
                       Snapshot({f: FolderState(messages={u: (m.flags, m.fingerprint) for u, m in msgs.items()})
                                 for f, msgs in listed.items()}))
        changed = {(r.folder, r.uid) for r in changes.changed}
        for source, dest in changes.moved:
            m = listed[dest.folder][dest.uid]
            same = old_state[source.folder][source.uid][0] == frozenset(m.flags)  # (same message: its flags?)
            store.replace_item(user, MAIL_TREE, by_ref[source.folder, source.uid], listed_ref("", m), REF_TYPE, clock,
                               parent=at[dest.folder], same_content=same)
            changed.discard((dest.folder, dest.uid))
            found["moved"] += 1
        for r in changes.removed:
            store.delete_item(user, MAIL_TREE, by_ref[r.folder, r.uid], clock)
            found["removed"] += 1
        for folder, uid in changed:
            if (folder, uid) in by_ref:
                store.replace_item(user, MAIL_TREE, by_ref[folder, uid], listed_ref("", listed[folder][uid]), REF_TYPE,
                                   clock, parent=None)
                found["changed"] += 1
        for r in changes.added:
            store.add_item(user, MAIL_TREE, listed_ref("", listed[r.folder][r.uid]), REF_TYPE, clock,
                           parent=at[r.folder])
            found["added"] += 1
        for old in reversed(gone):  # deepest first; what is still in them goes with them
            if old not in renamed:
                store.delete_item(user, MAIL_TREE, tree.by_path[old], clock)
                found["folders removed"] += 1
        return found

    # -- items ------------------------------------------------------------
    def full(self, user: str, item: StoredItem) -> StoredItem | None:
        """The item as the engine sees it: a folder or an email object (None:
        not part of the tree, or the message went away)."""
        if item.deleted:
            return item
        tree = self._folders(user)
        if item.content_type == FOLDER_REF_TYPE:
            path = tree.path.get(item.guid)
            if path is None:
                return None
            obj = FolderObject(name=tree.leaf[item.guid], role=folder_role(path))
            return _replace(item, data=obj.serialize(), content_type=FOLDER_CONTENT_TYPE)
        folder = tree.path.get(item.parent)
        ref = read_ref(item)
        if folder is None or ref is None:
            return None
        return self._view._message(user, item, folder, ref)

    def items(self, user: str, include_deleted: bool = False) -> list[StoredItem]:
        found = self._store.items(user, MAIL_TREE, include_deleted)
        self._cached[user] = _load(found, self._backend(user).limits.max_depth, messages=False)
        return [full for item in found if (full := self.full(user, item)) is not None]

    def get_item(self, user: str, guid: str) -> StoredItem | None:
        item = self._store.get_item(user, MAIL_TREE, guid)
        if item is None or item.deleted:
            return item
        full = self.full(user, item)
        if full is None and item.content_type != FOLDER_REF_TYPE:  # gone since listed: its flags only
            obj = flagged(EmailObject(), (read_ref(item) or {}).get("flags", ()))
            full = _replace(item, data=obj.serialize(), content_type=EMAIL_CONTENT_TYPE)
        return full

    def _folder_path(self, tree: _Tree, parent: str, what: str) -> str:
        if parent not in tree.path:
            raise MailError(f"{what}: the parent {parent!r} is not a mail folder")
        return tree.path[parent]

    @staticmethod
    def _is_folder(data: bytes, content_type: str) -> bool:
        return content_type == FOLDER_CONTENT_TYPE or data.lstrip()[:7] == b"<Folder"

    def add_item(self, user: str, data: bytes, content_type: str, modified: float = 0.0,
                 parent: str = "") -> StoredItem:
        store, backend = self._store, self._backend(user)
        tree = self._folders(user)
        if self._is_folder(data, content_type):
            obj = FolderObject.parse(data)
            if obj.name is None:
                raise FormatError("a folder object without a <name>", 1, "name")
            leaf = _leaf(obj.name)
            head = self._folder_path(tree, parent, "folder") if parent else ""
            path = _join(head, leaf)
            existing = store.get_item(user, MAIL_TREE, tree.by_path[path]) if path in tree.by_path else None
            if existing is not None and not existing.deleted:  # a folder the tree has (a device's slow sync)
                return _replace(existing, data=data, content_type=FOLDER_CONTENT_TYPE)
            backend.create_folder(path)
            self._cached.pop(user, None)
            item = store.add_item(user, MAIL_TREE, _folder_ref(leaf), FOLDER_REF_TYPE, modified, parent=parent)
            return _replace(item, data=data, content_type=FOLDER_CONTENT_TYPE)
        if not parent:  # a message at the root: the inbox holds it
            if INBOX not in tree.by_path:
                self._cached.pop(user, None)
                store.add_item(user, MAIL_TREE, _folder_ref(INBOX), FOLDER_REF_TYPE, modified)
                tree = self._folders(user)
            parent = tree.by_path[INBOX]
        folder = self._folder_path(tree, parent, "message")
        ref = self._view._add_message(user, folder, data, modified)
        return store.add_item(user, MAIL_TREE, make_ref(**dict(ref, folder="")), REF_TYPE, modified, parent=parent)

    def replace_item(self, user: str, guid: str, data: bytes, content_type: str, modified: float = 0.0,
                     parent: str | None = None) -> StoredItem | None:
        store, backend = self._store, self._backend(user)
        tree = self._folders(user)
        current = store.get_item(user, MAIL_TREE, guid)
        if current is None or current.deleted:
            return None
        if guid in tree.path:  # a folder: renamed and/or moved
            obj = FolderObject.parse(data) if data.strip() else FolderObject()
            leaf = _leaf(obj.name) if obj.name is not None else tree.leaf[guid]
            new_parent = current.parent if parent is None else parent
            head = self._folder_path(tree, new_parent, "folder") if new_parent else ""
            old, new = tree.path[guid], _join(head, leaf)
            if new != old:
                check_folder_move(old, new)  # (a loop: into itself or its own subtree)
                if new in tree.by_path or new.upper() == INBOX:
                    raise MailError(f"folder {new!r} exists")
                backend.rename_folder(old, new)
            self._cached.pop(user, None)
            item = store.replace_item(user, MAIL_TREE, guid, _folder_ref(leaf), FOLDER_REF_TYPE, modified,
                                      parent=new_parent)
            return None if item is None else _replace(item, data=data, content_type=FOLDER_CONTENT_TYPE)
        ref = read_ref(current)
        folder = tree.path.get(current.parent)
        if ref is None or folder is None:
            return None
        if data.strip():
            incoming(data)  # (a malformed object is refused before the message moves)
        new_parent = current.parent if parent is None else parent
        if new_parent != current.parent:  # a device moved the message: the back end's move
            target = self._folder_path(tree, new_parent, "message") if new_parent else INBOX
            if not new_parent:
                new_parent = tree.by_path.get(INBOX, "")
            if target != folder:
                ref = dict(ref, uid=backend.move(folder, ref["uid"], target))
                folder = target
        updated: dict[str, Any]
        if data.strip():
            updated = self._view._update_message(user, folder, ref, data)
        else:  # (a Move without data)
            updated = {"uid": ref["uid"], "flags": ref["flags"], "date": _utc(float(ref["date"])),
                       "fingerprint": str(ref.get("fp", ref["uid"])),
                       "size": ref["size"] if isinstance(ref.get("size"), int) else None}
        before = read_ref(current) or {}
        same = (str(updated["fingerprint"]) == str(before.get("fp", before.get("uid")))  # (a move keeps the message)
                and sorted(updated["flags"]) == sorted(before.get("flags", ())))
        return store.replace_item(user, MAIL_TREE, guid, make_ref(**dict(updated, folder="")), REF_TYPE, modified,
                                  parent=new_parent, same_content=same)

    def delete_item(self, user: str, guid: str, modified: float = 0.0) -> StoredItem | None:
        tree = self._folders(user)
        backend = self._backend(user)
        current = self._store.get_item(user, MAIL_TREE, guid)
        ref = read_ref(current) if current is not None else None
        if guid in tree.path:
            backend.delete_folder(tree.path[guid])  # (never the inbox: MailError; its subtree goes with it)
            self._cached.pop(user, None)
        elif current is not None and ref is not None and (folder := tree.path.get(current.parent)) is not None:
            try:
                backend.delete(folder, ref["uid"])
            except MailError as exc:  # gone already (deleted behind our back): the tombstone stays right
                log.info("user %s: message %s in folder %s not deleted: %s", log_quoted(user),
                         log_quoted(ref["uid"]), log_quoted(folder), exc)
        return self._store.delete_item(user, MAIL_TREE, guid, modified)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)
